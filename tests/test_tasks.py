"""Task loaders, metrics and the zero-shot runner: hand-made fixtures in the real formats (our own
sentences), known-answer metrics (WUG rho, reading Delta R2, entity-tracking aggregation), clear errors
for missing/malformed files, outputs in the pipeline's layout, and the real files from $CLASSIT_DATA."""
from __future__ import annotations

import json
import math
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny_llama_config
from transformers import LlamaForCausalLM

from classit_utils.cli import eval_main, main
from classit_utils.scoring import Score
from classit_utils.tasks import (OFFICIAL_SIZES, TASK_NAMES, DataError, Item, MissingData, check_sizes, get_task,
                                 ranking_predictions)
from classit_utils.tasks.entity_tracking import evaluate as et_evaluate
from classit_utils.tasks.reading import reading_scores, relative_delta_r2
from classit_utils.tasks.wug import WUG_PAST, evaluate_wug, load_wug, model_ratio
from classit_utils.zeroshot import parse_tasks, run_task, run_zero_shot, score_items

# ----------------------------------------------------------------------------------------------- fixtures


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _blimp_row(good: str, bad: str, uid: str) -> dict:
    return {"sentence_good": good, "sentence_bad": bad, "field": "syntax", "linguistics_term": "agreement",
            "UID": uid, "simple_LM_method": True, "one_prefix_method": False, "two_prefix_method": False,
            "lexically_identical": True, "pair_id": 0}


WUG_ROWS = [("Make a past form of the verb: blick. Yesterday she blicked.\tMake a past form of the verb: blick. "
             "Yesterday she black.", 0.9),
            ("Make a past form of the verb: spling. Yesterday he splinged.\tMake a past form of the verb: spling. "
             "Yesterday he splung.", 0.4),
            ("Make a past form of the verb: grint. Yesterday they grinted.\tMake a past form of the verb: grint. "
             "Yesterday they grant.", 0.7)]


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """A small data folder in the real formats, our own sentences."""
    d = tmp_path / "data"
    pairs = [("The cat sat on the mat.", "The cat sat on the mats is."), ("A dog ran to the park.", "A dog ran park the to."),
             ("Where is the red ball?", "Where the red ball is?")]
    for uid in ("agreement_one", "agreement_two"):
        _jsonl(d / "blimp_fast" / f"{uid}.jsonl", [_blimp_row(g, b, uid) for g, b in pairs])
    _jsonl(d / "supplement_fast" / "turn_taking.jsonl",
           [{"sentence_good": "A: Did you sing?\nB: Yes, I sang.", "sentence_bad": "A: Did you sing?\nB: Yes, you sang.",
             "quad": "x", "type": "single", "length": "short", "other": "I"}])
    ewok = [{"Domain": dom, "ConceptA": "a", "ConceptB": "b", "ContextType": "direct", "ContextDiff": "antonym",
             "TargetDiff": "concept swap", "Context1": "The ball is under the bed.", "Context2": "The ball is on the bed.",
             "Target1": "The ball is low.", "Target2": "The ball is high."} for dom in ("spatial-relations", "social-properties")]
    zpath = d / "ewok.zip"
    with zipfile.ZipFile(zpath, "w") as z:   # zipfile cannot encrypt; reading with a password works the same
        for dom in ("spatial-relations", "social-properties"):
            z.writestr(f"ewok_fast/{dom}.jsonl", "".join(json.dumps(r) + "\n" for r in ewok if r["Domain"] == dom))
    prefix = "Box 0 contains the cat, Box 1 contains the ball and the book. Box 1 contains "
    et = [{"sample_id": i, "numops": i % 2, "input_prefix": prefix,
           "options": ["the ball and the book.", "the cat.", "nothing.", "the book.", "the ball."], "example_id": i}
          for i in range(4)]
    _jsonl(d / "entity_tracking_fast" / "regular.jsonl", et)
    _jsonl(d / "wug_adj_nominalization" / "wug_adj_nominalization.jsonl",
           [{"sentences": "Make a noun of: blickable. blickability\tMake a noun of: blickable. blickableness", "ratio": 0.6},
            {"sentences": "Make a noun of: sprocky. sprockity\tMake a noun of: sprocky. sprockiness", "ratio": 0.2},
            {"sentences": "Make a noun of: florant. florancy\tMake a noun of: florant. florantness", "ratio": 0.8}])
    _jsonl(d / "wug_past_tense" / "wug_past_tense.jsonl", [{"sentences": s, "ratio": r} for s, r in WUG_ROWS])
    _jsonl(d / "comps" / "comps_base.jsonl",
           [{"acceptable_concept": "robin", "unacceptable_concept": "stone", "prefix_acceptable": "A robin",
             "prefix_unacceptable": "A stone", "property_phrase": "can fly."},
            {"acceptable_concept": "fish", "unacceptable_concept": "cat", "prefix_acceptable": "A fish",
             "prefix_unacceptable": "A cat", "property_phrase": "lives in water."}])
    _jsonl(d / "comps" / "comps_wugs.jsonl",
           [{"acceptable_concept": "dax", "unacceptable_concept": "wif", "prefix_acceptable": "A dax is a bird. A dax",
             "prefix_unacceptable": "A wif is a stone. A wif", "property_phrase": "can fly."}])
    _reading_csv(d / "reading" / "reading_data.csv", n_sent=12)
    return d


