"""AoA (tasks/aoa.py): CDI item cleaning, the two sigmoid fits and the AoA read off them (planted curves with
known answers), Pearson r, context building on a hand-written transcript, checkpoints, the official surprisal
rule, an end-to-end run over a tiny model's checkpoints, the CLI, and a quick check on the real data.

Every transcript line and CDI row here is made up; the real data are only read through `data_root`."""
from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from classit_utils.errors import DataError, MissingData
from classit_utils.tasks import TASK_NAMES
from classit_utils.tasks import aoa as A


# --------------------------------------------------------------------------------------------- cleaning
@pytest.mark.parametrize("definition, word, how", [
    ("rabbit (animal)", "rabbit", "sense label removed"),
    ("granny*", "granny", "marker removed"),
    ("wug!", "wug", "marker removed"),
    ("zorp/zorp zorp", "zorp", "first of alternatives"),
    ("blicket (toy)/dax*", "blicket", "sense label removed, marker removed, first of alternatives"),
    ("can't", "can't", ""),
    ("TV", "TV", ""),
    ("blick blick", None, "multi-word"),
    ("teddy's name", None, "placeholder"),
    ("x", None, "one letter"),
    ("3d", None, "not a plain word"),
    ("fep-fep", None, "not a plain word"),
])
def test_clean_item(definition, word, how):
    assert A.clean_item(definition) == (word, how)


def test_select_items_keeps_the_first_item_of_a_word():
    kept, dropped = A.select_items([(1, "wug (noun)"), (2, "dax"), (3, "wug (verb)"), (4, "ice lolly")])
    assert kept == {1: "wug", 2: "dax"}
    assert dropped == [(3, "wug (verb)", "duplicate of item 1"), (4, "ice lolly", "multi-word")]


# --------------------------------------------------------------------------------------------- child fit
AGES = list(range(16, 31))


def planted(x, a, b, c, d):
    return a / (1 + np.exp(-b * (np.asarray(x, dtype=float) - c))) + d


def test_child_fit_recovers_a_planted_curve_and_its_aoa():
    props = planted(AGES, 1.0, 0.5, 22.0, 0.0)
    fit = A.fit_child_aoa(AGES, props)
    assert fit.status == "ok" and fit.aoa == pytest.approx(22.0, abs=1e-4)
    assert fit.params == pytest.approx((1.0, 0.5, 22.0, 0.0), abs=1e-4)
    # another threshold: 22 - ln(1/0.25 - 1) / 0.5
    assert A.fit_child_aoa(AGES, props, threshold=0.25).aoa == pytest.approx(22 - 2 * math.log(3), abs=1e-4)


def test_child_fit_skips_missing_ages():
    props = planted(AGES, 0.8, 0.6, 24.0, 0.1)
    props[[0, 5, 14]] = np.nan
    fit = A.fit_child_aoa(AGES, props)
    assert fit.aoa == pytest.approx(24.0, abs=1e-3)     # 0.5 = d + a/2: the midpoint


@pytest.mark.parametrize("props, status", [
    (planted(AGES, 1.0, 0.8, 8.0, 0.0), "AoA outside the ages observed"),     # known before 16 months
    (np.full(15, 0.1), "threshold outside the fitted range"),                  # never reaches 0.5
    ([0.2, np.nan, np.nan] + [np.nan] * 11 + [0.9], "fewer than 3 ages"),
])
def test_child_fit_without_aoa_says_why(props, status):
    fit = A.fit_child_aoa(AGES, props)
    assert fit.aoa is None and fit.status == status


# --------------------------------------------------------------------------------------------- model fit
X = np.linspace(4.0, 8.0, 9)                 # log10(words + 1) at 9 checkpoints, 10k .. 100M words
WORDS = 10 ** X - 1
SURPRISAL = -planted(X, 6.0, 3.0, 6.0, -8.0)   # 8 nats falling to 2 around 1M words


def test_model_fit_recovers_a_planted_learning_curve():
    # chance set so that the threshold is 5 nats, the curve's midpoint: the AoA is then c = 6 (1M words)
    chance = 10.0 - SURPRISAL.min()
    assert A.threshold_surprisal(chance, SURPRISAL.min()) == pytest.approx(5.0)
    fit = A.fit_model_aoa(WORDS, SURPRISAL, chance)
    assert fit.status == "ok" and fit.aoa == pytest.approx(6.0, abs=1e-5)
    assert fit.params == pytest.approx((6.0, 3.0, 6.0, -8.0), abs=1e-4)


