"""Run zero-shot tasks on one model: score, evaluate, and write results where the BabyLM pipeline puts them.

Layout (the pipeline's `results/<model>/<revision>/zero_shot/<backend>/<task>/<dataset>/`, backend `causal`;
`<model>` is the model folder's stem, as `collate_preds.py` uses it):

    <out>/<model>/<revision>/zero_shot/causal/
        summary.json                       every task run so far: metric, score, sub-scores, n, counts,
                                           size check, wall time, settings, provenance (git hash, ...), model
        blimp/blimp_fast/                  (blimp/supplement_fast, ewok/ewok_fast, entity_tracking/<folder>,
            predictions.json               wug_adj/wug_adj_nominalization, wug_past/wug_past_tense,
            best_temperature_report.txt    comps/comps, global_piqa_*/global_piqa_*; reading/ has no dataset
            results.json                   level and writes report.txt, as in the pipeline, plus
            items.parquet                  predictions_spaced.json / report_spaced.txt: its spaced measure)
- `predictions.json` and the report: the official formats (see `classit_utils.tasks`), what
  `collate_preds.py` and a reader of the official outputs see;
- `results.json`: this task's summary entry plus its spec (folder, fields, scored span, metric, aggregation);
- `items.parquet`: one row per item: uid, source (`file:line`), candidate log-probs, token counts, the
  per-token log-probs, prediction, correctness, and the item's metadata.
`summary.json` is merged with an existing one of the same variant and rules (tasks run later are added or
replaced), so tasks can be run one at a time; a run of the other variant or rules starts a new summary
(each task folder's `results.json` stays). Under the 2026 rules entity tracking keeps only items without a
"nothing" option and is recorded as `entity_tracking_filtered` (its folder stays the pipeline's).
"""
from __future__ import annotations

import io
import json
import logging
import time
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from . import records
from .config import StudyConfig
from .results import read_registry, results_dir, zero_shot_root, zero_shot_summary
from .runtime import load_causal_lm
from .scoring import Score, score_requests
from .tasks import (RULE_TASKS, RULES, TASK_NAMES, Item, MissingData, TaskResult, TaskSpec, apply_rules,
                    check_sizes, get_task, recorded_name)

log = logging.getLogger(__name__)

__all__ = ["FAMILIES", "family_tasks", "run_all", "run_zero_shot", "run_task", "load_items", "score_items",
           "result_dir", "parse_tasks"]

# One notebook per task family, as the study's appendix shows them; a family's tasks under the rules in force
# (Global PIQA, a 2026 task, joins the world-knowledge notebook; WUG is not a 2026 task).
FAMILIES = {
    "blimp": ("blimp", "supplement", "comps"),
    "ewok": ("ewok", "global_piqa_parallel", "global_piqa_nonparallel"),
    "entity_tracking": ("entity_tracking",),
    "wug": ("wug_adj", "wug_past"),
    "reading": ("reading",),
}


def family_tasks(family: str, rules: str = "2025") -> tuple[str, ...]:
    if family not in FAMILIES:
        raise ValueError(f"unknown task family {family!r} (known: {', '.join(FAMILIES)})")
    return tuple(t for t in FAMILIES[family] if t in RULE_TASKS[rules])


def parse_tasks(tasks: str | Sequence[str], rules: str = "2025") -> list[str]:
    """`"blimp,ewok"` or a list; `"all"` is every task of the rules. Unknown names are errors."""
    names = [t.strip() for t in (tasks.split(",") if isinstance(tasks, str) else tasks) if t.strip()]
    if rules not in RULES:
        raise ValueError(f"unknown rules {rules!r} (known: {', '.join(RULES)})")
    if names == ["all"]:
        return list(RULE_TASKS[rules])
    unknown = [t for t in names if t not in TASK_NAMES]
    if unknown:
        raise ValueError(f"unknown task(s) {', '.join(unknown)} (known: {', '.join(TASK_NAMES)}, or all)")
    if not names:
        raise ValueError("no task given")
    return names


