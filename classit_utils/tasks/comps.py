"""COMPS (Misra et al. 2023): property knowledge and inheritance, four files in `comps/`:
`comps_base`, `comps_wugs`, `comps_wugs_dist-before`, `comps_wugs_dist-in-between` (absent from the shared
data: the loader is tested on a hand-made fixture in the same format).

Fields: `acceptable_concept, unacceptable_concept, prefix_acceptable, prefix_unacceptable, property_phrase`.
Pipeline rules (`read_files.decode_comps`): the texts are `prefix + " " + property_phrase` for the
acceptable then the unacceptable prefix, the completion is `property_phrase`; so only the property phrase
(with the space before it) is scored, given BOS + the prefix. Subtasks: `base`, `wugs`,
`wugs_dist_before`, `wugs_dist_in_between` (from the file stem). Metric: accuracy per subtask,
macro-averaged. COMPS is in the full variant only; the same folder is used for both.
"""
from __future__ import annotations

from pathlib import Path

from . import DataError, Item, Task, TaskSpec, evaluate_ranking, limit_per_uid, read_jsonl_folder

COMPS = TaskSpec(
    name="comps", pipeline_task="comps", folders={"fast": "comps", "full": "comps"},
    fields=("acceptable_concept", "unacceptable_concept", "prefix_acceptable", "prefix_unacceptable",
            "property_phrase"),
    scored_span="' ' + property_phrase given BOS + prefix", metric="accuracy",
    aggregation="accuracy per subset, macro-average over subsets", subtask="file stem, renamed as the pipeline does")

_SUBSETS = {"comps_base": "base", "comps_wugs": "wugs", "comps_wugs_dist-before": "wugs_dist_before",
            "comps_wugs_dist-in-between": "wugs_dist_in_between"}


def subset_name(stem: str) -> str:
    # The pipeline maps every other stem to wugs_dist_in_between; we keep unknown stems as they are.
    return _SUBSETS.get(stem, stem)


def load(data_dir: Path | str, variant: str = "full", limit: int | None = None) -> list[Item]:
    items = []
    for stem, where, rec in read_jsonl_folder(data_dir, COMPS.folder(variant), COMPS.fields):
        for key in ("prefix_acceptable", "prefix_unacceptable", "property_phrase"):
            if not isinstance(rec[key], str) or not rec[key].strip():
                raise DataError(f"{where}: field {key!r} must be a non-empty string")
        phrase = rec["property_phrase"]
        items.append(Item(uid=subset_name(stem), source=where,
                          contexts=(rec["prefix_acceptable"], rec["prefix_unacceptable"]),
                          continuations=(" " + phrase, " " + phrase), completions=(phrase, phrase), label=0,
                          meta={"acceptable_concept": str(rec["acceptable_concept"]),
                                "unacceptable_concept": str(rec["unacceptable_concept"])}))
    return limit_per_uid(items, limit)


TASKS = {"comps": Task(COMPS, load, lambda v, items, scores: evaluate_ranking(COMPS, v, items, scores))}