def test_model_fit_pools_contexts_like_the_mean_curve():
    """Two contexts at +-0.5 nats around the curve: the pooled least-squares fit is the mean curve; only
    the minimum surprisal (hence the threshold) differs."""
    words = np.concatenate([WORDS, WORDS])
    surps = np.concatenate([SURPRISAL + 0.5, SURPRISAL - 0.5])
    chance = 10.0 - SURPRISAL.min()
    pooled, mean = A.fit_model_aoa(words, surps, chance), A.fit_model_aoa(WORDS, SURPRISAL, chance)
    assert pooled.params == pytest.approx(mean.params, abs=1e-4)
    expected = 6.0 - math.log(6.0 / (-A.threshold_surprisal(chance, surps.min()) + 8.0) - 1) / 3.0
    assert pooled.aoa == pytest.approx(expected, abs=1e-4)


def test_model_fit_without_aoa_says_why():
    # the official chance (log2 300k = 18.2) puts the threshold (~10 nats) above a small model's curve
    assert A.fit_model_aoa(WORDS, SURPRISAL).status == "threshold outside the fitted range"
    # a threshold just under the initial surprisal is crossed before the first checkpoint
    chance = 2 * 7.999 - SURPRISAL.min()
    assert A.fit_model_aoa(WORDS, SURPRISAL, chance).status == "AoA outside the words seen"
    assert A.fit_model_aoa(WORDS, SURPRISAL[::-1], 12.0).status in (   # forgetting
        "fit not increasing (a <= 0 or b <= 0)", "threshold outside the fitted range")
    assert A.fit_model_aoa(WORDS[:2], SURPRISAL[:2]).status == "fewer than 3 points"
    assert A.fit_model_aoa(WORDS[:3], SURPRISAL[:3], 9.0).status.startswith("fit failed")   # 3 points, 4 params


# --------------------------------------------------------------------------------------------- score
def test_pearson_on_planted_relations():
    r, p = A.pearson([1, 2, 3, 4], [1, 3, 2, 4])
    assert r == pytest.approx(0.8) and p == pytest.approx(0.2)
    x = np.array([18.0, 20.5, 22.0, 25.0, 27.5])
    assert A.pearson(x, 2 * x + 1)[0] == pytest.approx(1.0)
    assert all(math.isnan(v) for v in A.pearson([1, 2], [2, 1]))
    assert all(math.isnan(v) for v in A.pearson([1, 2, 3], [5, 5, 5]))


def test_curve_fitness_has_the_official_keys():
    s = A.curve_fitness(["a", "b", "c", "d"], [1, 2, 3, 4], [1, 3, 2, 4], {"month_16": 0.2, "month_17": 0.4})
    assert set(s) == {"curve_fitness", "p_value", "n_words", "mean_monthly_score", "monthly_scores",
                      "valid_words", "model_aoas", "child_aoas"}
    assert s["curve_fitness"] == pytest.approx(0.8) and s["n_words"] == 4
    assert s["mean_monthly_score"] == pytest.approx(0.3)
    few = A.curve_fitness(["a", "b"], [1, 2], [2, 1], {})
    assert few["curve_fitness"] == 0.0 and few["p_value"] is None and few["n_words"] == 2


# --------------------------------------------------------------------------------------------- contexts
TRANSCRIPT = [  # (gloss, speaker_role): made-up child-directed speech
    ("look at the red ball", "Mother"),
    ("look at the red ball", "Father"),
    ("where is the ball", "Mother"),
    ("ball", "Mother"),                                  # no left context
    ("the ball and the ball", "Investigator"),           # two occurrences
    ("ball ball ball", "Child"),                         # a child: not child-directed
    ("give the xxx ball", "Mother"),                     # untranscribed word
    ("the teddy+bear sat on the mat", "Mother"),         # CHAT compound
    ("thank_you for the cup", "Mother"),
    ("Ball is here", "Mother"),                          # case differs: no match
]


def write_transcripts(root, rows=TRANSCRIPT, name="Madeup.csv"):
    folder = root / A.TRANSCRIPTS
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["gloss", "speaker_role"]).to_csv(folder / name, index=False)


def test_normalize_utterance():
    assert A.normalize_utterance("the teddy+bear sat  on_the mat") == "the teddy bear sat on the mat"
    assert A.normalize_utterance("give the xxx ball") is None
    assert A.normalize_utterance("   ") is None


