"""The (Super)GLUE fine-tuning tasks of the BabyLM 2025 evaluation, as data: one `GlueTask` per task (files,
fields, input format, labels, batch size, epochs, metrics, official sizes), plus the loader that turns a
`glue_filtered/<task>.<split>.jsonl` file into `Example`s, the metrics, and the GLUE score.

Followed files of `babylm/evaluation-pipeline-2025` (`eval_finetuning.sh` @ bf55c11, `README.md` @ 02cb80e,
`evaluation_pipeline/collate_preds.py` @ 2065867 from the official repository; `evaluation_pipeline/finetune/`,
absent from its stored snapshot, read in the fork `biancaganescu/evaluation-pipeline-2025` @ a330d55):
- `evaluation_pipeline/finetune/dataset.py` (`Dataset.__init__`/`load_file`): the input of each task. A task
  has A keys and B keys; the A strings are formatted with a template (or joined by spaces), likewise B, and the
  pair (A, B) goes to the tokenizer as a text pair (`tokenizer(texts, padding=True, truncation=True,
  max_length=...)`). MultiRC: A = `Question: {question} Answer: {answer}`, B = `paragraph`; WSC:
  A = `Does "{span2_text}" refer to "{span1_text}" in this passage?`, B = `text`; BoolQ (question, passage),
  MNLI (premise, hypothesis), MRPC and RTE (sentence1, sentence2), QQP (question1, question2).
  The label is the record's `label`, used as an int class index.
- `eval_finetuning.sh`: batch size 32 (16 for BoolQ and MultiRC), 10 epochs (30 for WSC), max length 512,
  `--metrics accuracy f1 mcc` for the binary tasks and `accuracy` for MNLI, `--metric_for_valid` f1 for MRPC
  and QQP, accuracy otherwise; the valid file is also the predict file.
- `evaluation_pipeline/finetune/trainer.py` (`calculate_metrics`): sklearn `accuracy_score`, `f1_score`
  (binary, positive class 1) and `matthews_corrcoef` on argmax predictions.
- `evaluation_pipeline/collate_preds.py`: the valid sizes (BOOLQ_SIZE 1635, MNLI_SIZE 4908, MRPC_SIZE 204,
  MULTIRC_SIZE 2424, QQP_SIZE 20215, RTE_SIZE 139, WSC_SIZE 52).
- `README.md` (score table notes): "for GLUE, we average *accuracies* for all tasks except QQP and MRPC (where
  we use F1 scores)": `glue_score` is that macro-average.

The real files' labels are ints (0/1; MNLI 0/1/2); booleans (the SuperGLUE originals of BoolQ) are accepted as
0/1. `idx` is an int, or a dict for MultiRC; it is kept as given.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .config import GLUE_TASK_NAMES as _ORDER
from .errors import DataError, MissingData
from .datafiles import read_jsonl

__all__ = ["GlueTask", "Example", "GLUE_TASKS", "GLUE_TASK_NAMES", "SPLITS", "FOLDER", "get_glue_task",
           "parse_glue_tasks", "glue_folder", "task_file", "format_record", "load_split", "compute_metrics",
           "glue_score", "DataError", "MissingData"]

FOLDER = "glue_filtered"
SPLITS = ("train", "valid")
METRICS = ("accuracy", "f1", "mcc")


@dataclass(frozen=True)
class GlueTask:
    """One fine-tuning task as data."""
    name: str                          # file prefix and results folder: rte -> glue_filtered/rte.train.jsonl
    a_keys: tuple[str, ...]            # fields of the first text (left of the separator)
    b_keys: tuple[str, ...]            # fields of the second text (right of it)
    a_template: str | None = None      # str.format template over the A fields; None joins them with spaces
    b_template: str | None = None
    num_labels: int = 2
    big: bool = False                  # BoolQ and MultiRC use the smaller batch (the pipeline's BIG_BSZ)
    long_schedule: bool = False        # WSC trains for WSC_EPOCHS (30)
    metrics: tuple[str, ...] = METRICS             # what we record (MCC for every task)
    official_metrics: tuple[str, ...] = METRICS    # what the pipeline's results.txt holds (--metrics)
    metric_for_valid: str = "accuracy"             # best-epoch selection (--metric_for_valid)
    score_metric: str = "accuracy"                 # the task's entry in the GLUE score (README)
    valid_size: int | None = None                  # official valid size (collate_preds.py)
    train_size: int | None = None                  # BabyLM glue_filtered train size (data README)

    @property
    def fields(self) -> tuple[str, ...]:
        """Fields every record must have."""
        return (*self.a_keys, *self.b_keys, "label")


GLUE_TASKS: dict[str, GlueTask] = {t.name: t for t in (
    GlueTask("boolq", ("question",), ("passage",), big=True, valid_size=1635),
    GlueTask("multirc", ("question", "answer"), ("paragraph",), a_template="Question: {} Answer: {}", big=True,
             valid_size=2424),
    GlueTask("rte", ("sentence1",), ("sentence2",), valid_size=139, train_size=2490),
    GlueTask("wsc", ("span2_text", "span1_text"), ("text",), a_template='Does "{}" refer to "{}" in this passage?',
             long_schedule=True, valid_size=52, train_size=554),
    GlueTask("mrpc", ("sentence1",), ("sentence2",), metric_for_valid="f1", score_metric="f1", valid_size=204,
             train_size=3668),
    GlueTask("qqp", ("question1",), ("question2",), metric_for_valid="f1", score_metric="f1", valid_size=20215,
             train_size=10000),
    GlueTask("mnli", ("premise",), ("hypothesis",), num_labels=3, metrics=("accuracy", "mcc"),
             official_metrics=("accuracy",), valid_size=4908, train_size=10000),
)}
GLUE_TASK_NAMES = tuple(GLUE_TASKS)     # the order of eval_finetuning.sh
assert GLUE_TASK_NAMES == _ORDER, "config.GLUE_TASK_NAMES must list the tasks defined here"


@dataclass(frozen=True)
class Example:
    """One input: the text pair the tokenizer sees, its label, and where it came from."""
    text_a: str
    text_b: str | None
    label: int
    idx: Any = None
    source: str = ""                   # "glue_filtered/rte.train.jsonl:12"


def get_glue_task(name: str) -> GlueTask:
    if name not in GLUE_TASKS:
        raise ValueError(f"unknown GLUE task {name!r} (known: {', '.join(GLUE_TASK_NAMES)})")
    return GLUE_TASKS[name]


def parse_glue_tasks(tasks: str | Sequence[str]) -> list[str]:
    """`"rte,wsc"` or a list; `"all"` is every task. Unknown or repeated names are errors."""
    names = [t.strip().lower() for t in (tasks.split(",") if isinstance(tasks, str) else tasks) if t.strip()]
    if names == ["all"]:
        return list(GLUE_TASK_NAMES)
    if not names:
        raise ValueError("no task given")
    unknown = [t for t in names if t not in GLUE_TASKS]
    if unknown:
        raise ValueError(f"unknown task(s) {', '.join(unknown)} (known: {', '.join(GLUE_TASK_NAMES)}, or all)")
    if len(set(names)) != len(names):
        raise ValueError(f"repeated task in {','.join(names)}")
    return names


def glue_folder(data_dir: Path | str) -> Path:
    """`<data>/glue_filtered`, or `data_dir` itself when it is that folder (or holds the files directly)."""
    data_dir = Path(data_dir)
    sub = data_dir / FOLDER
    return sub if sub.is_dir() else data_dir


def task_file(data_dir: Path | str, task: str, split: str) -> tuple[Path, str]:
    """(path, display name) of a task's split file: `glue_filtered/rte.train.jsonl`."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} (known: {', '.join(SPLITS)})")
    folder = glue_folder(data_dir)
    name = f"{get_glue_task(task).name}.{split}.jsonl"
    return folder / name, f"{folder.name}/{name}"


