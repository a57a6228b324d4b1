"""EWoK (Elements of World Knowledge), 11 domains, read from inside the password zip `ewok.zip`.

Pipeline rules (`read_files.decode_ewok`, default `full_sentence_scores=False`): both candidates share the
context `Context1`; candidates are `" " + Target1` (correct) and `" " + Target2`, so only the target is
scored, given BOS + Context1 (the texts are `Context1 + " " + Target`). The two candidates share their
context's computation in the scorer. Subtask: `Domain`; breakdowns by `ContextType`, `ContextDiff`,
`TargetDiff` (the pipeline's `context_type`, `context_contrast`, `target_contrast`). Metric: accuracy per
domain, macro-averaged. `predictions.json` reports the chosen `" " + Target`.

The data are read with `zipfile` and password `BabyLM2025`, never unpacked; a plain `ewok_fast/` or
`ewok_filtered/` folder (the official layout, or generated demo data) is used when there is no zip.
"""
from __future__ import annotations

from pathlib import Path

from . import DataError, Item, Task, TaskSpec, evaluate_ranking, limit_per_uid, read_jsonl_folder

EWOK = TaskSpec(
    name="ewok", pipeline_task="ewok", folders={"fast": "ewok_fast", "full": "ewok_filtered"},
    fields=("Domain", "Context1", "Target1", "Target2", "ContextType", "ContextDiff", "TargetDiff"),
    scored_span="' ' + Target given BOS + Context1", metric="accuracy",
    aggregation="accuracy per domain, macro-average over domains", subtask="record field Domain",
    group_by=("context_type", "context_contrast", "target_contrast"), zip_name="ewok.zip")

PASSWORD = b"BabyLM2025"


def load(data_dir: Path | str, variant: str = "fast", limit: int | None = None) -> list[Item]:
    items = []
    for _stem, where, rec in read_jsonl_folder(data_dir, EWOK.folder(variant), EWOK.fields,
                                               zip_name=EWOK.zip_name, password=PASSWORD):
        for key in ("Context1", "Target1", "Target2"):
            if not isinstance(rec[key], str) or not rec[key].strip():
                raise DataError(f"{where}: field {key!r} must be a non-empty string")
        ctx = rec["Context1"]
        cands = (" " + rec["Target1"], " " + rec["Target2"])
        items.append(Item(uid=str(rec["Domain"]), source=where, contexts=(ctx, ctx), continuations=cands,
                          completions=cands, label=0,
                          meta={"context_type": str(rec["ContextType"]), "context_contrast": str(rec["ContextDiff"]),
                                "target_contrast": str(rec["TargetDiff"])}))
    return limit_per_uid(items, limit)


def full_sentences(items: list[Item]) -> list[Item]:
    """The 2026 rule: each candidate is the whole sentence `Context1 + " " + Target`, scored and predicted as
    such (the pipeline's `full_sentence_scores` completions). The 2026 `read_files.py` is not in the stored
    material; its collation (`babylm-org/babylm-eval` @ 6f825c2, `collate_preds.py::_calculate_target_results`)
    compares EWoK predictions with `" ".join([Context1, Target1])`, which only these completions can match."""
    out = []
    for it in items:
        sents = tuple(c + k for c, k in zip(it.contexts, it.continuations))
        out.append(Item(it.uid, it.source, ("",) * len(sents), sents, sents, it.label, dict(it.meta)))
    return out


TASKS = {"ewok": Task(EWOK, load, lambda v, items, scores: evaluate_ranking(EWOK, v, items, scores))}