def test_build_contexts_from_a_tiny_transcript(tmp_path):
    write_transcripts(tmp_path)
    utts = A.read_utterances(tmp_path)
    assert "ball ball ball" not in utts and len(utts) == len(TRANSCRIPT) - 1
    got = A.build_contexts(utts, ["ball", "bear", "you", "cup", "dax"], per_word=3, min_left_words=1)
    assert got["ball"] == [
        A.Context("look at the red", 4, 2, "look at the red ball"),
        A.Context("the", 1, 1, "the ball and the ball"),
        A.Context("the ball and the", 4, 1, "the ball and the ball"),
    ]   # most frequent first, then by text; capped at 3 ("where is the" is 4th)
    assert got["bear"] == [A.Context("the teddy", 2, 1, "the teddy bear sat on the mat")]
    assert got["you"] == [A.Context("thank", 1, 1, "thank you for the cup")]
    assert got["dax"] == []
    # the official minimum of 5 left words leaves none of these
    assert all(not v for v in A.build_contexts(utts, ["ball", "cup"]).values())
    assert [c.context for c in A.build_contexts(utts, ["cup"], min_left_words=3)["cup"]] == ["thank you for the"]


def test_missing_transcripts_and_cdi_name_the_file(tmp_path):
    with pytest.raises(MissingData, match=r"^aochildes_transcripts/: folder not found"):
        A.read_utterances(tmp_path)
    with pytest.raises(MissingData, match=r"^aoa_substitute/child_american_english_proportions\.csv: file not "):
        A.read_cdi(tmp_path)


def test_bad_cdi_values_name_the_line(tmp_path):
    path = tmp_path / A.CDI_FILE
    path.parent.mkdir(parents=True)
    ages = ",".join(f'"{a}"' for a in AGES)
    path.write_text(f'"num_item_id","definition",{ages}\n1,"wug",{",".join(["0.5"] * 14)},lots\n')
    with pytest.raises(DataError, match=r"child_american_english_proportions\.csv:2: column '30' is not a number"):
        A.read_cdi(tmp_path)


# --------------------------------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("name, words", [("chck_0.1M", 1e5), ("chck_4e-05M", 40.0), ("chck_10M", 1e7),
                                         ("chck_1000M", 1e9), ("final", None), ("chck_M", None)])
def test_checkpoint_words(name, words):
    assert A.checkpoint_words(name) == words


def test_fewer_than_three_checkpoints_is_a_data_error(tmp_path):
    run = tmp_path / "run"
    for d in ("final", "chck_0.1M", "chck_0.2M"):
        (run / d).mkdir(parents=True)
    with pytest.raises(DataError, match=r"run: 2 chck_<N>M checkpoint folder\(s\) \(chck_0.1M, chck_0.2M\); "
                                        r"the AoA sigmoid needs at least 3"):
        A.find_checkpoints(run / "final")
    (run / "chck_1e-05M").mkdir()
    assert [c.name for c in A.find_checkpoints(run / "final")] == ["chck_1e-05M", "chck_0.1M", "chck_0.2M"]
    assert [c.words for c in A.find_checkpoints(run)] == [10.0, 1e5, 2e5]


def test_aoa_is_not_a_zero_shot_task():
    assert "aoa" not in TASK_NAMES


# --------------------------------------------------------------------------------------------- end to end
WORDS_CDI = [  # made-up CDI rows: (id, definition, planted AoA in months)
    (1, "cat (animal)", 19.0), (2, "dog", 21.0), (3, "ball", 18.0), (4, "bird", 24.0), (5, "book", 23.0),
    (6, "milk", 20.0), (7, "tree", 26.0), (8, "bed", 22.0), (9, "park", 27.0), (10, "bread*", 25.0),
    (11, "red ball", 22.0), (12, "cat (pet)", 20.0),
]
UTTERANCES = [  # built from the tiny tokenizer's words
    "the cat sat on the mat", "a dog ran to the park", "the dog ran after the cat", "where is the red ball",
    "the ball is under the bed", "she reads a book about birds", "the small bird flies over the tall tree",
    "we eat bread and drink milk", "they sing songs in the park", "the cat ran to the bed",
    "a bird sat on the tree", "we drink milk in the morning", "she reads a book in the bed",
]