def result_dir(out_dir: Path | str, model_name: str, revision: str, spec: TaskSpec, variant: str) -> Path:
    base = zero_shot_root(out_dir, model_name, revision) / spec.pipeline_task
    return base if spec.name == "reading" else base / spec.folder(variant)


def _parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
    buf = io.BytesIO()
    pd.DataFrame(rows).to_parquet(buf, index=False)
    return buf.getvalue()


def _split(flat: list[Score], sizes: list[int]) -> list[list[Score]]:
    out, pos = [], 0
    for n in sizes:
        out.append(flat[pos:pos + n])
        pos += n
    return out


def score_items(model, tok, name: str, items: list[Item], variant: str = "fast", *, batch_size: int = 64,
                bos: Any = "tokenizer", share_context: bool = True, bf16: bool = False,
                progress: bool = True) -> TaskResult:
    """Score loaded items of task `name` and evaluate them (no files written)."""
    task = get_task(name)
    desc = f"score {name}/{task.spec.folder(variant)}"
    if task.score is not None:         # a task with its own tokenization rule (reading)
        scores = task.score(model, tok, items, batch_size=batch_size, bos=bos, share_context=share_context,
                            bf16=bf16, progress=progress, desc=desc)
    else:
        reqs = [r for it in items for r in it.requests()]
        flat = score_requests(model, tok, reqs, batch_size, bos=bos, share_context=share_context, bf16=bf16,
                              progress=progress, desc=desc)
        scores = _split(flat, [len(it.contexts) for it in items])
    return task.evaluate(variant, items, scores)


def load_items(name: str, data_dir: Path | str, variant: str = "fast", *, limit: int | None = None,
               rules: str = "2025") -> list[Item]:
    """A task's items under `rules` (the limit applies after the rules' filter)."""
    from .tasks import limit_per_uid
    return limit_per_uid(apply_rules(name, get_task(name).load(data_dir, variant), rules), limit)


def run_task(model, tok, name: str, data_dir: Path | str, variant: str = "fast", *, limit: int | None = None,
             rules: str = "2025", **kw) -> TaskResult:
    """Load, score and evaluate one task in memory (no files written); `kw` as `score_items`."""
    return score_items(model, tok, name, load_items(name, data_dir, variant, limit=limit, rules=rules), variant, **kw)


