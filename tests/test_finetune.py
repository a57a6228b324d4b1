"""finetune: last-token pooling under both paddings, batching, schedule, best-epoch selection (valid vs held-out),
a tiny model learning a keyword task end to end, seed reproducibility, skipped and malformed files, outputs in
the pipeline's layout, the command line; a short real-data run."""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny_llama_config
from transformers import LlamaConfig, LlamaForCausalLM, LlamaModel

from classit_utils.config import ConfigError, validate
from classit_utils.finetune import (TABLE_COLUMNS, BestEpoch, DecoderClassifier, FinetuneConfig,
                                    choose_epoch, collate, encode, heldout_split, last_token_index,
                                    load_classifier, pool_last, predict, run_finetune,
                                    subsample, train_batches)
from classit_utils.runtime import load_backbone
from classit_utils.glue import GLUE_TASKS, DataError, MissingData, load_split
from classit_utils.tokenizer import train_tokenizer

# Synthetic keyword task (words made up here): the label is 1 when sentence1 holds "sunny", 0 when "rainy".
FILLER = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike oscar papa quebec "
          "romeo sierra tango victor whiskey yankee zulu").split()
KEYWORDS = {1: "sunny", 0: "rainy"}


def keyword_rows(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = i % 2
        words = [rng.choice(FILLER) for _ in range(rng.randint(3, 7))]
        words.insert(rng.randint(0, len(words)), KEYWORDS[label])
        rows.append({"sentence1": " ".join(words), "sentence2": " ".join(rng.choice(FILLER) for _ in range(3)),
                     "label": label, "idx": i})
    rng.shuffle(rows)
    return rows


def write_jsonl(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tok():
    texts = [" ".join(FILLER + list(KEYWORDS.values()))] * 20 + [r["sentence1"] for r in keyword_rows(200, 9)]
    return train_tokenizer(texts, vocab_size=400, min_frequency=1)


def tiny_config(vocab: int) -> LlamaConfig:
    return tiny_llama_config(vocab, max_position_embeddings=128, tie_word_embeddings=True)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, tok) -> Path:
    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("models") / "tiny-base"
    LlamaForCausalLM(tiny_config(len(tok))).save_pretrained(d)
    tok.save_pretrained(d)
    return d


@pytest.fixture(scope="module")
def keyword_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    write_jsonl(root / "glue_filtered" / "rte.train.jsonl", keyword_rows(192, 1))
    write_jsonl(root / "glue_filtered" / "rte.valid.jsonl", keyword_rows(64, 2))
    write_jsonl(root / "glue_filtered" / "mrpc.train.jsonl", keyword_rows(32, 5))
    write_jsonl(root / "glue_filtered" / "mrpc.valid.jsonl", keyword_rows(8, 6))
    return root


FAST = dict(lr=1e-3, batch_size=16, epochs_override=10, warmup_proportion=0.0, classifier_dropout=0.0,
            progress=False)


# ------------------------------------------------------------------------------------------- pooling
def test_last_token_index_under_right_and_left_padding():
    right = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]])
    left = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]])
    assert last_token_index(right).tolist() == [2, 4, 0]
    assert last_token_index(left).tolist() == [4, 4, 4]
    hidden = torch.randn(3, 5, 8)
    assert torch.equal(pool_last(hidden, right), torch.stack([hidden[0, 2], hidden[1, 4], hidden[2, 0]]))
    assert torch.equal(pool_last(hidden, left), hidden[:, 4])


@pytest.mark.parametrize("side", ["right", "left"])
def test_classifier_reads_the_last_real_token_as_an_unpadded_forward_does(side):
    torch.manual_seed(0)
    clf = DecoderClassifier(LlamaModel(tiny_config(64)), num_labels=3).eval()
    rows = [[1, 5, 6, 7, 8, 9, 10], [1, 11, 12], [1, 13, 14, 15, 16]]
    ids, mask = collate(rows, pad_id=0, side=side, multiple=8)
    assert ids.shape == (3, 8)
    expected_index = [6, 2, 4] if side == "right" else [7, 7, 7]
    assert last_token_index(mask).tolist() == expected_index
    with torch.no_grad():
        logits = clf(ids, mask)
        for i, r in enumerate(rows):   # manual: the row alone, no padding, last position, the head
            h = clf.backbone(input_ids=torch.tensor([r])).last_hidden_state[0, -1]
            assert torch.allclose(logits[i], clf.head(h), atol=1e-5), (side, i)