def write_data(root):
    rows = [{"num_item_id": i, "definition": d, "type": "word", "category": "made_up",
             **{str(a): float(planted(a, 1.0, 0.6, c, 0.0)) for a in AGES}} for i, d, c in WORDS_CDI]
    (root / "aoa_substitute").mkdir(parents=True)
    pd.DataFrame(rows).to_csv(root / A.CDI_FILE, index=False)
    write_transcripts(root, [(u, "Mother") for u in UTTERANCES])


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, tiny_tok):
    """A tiny Llama pretrained (12 steps) on the made-up sentences, saving 5 word checkpoints."""
    from conftest import TINY_TEXT

    from classit_utils.modeling import ModelConfig
    from classit_utils.train import TrainConfig, pretrain
    root = tmp_path_factory.mktemp("aoa")
    block, n_train, n_val = 33, 48, 8
    stream: list[int] = []
    for text in (TINY_TEXT + UTTERANCES * 5) * 3:
        stream += tiny_tok(text)["input_ids"] + [tiny_tok.eos_token_id]
    arr = np.array(stream[:(n_train + n_val) * block], dtype=np.uint16).reshape(-1, block)
    shards = root / "shards"
    shards.mkdir()
    arr[:n_train].tofile(shards / "train.bin")
    arr[n_train:].tofile(shards / "val.bin")
    (shards / "meta.json").write_text(json.dumps({
        "block_size": block, "dtype": "uint16", "n_blocks": {"train": n_train, "val": n_val},
        "vocab_size": len(tiny_tok), "pad_id": 0, "bos_id": 1, "eos_id": 2,
        "n_words": {"train": n_train * 10, "val": 0}}))                 # 10 words per block: 40 per step
    cfg = TrainConfig(lr=3e-3, micro_batch_size=4, warmup_steps=2, seed=0, checkpoint_words=(40, 80, 160, 320, 480))
    state = pretrain(shards, ModelConfig(size="tiny"), cfg, root / "run", tokenizer=tiny_tok)
    data = root / "data"
    write_data(data)
    return state.final_dir, data, root


def test_end_to_end_writes_the_official_files(tiny_run):
    final, data, root = tiny_run
    summary = A.run_aoa(final, data, root / "results", model_name="tiny", min_left_words=1, progress=False,
                        device="cpu")
    out = root / "results" / "tiny" / "main" / "zero_shot" / "causal" / "AoA_word"
    names = ["chck_4e-05M", "chck_8e-05M", "chck_0.00016M", "chck_0.00032M", "chck_0.00048M"]
    assert [c["name"] for c in summary["checkpoints"]] == names

    sur = json.loads((out / "surprisal.json").read_text())
    assert sur["metadata"] == {"model_name": "tiny", "use_bos_only": False, "total_steps": 5, "completed_steps": 5}
    res = sur["results"]
    assert {r["step"] for r in res} == set(names)
    assert all(set(r) == {"step", "word_count", "target_word", "context_id", "context", "surprisal"} for r in res)
    per_step = len(res) // 5
    assert per_step == summary["n_contexts"] and all(
        sum(r["step"] == n for r in res) == per_step for n in names)
    assert {r["target_word"] for r in res} == {"cat", "dog", "ball", "bird", "book", "milk", "tree", "bed",
                                               "park", "bread"}
    assert all(r["surprisal"] > 0 and math.isfinite(r["surprisal"]) for r in res)

    score = json.loads((out / "aoa_score.json").read_text())
    assert set(score) == {"curve_fitness", "p_value", "n_words", "mean_monthly_score", "monthly_scores",
                          "valid_words", "model_aoas", "child_aoas"}
    assert len(score["monthly_scores"]) == 15

    words = pd.read_csv(out / "aoa_words.csv", keep_default_na=False)
    assert list(words.columns)[:3] == ["word", "item_id", "category"]
    assert {"child_aoa", "child_status", "model_aoa", "model_status", "in_correlation"} <= set(words.columns)
    assert sorted(words["word"]) == sorted(["cat", "dog", "ball", "bird", "book", "milk", "tree", "bed", "park",
                                            "bread"])                     # "red ball", 2nd "cat" dropped
    assert (words["child_status"] == "ok").all()
    assert pd.to_numeric(words.set_index("word")["child_aoa"]).to_dict() == pytest.approx(
        {d.split()[0].rstrip("*"): c for i, d, c in WORDS_CDI if i <= 10}, abs=1e-3)
    assert (words["model_status"] != "").all()                              # every word has a status
    assert summary["n_words"] == score["n_words"] == int(words["in_correlation"].sum())

    curves = pd.read_csv(out / "aoa_curves.csv")
    assert len(curves) == 10 * 5 and set(curves["step"]) == set(names)
    saved = json.loads((out / "summary.json").read_text())
    assert saved["contexts"] == "built from AOCHILDES transcripts (official cdi_childes.json absent)"
    assert saved["cdi"]["kept"] == 10 and saved["cdi"]["dropped_by_reason"] == {"duplicate sense": 1,
                                                                                 "multi-word": 1}
    assert {"git", "versions", "device"} <= set(saved["provenance"])
    assert saved["cdi"]["dropped_items"] == [[11, "red ball", "multi-word"],
                                             [12, "cat (pet)", "duplicate of item 1"]]
    assert saved["rules"]["chance_surprisal"] == pytest.approx(math.log2(300_000))
    ctx = json.loads((out / "contexts.json").read_text())
    assert ctx["ball"] == [{"context": "the", "position": 1, "count": 1, "utterance": "the ball is under the bed"},
                           {"context": "where is the red", "position": 4, "count": 1,
                            "utterance": "where is the red ball"}]
    assert sum(len(v) for v in ctx.values()) == summary["n_contexts"]