def run_zero_shot(model_dir: Path | str, data_dir: Path | str, tasks: str | Sequence[str] = "all",
                  variant: str = "fast", out_dir: Path | str = "results", *, revision: str = "main",
                  batch_size: int = 64, device: str = "auto", bos: Any = "tokenizer", share_context: bool = True,
                  bf16: bool = False, limit: int | None = None, skip_missing: bool = False, model=None,
                  tokenizer=None, progress: bool = True, rules: str = "2025",
                  write_summary: bool = True) -> dict[str, Any]:
    """Run `tasks` on the model in `model_dir` (or the given `model`/`tokenizer`, `model_dir` then only names
    it) and write the outputs (module docstring). Returns the summary dict that `summary.json` holds
    (`write_summary=False`: the task folders only; `rebuild_summary` merges them later).

    `limit`: at most that many items per subtask (smoke runs; the size check is then skipped).
    `skip_missing`: a task whose data folder is absent is recorded as skipped instead of failing."""
    if variant not in ("fast", "full"):
        raise ValueError(f"variant must be 'fast' or 'full' (got {variant!r})")
    names = parse_tasks(tasks, rules)
    # Data first (cheap, and a malformed file fails before the model is loaded).
    loaded: dict[str, list[Item]] = {}
    skipped: dict[str, str] = {}
    skipped_names = []
    for name in names:
        try:
            loaded[name] = load_items(name, data_dir, variant, limit=limit, rules=rules)
        except MissingData as e:
            if not skip_missing:
                raise
            log.warning("skipping %s: %s", name, e)
            skipped[recorded_name(name, rules)] = str(e)
            skipped_names.append(name)
    if model is None or tokenizer is None:
        model, tokenizer = load_causal_lm(model_dir, device)
    model_name = Path(model_dir).stem
    settings = {"variant": variant, "rules": rules, "batch_size": batch_size, "bos": bos,
                "share_context": share_context, "bf16": bf16, "limit": limit,
                "device": str(next(model.parameters()).device), "backend": "causal", "revision": revision}
    prov = records.provenance()
    for name in skipped_names:           # a marker where the task's results would be: rebuilt summaries see it
        spec = get_task(name).spec
        records.atomic_write_json(result_dir(out_dir, model_name, revision, spec, variant) / "results.json",
                                  {"task": recorded_name(name, rules), "skipped": skipped[recorded_name(name, rules)],
                                   "settings": settings, "model": str(model_dir), "provenance": prov})
    for name, items in loaded.items():
        spec = get_task(name).spec
        t0 = time.perf_counter()
        res = score_items(model, tokenizer, name, items, variant, batch_size=batch_size, bos=bos,
                          share_context=share_context, bf16=bf16, progress=progress)
        wall = time.perf_counter() - t0
        out = result_dir(out_dir, model_name, revision, spec, variant)
        record = recorded_name(name, rules)
        records.atomic_write_bytes(out / "items.parquet", _parquet_bytes(res.records))
        for r in (res, *res.companions):
            key = record if r is res else r.task
            suffix = "" if r is res else "_" + r.task.removeprefix(f"{name}_")     # reading_spaced -> _spaced
            entry = {**r.summary(), "wall_s": round(wall, 3), "path": str(out), "settings": settings,
                     "size_check": (check_sizes(record, variant, r.counts) if limit is None else "skipped (limit)")}
            records.atomic_write_text(out / f"predictions{suffix}.json", json.dumps(r.predictions))
            if r.report is not None:
                report = "report" if name == "reading" else "best_temperature_report"
                records.atomic_write_text(out / f"{report}{suffix}.txt", r.report)
            records.atomic_write_json(out / f"results{suffix}.json",     # last: the task's record of completion
                                      {**entry, "task": key, "model": str(model_dir), "spec": _spec_dict(spec),
                                       "provenance": prov})
        log.info("%s/%s: %s = %.4f (n=%d, %.1fs)", name, res.dataset, res.metric, res.score, res.n, wall)
    if not write_summary:
        return {}
    return rebuild_summary(out_dir, model_name, revision, variant, rules)


_RECORD_ONLY = ("task", "model", "spec", "provenance", "skipped")


def rebuild_summary(out_dir: Path | str, model_name: str, revision: str = "main", variant: str = "fast",
                    rules: str = "2025") -> dict[str, Any]:
    """`summary.json` from the task folders' `results*.json` of one variant and rules (every task run so far,
    in task order): derived, so jobs that ran apart (or on other machines) merge in any order."""
    base = zero_shot_root(out_dir, model_name, revision)
    found = []
    for path in sorted(base.glob("**/results*.json")):
        rec = records.read_json_or_empty(path)
        st = rec.get("settings", {})
        if rec.get("task") and st.get("variant") == variant and st.get("rules", "2025") == rules:
            found.append(rec)
    order = {t: i for i, t in enumerate(TASK_NAMES)}
    found.sort(key=lambda r: (order.get(r["task"].removesuffix("_filtered").removesuffix("_spaced"), len(order)),
                              r["task"]))
    summary: dict[str, Any] = {"variant": variant, "rules": rules, "tasks": {}, "skipped": {},
                               "model": found[-1]["model"] if found else None, "model_name": model_name,
                               "revision": revision, "provenance": records.provenance()}
    for rec in found:
        if "skipped" in rec:
            summary["skipped"][rec["task"]] = rec["skipped"]
        else:
            summary["tasks"][rec["task"]] = {k: v for k, v in rec.items() if k not in _RECORD_ONLY}
    records.atomic_write_json(base / "summary.json", summary)
    return summary