def test_head_is_the_pipelines():
    clf = DecoderClassifier(LlamaModel(tiny_config(64)), num_labels=2, dropout=0.1)
    kinds = [type(m).__name__ for m in clf.head.nonlinearity]
    assert kinds == ["LayerNorm", "Linear", "GELU", "LayerNorm", "Dropout", "Linear"]
    assert clf.head.nonlinearity[0].weight is None and clf.head.nonlinearity[4].p == 0.1
    assert clf.head.nonlinearity[5].out_features == 2


# ------------------------------------------------------------------------------------------- batching, schedule
def test_length_grouped_batches_cover_train_and_drop_the_partial_one():
    lengths = np.array([random.Random(i).randint(3, 60) for i in range(100)])
    b = train_batches(lengths, 16, np.random.default_rng(0), group=True, drop_last=True)
    assert len(b) == 6 and all(len(x) == 16 for x in b)
    assert len(set(np.concatenate(b).tolist())) == 96
    assert lengths[b[0]].max() == lengths.max()                    # longest batch first
    b2 = train_batches(lengths, 16, np.random.default_rng(0), group=True, drop_last=False)
    assert sorted(np.concatenate(b2).tolist()) == list(range(100))
    plain = train_batches(lengths, 16, np.random.default_rng(0), group=False, drop_last=False)
    waste = lambda bs: sum(lengths[x].max() * len(x) - lengths[x].sum() for x in bs)   # noqa: E731
    assert waste(b2) < waste(plain) / 2                            # grouping cuts the padding
    again = train_batches(lengths, 16, np.random.default_rng(0), group=True, drop_last=True)
    assert all(np.array_equal(x, y) for x, y in zip(b, again))


def test_pipeline_cosine_schedule():
    """The pipeline's cosine_schedule_with_warmup (finetune/utils.py): linear warmup from 0, cosine to a floor;
    transformers' schedule with min_lr_rate, which the fine-tuning loop uses, gives the same factors."""
    from transformers import get_cosine_with_min_lr_schedule_with_warmup
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = get_cosine_with_min_lr_schedule_with_warmup(opt, 6, 100, min_lr_rate=0.1)
    f = sched.lr_lambdas[0]
    assert f(0) == 0.0 and f(3) == pytest.approx(0.5) and f(6) == pytest.approx(1.0)
    assert f(53) == pytest.approx(0.55)                            # halfway through the decay
    assert f(100) == pytest.approx(0.1)                            # the last step (never beyond)


def test_heldout_split_is_stratified_seeded_and_disjoint():
    labels = np.array([0] * 70 + [1] * 30)
    fit, held = heldout_split(labels, 0.1, seed=0)
    assert len(held) == 10 and (labels[held] == 1).sum() == 3
    assert not set(fit) & set(held) and len(fit) + len(held) == 100
    fit2, held2 = heldout_split(labels, 0.1, seed=0)
    assert np.array_equal(held, held2)
    assert not np.array_equal(held, heldout_split(labels, 0.1, seed=1)[1])
    assert np.array_equal(subsample(50, 10, 3), subsample(50, 10, 3)) and len(subsample(50, 10, 3)) == 10
    assert np.array_equal(subsample(5, 10, 3), np.arange(5))


# ------------------------------------------------------------------------------------------- selection
HISTORY = [   # scripted per-epoch metrics
    {"valid": {"accuracy": 0.50}, "heldout": {"accuracy": 0.60}},
    {"valid": {"accuracy": 0.70}, "heldout": {"accuracy": 0.60}},
    {"valid": {"accuracy": 0.70}, "heldout": {"accuracy": 0.80}},
    {"valid": {"accuracy": 0.65}, "heldout": {"accuracy": 0.80}},
]


def test_best_epoch_on_valid_vs_heldout_with_ties_to_the_first():
    assert choose_epoch(HISTORY, "valid", "accuracy") == 1      # ties (epochs 1, 2) go to the first
    assert choose_epoch(HISTORY, "heldout", "accuracy") == 2
    # valid at the held-out choice is lower than the valid-selected value: the optimism the variant removes
    assert HISTORY[2]["valid"]["accuracy"] <= HISTORY[1]["valid"]["accuracy"]
    sel = BestEpoch()
    assert [sel.update(e, s) for e, s in enumerate([0.5, 0.5, 0.4, 0.9, 0.9])] == [True, False, False, True, False]
    assert sel.epoch == 3 and sel.best == 0.9
    with pytest.raises(ValueError):
        choose_epoch([], "valid", "accuracy")


