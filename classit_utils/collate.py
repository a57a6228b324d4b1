"""The leaderboard submission file: one JSON per model holding every full-eval prediction, the fine-tuning
predictions and (with `fast`) the fast-eval scores of each intermediate checkpoint, as the official
`collate_preds.py` writes it (`<results>/<model>/all_full_preds_and_fast_scores_<backend>.json`).

Followed (read, not copied):
- 2025: `babylm/evaluation-pipeline-2025` @ bf55c11, `evaluation_pipeline/collate_preds.py`, `collate_preds.sh`
  (`--fast --track=$TRACK`) and `README.md` ("Submission Format": benchmark -> task -> predictions);
- 2026: `babylm-org/babylm-eval` @ 6f825c2, `strict/evaluation_pipeline/collate_preds.py` (the current
  leaderboard's). Its differences: entity tracking under `entity_tracking_filtered` (predictions made without
  the items whose options contain "nothing", sizes `ENTITY_TRACKING_SIZES`; the fast gold is filtered the same
  way), Global PIQA parallel / nonparallel (keyed by example_id, one prediction each, fast gold
  `<folder>/eng_latn.jsonl`), no WUG, AoA as `aoa_surprisals` (surprisal.json) + `aoa` (aoa_score.json), and
  the EWoK fast target `Context1 + " " + Target1` (2025: `Target1`).

The object, key by key in the official order (`collate_full_eval_preds`): each predictions.json exactly as
`json.load` reads it; `glue` = the seven fine-tuning files merged with `|=` in the order boolq, mnli, mrpc,
multirc, qqp, rte, wsc; then `fast_eval_results` = {task: [one score dict per checkpoint, in the track's
revision order]}. Fast scores are fractions (accuracy = correct / total, reading = relative Delta R2), not
the percentages the project's own summaries hold. The file is `json.dump(obj, f)`: no indent, no final
newline, NaN written as `NaN`.

One deliberate difference: the official code asserts (2025) or prints a warning and writes None for the
entry (2026) when a file is missing or a dataset has the wrong size; here an incomplete folder is refused
with one line naming the first missing file or the first short dataset (`check_complete`), so a submission
never lacks a task silently. Refused as well, where the official code would pass or crash: a subtask
absent from a file (the official size check only looks at the subtasks present), one that is not official,
a GLUE file whose key is not its task, and fast gold whose item count differs from the predictions'
(the official `zip` would score a prefix).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from . import records
from .datafiles import read_jsonl, read_jsonl_folder
from .errors import DataError, MissingData
from .glue import GLUE_TASKS
from .tasks import OFFICIAL_SIZES

log = logging.getLogger(__name__)

__all__ = ["RULES", "TRACKS", "BACKENDS", "GLUE_ORDER", "STRICT_SMALL_FAST_REVISIONS", "OTHER_FAST_REVISIONS",
           "AOA_SIZE", "fast_revisions", "output_path", "check_complete", "collate", "write_collated",
           "run_collate", "summary_line", "FastGold", "target_accuracy", "entity_tracking_accuracy", "wug_spearman",
           "global_piqa_accuracy", "reading_fast_scores", "add_cli_arguments", "cli_main"]

RULES = ("2025", "2026")
TRACKS = ("strict", "strict-small")
BACKENDS = ("mlm", "causal", "mntp", "enc_dec_mask", "enc_dec_prefix")   # collate_preds.py --backend choices
GLUE_ORDER = ("boolq", "mnli", "mrpc", "multirc", "qqp", "rte", "wsc")   # collate_full_eval_preds glue_tasks
# The checkpoints the leaderboard wants (STRICT_SMALL_FAST_REVISIONS, OTHER_FAST_REVISIONS; the same in 2025
# and 2026): every 1M words to 10M, every 10M to 100M, and for strict every 100M to 1000M.
STRICT_SMALL_FAST_REVISIONS = [f"chck_{i}M" for i in range(1, 10)] + [f"chck_{i * 10}M" for i in range(1, 11)]
OTHER_FAST_REVISIONS = ([f"chck_{i}M" for i in range(1, 10)] + [f"chck_{i * 10}M" for i in range(1, 10)]
                        + [f"chck_{i * 100}M" for i in range(1, 11)])
AOA_SIZE = 8005          # AOA_SIZE: surprisal records per checkpoint in AoA_word/surprisal.json
OUTPUT_NAME = "all_full_preds_and_fast_scores_{backend}.json"


def fast_revisions(track: str) -> list[str]:
    """The checkpoints of `track` (strict-small: 19, strict: 28), in the official order."""
    if track not in TRACKS:
        raise ValueError(f"unknown track {track!r} (known: {', '.join(TRACKS)})")
    return list(STRICT_SMALL_FAST_REVISIONS if track == "strict-small" else OTHER_FAST_REVISIONS)


def output_path(results_dir: Path | str, model: str, backend: str = "causal") -> Path:
    """`<results>/<model stem>/all_full_preds_and_fast_scores_<backend>.json`, the official output path."""
    return Path(results_dir) / Path(model).stem / OUTPUT_NAME.format(backend=backend)


# ----------------------------------------------------------------------------------------------- datasets
@dataclass(frozen=True)
class Dataset:
    """One file the collation reads: where, how its size is checked, how a fast score comes from it."""
    key: str                      # its entry in the collated object (and in fast_eval_results)
    parts: tuple[str, ...]        # the file under <results>/<model>/<revision>/
    kind: str                     # uids | glue | piqa | aoa | any
    sizes: Mapping[str, int] | int | None
    hint: str                     # the project command that writes it
    variant: str = "full"
    score: str | None = None      # fast: target | entity_tracking | wug | piqa | reading
    gold: str = ""                # fast: the gold folder under the fast-eval folder

    @property
    def label(self) -> str:
        """`blimp/blimp_filtered`, `reading`, `AoA_word/surprisal.json`, `finetune/boolq`."""
        inner = self.parts[2:] if self.parts[0] == "zero_shot" else self.parts
        return "/".join(inner[:-1] if inner[-1] == "predictions.json" else inner)


def _official(task: str, variant: str) -> Mapping[str, int]:
    try:
        return OFFICIAL_SIZES[task][variant]
    except KeyError:
        raise DataError(f"classit_utils.tasks.OFFICIAL_SIZES has no {task}/{variant} sizes") from None


def _rev(revision: str) -> str:
    return f" --revision {revision}" if revision != "main" else ""


def _datasets(rules: str, backend: str, revision: str, variant: str) -> list[Dataset]:
    """The files of one revision in the official reading order: `collate_full_eval_preds` (full) or
    `get_revision_fast_eval_metrics` (fast)."""
    fast = variant == "fast"
    rul = " --rules 2026" if rules == "2026" else ""

    def zs(key, folders, task, score=None, gold="", sizes=None):
        parts = ("zero_shot", backend, *folders, "predictions.json")
        hint = f"run classit-eval zero-shot{rul} --variant {variant}{_rev(revision)} --tasks {task}"
        if score == "piqa":       # GLOBAL_PIQA_SIZES: the number of examples, one prediction each
            return Dataset(key, parts, "piqa", _official(task, variant)[task], hint, variant,
                           score if fast else None, gold)
        return Dataset(key, parts, "uids", _official(sizes or task, variant), hint, variant,
                       score if fast else None, gold)

    def piqa(task):
        return zs(task, (task, task), task, "piqa", task)

    et = "entity_tracking" if rules == "2025" else "entity_tracking_filtered"
    blimp = zs("blimp", ("blimp", "blimp_fast" if fast else "blimp_filtered"), "blimp", "target", "blimp_fast")
    supp = zs("blimp_supplement", ("blimp", "supplement_fast" if fast else "supplement_filtered"), "supplement",
              "target", "supplement_fast")
    ewok = zs("ewok", ("ewok", "ewok_fast" if fast else "ewok_filtered"), "ewok", "target", "ewok_fast")
    ent = zs(et, ("entity_tracking", "entity_tracking_fast" if fast else "entity_tracking"), "entity_tracking",
             "entity_tracking", "entity_tracking_fast", sizes=et)
    wug_adj = zs("wug_adj", ("wug_adj", "wug_adj_nominalization"), "wug_adj", "wug", "wug_adj_nominalization")
    wug_past = zs("wug_past", ("wug_past", "wug_past_tense"), "wug_past", "wug", "wug_past_tense")
    reading = zs("reading", ("reading",), "reading", "reading", "reading")
    if fast:
        if rules == "2025":
            return [blimp, supp, ewok, ent, wug_adj, wug_past, reading]
        return [blimp, supp, ewok, ent, piqa("global_piqa_parallel"), piqa("global_piqa_nonparallel"), reading]
    comps = zs("comps", ("comps", "comps"), "comps")
    aoa_hint = f"run classit-eval aoa{_rev(revision)}"
    surprisal = ("zero_shot", backend, "AoA_word", "surprisal.json")
    glue = [Dataset(t, ("finetune", t, "predictions.json"), "glue", {t: GLUE_TASKS[t].valid_size},
                    f"run classit-eval finetune --tasks {t}{_rev(revision)}") for t in GLUE_ORDER]
    if rules == "2025":
        return [blimp, supp, ewok, ent, wug_adj, wug_past, comps, reading,
                Dataset("aoa", surprisal, "aoa", AOA_SIZE, aoa_hint), *glue]
    return [blimp, supp, ewok, ent, comps, piqa("global_piqa_parallel"), piqa("global_piqa_nonparallel"), reading,
            Dataset("aoa_surprisals", surprisal, "aoa", AOA_SIZE, aoa_hint),
            Dataset("aoa", ("zero_shot", backend, "AoA_word", "aoa_score.json"), "any", None, aoa_hint), *glue]


# ----------------------------------------------------------------------------------------------- checks
def _read_json(path: Path) -> Any:
    try:
        with path.open("r", encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: invalid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None


def _predictions(obj: Any, label: str) -> dict[str, list]:
    """{subtask: its predictions list} of a predictions.json object, its shape checked."""
    if not isinstance(obj, dict):
        raise DataError(f"{label}: expected a JSON object of subtasks, got {type(obj).__name__}")
    out = {}
    for uid, res in obj.items():
        if not isinstance(res, dict) or not isinstance(res.get("predictions"), list):
            raise DataError(f"{label}: {uid}: expected {{\"predictions\": [...]}}")
        out[uid] = res["predictions"]
    return out


def _check_uids(preds: Mapping[str, list], ds: Dataset, label: str) -> None:
    """Every official subtask present with its official count (keys compared lower-cased, as `_check_size`)."""
    sizes, seen = ds.sizes, set()
    for uid, p in preds.items():
        key = uid.lower()
        if key not in sizes:
            raise DataError(f"{label}: {uid} is not an official subtask ({len(sizes)} official: "
                            f"{', '.join(list(sizes)[:3])}, ...)")
        seen.add(key)
        if len(p) != sizes[key]:
            note = ""
            if ds.key == "entity_tracking_filtered" and len(p) == _official("entity_tracking", ds.variant).get(key):
                note = (" (the 2025 count; the 2026 rules drop the items whose options contain 'nothing': "
                        f"{ds.hint})")
            raise DataError(f"{label}: {uid} has {len(p)} predictions, official {sizes[key]}{note}")
    for key, n in sizes.items():
        if key not in seen:
            raise DataError(f"{label}: {key} is missing (official {n} predictions)")


def _check_aoa(obj: Any, label: str, revisions: Sequence[str]) -> None:
    """`_check_size_aoa`: the results hold exactly the track's checkpoints, AOA_SIZE records each."""
    res = obj.get("results") if isinstance(obj, dict) else None
    if not isinstance(res, list) or not all(isinstance(r, dict) and "step" in r for r in res):
        raise DataError(f"{label}: expected {{\"results\": [{{\"step\": ..., ...}}, ...]}}")
    counts: dict[Any, int] = defaultdict(int)
    for r in res:
        counts[r["step"]] += 1
    if len(counts) != len(revisions):
        raise DataError(f"{label}: predictions for {len(counts)} checkpoints, official {len(revisions)} "
                        f"({revisions[0]} .. {revisions[-1]})")
    for rev in revisions:
        if rev not in counts:
            raise DataError(f"{label}: no predictions for checkpoint {rev}")
    for rev in revisions:
        if counts[rev] != AOA_SIZE:
            raise DataError(f"{label}: {rev} has {counts[rev]} predictions, official {AOA_SIZE}")