VOCAB = ["the", "small", "bird", "flies", "over", "tall", "tree", "today", "a", "cat", "sat", "on", "mat",
         "dog", "ran", "park", "she", "reads", "book", "about", "birds", "we", "eat", "bread"]


def _reading_csv(path: Path, n_sent: int) -> None:
    rng = np.random.default_rng(0)
    rows = []
    for s in range(n_sent):
        words = ["The", *rng.choice(VOCAB, size=4 + s % 6)]
        sentence = " ".join(words) + "."
        for k in range(1, len(words)):
            rows.append({"item": " ".join(words[:k]), "word": words[k], "word2": words[k].upper(), "sentence": sentence,
                         "context_length": k, "sent_id": s, "item_id": len(rows), "list": 1,
                         "Subtlex_log10": float(rng.uniform(5, 15)), "length": len(words[k]) + int(rng.integers(0, 3)),
                         **{c: float(rng.uniform(100, 400)) for c in ("RTfirstfix", "RTfirstpass", "RTgopast",
                                                                        "RTrightbound", "self_paced_reading_time")},
                         **{c: float(rng.normal()) for c in ("ELAN", "LAN", "N400", "P600", "EPNP", "PNP")},
                         "prev_word": words[k - 1] if k > 1 else None, "prev_item": " ".join(words[:k - 1]) if k > 1 else None,
                         "prev_length": len(words[k - 1]) if k > 1 else -1})
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path)


@pytest.fixture(scope="module")
def model(tiny_tok):
    torch.manual_seed(1)
    return LlamaForCausalLM(tiny_llama_config(len(tiny_tok), max_position_embeddings=512)).eval()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, model, tiny_tok) -> Path:
    d = tmp_path_factory.mktemp("models") / "tiny-llama"
    model.save_pretrained(d)
    tiny_tok.save_pretrained(d)
    return d


def _fake_scores(values: list[list[float]]) -> list[list[Score]]:
    return [[Score(v, (5,), (v,)) for v in vs] for vs in values]


# ----------------------------------------------------------------------------------------------- loaders

def test_task_table_is_data():
    for name in TASK_NAMES:
        spec = get_task(name).spec
        assert spec.name == name and set(spec.folders) == {"fast", "full"}
        assert spec.fields and spec.scored_span and spec.metric and spec.aggregation
    assert get_task("blimp").spec.folder("full") == "blimp_filtered"
    assert get_task("ewok").spec.zip_name == "ewok.zip"
    with pytest.raises(ValueError, match="unknown task"):
        get_task("glue")
    assert parse_tasks("all") == ["blimp", "supplement", "ewok", "entity_tracking", "wug_adj", "wug_past", "reading",
                                  "comps"]                                     # the 2025 rules' tasks
    assert parse_tasks("all", "2026") == ["blimp", "supplement", "ewok", "entity_tracking", "reading", "comps",
                                          "global_piqa_parallel", "global_piqa_nonparallel"]
    assert set(TASK_NAMES) == set(parse_tasks("all")) | set(parse_tasks("all", "2026"))
    assert parse_tasks("blimp, ewok") == ["blimp", "ewok"]
    with pytest.raises(ValueError, match="unknown task"):
        parse_tasks("blimp,nope")