def test_surprisal_is_the_official_causal_rule(tiny_run):
    """One record recomputed the way `process_causal_input` does: `context.strip() + " " + word` tokenized
    with special tokens, tokens ending after the word's first character summed."""
    from classit_utils.runtime import load_causal_lm
    final, data, root = tiny_run
    A.run_aoa(final, data, root / "r2", model_name="tiny", min_left_words=1, progress=False, device="cpu",
              fit_on="mean", chance="vocab")
    rec = next(r for r in json.loads((root / "r2" / "tiny" / "main" / "zero_shot" / "causal" / "AoA_word" /
                                      "surprisal.json").read_text())["results"]
               if r["step"] == "chck_0.00032M" and r["target_word"] == "bread")
    model, tok = load_causal_lm(final.parent / "chck_0.00032M")
    text = rec["context"].strip() + " " + "bread"
    enc = tok(text, return_offsets_mapping=True)
    start = len(text) - len("bread")
    mask = [end > start for _, end in enc["offset_mapping"]]
    ids = torch.tensor([enc["input_ids"]])
    with torch.no_grad():
        lp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), dim=-1)
    want = -sum(lp[t - 1, ids[0, t]].item() for t in range(1, ids.shape[1]) if mask[t])
    assert rec["surprisal"] == pytest.approx(want, abs=1e-4)


def test_cli(tiny_run, capsys, tmp_path):
    final, data, _ = tiny_run
    parser = argparse.ArgumentParser()
    A.add_cli_arguments(parser)
    args = parser.parse_args(["--model", str(final), "--data", str(data), "--out", str(tmp_path), "--quiet",
                              "--chance", "vocab", "--contexts-per-word", "2"])
    assert A.cli_main(args) == 0
    assert "AoA final: 5 checkpoints" in capsys.readouterr().out
    bad = parser.parse_args(["--model", str(final), "--data", str(tmp_path / "nothing")])
    assert A.cli_main(bad) == 2
    assert capsys.readouterr().err.startswith("classit-eval: error: aoa_substitute/child_american_english_")


# --------------------------------------------------------------------------------------------- real data
@pytest.mark.realdata
def test_real_cdi_and_transcripts(data_root):
    cdi = A.read_cdi(data_root)
    kept, dropped = A.select_items(zip(cdi["num_item_id"], cdi["definition"]))
    assert len(cdi) == 680 and 0.85 <= len(kept) / len(cdi) <= 0.97
    assert {"mommy", "daddy", "chicken", "owie", "soda"} <= set(kept.values())
    assert {"ice cream", "thank you"} <= {d for _, d, _ in dropped}
    utts = A.read_utterances(data_root, max_rows=2000)          # ~20% of the transcripts
    ctx = A.build_contexts(utts, kept.values())
    with_ctx = sum(1 for v in ctx.values() if v)
    assert with_ctx >= 0.75 * len(kept)
    assert all(len(v) <= A.CONTEXTS_PER_WORD and all(c.position >= 5 for c in v) for v in ctx.values())
    ages = [str(a) for a in A.AGES]
    rows = cdi.set_index("num_item_id")
    sample = list(kept)[::10]
    ok = sum(A.fit_child_aoa(A.AGES, rows.loc[i, ages].to_numpy(float)).ok for i in sample)
    assert ok >= 0.7 * len(sample)