def _check(ds: Dataset, obj: Any, label: str, aoa_revisions: Sequence[str]) -> None:
    if ds.kind == "any":
        return
    if ds.kind == "aoa":
        return _check_aoa(obj, label, aoa_revisions)
    preds = _predictions(obj, label)
    if ds.kind == "piqa":        # `_check_size_global_piqa`
        if len(preds) != ds.sizes:
            raise DataError(f"{label}: {len(preds)} examples, official {ds.sizes}")
        for ex, p in preds.items():
            if len(p) != 1:
                raise DataError(f"{label}: example {ex} has {len(p)} predictions, official 1")
        return
    if ds.kind == "glue" and list(preds) != [ds.key]:
        raise DataError(f"{label}: holds {', '.join(preds) or 'nothing'}, expected {ds.key} only")
    _check_uids(preds, ds, label)


class _Collation:
    """One model's results folder under one set of rules: which files, in which order, read once each."""

    def __init__(self, results_dir: Path | str, model: str, rules: str, fast: bool, track: str, backend: str,
                 revision: str):
        if rules not in RULES:
            raise ValueError(f"unknown rules {rules!r} (known: {', '.join(RULES)})")
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r} (known: {', '.join(BACKENDS)})")
        self.track_revisions = fast_revisions(track)
        self.results_dir, self.rules, self.revision = Path(results_dir), rules, revision
        self.model = Path(model).stem           # as `args.model_path_or_name.stem`
        self.root = self.results_dir / self.model
        self.full = _datasets(rules, backend, revision, "full")
        self.fast_revisions = self.track_revisions if fast else []
        self.fast = {rev: _datasets(rules, backend, rev, "fast") for rev in self.fast_revisions}

    def path(self, revision: str, ds: Dataset) -> Path:
        return self.root / revision / Path(*ds.parts)

    def check_files(self) -> None:
        """Every file present, in reading order (full revision, then each checkpoint)."""
        plan = [(self.revision, ds) for ds in self.full]
        plan += [(rev, ds) for rev in self.fast_revisions for ds in self.fast[rev]]
        for rev, ds in plan:
            p = self.path(rev, ds)
            if not p.is_file():
                raise DataError(f"{p}: missing ({ds.hint})")

    def load(self, revision: str, ds: Dataset) -> Any:
        """The file's JSON, its sizes checked; errors name `blimp/blimp_filtered` (the full revision) or
        `chck_1M/blimp/blimp_fast`."""
        label = ds.label if ds.variant == "full" else f"{revision}/{ds.label}"
        obj = _read_json(self.path(revision, ds))
        _check(ds, obj, label, self.track_revisions)
        return obj

    def full_results(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for ds in self.full:
            obj = self.load(self.revision, ds)
            if ds.kind == "glue":
                out.setdefault("glue", {})
                out["glue"] |= obj
            else:
                out[ds.key] = obj
        return out

    def fast_results(self, gold: FastGold | None) -> dict[str, list]:
        """{task: [score per checkpoint]} (`get_fast_eval_metrics`); only checks when `gold` is None."""
        out: dict[str, list] = {}
        for rev in self.fast_revisions:
            for ds in self.fast[rev]:
                obj = self.load(rev, ds)
                out.setdefault(ds.key, []).append(None if gold is None
                                                  else gold.score(ds, obj, f"{rev}/{ds.label}"))
        return out


def check_complete(results_dir: Path | str, model: str, *, rules: str = "2025", fast: bool = False,
                   track: str = "strict", backend: str = "causal", revision: str = "main") -> None:
    """Raise `DataError` (one line) at the first file the collation needs that is missing, then at the first
    dataset whose size is not the official one; None when the results folder is complete. Checks the
    results folder only: the fast-eval gold is checked when `collate` scores against it."""
    c = _Collation(results_dir, model, rules, fast, track, backend, revision)
    c.check_files()
    c.full_results()
    c.fast_results(None)


# ----------------------------------------------------------------------------------------------- fast scores
def _pred(p: Any, key: str, label: str, i: int) -> Any:
    if not isinstance(p, dict) or key not in p:
        raise DataError(f"{label}: prediction {i} has no {key!r}")
    return p[key]


def _same_length(label: str, subtask: str, n_pred: int, n_gold: int, gold_name: str) -> None:
    if n_pred != n_gold:
        raise DataError(f"{label}: {subtask} has {n_pred} predictions but {gold_name} has {n_gold} items")


def _strip(v: Any) -> Any:
    return v.strip() if isinstance(v, str) else v


def target_accuracy(results: Mapping[str, Any], gold: Mapping[str, Sequence[Mapping[str, Any]]], task: str,
                    rules: str = "2025", label: str = "", gold_name: str = "") -> dict[str, float]:
    """`_calculate_target_results`: per subtask, the fraction of predictions equal (both `.strip()`ped) to
    the gold target of the same position in `<gold folder>/<subtask>.jsonl`: `sentence_good`; for EWoK
    `Target1` (2025) or `Context1 + " " + Target1` (2026)."""
    out = {}
    for subtask, res in results.items():
        if subtask not in gold:
            raise DataError(f"{label}: no gold file {gold_name}/{subtask}.jsonl for subtask {subtask}")
        preds, rows = res["predictions"], gold[subtask]
        _same_length(label, subtask, len(preds), len(rows), f"{gold_name}/{subtask}.jsonl")
        correct = 0
        for i, (p, g) in enumerate(zip(preds, rows)):
            if task == "ewok" and rules == "2026":
                if not (isinstance(g.get("Context1"), str) and isinstance(g.get("Target1"), str)):
                    raise DataError(f"{gold_name}/{subtask}.jsonl: item {i}: Context1 and Target1 must be strings")
                target = " ".join([g["Context1"], g["Target1"]]).strip()
            else:
                target = _strip(g["Target1" if task == "ewok" else "sentence_good"])
            correct += _strip(_pred(p, "pred", label, i)) == target
        out[subtask] = correct / len(preds)
    return out


def group_entity_tracking(rows: Iterable[Mapping[str, Any]], rules: str = "2025") -> dict[str, list]:
    """The fast gold by subtask `regular_<numops>_ops`, in file order; 2026 drops every item with an
    option containing "nothing", as its predictions were made."""
    out: dict[str, list] = defaultdict(list)
    for r in rows:
        if rules == "2026" and any("nothing" in o for o in r["options"]):
            continue
        out[f"regular_{r['numops']}_ops"].append(r)
    return dict(out)


def entity_tracking_accuracy(results: Mapping[str, Any], gold: Mapping[str, Sequence[Mapping[str, Any]]],
                             label: str = "", gold_name: str = "entity_tracking_fast/regular.jsonl"
                             ) -> dict[str, float]:
    """`_calculate_target_et_results`: per subtask, predictions vs `options[0]` of the same position."""
    out = {}
    for subtask, res in results.items():
        preds, rows = res["predictions"], gold.get(subtask, [])
        _same_length(label, subtask, len(preds), len(rows), gold_name)
        correct = sum(_strip(_pred(p, "pred", label, i)) == _strip(g["options"][0])
                      for i, (p, g) in enumerate(zip(preds, rows)))
        out[subtask] = correct / len(preds)
    return out


def wug_spearman(results: Mapping[str, Any], gold: Sequence[Mapping[str, Any]], label: str = "",
                 gold_name: str = "") -> dict[str, float]:
    """`_calculate_wugs_results` (2025): per subtask, Spearman's rho of the predictions' `prob` against the
    gold `ratio` of the same position (NaN when either is constant)."""
    from scipy.stats import spearmanr
    out = {}
    for subtask, res in results.items():
        preds = res["predictions"]
        _same_length(label, subtask, len(preds), len(gold), gold_name)
        model = [_pred(p, "prob", label, i) for i, p in enumerate(preds)]
        for i, p in enumerate(preds):
            _pred(p, "pred", label, i)         # the official loop reads it (its result is unused)
        out[subtask] = float(spearmanr(model, [g["ratio"] for g in gold])[0])
    return out


def global_piqa_accuracy(results: Mapping[str, Any], gold: Sequence[Mapping[str, Any]], task: str,
                         label: str = "", gold_name: str = "") -> dict[str, float]:
    """`_calculate_global_piqa_results` (2026): over the gold examples, the first prediction of the example
    vs `solution<label>`, both stripped; {task: accuracy}."""
    if not gold:
        raise DataError(f"{gold_name}: no examples")
    correct = 0
    for g in gold:
        ex = g["example_id"]
        if ex not in results:
            raise DataError(f"{label}: no prediction for example {ex} of {gold_name}")
        target = g.get(f"solution{g['label']}")
        pred = _pred(results[ex]["predictions"][0], "pred", label, 0)
        if not isinstance(pred, str) or not isinstance(target, str):
            raise DataError(f"{label}: example {ex}: the prediction and solution{g['label']} must be strings")
        correct += pred.strip() == target.strip()
    return {task: correct / len(gold)}


_EYE_TRACKING = ("RTfirstfix", "RTfirstpass", "RTgopast", "RTrightbound")
_BASE = ("Subtlex_log10", "length", "context_length")
_SPILLOVER = _BASE + ("prev_length", "prev_pred")
_SPR = "self_paced_reading_time"


def _formula(dv: str, predictors: Sequence[str], extra: str | None = None) -> str:
    """`dv ~ a + b + c + a:b + a:c + b:c [+ extra]`: the official formulas' term order."""
    pairs = [f"{a}:{b}" for i, a in enumerate(predictors) for b in predictors[i + 1:]]
    return f"{dv} ~ " + " + ".join([*predictors, *pairs, *([extra] if extra else [])])


def _relative_gain(data, dv: str, predictors: Sequence[str]) -> float:
    import statsmodels.formula.api as smf
    base = data[[dv, *predictors]].dropna()
    r2_base = float(smf.ols(formula=_formula(dv, predictors), data=base).fit().rsquared)
    full = data[[dv, *predictors, "pred"]].dropna()
    r2_model = float(smf.ols(formula=_formula(dv, predictors, "pred"), data=full).fit().rsquared)
    return (r2_model - r2_base) / (1 - r2_base)


def reading_fast_scores(results: Mapping[str, Any], table, label: str = "") -> dict[str, float]:
    """`_calculate_reading_results`: `pred` / `prev_pred` of `results["reading"]` put beside the CSV rows;
    `rt` = the mean over the four eye-tracking measures of (R2_model - R2_base) / (1 - R2_base), `spr` the
    same for self-paced reading with the spill-over baseline. A fraction in both 2025 and 2026 (the
    project's reading summaries multiply by 100; the collation does not)."""
    preds = results["reading"]["predictions"]
    if len(preds) != len(table):
        raise DataError(f"{label}: reading has {len(preds)} predictions but reading/reading_data.csv has "
                        f"{len(table)} rows")
    data = table.copy()
    data["pred"] = [_pred(p, "pred", label, i) for i, p in enumerate(preds)]
    data["prev_pred"] = [_pred(p, "prev_pred", label, i) for i, p in enumerate(preds)]
    eye = [_relative_gain(data, dv, _BASE) for dv in _EYE_TRACKING]
    return {"spr": _relative_gain(data, _SPR, _SPILLOVER), "rt": sum(eye) / len(eye)}


class FastGold:
    """The fast-eval gold labels, read once per collation from the project's data layout (folders directly
    under `data_dir`; EWoK from inside `ewok.zip`, else a plain `ewok_fast/`) or the official
    `evaluation_data/fast_eval/` (the same folder names)."""

    def __init__(self, data_dir: Path | str | None, rules: str = "2025"):
        data_dir = data_dir if data_dir is not None else os.environ.get("CLASSIT_DATA")
        if not data_dir:
            raise DataError("no fast-eval data folder (give --fast-eval-dir or set CLASSIT_DATA)")
        self.dir, self.rules = Path(data_dir), rules
        if not self.dir.is_dir():
            raise MissingData(f"{self.dir}: fast-eval data folder not found")
        self._cache: dict[str, Any] = {}
        self._warned = False

    def _cached(self, key: str, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def pairs(self, folder: str) -> dict[str, list[dict]]:
        """{file stem: records in file order} of blimp_fast, supplement_fast or ewok_fast."""
        def make():
            fields = ("Context1", "Target1") if folder == "ewok_fast" else ("sentence_good",)
            out: dict[str, list] = defaultdict(list)
            for stem, _where, rec in read_jsonl_folder(self.dir, folder, fields,
                                                       zip_name="ewok.zip" if folder == "ewok_fast" else None):
                out[stem].append(rec)
            return dict(out)
        return self._cached(folder, make)

    def entity_tracking(self) -> dict[str, list[dict]]:
        name = "entity_tracking_fast/regular.jsonl"
        return self._cached(name, lambda: group_entity_tracking(
            (r for _w, r in read_jsonl(self.dir / name, name, ("options", "numops"))), self.rules))

    def records(self, folder: str, file: str, fields: Sequence[str]) -> list[dict]:
        name = f"{folder}/{file}"
        return self._cached(name, lambda: [r for _w, r in read_jsonl(self.dir / name, name, fields)])

    def reading(self):
        """`reading/reading_data.csv` read as the official code reads it (`dtype={'item': str}`)."""
        def make():
            import pandas as pd
            path = self.dir / "reading" / "reading_data.csv"
            if not path.is_file():
                raise MissingData(f"reading/reading_data.csv: file not found ({path})")
            df = pd.read_csv(path, dtype={"item": str})
            missing = [c for c in (*_EYE_TRACKING, _SPR, *_BASE, "prev_length") if c not in df.columns]
            if missing:
                raise DataError(f"reading/reading_data.csv: missing column {missing[0]!r}")
            return df
        return self._cached("reading", make)

    def score(self, ds: Dataset, obj: Mapping[str, Any], label: str) -> dict[str, float]:
        if ds.score == "target":
            task = {"blimp_fast": "blimp", "supplement_fast": "blimp_supplement", "ewok_fast": "ewok"}[ds.gold]
            res = target_accuracy(obj, self.pairs(ds.gold), task, self.rules, label, ds.gold)
            if task == "ewok" and self.rules == "2026":
                self._warn_ewok(obj, res)
            return res
        if ds.score == "entity_tracking":
            return entity_tracking_accuracy(obj, self.entity_tracking(), label)
        if ds.score == "wug":
            file = f"{ds.gold}.jsonl"
            return wug_spearman(obj, self.records(ds.gold, file, ("ratio",)), label, f"{ds.gold}/{file}")
        if ds.score == "piqa":
            return global_piqa_accuracy(obj, self.records(ds.gold, "eng_latn.jsonl", ("example_id", "label")),
                                        ds.gold, label, f"{ds.gold}/eng_latn.jsonl")
        if ds.score == "reading":
            return reading_fast_scores(obj, self.reading(), label)
        raise ValueError(f"no fast score for {ds.key}")

    def _warn_ewok(self, obj: Mapping[str, Any], res: Mapping[str, float]) -> None:
        """2026 compares EWoK predictions with `Context1 + " " + Target1` (the pipeline's
        `--full_sentence_scores` completions); predictions of the bare `" " + Target` score 0 there."""
        if self._warned or any(res.values()):
            return
        gold = self.pairs("ewok_fast")
        bare = sum(_strip(p.get("pred")) == _strip(g["Target1"]) for k, v in obj.items() if k in gold
                   for p, g in zip(v["predictions"], gold[k]))
        if bare:
            self._warned = True
            log.warning("EWoK fast: every 2026 score is 0 but %d predictions equal their bare Target1: the 2026 "
                        "rule expects full-sentence completions (Context1 + ' ' + Target1)", bare)


# ----------------------------------------------------------------------------------------------- collate
def collate(results_dir: Path | str, model: str, *, rules: str = "2025", fast: bool = False,
            track: str = "strict", backend: str = "causal", fast_eval_dir: Path | str | None = None,
            revision: str = "main") -> dict[str, Any]:
    """The object `collate_preds.py` dumps (module docstring) for `<results_dir>/<model stem>/`; refuses an
    incomplete folder with a one-line `DataError` (`check_complete`). `fast_eval_dir`: the fast gold
    (default `$CLASSIT_DATA`), read only with `fast`."""
    c = _Collation(results_dir, model, rules, fast, track, backend, revision)
    c.check_files()
    gold = FastGold(fast_eval_dir, rules) if fast else None
    full = c.full_results()
    if fast:
        full["fast_eval_results"] = c.fast_results(gold)
    return full


def write_collated(obj: Mapping[str, Any], path: Path | str) -> Path:
    """`obj` as `json.dump(obj, f)` writes it (same text: default separators, ASCII, NaN as NaN, no final
    newline), atomically, so a crash never leaves half a submission."""
    return records.atomic_write_text(path, json.dumps(obj))


def _n_predictions(obj: Mapping[str, Any]) -> int:
    n = 0
    for key, v in obj.items():
        if key == "fast_eval_results" or not isinstance(v, dict):
            continue
        if isinstance(v.get("results"), list):
            n += len(v["results"])
        else:
            n += sum(len(r["predictions"]) for r in v.values() if isinstance(r, dict)
                     and isinstance(r.get("predictions"), list))
    return n


def summary_line(obj: Mapping[str, Any], model: str, rules: str = "2025", track: str = "strict") -> str:
    """`m: rules 2025, 10 entries (412345 predictions, glue 7 tasks), fast scores of 7 tasks at 28 checkpoints
    (chck_1M .. chck_1000M)`."""
    fast = obj.get("fast_eval_results")
    line = (f"{Path(model).stem}: rules {rules}, {len(obj) - (fast is not None)} entries "
            f"({_n_predictions(obj)} predictions, glue {len(obj.get('glue', {}))} tasks)")
    if fast is not None:
        revs = fast_revisions(track)
        line += f", fast scores of {len(fast)} tasks at {len(revs)} checkpoints ({revs[0]} .. {revs[-1]})"
    return line


def run_collate(results_dir: Path | str, model: str, out: Path | str | None = None, **kw) -> tuple[Path, str]:
    """Collate, write (`out`, default the official path) and return (path, `summary_line`)."""
    obj = collate(results_dir, model, **kw)
    path = write_collated(obj, out if out is not None else output_path(results_dir, model,
                                                                       kw.get("backend", "causal")))
    return path, summary_line(obj, model, kw.get("rules", "2025"), kw.get("track", "strict"))


# ----------------------------------------------------------------------------------------------- CLI
def add_cli_arguments(p: argparse.ArgumentParser) -> None:
    """`classit-eval collate ...` (registered by `classit_utils.cli`)."""
    p.add_argument("--results", default="results", help="results root (default: results)")
    p.add_argument("--model", required=True, help="model name (or path: its stem, as the official code)")
    p.add_argument("--out", default=None,
                   help="output file (default: <results>/<model>/all_full_preds_and_fast_scores_<backend>.json)")
    p.add_argument("--fast", action="store_true", help="add the fast-eval scores of every chck_* checkpoint")
    p.add_argument("--rules", choices=RULES, default="2025",
                   help="2025: babylm/evaluation-pipeline-2025; 2026: babylm-org/babylm-eval (the current leaderboard)")
    p.add_argument("--track", choices=TRACKS, default="strict", help="which checkpoint list (default: strict)")
    p.add_argument("--backend", choices=BACKENDS, default="causal")
    p.add_argument("--revision", default="main", help="revision of the full evaluation (default: main)")
    p.add_argument("--fast-eval-dir", default=None,
                   help="fast-eval gold folder (default: $CLASSIT_DATA; the official fast_eval/ works too)")


def cli_main(args: argparse.Namespace) -> int:
    """Write the file, print its path and a summary; a problem prints one line and exits 2."""
    import sys
    try:
        path, summary = run_collate(args.results, args.model, args.out, rules=args.rules, fast=args.fast,
                                    track=args.track, backend=args.backend, revision=args.revision,
                                    fast_eval_dir=args.fast_eval_dir)
    except (DataError, ValueError, OSError) as e:
        print(f"classit-eval: error: {e}", file=sys.stderr)
        return 2
    print(path)
    print(summary)
    return 0