def test_loaders_on_fixtures(data_dir):
    blimp = get_task("blimp").load(data_dir, "fast")
    assert [it.uid for it in blimp] == ["agreement_one"] * 3 + ["agreement_two"] * 3   # discovered from files
    assert blimp[0].contexts == ("", "") and blimp[0].continuations[0] == "The cat sat on the mat."
    assert blimp[0].source == "blimp_fast/agreement_one.jsonl:1" and blimp[0].meta["field"] == "syntax"
    sup = get_task("supplement").load(data_dir, "fast")
    assert sup[0].uid == "turn_taking" and "\n" in sup[0].continuations[0]
    ewok = get_task("ewok").load(data_dir, "fast")
    assert {it.uid for it in ewok} == {"spatial-relations", "social-properties"}
    assert ewok[0].contexts == ("The ball is under the bed.",) * 2
    assert ewok[0].continuations == (" The ball is low.", " The ball is high.")
    assert ewok[0].source.startswith("ewok.zip:ewok_fast/")
    et = get_task("entity_tracking").load(data_dir, "fast")
    assert [it.uid for it in et] == ["regular_0_ops", "regular_1_ops"] * 2 and len(et[0].continuations) == 5
    assert et[0].contexts[0].endswith("contains ")
    comps = get_task("comps").load(data_dir, "full")
    assert [it.uid for it in comps] == ["base", "base", "wugs"]
    assert comps[0].contexts == ("A robin", "A stone") and comps[0].continuations == (" can fly.", " can fly.")
    assert comps[0].completions == ("can fly.", "can fly.")
    reading = get_task("reading").load(data_dir, "fast")
    table = pd.read_csv(data_dir / "reading" / "reading_data.csv")
    w = table["word"]
    assert reading[0].contexts == ("The",) and reading[0].continuations == (" " + w[0],)
    assert reading[1].contexts == ("The " + w[0], "The") and reading[1].continuations == (" " + w[1], " " + w[0])
    assert get_task("blimp").load(data_dir, "fast", limit=1) == [blimp[0], blimp[3]]


def test_wug_past_tense_loader_on_handmade_fixture(data_dir):
    items = load_wug(WUG_PAST, data_dir, "full")
    assert len(items) == 3 and items[0].uid == "wug_past"          # the pipeline's UID is the task's name
    assert items[0].continuations == tuple(WUG_ROWS[0][0].split("\t")) and items[0].contexts == ("", "")
    assert items[1].meta["ratio"] == 0.4


# ----------------------------------------------------------------------------------------------- errors

@pytest.mark.parametrize("line3, message", [
    ({"sentence_good": "A cat sat.", "UID": "adjunct_island", "field": "f", "linguistics_term": "t"},
     "blimp_fast/adjunct_island.jsonl:3: missing field 'sentence_bad'"),
    ("{not json", "blimp_fast/adjunct_island.jsonl:3: invalid JSON"),
    ({"sentence_good": "", "sentence_bad": "x", "UID": "u", "field": "f", "linguistics_term": "t"},
     "blimp_fast/adjunct_island.jsonl:3: field 'sentence_good' must be a non-empty string"),
])
def test_malformed_file_names_file_and_line(tmp_path, line3, message):
    rows = [json.dumps(_blimp_row("A cat sat.", "A sat cat.", "adjunct_island"))] * 2
    rows.append(line3 if isinstance(line3, str) else json.dumps(line3))
    (tmp_path / "blimp_fast").mkdir()
    (tmp_path / "blimp_fast" / "adjunct_island.jsonl").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError) as e:
        get_task("blimp").load(tmp_path, "fast")
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_missing_data_is_a_clear_error(tmp_path, data_dir):
    with pytest.raises(MissingData, match=r"^blimp_filtered/: folder not found under "):
        get_task("blimp").load(tmp_path, "full")
    with pytest.raises(MissingData, match=r"^ewok_filtered/: folder not found .*ewok.zip"):
        get_task("ewok").load(tmp_path, "full")
    with pytest.raises(MissingData, match=r"^reading/reading_data.csv: file not found"):
        get_task("reading").load(tmp_path, "fast")
    with pytest.raises(MissingData, match=r"^ewok.zip:ewok_filtered/: no .jsonl files"):
        get_task("ewok").load(data_dir, "full")