# ------------------------------------------------------------------------------------------- config
def test_config_defaults_and_errors():
    c = FinetuneConfig()
    assert (c.lr, c.batch_size, c.big_batch_size, c.epochs, c.wsc_epochs, c.max_length) == (3e-5, 32, 16, 10, 30, 512)
    assert (c.betas, c.eps, c.weight_decay, c.warmup_proportion, c.min_factor, c.classifier_dropout) == (
        (0.9, 0.999), 1e-8, 0.01, 0.06, 0.1, 0.1)
    assert c.selections == ("valid", "heldout") and c.heldout_fraction == 0.1
    assert c.epochs_for(GLUE_TASKS["wsc"]) == 30 and c.epochs_for(GLUE_TASKS["rte"]) == 10
    assert c.batch_size_for(GLUE_TASKS["boolq"]) == 16 and c.batch_size_for(GLUE_TASKS["multirc"]) == 16
    assert c.batch_size_for(GLUE_TASKS["mnli"]) == 32
    assert FinetuneConfig(epochs_override=2).epochs_for(GLUE_TASKS["wsc"]) == 2
    for key, value in [("lr", 0), ("batch_size", 0), ("epochs_override", 0), ("max_length", 2.5),
                       ("warmup_proportion", 1.0), ("selections", ("valid", "test")), ("heldout_fraction", 0.0),
                       ("padding_side", "middle"), ("precision", "fp16"), ("max_train_examples", 1),
                       ("progress", "yes"), ("cpu_threads", 0), ("epoch", 3)]:
        with pytest.raises(ConfigError, match=rf"^ft.yaml: finetune\.{key}(\.\d)?: "):
            validate(FinetuneConfig, {key: value}, "ft.yaml", prefix="finetune.")
    assert validate(FinetuneConfig, {"selections": ["heldout"]}, "ft.yaml").selections == ("heldout",)
    assert validate(FinetuneConfig, {"selections": "heldout"}, "ft.yaml").selections == ("heldout",)
    with pytest.raises(Exception):
        c.lr = 1.0   # frozen


# ------------------------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def keyword_run(model_dir, keyword_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    cfg = FinetuneConfig(**FAST)
    table = run_finetune(model_dir, keyword_data, "rte", seeds=[0, 1], out_dir=out, cfg=cfg,
                         condition="base", size="tiny")
    return table, out, cfg


def test_tiny_model_learns_a_keyword_task(keyword_run):
    table, _, _ = keyword_run
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert (table["status"] == "ok").all()
    acc = table[table["metric"] == "accuracy"]
    assert len(acc) == 4                                     # 2 seeds x 2 selections
    # chance is 0.5. The held-out slice (20 examples) can reach 1.0 at an early epoch whose valid accuracy is
    # still below the valid-selected one, hence its lower bar.
    assert (acc[acc["selection"] == "valid"]["value"] > 0.9).all(), acc
    assert (acc[acc["selection"] == "heldout"]["value"] > 0.8).all(), acc
    assert set(table["metric"]) == {"accuracy", "f1", "mcc"}
    assert (table["model"] == "tiny-base").all() and (table["condition"] == "base").all()
    assert set(table["selection"]) == {"valid", "heldout"}
    valid_rows = table[table["selection"] == "valid"]
    held_rows = table[table["selection"] == "heldout"]
    assert (valid_rows["n_train"] == 192).all() and (valid_rows["n_select"] == 64).all()
    assert (held_rows["n_train"] + held_rows["n_select"] == 192).all() and (held_rows["n_select"] == 20).all()
    assert (table["n_eval"] == 64).all() and (table["epochs"] == 10).all()


