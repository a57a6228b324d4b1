"""The evaluation stages (notebooks 03-08) as functions: every model of the registry through the
zero-shot task families and the (Super)GLUE fine-tuning suite, and the tidy tables the statistics
stage reads (schemas in classit_utils.stats).

Results follow the BabyLM pipeline's layout under `runs/<profile>/results/<model>/main/`:
`zero_shot/causal/<task>/<dataset>/` (zeroshot.py) and `finetune/<task>/` (finetune.py).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .config import StudyConfig
from .trainstage import read_registry

# One notebook per task family, as the study's appendix shows them.
FAMILIES = {
    "blimp": ("blimp", "supplement", "comps"),
    "ewok": ("ewok",),
    "entity_tracking": ("entity_tracking",),
    "wug": ("wug_adj", "wug_past"),
    "reading": ("reading",),
}
ACCURACY_TASKS = ("blimp", "supplement", "comps", "ewok", "entity_tracking")
CORRELATION_TASKS = ("wug_adj", "wug_past")


def results_dir(cfg: StudyConfig) -> Path:
    return cfg.run_dir / "results"


def _zs_base(cfg: StudyConfig, model: str) -> Path:
    return results_dir(cfg) / model / "main" / "zero_shot" / "causal"


def run_zero_shot_family(cfg: StudyConfig, family: str) -> pd.DataFrame:
    """Run one task family on every model; returns one row per model and task (headline score)."""
    from .zeroshot import run_zero_shot
    e = cfg.evaluation
    for m in read_registry(cfg).itertuples():
        run_zero_shot(m.path, cfg.data_dir, FAMILIES[family], e.variant, results_dir(cfg), batch_size=e.batch_size,
                      device=e.device, bos=e.bos, share_context=e.share_context, bf16=e.bf16, limit=e.limit,
                      skip_missing=e.skip_missing)
    return zero_shot_summary(cfg, FAMILIES[family])


def zero_shot_summary(cfg: StudyConfig, tasks=None) -> pd.DataFrame:
    """model, size, condition, task, dataset, metric, score, n (skipped tasks with their reason)."""
    rows = []
    for m in read_registry(cfg).itertuples():
        path = _zs_base(cfg, m.model) / "summary.json"
        if not path.exists():
            continue
        s = json.loads(path.read_text())
        for task, t in s.get("tasks", {}).items():
            if tasks is None or task in tasks:
                rows.append({"model": m.model, "size": m.size, "condition": m.condition, "task": task,
                             "dataset": t["dataset"], "metric": t["metric"], "score": t["score"], "n": t["n"],
                             "status": "ok", "reason": ""})
        for task, why in s.get("skipped", {}).items():
            if tasks is None or task in tasks:
                rows.append({"model": m.model, "size": m.size, "condition": m.condition, "task": task,
                             "status": "skipped", "reason": why})
    return pd.DataFrame(rows)


def _items(cfg: StudyConfig, tasks) -> pd.DataFrame:
    frames = []
    for m in read_registry(cfg).itertuples():
        for f in sorted(_zs_base(cfg, m.model).glob("*/**/items.parquet")):
            # the task's name is in its results.json: folders follow the pipeline, which files the
            # BLiMP supplement under blimp/
            task = json.loads((f.parent / "results.json").read_text())["task"]
            if task not in tasks:
                continue
            df = pd.read_parquet(f).drop(columns=["token_logprobs"], errors="ignore")
            frames.append(df.assign(model=m.model, size=m.size, condition=m.condition, task=task))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def zero_shot_items(cfg: StudyConfig) -> pd.DataFrame:
    """Item-level correctness of the accuracy tasks (stats.ZERO_SHOT_ITEMS)."""
    df = _items(cfg, ACCURACY_TASKS)
    if df.empty:
        return df
    out = df.rename(columns={"uid": "subtask", "source": "item_id"})
    out["correct"] = out["correct"].astype(int)
    return out[["model", "size", "condition", "task", "subtask", "item_id", "correct"]]


def correlation_items(cfg: StudyConfig) -> pd.DataFrame:
    """Item-level model probability and human ratio of the WUG tasks (stats.CORRELATION_ITEMS)."""
    df = _items(cfg, CORRELATION_TASKS)
    if df.empty:
        return df
    out = df.rename(columns={"source": "item_id", "prob": "score", "ratio": "target"})
    return out[["model", "size", "condition", "task", "item_id", "score", "target"]]


def reading_deltas(cfg: StudyConfig) -> pd.DataFrame:
    """ΔR² per reading measure and model (stats.READING_DELTAS)."""
    rows = []
    for m in read_registry(cfg).itertuples():
        path = _zs_base(cfg, m.model) / "summary.json"
        t = json.loads(path.read_text()).get("tasks", {}).get("reading") if path.exists() else None
        if not t:
            continue
        for key, v in t["sub_scores"].items():
            if "/" in key and v.get("delta_r2") is not None and v["delta_r2"] == v["delta_r2"]:
                # "eye_tracking/RTfirstfix", ...; a degenerate fit (NaN, tiny subsets) has no ΔR²
                family, measure = key.split("/", 1)
                rows.append({"model": m.model, "size": m.size, "condition": m.condition, "task": "reading",
                             "family": family, "measure": measure, "delta_r2": v["delta_r2"],
                             "score": v["score"], "n": v["n"]})
    return pd.DataFrame(rows)


def run_finetuning(cfg: StudyConfig) -> pd.DataFrame:
    """Fine-tune every model on the configured GLUE tasks and seeds; returns the tidy table."""
    from .finetune import FinetuneConfig, run_finetune
    f = cfg.finetune
    fcfg = FinetuneConfig.from_dict(f.config, "finetune.config")
    frames = [run_finetune(m.path, cfg.data_dir, list(f.tasks), list(f.seeds), results_dir(cfg), fcfg,
                           model_name=m.model, condition=m.condition, size=m.size)
              for m in read_registry(cfg).itertuples()]
    return pd.concat(frames, ignore_index=True)


def finetune_table(cfg: StudyConfig) -> pd.DataFrame:
    """Every model's fine-tuning rows (stats.FINETUNE, plus status and reason), values in percent."""
    frames = []
    for m in read_registry(cfg).itertuples():
        path = results_dir(cfg) / m.model / "main" / "finetune" / "finetune_results.csv"
        if path.exists():
            frames.append(pd.read_csv(path))
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames, ignore_index=True)
    df["value"] = df["value"] * 100          # stats' margins are in percentage points
    return df


