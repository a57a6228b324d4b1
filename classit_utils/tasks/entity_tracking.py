"""Entity tracking (Kim & Schuster 2023, BabyLM format): files `regular`, `ambiref`, `move_contents`; five
options per item, `options[0]` correct.

Pipeline rules (`read_files.decode_entity_tracking`): the texts are `input_prefix + option`; the
completion is the option. `input_prefix` ends with a space; under the phrase-mask rule (see
`classit_utils.scoring`) the token that carries that space and the option's first word (`" the"`) is
scored, and every token after it: exactly the option's tokens as they are tokenized in the full text.
The five options share the prefix's computation. Subtask: `<file>_<numops>_ops`. Metric: accuracy per
subtask; the mean over numops within each split, then the mean over splits (`run.process_results`).
"""
from __future__ import annotations

from pathlib import Path

from . import (DataError, Item, Task, TaskResult, TaskSpec, evaluate_ranking, limit_per_uid, read_jsonl_folder,
               temperature_report)

ENTITY_TRACKING = TaskSpec(
    name="entity_tracking", pipeline_task="entity_tracking",
    folders={"fast": "entity_tracking_fast", "full": "entity_tracking"},
    fields=("input_prefix", "options", "numops"),
    scored_span="the option's tokens after input_prefix (the token holding the prefix's trailing space included)",
    metric="accuracy", aggregation="accuracy per <split>_<numops>_ops; mean over numops per split; mean over splits",
    subtask="<file stem>_<numops>_ops")

SPLITS = ("regular", "ambiref", "move_contents")


def load(data_dir: Path | str, variant: str = "fast", limit: int | None = None) -> list[Item]:
    items = []
    for stem, where, rec in read_jsonl_folder(data_dir, ENTITY_TRACKING.folder(variant), ENTITY_TRACKING.fields):
        prefix, options = rec["input_prefix"], rec["options"]
        if not isinstance(prefix, str) or not prefix:
            raise DataError(f"{where}: field 'input_prefix' must be a non-empty string")
        if not isinstance(options, list) or len(options) < 2 or not all(isinstance(o, str) and o for o in options):
            raise DataError(f"{where}: field 'options' must be a list of 2+ non-empty strings")
        if not isinstance(rec["numops"], int):
            raise DataError(f"{where}: field 'numops' must be an integer")
        items.append(Item(uid=f"{stem}_{rec['numops']}_ops", source=where, contexts=(prefix,) * len(options),
                          continuations=tuple(options), completions=tuple(options), label=0,
                          meta={"split": stem, "numops": rec["numops"]}))
    return limit_per_uid(items, limit)


def evaluate(variant: str, items, scores) -> TaskResult:
    res = evaluate_ranking(ENTITY_TRACKING, variant, items, scores)
    per_uid = res.sub_scores["UID"]
    splits = {}
    order = {s: i for i, s in enumerate(SPLITS)}
    for split in sorted({it.meta["split"] for it in items}, key=lambda s: (order.get(s, len(order)), s)):
        vals = [v for k, v in per_uid.items() if k.rsplit("_", 2)[0] == split]
        splits[split] = sum(vals) / len(vals)
    by_numops: dict[str, list[float]] = {}
    for k, v in per_uid.items():
        by_numops.setdefault(k.rsplit("_", 2)[1], []).append(v)
    res.sub_scores["split"] = splits
    res.sub_scores["numops"] = {k: sum(v) / len(v) for k, v in sorted(by_numops.items())}   # mean over splits
    res.score = sum(splits.values()) / len(splits) if splits else float("nan")
    # the pipeline adds each split's mean into the UID section (`process_results` writes into that dict)
    res.report = temperature_report([("UID", {**per_uid, **splits})], res.score)
    return res


def without_nothing(items: list[Item]) -> list[Item]:
    """The 2026 rule (`babylm-org/babylm-eval` @ 6f825c2, `collate_preds.py`, `_calculate_target_et_results`:
    "skip datapoints with a 'nothing' option, matching the filtering applied when the predictions were
    generated"): an item is dropped when any of its options contains the substring "nothing"."""
    return [it for it in items if not any("nothing" in o for o in it.continuations)]


TASKS = {"entity_tracking": Task(ENTITY_TRACKING, load, evaluate)}