def test_outputs_in_the_pipeline_layout(keyword_run):
    table, out, _ = keyword_run
    base = out / "tiny-base" / "main" / "finetune"
    lines = (base / "rte" / "results.txt").read_text().split("\n")
    assert [ln.split(": ")[0] for ln in lines] == ["accuracy", "f1", "mcc"]
    first = table[(table["seed"] == 0) & (table["selection"] == "valid")].set_index("metric")
    # the official results.txt keeps the pipeline's fractions; the tidy table holds percent (MCC x 100)
    assert float(lines[0].split(": ")[1]) * 100 == pytest.approx(first.loc["accuracy", "value"])
    assert float(lines[2].split(": ")[1]) * 100 == pytest.approx(first.loc["mcc", "value"])
    assert first["unit"].to_dict() == {"accuracy": "%", "f1": "%", "mcc": "MCC x 100"}
    assert first["headline"].to_dict() == {"accuracy": True, "f1": False, "mcc": False}
    preds = json.loads((base / "rte" / "predictions.json").read_text())
    assert list(preds) == ["rte"] and len(preds["rte"]["predictions"]) == 64
    assert preds["rte"]["predictions"][5] == {"id": "rte_5", "pred": preds["rte"]["predictions"][5]["pred"]}
    assert {p["pred"] for p in preds["rte"]["predictions"]} <= {0, 1}
    for seed in (0, 1):
        for sel in ("valid", "heldout"):
            run = base / "rte" / f"seed{seed}" / sel
            assert {p.name for p in run.iterdir()} == {"results.txt", "predictions.json", "history.json"}
    assert (base / "rte" / "seed0" / "valid" / "predictions.json").read_text() == \
        (base / "rte" / "predictions.json").read_text()
    saved = pd.read_csv(base / "finetune_results.csv")
    assert len(saved) == len(table) and list(saved.columns) == list(TABLE_COLUMNS)
    glue = pd.read_csv(base / "glue_score.csv")
    assert len(glue) == 4 and set(glue["selection"]) == {"valid", "heldout"}
    summary = json.loads((base / "summary.json").read_text())
    assert summary["config"]["lr"] == 1e-3 and summary["seeds"] == [0, 1] and "rte" in summary["tasks"]
    assert summary["provenance"]["versions"]["torch"]


def test_selected_epoch_follows_the_history(keyword_run):
    _, out, _ = keyword_run
    for sel in ("valid", "heldout"):
        rec = json.loads((out / "tiny-base" / "main" / "finetune" / "rte" / "seed0" / sel / "history.json").read_text())
        hist = rec["history"]
        assert len(hist) == 10 and all(sel in h for h in hist)
        assert rec["best_epoch"] == choose_epoch(hist, sel, "accuracy") + 1
        if sel == "valid":      # the reported metrics are the selected epoch's valid metrics
            assert rec["metrics"] == hist[rec["best_epoch"] - 1]["valid"]


def test_same_seed_same_results_different_seed_different(model_dir, keyword_data, keyword_run, tmp_path):
    table, out, cfg = keyword_run
    # the rerun also saves its classifiers, which must not change any result
    again = run_finetune(model_dir, keyword_data, "rte", seeds=[0], out_dir=tmp_path,
                         cfg=cfg.model_copy(update={"save_weights": True}), condition="base", size="tiny")
    key = ["seed", "selection", "metric"]
    first = table[table["seed"] == 0].set_index(key)["value"].sort_index()
    assert again.set_index(key)["value"].sort_index().equals(first)

    def losses(root: Path, seed: int) -> list[float]:
        rec = json.loads((root / "tiny-base" / "main" / "finetune" / "rte" / f"seed{seed}" / "valid"
                          / "history.json").read_text())
        return [h["train_loss"] for h in rec["history"]]
    assert losses(tmp_path, 0) == losses(out, 0)
    assert losses(out, 1) != losses(out, 0)
    p0 = (tmp_path / "tiny-base" / "main" / "finetune" / "rte" / "predictions.json").read_text()
    assert p0 == (out / "tiny-base" / "main" / "finetune" / "rte" / "predictions.json").read_text()


