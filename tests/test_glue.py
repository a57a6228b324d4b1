"""glue: task table, input formats of the pipeline, loaders and their errors, metrics, GLUE score; real files."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from classit_utils.glue import (GLUE_TASK_NAMES, GLUE_TASKS, DataError, MissingData, compute_metrics,
                                format_record, glue_folder, glue_score, load_split, parse_glue_tasks)

# Hand-made records, one per task (fields as in the real files).
RECORDS = {
    "boolq": {"question": "is the sky blue", "passage": "The sky is blue on a clear day.", "idx": 0, "label": 1},
    "multirc": {"paragraph": "Tom has a red ball. He plays in the park.", "question": "What colour is the ball?",
                "answer": "Red", "idx": {"paragraph": 0, "question": 0, "answer": 0}, "label": 1},
    "rte": {"sentence1": "A cat sat on the mat.", "sentence2": "A cat sat.", "label": 0, "idx": 0},
    "wsc": {"text": "Ann gave Bea a book because she liked it.", "span1_index": 0, "span2_index": 6,
            "span1_text": "Ann", "span2_text": "she", "idx": 0, "label": 1},
    "mrpc": {"sentence1": "The dog ran home .", "sentence2": "The dog went home .", "label": 1, "idx": 0},
    "qqp": {"question1": "How do I bake bread?", "question2": "What is a bread recipe?", "label": 0, "idx": 0},
    "mnli": {"premise": "Birds sing in the morning.", "hypothesis": "Birds are silent.", "label": 2, "idx": 0},
}
EXPECTED = {
    "boolq": ("is the sky blue", "The sky is blue on a clear day."),
    "multirc": ("Question: What colour is the ball? Answer: Red", "Tom has a red ball. He plays in the park."),
    "rte": ("A cat sat on the mat.", "A cat sat."),
    "wsc": ('Does "she" refer to "Ann" in this passage?', "Ann gave Bea a book because she liked it."),
    "mrpc": ("The dog ran home .", "The dog went home ."),
    "qqp": ("How do I bake bread?", "What is a bread recipe?"),
    "mnli": ("Birds sing in the morning.", "Birds are silent."),
}


def write_jsonl(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("task", GLUE_TASK_NAMES)
def test_each_task_formats_its_input_as_the_pipeline(task):
    assert format_record(task, RECORDS[task]) == EXPECTED[task]


def test_pairs_reach_the_tokenizer_as_text_pairs(tiny_tok):
    a, b = format_record("rte", {"sentence1": "The cat sat.", "sentence2": "The dog ran.", "label": 0})
    ids = tiny_tok(a, b)["input_ids"]
    assert ids == [1, *tiny_tok(a, add_special_tokens=False)["input_ids"], 2,
                   *tiny_tok(b, add_special_tokens=False)["input_ids"]]


def test_task_table_holds_the_babylm_recipe():
    assert GLUE_TASK_NAMES == ("boolq", "multirc", "rte", "wsc", "mrpc", "qqp", "mnli")
    assert {t for t, s in GLUE_TASKS.items() if s.big} == {"boolq", "multirc"}
    assert {t for t, s in GLUE_TASKS.items() if s.long_schedule} == {"wsc"}
    assert {t for t, s in GLUE_TASKS.items() if s.metric_for_valid == "f1"} == {"mrpc", "qqp"}
    assert {t for t, s in GLUE_TASKS.items() if s.score_metric == "f1"} == {"mrpc", "qqp"}
    assert GLUE_TASKS["mnli"].num_labels == 3 and GLUE_TASKS["mnli"].official_metrics == ("accuracy",)
    assert all("mcc" in s.metrics for s in GLUE_TASKS.values())
    assert {t: s.valid_size for t, s in GLUE_TASKS.items()} == {
        "boolq": 1635, "multirc": 2424, "rte": 139, "wsc": 52, "mrpc": 204, "qqp": 20215, "mnli": 4908}


def test_parse_tasks():
    assert parse_glue_tasks("all") == list(GLUE_TASK_NAMES)
    assert parse_glue_tasks("rte, WSC") == ["rte", "wsc"]
    with pytest.raises(ValueError, match="unknown task.*cola"):
        parse_glue_tasks("rte,cola")
    with pytest.raises(ValueError, match="repeated"):
        parse_glue_tasks("rte,rte")


# ------------------------------------------------------------------------------------------- loaders, errors
def test_loader_reads_examples_in_file_order_with_sources(tmp_path):
    rows = [dict(RECORDS["rte"], idx=i, label=i % 2) for i in range(5)]
    write_jsonl(tmp_path / "glue_filtered" / "rte.train.jsonl", rows)
    ex = load_split(tmp_path, "rte", "train")
    assert [e.label for e in ex] == [0, 1, 0, 1, 0] and [e.idx for e in ex] == list(range(5))
    assert ex[3].source == "glue_filtered/rte.train.jsonl:4"
    assert (ex[0].text_a, ex[0].text_b) == EXPECTED["rte"]
    assert len(load_split(tmp_path, "rte", "train", limit=2)) == 2
    # the folder itself may be given
    assert len(load_split(tmp_path / "glue_filtered", "rte", "train")) == 5
    assert glue_folder(tmp_path) == tmp_path / "glue_filtered"


def test_boolean_labels_are_accepted_as_classes(tmp_path):
    write_jsonl(tmp_path / "glue_filtered" / "boolq.train.jsonl",
                [dict(RECORDS["boolq"], label=True), dict(RECORDS["boolq"], label=False)])
    assert [e.label for e in load_split(tmp_path, "boolq", "train")] == [1, 0]


@pytest.mark.parametrize("bad,message", [
    ({"sentence1": "A.", "label": 0}, "glue_filtered/rte.train.jsonl:2: missing field 'sentence2'"),
    ({"sentence1": "A.", "sentence2": None, "label": 0}, "glue_filtered/rte.train.jsonl:2: field 'sentence2' is null"),
    ({"sentence1": "A.", "sentence2": 3, "label": 0},
     "glue_filtered/rte.train.jsonl:2: field 'sentence2' is not a string (got int)"),
    ({"sentence1": "A.", "sentence2": "B.", "label": 2}, "glue_filtered/rte.train.jsonl:2: label 2 outside 0..1"),
    ({"sentence1": "A.", "sentence2": "B.", "label": "entailment"},
     "glue_filtered/rte.train.jsonl:2: label 'entailment' is not an integer class"),
    ('{"sentence1": "A.", ', "glue_filtered/rte.train.jsonl:2: invalid JSON"),
])
def test_malformed_records_name_file_and_line(tmp_path, bad, message):
    write_jsonl(tmp_path / "glue_filtered" / "rte.train.jsonl", [RECORDS["rte"], bad])
    with pytest.raises(DataError) as err:
        load_split(tmp_path, "rte", "train")
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_absent_file_is_missing_data_naming_the_file(tmp_path):
    (tmp_path / "glue_filtered").mkdir()
    with pytest.raises(MissingData, match=r"^glue_filtered/boolq\.train\.jsonl: file not found"):
        load_split(tmp_path, "boolq", "train")


# ------------------------------------------------------------------------------------------- metrics
def test_binary_metrics_golden_values():
    labels = [1, 1, 0, 0, 1, 0, 1, 1]
    preds = [1, 0, 0, 1, 1, 0, 1, 0]          # TP 3, FN 2, FP 1, TN 2
    m = compute_metrics(labels, preds)
    assert m["accuracy"] == pytest.approx(5 / 8)
    assert m["f1"] == pytest.approx(2 * 3 / (2 * 3 + 1 + 2))                        # 0.6667
    assert m["mcc"] == pytest.approx((3 * 2 - 1 * 2) / math.sqrt(4 * 5 * 3 * 4))    # 0.2582
    assert compute_metrics([1, 0, 1], [1, 0, 1]) == {"accuracy": 1.0, "f1": 1.0, "mcc": 1.0}


def test_degenerate_and_multiclass_metrics():
    # constant predictions: MCC 0; no positive predicted: F1 0 (no warning escapes)
    assert compute_metrics([1, 0, 1, 0], [0, 0, 0, 0]) == {"accuracy": 0.5, "f1": 0.0, "mcc": 0.0}
    m = compute_metrics([0, 1, 2, 0, 1, 2], [0, 1, 2, 0, 2, 1], ("accuracy", "mcc"))
    assert m["accuracy"] == pytest.approx(4 / 6)
    # multiclass MCC (Gorodkin): c = 4, s = 6, sum p_k t_k = 12, sum p_k^2 = sum t_k^2 = 12
    assert m["mcc"] == pytest.approx((4 * 6 - 12) / math.sqrt((36 - 12) * (36 - 12)))
    with pytest.raises(ValueError, match="unknown metric"):
        compute_metrics([0], [0], ("auc",))


def test_glue_score_is_the_readme_macro_average():
    rows = []
    for task, acc, f1 in (("rte", 0.6, 0.5), ("wsc", 0.5, 0.1), ("mrpc", 0.7, 0.8), ("qqp", 0.9, 0.4),
                          ("mnli", 0.45, None)):
        rows.append({"model": "m", "condition": "base", "size": "tiny", "seed": 0, "selection": "valid",
                     "task": task, "metric": "accuracy", "value": acc, "status": "ok"})
        if f1 is not None:
            rows.append({**rows[-1], "metric": "f1", "value": f1})
    rows.append({"model": "m", "condition": "base", "size": "tiny", "seed": 0, "selection": "valid",
                 "task": "boolq", "metric": "accuracy", "value": float("nan"), "status": "skipped"})
    gs = glue_score(pd.DataFrame(rows))
    assert len(gs) == 1
    row = gs.iloc[0]
    assert row["value"] == pytest.approx((0.6 + 0.5 + 0.8 + 0.4 + 0.45) / 5)    # F1 for MRPC and QQP
    assert row["n_tasks"] == 5 and row["missing"] == "boolq" and not row["complete"]
    full = glue_score(pd.DataFrame(rows), tasks=["rte", "wsc", "mrpc", "qqp", "mnli"])
    assert bool(full.iloc[0]["complete"])


# ------------------------------------------------------------------------------------------- real files
README_COUNTS = {("boolq", "valid"): 1635, ("mnli", "train"): 10000, ("mnli", "valid"): 4908,
                 ("mrpc", "train"): 3668, ("mrpc", "valid"): 204, ("multirc", "valid"): 2424,
                 ("qqp", "train"): 10000, ("qqp", "valid"): 20215, ("rte", "train"): 2490, ("rte", "valid"): 139,
                 ("wsc", "train"): 554, ("wsc", "valid"): 52}


@pytest.mark.realdata
def test_real_files_load_with_the_readme_counts_and_valid_sizes(data_root):
    for (task, split), n in README_COUNTS.items():
        ex = load_split(data_root, task, split)
        assert len(ex) == n, (task, split)
        assert {e.label for e in ex} == set(range(GLUE_TASKS[task].num_labels)), (task, split)
        if split == "valid":
            assert len(ex) == GLUE_TASKS[task].valid_size
        assert all(e.text_a and e.text_b for e in ex)


@pytest.mark.realdata
def test_real_inputs_follow_the_pipeline_templates(data_root):
    for e in load_split(data_root, "wsc", "valid", limit=20):
        assert e.text_a.startswith('Does "') and '" refer to "' in e.text_a and e.text_a.endswith(' in this passage?')
    for e in load_split(data_root, "multirc", "valid", limit=20):
        assert e.text_a.startswith("Question: ") and " Answer: " in e.text_a
        assert isinstance(e.idx, dict)


@pytest.mark.realdata
def test_real_boolq_and_multirc_train_files_are_absent(data_root):
    for task in ("boolq", "multirc"):
        with pytest.raises(MissingData, match=rf"glue_filtered/{task}\.train\.jsonl: file not found"):
            load_split(data_root, task, "train")