def test_malformed_wug_reading_entity_tracking(data_dir):
    _jsonl(data_dir / "wug_past_tense" / "wug_past_tense.jsonl", [{"sentences": "only one sentence", "ratio": 0.5}])
    with pytest.raises(DataError, match=r"^wug_past_tense/wug_past_tense.jsonl:1: field 'sentences' must hold 2"):
        get_task("wug_past").load(data_dir)
    _jsonl(data_dir / "wug_adj_nominalization" / "wug_adj_nominalization.jsonl",
           [{"sentences": "a b\tc d", "ratio": 0.5}, {"sentences": "a b\tc d", "ratio": "high"}])
    with pytest.raises(DataError, match=r"^wug_adj_nominalization/wug_adj_nominalization.jsonl:2: field 'ratio'"):
        get_task("wug_adj").load(data_dir)
    _jsonl(data_dir / "entity_tracking_fast" / "regular.jsonl", [{"input_prefix": "Box 0 contains ", "options": "x",
                                                                  "numops": 0}])
    with pytest.raises(DataError, match=r"^entity_tracking_fast/regular.jsonl:1: field 'options'"):
        get_task("entity_tracking").load(data_dir)
    csv = data_dir / "reading" / "reading_data.csv"
    pd.read_csv(csv, index_col=0).drop(columns=["word"]).to_csv(csv)
    with pytest.raises(DataError, match=r"^reading/reading_data.csv: missing column 'word'"):
        get_task("reading").load(data_dir)


# ----------------------------------------------------------------------------------------------- metrics

def test_wug_rho_known_answers():
    items = [Item("wug_past_tense", f"f:{i}", ("", ""), ("a", "b"), ("a", "b"), meta={"ratio": r})
             for i, r in enumerate([0.1, 0.5, 0.3, 0.9])]
    # Log-prob gap grows with the human ratio: softmax(first) is monotone in it, rho = 1.
    monotone = _fake_scores([[-10 + 5 * r, -10.0] for r in (0.1, 0.5, 0.3, 0.9)])
    res = evaluate_wug(WUG_PAST, "fast", items, monotone)
    assert res.score == pytest.approx(1.0) and res.metric == "spearman"
    assert evaluate_wug(WUG_PAST, "fast", items, _fake_scores([[-10 - 5 * r, -10.0] for r in (0.1, 0.5, 0.3, 0.9)])
                        ).score == pytest.approx(-1.0)
    assert model_ratio([math.log(0.25), math.log(0.75)]) == pytest.approx(0.25)
    preds = res.predictions["wug_past_tense"]["predictions"]
    assert preds[0]["id"] == "wug_past_tense_0" and preds[0]["pred"] == "a" and 0.5 < preds[0]["prob"] < 1


def _reading_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"Subtlex_log10": rng.uniform(5, 15, n), "length": rng.integers(1, 12, n).astype(float),
                       "context_length": rng.integers(1, 15, n).astype(float),
                       "prev_length": rng.integers(1, 12, n).astype(float),
                       "pred": rng.gamma(2.0, 3.0, n), "prev_pred": rng.gamma(2.0, 3.0, n)})
    df.loc[:9, ["prev_pred"]] = np.nan    # sentence-initial words: no spill-over, dropped in that model only
    base = 200 + 3 * df.Subtlex_log10 - 4 * df.length + 0.5 * df.context_length
    noise = rng.normal(0, 20, n)
    for dv in ("RTfirstfix", "RTfirstpass", "RTgopast", "RTrightbound"):
        df[dv] = base + noise
    df["self_paced_reading_time"] = base + 2 * df.prev_length + noise
    return df


def test_reading_delta_r2_known_answers():
    df = _reading_frame()
    # Surprisal that is exactly the residual: the full model explains everything, score = 100.
    perfect = df.copy()
    perfect["pred"] = perfect["RTfirstfix"] - (200 + 3 * df.Subtlex_log10 - 4 * df.length + 0.5 * df.context_length)
    perfect["self_paced_reading_time"] = perfect["RTfirstfix"] + 2 * df.prev_length
    s = reading_scores(perfect)["score"]
    assert s["eye_tracking"] == pytest.approx(100.0, abs=1e-6)
    assert s["self_paced_reading"] == pytest.approx(100.0, abs=1e-6)
    # Independent surprisal: about 0 (one regressor of noise on 600 rows).
    s = reading_scores(df)["score"]
    assert 0 <= s["eye_tracking"] < 1.5 and 0 <= s["self_paced_reading"] < 1.5
    # A half-informative one: R2 gain of the residual share it explains.
    half = df.copy()
    resid = df["RTfirstfix"] - (200 + 3 * df.Subtlex_log10 - 4 * df.length + 0.5 * df.context_length)
    half["pred"] = resid + np.random.default_rng(5).normal(0, resid.std(), len(df))
    r = relative_delta_r2(half, "RTfirstfix", ("Subtlex_log10", "length", "context_length"))
    assert 40 < r["score"] < 60 and r["n"] == len(df)
    assert relative_delta_r2(half, "self_paced_reading_time",
                             ("Subtlex_log10", "length", "context_length", "prev_length", "prev_pred"))["n"] == len(df) - 10