def test_saved_classifiers_reload_and_predict_what_was_reported(model_dir, keyword_data, keyword_run, tmp_path):
    """save_weights: each run's folder holds the selected epoch's classifier; reloaded, it predicts the
    run's reported valid predictions (valid selection: the selected epoch, not the last)."""
    _, _, cfg = keyword_run
    cfg = cfg.model_copy(update={"save_weights": True, "epochs_override": 4})
    run_finetune(model_dir, keyword_data, "rte", seeds=[0], out_dir=tmp_path, cfg=cfg)
    base = tmp_path / "tiny-base" / "main" / "finetune" / "rte" / "seed0"
    valid_ex = load_split(keyword_data, "rte", "valid")
    start, _ = load_backbone(model_dir)
    for sel in ("valid", "heldout"):
        clf, tok = load_classifier(base / sel / "model")
        enc = encode(tok, valid_ex, cfg.max_length)
        preds = predict(clf, enc, batch_size=16, pad_id=tok.pad_token_id, progress=False)
        reported = json.loads((base / sel / "predictions.json").read_text())["rte"]["predictions"]
        assert [int(p) for p in preds] == [p["pred"] for p in reported]
        trained = clf.backbone.state_dict()
        assert max((trained[k] - v).abs().max().item() for k, v in start.state_dict().items()) > 1e-4
    rec = json.loads((base / "valid" / "history.json").read_text())
    assert rec["history"][-1]["valid"] != rec["metrics"]     # the last epoch's weights would predict otherwise
    with pytest.raises(FileNotFoundError, match="not a saved classifier"):
        load_classifier(model_dir)


def test_absent_train_file_is_skipped_with_its_reason(model_dir, keyword_data, tmp_path):
    data = tmp_path / "data"
    write_jsonl(data / "glue_filtered" / "boolq.valid.jsonl",
                [{"question": "is it sunny", "passage": "It is sunny.", "idx": 0, "label": 1}])
    for split in ("train", "valid"):
        (data / "glue_filtered" / f"rte.{split}.jsonl").write_text(
            (keyword_data / "glue_filtered" / f"rte.{split}.jsonl").read_text())
    cfg = FinetuneConfig(**{**FAST, "epochs_override": 1, "selections": ("valid",), "max_train_examples": 32,
                            "max_valid_examples": 8})
    table = run_finetune(model_dir, data, "boolq,rte", seeds=[0, 1], out_dir=tmp_path / "out", cfg=cfg)
    boolq = table[table["task"] == "boolq"]
    assert len(boolq) == 2 and (boolq["status"] == "skipped").all() and boolq["value"].isna().all()
    assert boolq["reason"].str.startswith("glue_filtered/boolq.train.jsonl: file not found").all()
    assert (table[table["task"] == "rte"]["status"] == "ok").all()
    summary = json.loads((tmp_path / "out" / "tiny-base" / "main" / "finetune" / "summary.json").read_text())
    assert summary["skipped"]["boolq"].startswith("glue_filtered/boolq.train.jsonl")
    boolq_dir = tmp_path / "out" / "tiny-base" / "main" / "finetune" / "boolq"   # only the skip record, no results
    assert sorted(p.relative_to(boolq_dir).as_posix() for p in boolq_dir.rglob("*") if p.is_file()) == [
        "seed0/info.json", "seed0/rows.csv", "seed1/info.json", "seed1/rows.csv"]
    with pytest.raises(MissingData, match="boolq.train.jsonl"):
        run_finetune(model_dir, data, "boolq", seeds=[0], out_dir=tmp_path / "out2",
                     cfg=FinetuneConfig(**{**FAST, "skip_missing": False}))


def test_malformed_file_stops_the_run_naming_file_and_line(model_dir, tmp_path):
    rows = keyword_rows(20, 3)
    del rows[11]["sentence2"]
    write_jsonl(tmp_path / "glue_filtered" / "rte.train.jsonl", rows)
    write_jsonl(tmp_path / "glue_filtered" / "rte.valid.jsonl", keyword_rows(4, 4))
    with pytest.raises(DataError, match=r"^glue_filtered/rte\.train\.jsonl:12: missing field 'sentence2'$"):
        run_finetune(model_dir, tmp_path, "rte", seeds=[0], out_dir=tmp_path / "out", cfg=FinetuneConfig(**FAST))


def test_left_padding_and_a_caller_model_work_and_leave_the_model_unchanged(model_dir, keyword_data, tok, tmp_path):
    lm = LlamaForCausalLM.from_pretrained(model_dir)
    before = {k: v.clone() for k, v in lm.state_dict().items()}
    cfg = FinetuneConfig(**{**FAST, "epochs_override": 1, "padding_side": "left", "selections": ("heldout",),
                            "max_train_examples": 48, "max_valid_examples": 8})
    table = run_finetune(model_dir, keyword_data, ["rte"], seeds=0, out_dir=tmp_path, cfg=cfg, model=lm,
                         tokenizer=tok, model_name="given")
    assert set(table["selection"]) == {"heldout"} and table["value"].notna().all()
    assert (tmp_path / "given" / "main" / "finetune" / "rte" / "results.txt").is_file()   # official = first selection
    assert all(torch.equal(before[k], v) for k, v in lm.state_dict().items())