def run_job(model_dir: str, data_dir: str, tasks: list[str], out_dir: str, **settings: Any) -> dict[str, Any]:
    """One fan-out job (`classit_utils.fanout`): `tasks` on one model, no summary (merged after the jobs)."""
    run_zero_shot(model_dir, data_dir, tasks, out_dir=out_dir, write_summary=False, progress=False, **settings)
    return {"model": Path(model_dir).stem, "tasks": tasks}


def _spec_dict(spec: TaskSpec) -> dict[str, Any]:
    return {"name": spec.name, "pipeline_task": spec.pipeline_task, "folders": dict(spec.folders),
            "fields": list(spec.fields), "scored_span": spec.scored_span, "metric": spec.metric,
            "aggregation": spec.aggregation, "subtask": spec.subtask, "group_by": list(spec.group_by),
            "zip": spec.zip_name}


def format_summary(summary: dict[str, Any]) -> str:
    """A short table: task, dataset, metric, score, n."""
    lines = [f"{'task':<16} {'dataset':<24} {'metric':<9} {'score':>9} {'n':>7}"]
    for name, e in summary.get("tasks", {}).items():
        lines.append(f"{name:<16} {e['dataset']:<24} {e['metric']:<9} {e['score']:>9.3f} {e['n']:>7}")
        if name == "reading":
            spr = e["sub_scores"]["score"]["self_paced_reading"]
            lines.append(f"{'':<16} {'(self-paced reading)':<24} {'reading':<9} {spr:>9.3f}")
    for name, why in summary.get("skipped", {}).items():
        lines.append(f"{name:<16} skipped: {why}")
    return "\n".join(lines)


def family_jobs(cfg: StudyConfig, family: str) -> list:
    """One fan-out job per model of the registry for a task family, with the params' `evaluation` settings."""
    from .fanout import Job, fingerprint
    e = cfg.evaluation
    tasks = list(family_tasks(family, e.rules))
    data = []
    for t in tasks:
        spec = get_task(t).spec
        data.append(cfg.data_dir / (spec.zip_name or spec.folder(e.variant)))
    settings = {"variant": e.variant, "rules": e.rules, "batch_size": e.batch_size, "device": e.device,
                "bos": e.bos, "share_context": e.share_context, "bf16": e.bf16, "limit": e.limit,
                "skip_missing": e.skip_missing}
    jobs = []
    for m in read_registry(cfg).itertuples():
        folder = zero_shot_root(results_dir(cfg), m.model) / ".jobs" / family
        jobs.append(Job(f"{m.model}/{family}", folder, "classit_utils.zeroshot:run_job",
                        {"model_dir": str(m.path), "data_dir": str(cfg.data_dir), "tasks": tasks,
                         "out_dir": str(results_dir(cfg)), **settings},
                        {"model": fingerprint(Path(m.path).resolve()), "data": fingerprint(*data)}))
    return jobs


def run_all(cfg: StudyConfig, family: str) -> "pd.DataFrame":
    """Run one task family (`FAMILIES`) on every model of the study's registry, one job per model through
    `cfg.fanout` (serial or Ray; done jobs are skipped), then merge each model's summary; returns one row per
    model and task (`results.zero_shot_summary`)."""
    from .fanout import run_jobs
    e = cfg.evaluation
    run_jobs(family_jobs(cfg, family), cfg.fanout, desc=f"zero-shot {family}")
    for m in read_registry(cfg).itertuples():
        rebuild_summary(results_dir(cfg), m.model, variant=e.variant, rules=e.rules)
    return zero_shot_summary(cfg, [recorded_name(t, e.rules) for t in family_tasks(family, e.rules)])