def _text(rec: Mapping[str, Any], key: str, where: str) -> str:
    v = rec[key]
    if not isinstance(v, str):
        raise DataError(f"{where}: field {key!r} is not a string (got {type(v).__name__})")
    return v


def _join(rec: Mapping[str, Any], keys: Sequence[str], template: str | None, where: str) -> str:
    parts = [_text(rec, k, where) for k in keys]
    return template.format(*parts) if template is not None else " ".join(parts)


def _label(rec: Mapping[str, Any], task: GlueTask, where: str) -> int:
    v = rec["label"]
    if isinstance(v, bool):
        v = int(v)
    elif isinstance(v, float) and v.is_integer():
        v = int(v)
    if not isinstance(v, int):
        raise DataError(f"{where}: label {v!r} is not an integer class")
    if not 0 <= v < task.num_labels:
        raise DataError(f"{where}: label {v} outside 0..{task.num_labels - 1}")
    return v


def format_record(task: GlueTask | str, rec: Mapping[str, Any], where: str = "<record>") -> tuple[str, str | None]:
    """The (A, B) text pair of one record, as the pipeline's `dataset.py` builds it."""
    task = get_glue_task(task) if isinstance(task, str) else task
    for f in task.fields:
        if f not in rec:
            raise DataError(f"{where}: missing field {f!r}")
        if rec[f] is None:
            raise DataError(f"{where}: field {f!r} is null")
    a = _join(rec, task.a_keys, task.a_template, where)
    b = _join(rec, task.b_keys, task.b_template, where) if task.b_keys else None
    return a, b


