"""BLiMP (filtered / fast, 67 paradigms) and the BabyLM BLiMP supplement (5 files).

Pipeline rules (`read_files.decode_blimp`): candidates are the two whole sentences, `sentence_good` first;
context empty, so the whole sentence is scored given BOS. The subtask is the record's `UID` for BLiMP and
the file stem for the supplement; `field` and `linguistics_term` are extra breakdowns for BLiMP
(`syntax_semantics` is written `syntax/semantics`, as the pipeline does). Metric: accuracy per UID,
macro-averaged.
"""
from __future__ import annotations

from pathlib import Path

from . import DataError, Item, Task, TaskSpec, evaluate_ranking, limit_per_uid, read_jsonl_folder

BLIMP = TaskSpec(
    name="blimp", pipeline_task="blimp", folders={"fast": "blimp_fast", "full": "blimp_filtered"},
    fields=("sentence_good", "sentence_bad", "UID", "field", "linguistics_term"),
    scored_span="whole sentence given BOS (context empty)", metric="accuracy",
    aggregation="accuracy per UID, macro-average over UIDs", subtask="record field UID (one file per UID)",
    group_by=("field", "linguistics_term"), report_keys=("field", "UID", "linguistics_term"))

SUPPLEMENT = TaskSpec(
    name="supplement", pipeline_task="blimp", folders={"fast": "supplement_fast", "full": "supplement_filtered"},
    fields=("sentence_good", "sentence_bad"),
    scored_span="whole sentence given BOS (context empty)", metric="accuracy",
    aggregation="accuracy per file, macro-average over files", subtask="file stem",
    group_by=("field", "linguistics_term"), report_keys=("field", "UID", "linguistics_term"))


def _text(rec: dict, key: str, where: str) -> str:
    v = rec[key]
    if not isinstance(v, str) or not v.strip():
        raise DataError(f"{where}: field {key!r} must be a non-empty string")
    return v


def load_pairs(spec: TaskSpec, data_dir: Path | str, variant: str = "fast", limit: int | None = None) -> list[Item]:
    items = []
    for stem, where, rec in read_jsonl_folder(data_dir, spec.folder(variant), spec.fields):
        good, bad = _text(rec, "sentence_good", where), _text(rec, "sentence_bad", where)
        if spec.name == "blimp":
            uid = str(rec["UID"])
            f = str(rec["field"])
            meta = {"field": "syntax/semantics" if f == "syntax_semantics" else f,
                    "linguistics_term": str(rec["linguistics_term"])}
        else:      # the pipeline's supplement rows: field and term "supplement", the file stem as UID
            uid, meta = stem, {"field": "supplement", "linguistics_term": "supplement"}
        items.append(Item(uid=uid, source=where, contexts=("", ""), continuations=(good, bad),
                          completions=(good, bad), label=0, meta=meta))
    return limit_per_uid(items, limit)


TASKS = {
    "blimp": Task(BLIMP, lambda d, v="fast", limit=None: load_pairs(BLIMP, d, v, limit),
                  lambda v, items, scores: evaluate_ranking(BLIMP, v, items, scores)),
    "supplement": Task(SUPPLEMENT, lambda d, v="fast", limit=None: load_pairs(SUPPLEMENT, d, v, limit),
                       lambda v, items, scores: evaluate_ranking(SUPPLEMENT, v, items, scores)),
}