def subtask_accuracy(items: pd.DataFrame, task: str) -> pd.DataFrame:
    """Accuracy (percent) per subtask (paradigm, domain, split x operations) and model."""
    df = items[items.task == task]
    return (df.groupby(["subtask", "model"], sort=False)["correct"].mean().mul(100)
            .unstack("model").round(1))


def score_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Headline score per task (rows) and model (columns); skipped tasks say so."""
    ok = summary[summary.status == "ok"]
    table = ok.pivot_table(index="task", columns="model", values="score", sort=False)
    return table[[m for m in dict.fromkeys(summary.model) if m in table.columns]]


def stage_metrics(summary: pd.DataFrame) -> dict:
    """What an evaluation stage writes to its metrics.json: scores per model and task, skips."""
    ok = summary[summary.status == "ok"]
    skipped = summary[summary.status == "skipped"]
    return {"scores": {m: dict(zip(g.task, g.score)) for m, g in ok.groupby("model", sort=False)},
            "skipped": {t: r for t, r in zip(skipped.task, skipped.reason)}}


def finetune_headline(ft: pd.DataFrame, selection: str) -> pd.DataFrame:
    """The rows (every seed) of each task's headline metric (F1 for MRPC/QQP, else accuracy) under
    one epoch-selection rule, finished runs only (`stats.FINETUNE`)."""
    from .glue import GLUE_TASKS
    if ft.empty:
        return ft
    ok = ft[(ft.status == "ok") & (ft.selection == selection)]
    return ok[[m == GLUE_TASKS[t].metric_for_valid for t, m in zip(ok.task, ok.metric)]]


def finetune_scores(ft: pd.DataFrame, selection: str) -> pd.DataFrame:
    """Mean over seeds of each task's headline metric, per model."""
    head = finetune_headline(ft, selection)
    return (head.groupby(["model", "size", "condition", "task"], sort=False)["value"].mean()
            .reset_index().rename(columns={"value": "score"}))


def finetune_tables(cfg: StudyConfig, ft: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per epoch-selection rule: mean over seeds of each task's headline metric, task x model."""
    from .finetune import FinetuneConfig
    selections = FinetuneConfig.from_dict(cfg.finetune.config, "finetune.config").selections
    return {sel: finetune_scores(ft, sel).pivot_table(index="task", columns="model", values="score",
                                                      sort=False).round(1) for sel in selections}


def headline_table(cfg: StudyConfig, selection: str) -> pd.DataFrame:
    """One row per model x task: every zero-shot task (reading split into eye tracking and self-paced
    reading) and every fine-tuning task (mean over seeds) — `stats.SUMMARY` plus `kind` and `metric`."""
    zs = zero_shot_summary(cfg)
    zs = zs[zs.status == "ok"] if len(zs) else zs
    rows = [r for r in zs.to_dict(orient="records") if r["task"] != "reading"]
    deltas = reading_deltas(cfg)
    for (model, size, cond, fam), g in (deltas.groupby(["model", "size", "condition", "family"], sort=False)
                                        if len(deltas) else []):
        rows.append({"model": model, "size": size, "condition": cond, "task": f"reading_{fam}",
                     "metric": "reading", "score": g.score.mean()})
    out = pd.DataFrame(rows).assign(kind="zero-shot")
    ft = finetune_table(cfg)
    if len(ft):
        fs = finetune_scores(ft, selection).assign(kind="fine-tuning", metric="glue")
        out = pd.concat([out, fs], ignore_index=True)
    return out[["model", "size", "condition", "kind", "task", "metric", "score"]]


def correlation_table(corr: pd.DataFrame) -> pd.DataFrame:
    """Spearman ρ of model preference against the human ratio, per task (columns) and model (rows)."""
    rows = [{"model": model, "task": task, "rho": g["score"].corr(g["target"], method="spearman")}
            for (task, model), g in corr.groupby(["task", "model"], sort=False)]
    return pd.DataFrame(rows).pivot_table(index="model", columns="task", values="rho", sort=False).round(3)