def load_split(data_dir: Path | str, task: str, split: str, limit: int | None = None) -> list[Example]:
    """All examples of `glue_filtered/<task>.<split>.jsonl`, in file order (the first `limit` when given).

    Raises `MissingData` (one line, naming the file) when the file is absent and `DataError` naming the file
    and line (`glue_filtered/rte.train.jsonl:12: missing field 'sentence2'`) when a record is malformed."""
    spec = get_glue_task(task)
    path, display = task_file(data_dir, task, split)
    if not path.is_file():
        raise MissingData(f"{display}: file not found ({path})")
    out: list[Example] = []
    for where, rec in read_jsonl(path, display, spec.fields):
        a, b = format_record(spec, rec, where)
        out.append(Example(a, b, _label(rec, spec, where), rec.get("idx"), where))
        if limit is not None and len(out) >= limit:
            break
    if not out:
        raise DataError(f"{display}: no records")
    return out


def compute_metrics(labels: Iterable[int], preds: Iterable[int], metrics: Sequence[str] = METRICS
                    ) -> dict[str, float]:
    """Accuracy, F1 (binary, positive class 1) and MCC as the pipeline's `calculate_metrics` computes them
    (sklearn); undefined F1 (no positive prediction nor label) and MCC (a constant column) are 0."""
    from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef
    y, p = np.asarray(list(labels)), np.asarray(list(preds))
    if y.shape != p.shape:
        raise ValueError(f"{len(y)} labels but {len(p)} predictions")
    out: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in metrics:
            if m == "accuracy":
                out[m] = float(accuracy_score(y, p))
            elif m == "f1":
                out[m] = float(f1_score(y, p, zero_division=0))
            elif m == "mcc":
                out[m] = float(matthews_corrcoef(y, p))
            else:
                raise ValueError(f"unknown metric {m!r} (known: {', '.join(METRICS)})")
    return out


def glue_score(table, by: Sequence[str] = ("model", "condition", "size", "seed", "selection"),
               tasks: Sequence[str] | None = None):
    """The GLUE macro-average of a tidy results table (columns `task`, `metric`, `value`, `status` and `by`):
    per group, the mean over tasks of accuracy (F1 for MRPC and QQP), with the tasks that entered it.

    `tasks`: the tasks the score should cover (default: every task in the table); a group that lacks one of
    them (skipped, e.g. BoolQ and MultiRC without train files) still gets the mean over what it has, with
    `complete` False and the absent tasks listed, so a partial score is never mistaken for the full one."""
    import pandas as pd
    ok = table[table["status"].eq("ok") & table["value"].notna()] if "status" in table else table
    want = sorted(set(tasks) if tasks is not None else set(table["task"]))
    rows = []
    keys = [k for k in by if k in table.columns]
    for key, g in ok.groupby(keys, dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        vals = {t: float(g[(g["task"] == t) & (g["metric"] == GLUE_TASKS[t].score_metric)]["value"].iloc[0])
                for t in sorted(set(g["task"])) if t in GLUE_TASKS and t in want
                and not g[(g["task"] == t) & (g["metric"] == GLUE_TASKS[t].score_metric)].empty}
        missing = [t for t in want if t not in vals]
        rows.append({**dict(zip(keys, key)), "metric": "glue",
                     "value": float(np.mean(list(vals.values()))) if vals else math.nan,
                     "n_tasks": len(vals), "tasks": ",".join(vals), "missing": ",".join(missing),
                     "complete": not missing})
    return pd.DataFrame(rows, columns=[*keys, "metric", "value", "n_tasks", "tasks", "missing", "complete"])