def test_entity_tracking_aggregation_within_then_across_splits():
    items = [Item(u, f"f:{i}", ("p",) * 2, ("a", "b"), ("a", "b"), meta={"split": u.rsplit("_", 2)[0],
                                                                         "numops": int(u.rsplit("_", 2)[1])})
             for i, u in enumerate(["regular_0_ops", "regular_1_ops", "regular_1_ops", "ambiref_0_ops"])]
    right, wrong = [-1.0, -2.0], [-2.0, -1.0]
    res = et_evaluate("full", items, _fake_scores([right, wrong, wrong, right]))
    assert res.sub_scores["UID"] == {"ambiref_0_ops": 100.0, "regular_0_ops": 100.0, "regular_1_ops": 0.0}
    assert res.sub_scores["split"] == {"regular": 50.0, "ambiref": 100.0}
    assert res.sub_scores["numops"] == {"0": 100.0, "1": 0.0}
    assert res.score == 75.0    # not the micro average (50) nor the UID macro average (66.7)


def test_predictions_format():
    items = [Item("u1", "f:1", ("", ""), ("good", "bad"), ("good", "bad")),
             Item("u2", "f:2", ("", ""), ("g2", "b2"), ("g2", "b2")),
             Item("u1", "f:3", ("", ""), ("g3", "b3"), ("g3", "b3"))]
    assert ranking_predictions(items, [0, 1, 1]) == {
        "u1": {"predictions": [{"id": "u1_0", "pred": "good"}, {"id": "u1_1", "pred": "b3"}]},
        "u2": {"predictions": [{"id": "u2_0", "pred": "b2"}]}}


# Official BabyLM 2025 sizes, from evaluation-pipeline-2025 `collate_preds.py` and shared/data/README.md,
# written out here rather than read from OFFICIAL_SIZES.
SUPPLEMENT_FULL = {"hypernym": 842, "qa_congruence_easy": 64, "qa_congruence_tricky": 165,
                   "subject_aux_inversion": 3867, "turn_taking": 280}
EWOK_DOMAIN_NAMES = {"agent-properties", "material-dynamics", "material-properties", "physical-dynamics",
                     "physical-interactions", "physical-relations", "quantitative-properties", "social-interactions",
                     "social-properties", "social-relations", "spatial-relations"}
ET_FULL = {f"{split}_{k}_ops": n for split, ns in (("regular", (606, 607, 606, 606, 568, 159)),
                                                   ("ambiref", (607, 607, 604, 604, 615, 187)),
                                                   ("move_contents", (605, 606, 605, 606, 529, 156)))
           for k, n in enumerate(ns)}