def test_tasks_run_later_are_merged_into_the_tables(model_dir, keyword_data, tmp_path):
    cfg = FinetuneConfig(**{**FAST, "epochs_override": 1, "selections": ("valid",), "max_train_examples": 32,
                            "max_valid_examples": 8})
    base = tmp_path / "tiny-base" / "main" / "finetune"
    run_finetune(model_dir, keyword_data, "rte", seeds=[0], out_dir=tmp_path, cfg=cfg)
    run_finetune(model_dir, keyword_data, "mrpc", seeds=[0], out_dir=tmp_path, cfg=cfg)
    saved = pd.read_csv(base / "finetune_results.csv")
    assert sorted(set(saved["task"])) == ["mrpc", "rte"] and len(saved) == 6
    assert (saved["condition"].isna() | (saved["condition"] == "")).all()
    glue = pd.read_csv(base / "glue_score.csv")
    assert glue["n_tasks"].tolist() == [2] and set(glue["tasks"].iloc[0].split(",")) == {"rte", "mrpc"}
    summary = json.loads((base / "summary.json").read_text())
    assert set(summary["tasks"]) == {"rte", "mrpc"}
    run_finetune(model_dir, keyword_data, "rte", seeds=[1], out_dir=tmp_path, cfg=cfg)   # rerun replaces rte
    saved = pd.read_csv(base / "finetune_results.csv")
    assert len(saved) == 6 and saved[saved["task"] == "rte"]["seed"].tolist() == [1, 1, 1]


def test_command_line(model_dir, keyword_data, tmp_path, capsys):
    from classit_utils.cli import eval_main
    rc = eval_main(["finetune", "--model", str(model_dir), "--data", str(keyword_data), "--tasks", "rte",
                    "--seeds", "0", "--out", str(tmp_path), "--epochs", "1", "--max-train", "32",
                    "--max-valid", "8", "--selections", "valid", "--condition", "base", "--threads", "1",
                    "--quiet"])
    assert rc == 0 and torch.get_num_threads() == 1
    text = capsys.readouterr().out
    assert "rte" in text and "accuracy" in text
    assert (tmp_path / "tiny-base" / "main" / "finetune" / "rte" / "predictions.json").is_file()
    bad = tmp_path / "bad"
    write_jsonl(bad / "glue_filtered" / "rte.train.jsonl", ["{oops"])
    write_jsonl(bad / "glue_filtered" / "rte.valid.jsonl", keyword_rows(2, 0))
    assert eval_main(["finetune", "--model", str(model_dir), "--data", str(bad), "--tasks", "rte",
                      "--out", str(tmp_path), "--quiet"]) == 2
    assert "glue_filtered/rte.train.jsonl:1: invalid JSON" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------- real data
@pytest.mark.realdata
def test_real_data_short_run_and_missing_train_files(data_root, model_dir, tmp_path):
    cfg = FinetuneConfig(epochs_override=1, max_train_examples=32, max_valid_examples=16, max_length=64,
                         selections=("valid",), progress=False)
    table = run_finetune(model_dir, data_root, "wsc,boolq,multirc,mnli", seeds=[0], out_dir=tmp_path, cfg=cfg)
    status = table.groupby("task")["status"].first().to_dict()
    assert status == {"wsc": "ok", "mnli": "ok", "boolq": "skipped", "multirc": "skipped"}
    assert set(table[table["task"] == "mnli"]["metric"]) == {"accuracy", "mcc"}
    preds = json.loads((tmp_path / "tiny-base" / "main" / "finetune" / "mnli" / "predictions.json").read_text())
    assert len(preds["mnli"]["predictions"]) == 16
    assert (tmp_path / "tiny-base" / "main" / "finetune" / "mnli" / "results.txt").read_text().startswith("accuracy: ")
    assert "\n" not in (tmp_path / "tiny-base" / "main" / "finetune" / "mnli" / "results.txt").read_text()
