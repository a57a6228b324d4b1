"""Morphological wug tests: adjective nominalization (Hofmann et al. 2024) and past tense.

Format (both): `sentences` = the candidate full sentences joined by a TAB (first = the form whose human
preference is `ratio`), `ratio` = the human proportion for the first form. The same file serves the fast
and full variants (`wug_adj_nominalization/wug_adj_nominalization.jsonl`,
`wug_past_tense/wug_past_tense.jsonl`).

Pipeline rules (`read_files.decode_wug`, `compute_results.rank_and_evaluate_wug`, `run.process_results_wug`):
every candidate is scored as a whole sentence under the BOS policy; the model's ratio is the softmax over the
candidates' summed log-probs, taken at the first candidate; the metric is Spearman's rho between model and
human ratios over all items of the task. The subtask (UID) is the *task's* name, so `predictions.json` is
`{"wug_adj": {"predictions": [{"id": "wug_adj_0", "pred": <chosen sentence>, "prob": <ratio>}, ...]}}`, and
the report has one `### UID SPEARMAN'S RHO` section with `avg: <rho>`.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from . import (DataError, Item, Task, TaskResult, TaskSpec, choose, item_record, limit_per_uid,
               ranking_predictions, read_jsonl_folder, temperature_report)

WUG_ADJ = TaskSpec(
    name="wug_adj", pipeline_task="wug_adj",
    folders={"fast": "wug_adj_nominalization", "full": "wug_adj_nominalization"},
    fields=("sentences", "ratio"), scored_span="whole sentence given BOS (context empty)", metric="spearman",
    aggregation="Spearman rho of softmax(first candidate) vs human ratio, over all items", subtask="the task")

WUG_PAST = TaskSpec(
    name="wug_past", pipeline_task="wug_past", folders={"fast": "wug_past_tense", "full": "wug_past_tense"},
    fields=("sentences", "ratio"), scored_span="whole sentence given BOS (context empty)", metric="spearman",
    aggregation="Spearman rho of softmax(first candidate) vs human ratio, over all items", subtask="the task")


def load_wug(spec: TaskSpec, data_dir: Path | str, variant: str = "fast", limit: int | None = None) -> list[Item]:
    items = []
    for _stem, where, rec in read_jsonl_folder(data_dir, spec.folder(variant), spec.fields):
        if not isinstance(rec["sentences"], str):
            raise DataError(f"{where}: field 'sentences' must be a string of TAB-separated sentences")
        sents = tuple(rec["sentences"].split("\t"))
        if len(sents) < 2 or not all(s.strip() for s in sents):
            raise DataError(f"{where}: field 'sentences' must hold 2+ non-empty sentences separated by a TAB")
        try:
            ratio = float(rec["ratio"])
        except (TypeError, ValueError):
            raise DataError(f"{where}: field 'ratio' must be a number (got {rec['ratio']!r})") from None
        if not math.isfinite(ratio):
            raise DataError(f"{where}: field 'ratio' must be finite (got {ratio})")
        items.append(Item(uid=spec.name, source=where, contexts=("",) * len(sents), continuations=sents,
                          completions=sents, label=0, meta={"ratio": ratio}))
    return limit_per_uid(items, limit)


def model_ratio(logprobs) -> float:
    """softmax over the candidates' log-probs, at the first candidate."""
    x = np.asarray(logprobs, dtype=np.float64)
    e = np.exp(x - x.max())
    return float(e[0] / e.sum())


def spearman(model: list[float], human: list[float]) -> float:
    if len(model) < 2:
        return float("nan")
    return float(spearmanr(model, human)[0])


def evaluate_wug(spec: TaskSpec, variant: str, items, scores) -> TaskResult:
    probs = [model_ratio([s.logprob for s in ss]) for ss in scores]
    preds = [choose([s.logprob for s in ss]) for ss in scores]
    per_uid: dict[str, float] = {}
    counts: dict[str, int] = {}
    for uid in sorted({it.uid for it in items}):
        idx = [j for j, it in enumerate(items) if it.uid == uid]
        per_uid[uid] = spearman([probs[j] for j in idx], [items[j].meta["ratio"] for j in idx])
        counts[uid] = len(idx)
    records = []
    for it, ss, p, pr in zip(items, scores, preds, probs):
        rec = item_record(it, ss, p)
        rec["prob"] = pr
        records.append(rec)
    score = sum(per_uid.values()) / len(per_uid) if per_uid else float("nan")
    res = TaskResult(spec.name, spec.folder(variant), "spearman", score, {"UID": per_uid}, len(items), counts,
                     records, ranking_predictions(items, preds, [{"prob": pr} for pr in probs]))
    res.report = temperature_report([("UID", {"avg": score})], score, metric="SPEARMAN'S RHO")
    return res


TASKS = {
    "wug_adj": Task(WUG_ADJ, lambda d, v="fast", limit=None: load_wug(WUG_ADJ, d, v, limit),
                    lambda v, items, scores: evaluate_wug(WUG_ADJ, v, items, scores)),
    "wug_past": Task(WUG_PAST, lambda d, v="fast", limit=None: load_wug(WUG_PAST, d, v, limit),
                     lambda v, items, scores: evaluate_wug(WUG_PAST, v, items, scores)),
}