def test_size_check_table():
    blimp_full, blimp_fast = OFFICIAL_SIZES["blimp"]["full"], OFFICIAL_SIZES["blimp"]["fast"]
    assert len(blimp_full) == 67 and sum(blimp_full.values()) == 59_875
    assert (blimp_full["superlative_quantifiers_2"], blimp_full["complex_np_island"],
            blimp_full["determiner_noun_agreement_irregular_1"]) == (986, 846, 681)
    assert blimp_fast == dict.fromkeys(blimp_full, 200)
    assert OFFICIAL_SIZES["supplement"] == {"full": SUPPLEMENT_FULL, "fast": dict.fromkeys(SUPPLEMENT_FULL, 50)}
    ewok_full = OFFICIAL_SIZES["ewok"]["full"]
    assert set(ewok_full) == EWOK_DOMAIN_NAMES and sum(ewok_full.values()) == 7_618
    assert (ewok_full["agent-properties"], ewok_full["physical-dynamics"]) == (2210, 120)
    assert OFFICIAL_SIZES["ewok"]["fast"] == dict.fromkeys(EWOK_DOMAIN_NAMES, 100)
    assert OFFICIAL_SIZES["entity_tracking"]["full"] == ET_FULL and sum(ET_FULL.values()) == 9_483
    et_fast = OFFICIAL_SIZES["entity_tracking"]["fast"]       # the regular split only
    assert et_fast == {k: n for k, n in ET_FULL.items() if k.startswith("regular_")} and sum(et_fast.values()) == 3_152
    for variant in ("fast", "full"):
        assert OFFICIAL_SIZES["reading"][variant] == {"reading": 1726}
        assert OFFICIAL_SIZES["wug_adj"][variant] == {"wug_adj": 200}     # the pipeline's UID: the task's name
        assert OFFICIAL_SIZES["wug_past"][variant] == {"wug_past": 50}
        assert OFFICIAL_SIZES["comps"][variant] == {"base": 49_340, "wugs": 13_896, "wugs_dist_before": 13_896,
                                                    "wugs_dist_in_between": 13_896}
    # check_sizes lower-cases the counted UIDs, so the table's own keys must all be lower case
    assert all(uid == uid.lower() for t in OFFICIAL_SIZES.values() for v in t.values() for uid in v)

    assert check_sizes("supplement", "full", SUPPLEMENT_FULL) == []
    assert check_sizes("supplement", "full", {**SUPPLEMENT_FULL, "hypernym": 841}) == \
        ["hypernym: 841 items, official 842"]
    assert check_sizes("supplement", "full", {k: n for k, n in SUPPLEMENT_FULL.items() if k != "turn_taking"}) == \
        ["turn_taking: 0 items, official 280"]
    assert check_sizes("supplement", "full", {**SUPPLEMENT_FULL, "hypernyms": 842}) == \
        ["hypernyms: not an official subtask"]
    # all at once: table order first, then the unknown UIDs in the order given; UIDs compare case-insensitively
    assert check_sizes("supplement", "fast", {"Hypernym": 50, "QA_congruence_easy": 49, "subject_aux_inversion": 50,
                                              "turn_taking": 50, "extra": 1}) == [
        "qa_congruence_easy: 49 items, official 50", "qa_congruence_tricky: 0 items, official 50",
        "extra: not an official subtask"]
    blimp = {uid: 200 for uid in blimp_full if uid != "complex_np_island"}
    assert check_sizes("blimp", "fast", {**blimp, "complex_NP_island": 200}) == []   # the real file name
    assert check_sizes("blimp", "fast", {**blimp, "complex_NP_island": 199}) == \
        ["complex_np_island: 199 items, official 200"]
    assert check_sizes("blimp", "fast", {"adjunct_island": 200}) == \
        [f"{uid}: 0 items, official 200" for uid in blimp_full if uid != "adjunct_island"]
    regular = {k: n for k, n in ET_FULL.items() if k.startswith("regular_")}
    assert check_sizes("entity_tracking", "full", ET_FULL) == [] == check_sizes("entity_tracking", "fast", regular)
    assert check_sizes("entity_tracking", "fast", {**regular, "ambiref_0_ops": 607}) == \
        ["ambiref_0_ops: not an official subtask"]


# ----------------------------------------------------------------------------------------------- runner

