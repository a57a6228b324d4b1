"""Global PIQA (parallel and non-parallel English sets), a zero-shot task of the 2026 rules.

Read in the 2026 pipeline (`babylm-org/babylm-eval` @ 6f825c2, `strict/evaluation_pipeline/collate_preds.py`;
its `read_files.py` for this task is not in the stored material, so the rule below is the one that file's
collation and comments fix): the data are `<folder>/eng_latn.jsonl` (`global_piqa_parallel/`,
`global_piqa_nonparallel/`; the fast set is the full set) with `example_id`, `prompt`, `solution0`,
`solution1` and `label` (the index of the correct solution). The candidates are `" " + solution<k>` after
the prompt; the prediction is the chosen completion text; predictions are keyed by `example_id`, one each
(`{"<example_id>": {"predictions": [{"id": "<example_id>_0", "pred": " <solution>"}]}}`), and the score is
accuracy over the examples (`_calculate_global_piqa_results`: `pred.strip() == solution<label>.strip()`).
Official sizes: 103 (parallel) and 100 (non-parallel) examples (`GLOBAL_PIQA_SIZES`).
The data are absent from `$CLASSIT_DATA` here, so a study run records the task as skipped; its loader is
tested on a fixture in this format.
"""
from __future__ import annotations

from pathlib import Path

from . import (DataError, Item, Task, TaskResult, TaskSpec, choose, item_record, limit_per_uid, read_jsonl,
               temperature_report)
from ..errors import MissingData

FILE = "eng_latn.jsonl"
FIELDS = ("example_id", "prompt", "solution0", "solution1", "label")


def _spec(name: str) -> TaskSpec:
    return TaskSpec(name=name, pipeline_task=name, folders={"fast": name, "full": name}, fields=FIELDS,
                    scored_span="' ' + solution given the prompt", metric="accuracy",
                    aggregation="accuracy over examples", subtask="the task (predictions keyed by example_id)")


PARALLEL, NONPARALLEL = _spec("global_piqa_parallel"), _spec("global_piqa_nonparallel")


def load(spec: TaskSpec, data_dir: Path | str, variant: str = "fast", limit: int | None = None) -> list[Item]:
    folder = spec.folder(variant)
    path = Path(data_dir) / folder / FILE
    if not path.is_file():
        raise MissingData(f"{folder}/{FILE}: file not found ({path}); Global PIQA is not in the shared data")
    items = []
    for where, rec in read_jsonl(path, f"{folder}/{FILE}", FIELDS):
        sols = (rec["solution0"], rec["solution1"])
        if not isinstance(rec["prompt"], str) or not all(isinstance(s, str) and s.strip() for s in sols):
            raise DataError(f"{where}: 'prompt' and both solutions must be strings")
        if rec["label"] not in (0, 1):
            raise DataError(f"{where}: field 'label' must be 0 or 1 (got {rec['label']!r})")
        cands = tuple(" " + s for s in sols)
        items.append(Item(uid=spec.name, source=where, contexts=(rec["prompt"],) * 2, continuations=cands,
                          completions=cands, label=int(rec["label"]), meta={"example_id": str(rec["example_id"])}))
    return limit_per_uid(items, limit)


def evaluate(spec: TaskSpec, variant: str, items, scores) -> TaskResult:
    preds = [choose([s.logprob for s in ss]) for ss in scores]
    correct = [p == it.label for p, it in zip(preds, items)]
    acc = 100.0 * sum(correct) / len(items) if items else float("nan")
    predictions = {it.meta["example_id"]: {"predictions": [{"id": f"{it.meta['example_id']}_0",
                                                             "pred": it.completions[p]}]}
                   for it, p in zip(items, preds)}
    res = TaskResult(spec.name, spec.folder(variant), "accuracy", acc, {"UID": {spec.name: acc}}, len(items),
                     {spec.name: len(items)}, [item_record(it, ss, p) for it, ss, p in zip(items, scores, preds)],
                     predictions)
    res.report = temperature_report([("UID", {spec.name: acc})], acc)
    return res


TASKS = {spec.name: Task(spec, lambda d, v="fast", limit=None, s=spec: load(s, d, v, limit),
                         lambda v, items, scores, s=spec: evaluate(s, v, items, scores))
         for spec in (PARALLEL, NONPARALLEL)}