# --------------------------------------------------------------------------------------------- the study
def study_cfg(root, data, **evaluation):
    from classit_utils.config import parse_config
    return parse_config({"profile": "aoa", "data_root": str(data), "run_root": str(root / "study"),
                         "pretrain": {"sizes": ["tiny"]},
                         "evaluation": {"device": "cpu", "batch_size": 16, **evaluation}}, check_paths=False)


def write_study_registry(cfg, final, few):
    """The tiny model as the base of two sizes (`few`: 2 checkpoints only) and as a tuned model."""
    from classit_utils import results as R
    R.write_registry(cfg, pd.DataFrame([
        {"model": "classit-tiny-base", "size": "tiny", "condition": "base", "pretrain_seed": 0, "tune_seed": -1,
         "path": str(final)},
        {"model": "classit-small-base", "size": "small", "condition": "base", "pretrain_seed": 0, "tune_seed": -1,
         "path": str(few / "final")},
        {"model": "classit-tiny-conv", "size": "tiny", "condition": "conv", "pretrain_seed": 0, "tune_seed": 0,
         "path": str(final)}],
        columns=R.REGISTRY_COLUMNS))


@pytest.fixture(scope="module")
def study(tiny_run):
    """A study folder (`write_study_registry`) and AoA data whose contexts have the official 5 left words."""
    final, _, root = tiny_run
    data = root / "study_data"
    write_data(data)
    write_transcripts(data, [("and then we saw that " + u, "Mother") for u in UTTERANCES])
    few = root / "few_ckpts"
    for d in ("final", "chck_0.1M", "chck_0.2M"):
        (few / d).mkdir(parents=True)
    cfg = study_cfg(root, data)
    write_study_registry(cfg, final, few)
    return cfg, final, few


def test_run_all_scores_every_base_model_and_skips_with_a_reason(study):
    from classit_utils import results as R
    cfg, _, _ = study
    table = A.run_all(cfg)
    assert list(table.columns) == ["model", "size", "condition", "pretrain_seed", "tune_seed", "status", "reason", "n_words", "r", "p",
                                   "checkpoints"]
    assert table["model"].tolist() == ["classit-tiny-base", "classit-small-base"]   # base only, registry order
    ok, skipped = table.iloc[0], table.iloc[1]
    assert (ok["status"], ok["reason"], ok["size"], ok["checkpoints"]) == ("ok", "", "tiny", 5)
    out = R.zero_shot_root(R.results_dir(cfg), "classit-tiny-base") / "AoA_word"
    summary = json.loads((out / "summary.json").read_text())
    assert ok["n_words"] == summary["n_words"] == json.loads((out / "aoa_score.json").read_text())["n_words"]
    assert summary["model_name"] == "classit-tiny-base" and summary["n_words_with_contexts"] == 10
    assert (math.isnan(ok["r"]) and summary["r"] is None) or ok["r"] == pytest.approx(summary["r"])
    assert json.loads((out / "surprisal.json").read_text())["metadata"]["total_steps"] == 5
    assert skipped["status"] == "skipped" and skipped["checkpoints"] == 0 and pd.isna(skipped["n_words"])
    assert "2 chck_<N>M checkpoint folder(s) (chck_0.1M, chck_0.2M)" in skipped["reason"]
    assert not (R.zero_shot_root(R.results_dir(cfg), "classit-tiny-conv") / "AoA_word").exists()
    # read back from the summaries: the same table
    pd.testing.assert_frame_equal(R.aoa_scores(cfg), table)


def test_run_all_absent_data_is_skipped_or_raised(study, tmp_path):
    from classit_utils import results as R
    cfg, final, few = study
    bare = study_cfg(tmp_path, tmp_path / "no_data")
    write_study_registry(bare, final, few)
    table = A.run_all(bare)
    assert table["status"].tolist() == ["skipped", "skipped"]
    assert table["reason"].iloc[0].startswith("aoa_substitute/child_american_english_proportions.csv: file not")
    assert R.aoa_scores(bare)["status"].tolist() == ["skipped", "skipped"]
    strict = study_cfg(tmp_path, tmp_path / "no_data", skip_missing=False)
    with pytest.raises(MissingData):
        A.run_all(strict)
    strict = study_cfg(tmp_path, cfg.data_dir, skip_missing=False)
    with pytest.raises(A.TooFewCheckpoints):       # the data are there; the 2-checkpoint model is not skipped
        A.run_all(strict)
    assert R.aoa_scores(strict)["status"].tolist() == ["ok", "skipped"]   # the base model ran, then it raised