def test_run_all_tasks_on_fixtures_writes_pipeline_layout(model, tiny_tok, data_dir, tmp_path):
    out = tmp_path / "results"
    summary = run_zero_shot(tmp_path / "tiny-llama", data_dir, "all", "fast", out, model=model, tokenizer=tiny_tok,
                            batch_size=4, progress=False)
    base = out / "tiny-llama" / "main" / "zero_shot" / "causal"
    for sub in ("blimp/blimp_fast", "blimp/supplement_fast", "ewok/ewok_fast", "entity_tracking/entity_tracking_fast",
                "wug_adj/wug_adj_nominalization", "wug_past/wug_past_tense", "comps/comps", "reading"):
        for f in ("predictions.json", "results.json", "items.parquet"):
            assert (base / sub / f).is_file(), (sub, f)
        report = "report.txt" if sub == "reading" else "best_temperature_report.txt"
        assert (base / sub / report).read_text().split("\n")[0] == (
            "EYE TRACKING SCORE: " + f"{summary['tasks']['reading']['score']:.2f}" if sub == "reading"
            else "TEMPERATURE: 1.00")
    assert (base / "reading" / "predictions_spaced.json").is_file() and (base / "reading" / "report_spaced.txt").is_file()
    on_disk = json.loads((base / "summary.json").read_text())
    rules_2025 = {"blimp", "supplement", "ewok", "entity_tracking", "wug_adj", "wug_past", "reading", "comps"}
    assert set(on_disk["tasks"]) == rules_2025 | {"reading_spaced"} and on_disk["provenance"]["git"]
    assert on_disk["model"] == str(tmp_path / "tiny-llama")
    assert summary["tasks"]["blimp"]["n"] == 6 and summary["tasks"]["blimp"]["size_check"] != []
    preds = json.loads((base / "blimp/blimp_fast/predictions.json").read_text())
    assert [p["id"] for p in preds["agreement_one"]["predictions"]] == ["agreement_one_0", "agreement_one_1",
                                                                        "agreement_one_2"]
    reading = json.loads((base / "reading/predictions.json").read_text())["reading"]["predictions"]
    assert reading[0]["id"] == 0 and math.isnan(reading[0]["prev_pred"]) and reading[1]["prev_pred"] > 0
    assert math.isfinite(summary["tasks"]["reading"]["score"])
    items = pd.read_parquet(base / "ewok/ewok_fast/items.parquet")
    assert len(items) == 2 and {"uid", "source", "logprobs", "token_logprobs", "correct"} <= set(items.columns)
    assert sum(items["token_logprobs"][0][0]) == pytest.approx(items["logprobs"][0][0], abs=1e-9)
    # The ranking metrics equal accuracy recomputed from the per-item log-probs.
    acc = 100 * np.mean([lp[0] >= max(lp) for lp in items["logprobs"]])
    assert np.mean(list(summary["tasks"]["ewok"]["sub_scores"]["UID"].values())) == pytest.approx(acc)
    # Running one task again merges into the summary.
    run_zero_shot(tmp_path / "tiny-llama", data_dir, "blimp", "fast", out, model=model, tokenizer=tiny_tok,
                  progress=False)
    assert set(json.loads((base / "summary.json").read_text())["tasks"]) == rules_2025 | {"reading_spaced"}
    # ... but never mixes variants.
    run_zero_shot(tmp_path / "tiny-llama", data_dir, "comps", "full", out, model=model, tokenizer=tiny_tok,
                  progress=False)
    on_disk = json.loads((base / "summary.json").read_text())
    assert on_disk["variant"] == "full" and set(on_disk["tasks"]) == {"comps"}


def test_shared_context_does_not_change_task_results(model, tiny_tok, data_dir):
    a = run_task(model, tiny_tok, "entity_tracking", data_dir, share_context=True, progress=False)
    b = run_task(model, tiny_tok, "entity_tracking", data_dir, share_context=False, batch_size=3, progress=False)
    for ra, rb in zip(a.records, b.records):
        assert np.allclose(ra["logprobs"], rb["logprobs"], atol=1e-5, rtol=0)


def test_cli_zero_shot(model_dir, data_dir, tmp_path, capsys):
    out = tmp_path / "cli"
    assert eval_main(["zero-shot", "--model", str(model_dir), "--data", str(data_dir), "--tasks", "blimp,wug_past",
                      "--out", str(out), "--batch-size", "2", "--device", "cpu", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "blimp" in printed and "wug_past" in printed
    assert (out / "tiny-llama/main/zero_shot/causal/wug_past/wug_past_tense/predictions.json").is_file()
    assert main(["eval", "zero-shot", "--model", str(model_dir), "--data", str(data_dir), "--tasks", "ewok",
                 "--out", str(out), "--revision", "step1", "--quiet"]) == 0
    assert (out / "tiny-llama/step1/zero_shot/causal/ewok/ewok_fast/predictions.json").is_file()
    (data_dir / "blimp_fast" / "agreement_two.jsonl").write_text('{"sentence_good": "A cat."}\n')
    assert eval_main(["zero-shot", "--model", str(model_dir), "--data", str(data_dir), "--tasks", "blimp",
                      "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == "classit-eval: error: blimp_fast/agreement_two.jsonl:1: missing field 'sentence_bad'"
    assert eval_main(["zero-shot", "--model", str(model_dir), "--data", str(tmp_path / "none"), "--tasks", "comps",
                      "--out", str(out), "--skip-missing", "--quiet"]) == 0
    assert "comps            skipped: comps/: folder not found" in capsys.readouterr().out


# ----------------------------------------------------------------------------------------------- real data

README_COUNTS = {  # shared/data/README.md
    ("blimp", "fast"): (67, 13400), ("blimp", "full"): (67, 59875), ("supplement", "fast"): (5, 250),
    ("supplement", "full"): (5, 5218), ("ewok", "fast"): (11, 1100), ("ewok", "full"): (11, 7618),
    ("entity_tracking", "fast"): (6, 3152), ("entity_tracking", "full"): (18, 9483),
    ("wug_adj", "fast"): (1, 200), ("reading", "fast"): (1, 1726),
}


@pytest.mark.realdata
@pytest.mark.parametrize("task, variant", sorted(README_COUNTS))
def test_real_counts_match_readme_and_official_sizes(data_root, task, variant):
    items = get_task(task).load(data_root, variant)
    counts = Counter(it.uid for it in items)
    assert (len(counts), len(items)) == README_COUNTS[(task, variant)]
    assert check_sizes(task, variant, counts) == []
    if task == "blimp":
        files = {p.stem for p in (data_root / get_task(task).spec.folder(variant)).glob("*.jsonl")}
        assert set(counts) == files                              # UID == file name
        # A few pairs have identical sentences: exact ties, which the official rule counts as correct.
        same = [it.source for it in items if it.continuations[0] == it.continuations[1]]
        assert len(same) == {"fast": 3, "full": 7}[variant]
        assert {s.split("/")[1].split(".")[0] for s in same} == {"passive_1", "principle_A_case_2"}
    if task == "entity_tracking":
        assert all(it.contexts[0].endswith(" ") and len(it.continuations) == 5 for it in items)
        if variant == "full":
            per = Counter((it.meta["split"], it.meta["numops"]) for it in items)
            assert [per[("ambiref", k)] for k in range(6)] == [607, 607, 604, 604, 615, 187]
    if task == "ewok":
        assert all(it.continuations[0] != it.continuations[1] and it.continuations[0].startswith(" ") for it in items)
    if task == "wug_adj":
        assert all(len(it.continuations) == 2 and 0 <= it.meta["ratio"] <= 1 for it in items)
    if task == "reading":
        table = pd.read_csv(data_root / "reading" / "reading_data.csv", keep_default_na=False, na_values=[""])
        assert all(s.startswith(it.contexts[0] + it.continuations[0]) for it, s in zip(items, table["sentence"]))
        assert sum(it.meta["has_prev"] for it in items) == 1726 - 205


@pytest.mark.realdata
def test_real_tasks_run_on_subsets(data_root, model, tiny_tok, tmp_path):
    summary = run_zero_shot(tmp_path / "tiny-llama", data_root, "blimp,supplement,ewok,entity_tracking,wug_adj",
                            "fast", tmp_path / "res", model=model, tokenizer=tiny_tok, limit=2, batch_size=16,
                            progress=False)
    t = summary["tasks"]
    assert t["blimp"]["n"] == 134 and len(t["blimp"]["sub_scores"]["UID"]) == 67
    assert t["supplement"]["n"] == 10 and t["ewok"]["n"] == 22 and t["entity_tracking"]["n"] == 12
    assert all(0 <= t[k]["score"] <= 100 for k in ("blimp", "supplement", "ewok", "entity_tracking"))
    assert -1 <= t["wug_adj"]["score"] <= 1 and t["blimp"]["size_check"] == "skipped (limit)"
    base = tmp_path / "res/tiny-llama/main/zero_shot/causal"
    preds = json.loads((base / "entity_tracking/entity_tracking_fast/predictions.json").read_text())
    assert sorted(preds) == [f"regular_{k}_ops" for k in range(6)]
    # The identical BLiMP pairs tie exactly and count as correct.
    ties = [it for it in get_task("blimp").load(data_root, "fast") if it.continuations[0] == it.continuations[1]]
    res = score_items(model, tiny_tok, "blimp", ties, progress=False)
    assert all(r["logprobs"][0] == r["logprobs"][1] and r["correct"] for r in res.records) and res.score == 100.0
    # Reading on the whole table (1726 words + 1521 spill-over words): finite scores.
    res = run_task(model, tiny_tok, "reading", data_root, batch_size=256, progress=False)
    assert res.n == 1726 and all(math.isfinite(v) for v in res.sub_scores["score"].values())
