"""`classit_utils.collate`: the leaderboard file, on made-up results folders of the official shapes and sizes
(built in tmp_path) and made-up fast-eval gold (generated strings and numbers, no real sentences)."""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classit_utils import collate as C
from classit_utils.errors import DataError
from classit_utils.glue import GLUE_TASKS
from classit_utils.tasks import OFFICIAL_SIZES as S

MODEL = "m"
TRACK = "strict-small"                      # 19 checkpoints: the fixture stays small
REVS = C.fast_revisions(TRACK)
# the pipeline keys predictions by the data's UID as written (one BLiMP UID has capitals)
CASE = {"complex_np_island": "complex_NP_island"}
K2025 = ["blimp", "blimp_supplement", "ewok", "entity_tracking", "wug_adj", "wug_past", "comps", "reading", "aoa",
         "glue"]
K2026 = ["blimp", "blimp_supplement", "ewok", "entity_tracking_filtered", "comps", "global_piqa_parallel",
         "global_piqa_nonparallel", "reading", "aoa_surprisals", "aoa", "glue"]
F2025 = ["blimp", "blimp_supplement", "ewok", "entity_tracking", "wug_adj", "wug_past", "reading"]
F2026 = ["blimp", "blimp_supplement", "ewok", "entity_tracking_filtered", "global_piqa_parallel",
         "global_piqa_nonparallel", "reading"]
PIQA = {"global_piqa_parallel": 103, "global_piqa_nonparallel": 100}
EYE = ["RTfirstfix", "RTfirstpass", "RTgopast", "RTrightbound"]


def _u(uid: str) -> str:
    return CASE.get(uid, uid)


def _write(path: Path, obj) -> None:
    """As the project writes predictions (json.dumps + newline); replaces a hard link instead of writing
    through it, so a copied fixture never changes its source."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    path.write_text(json.dumps(obj) + "\n")


def _jsonl(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def ranking(sizes, pred=lambda uid, i: f"{uid} sentence {i}.", extra=None) -> dict:
    """`{UID: {"predictions": [{"id": "<UID>_<n>", "pred": ...}, ...]}}`, the official shape."""
    return {_u(k): {"predictions": [{"id": f"{_u(k)}_{i}", "pred": pred(_u(k), i), **(extra(i) if extra else {})}
                                    for i in range(n)]} for k, n in sizes.items()}


def hit(i: int) -> bool:
    """The fixture's rule for which fast predictions are right: 3 of every 4."""
    return i % 4 != 3


def expected_accuracy(n: int) -> float:
    return sum(hit(i) for i in range(n)) / n


# ------------------------------------------------------------------------------------------------ gold
def _et_items(rules_sizes: tuple[int, ...], full_sizes: tuple[int, ...]):
    """Fast entity tracking gold: per numops the 2025 count of items, of which the 2025 - 2026 difference
    have a "nothing" option, spread through the file."""
    rows = []
    for k, (n25, n26) in enumerate(zip(full_sizes, rules_sizes)):
        n_nothing = n25 - n26
        step = max(1, n25 // n_nothing)
        nothing = set(list(range(0, n25, step))[:n_nothing])
        assert len(nothing) == n_nothing
        for j in range(n25):
            opts = [f"the box {k} {j}.", f"the cup {k} {j}.", "the hat.", "the key.", "the pen."]
            if j in nothing:
                opts[2 if j % 2 else 0] = "nothing."      # as the correct option too, sometimes
            rows.append({"sample_id": len(rows), "numops": k, "input_prefix": "Box 1 contains ", "options": opts,
                         "example_id": f"{k}_{j}"})
    return rows


def reading_table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    length = rng.integers(1, 10, n)
    ctx = rng.integers(0, 15, n)
    freq = rng.uniform(1, 5, n)
    df = pd.DataFrame({"item": [f"ctx {i}" for i in range(n)], "word": [f"w{i}" for i in range(n)],
                       "context_length": ctx, "Subtlex_log10": freq, "length": length, "prev_length": length[::-1]})
    for j, col in enumerate(EYE + ["self_paced_reading_time"]):
        v = 200 + 12 * length - 9 * freq + rng.normal(0, 30 + j, n)
        v[rng.random(n) < 0.1] = np.nan            # skipped words, as in the real table
        df[col] = v
    return df


def reading_preds(table: pd.DataFrame, seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    s = 0.02 * table["RTfirstpass"].fillna(250).to_numpy() + rng.normal(0, 1, len(table))
    prev = np.where(table["context_length"].to_numpy() == 0, np.nan, rng.uniform(0, 12, len(table)))
    return [{"id": i, "pred": float(a), "prev_pred": float(b)} for i, (a, b) in enumerate(zip(s, prev))]


def build_gold(root: Path) -> Path:
    """A fast-eval folder in the project's layout (plain ewok_fast/, no zip), full official sizes."""
    for folder, sizes in (("blimp_fast", S["blimp"]["fast"]), ("supplement_fast", S["supplement"]["fast"])):
        for uid, n in sizes.items():
            _jsonl(root / folder / f"{_u(uid)}.jsonl",
                   [{"sentence_good": f"good {_u(uid)} {i}.", "sentence_bad": f"bad {_u(uid)} {i}.", "UID": _u(uid)}
                    for i in range(n)])
    for dom, n in S["ewok"]["fast"].items():
        _jsonl(root / "ewok_fast" / f"{dom}.jsonl",
               [{"Domain": dom, "Context1": f"ctx {dom} {i}.", "Context2": "other.", "Target1": f"yes {i}.",
                 "Target2": f"no {i}.", "ContextType": "t", "ContextDiff": "d", "TargetDiff": "d"}
                for i in range(n)])
    def reg(d):
        return tuple(d[f"regular_{k}_ops"] for k in range(6))
    _jsonl(root / "entity_tracking_fast" / "regular.jsonl",
           _et_items(reg(S["entity_tracking_filtered"]["fast"]), reg(S["entity_tracking"]["fast"])))
    for name, n in (("wug_adj_nominalization", 200), ("wug_past_tense", 50)):
        _jsonl(root / name / f"{name}.jsonl",
               [{"sentences": f"make {i}ity\tmake {i}ness", "ratio": ((i * 37) % 11) / 10} for i in range(n)])
    for task, n in PIQA.items():
        _jsonl(root / task / "eng_latn.jsonl",
               [{"example_id": f"{task}_{i}", "prompt": f"goal {i}", "solution0": f"use a cup {i}",
                 "solution1": f"use a hat {i}", "label": i % 2} for i in range(n)])
    (root / "reading").mkdir(parents=True, exist_ok=True)
    reading_table(1726).to_csv(root / "reading" / "reading_data.csv")
    return root


# ------------------------------------------------------------------------------------------------ results
def fast_predictions(gold: Path, rules: str, perfect: bool) -> dict[str, dict]:
    """Fast predictions (relative path -> object) against `build_gold`'s gold: all right (`perfect`) or 3 of 4."""
    ok = (lambda i: True) if perfect else hit
    out = {}
    def good(u, i):
        return f" good {u} {i}. " if ok(i) else f"bad {u} {i}."   # the collation strips both sides
    out["blimp/blimp_fast"] = ranking(S["blimp"]["fast"], good)
    out["blimp/supplement_fast"] = ranking(S["supplement"]["fast"], good)
    def ewok(u, i):                 # 2025: " " + target (the project's); 2026: the full sentence
        target = f"yes {i}." if ok(i) else f"no {i}."
        return f" {target}" if rules == "2025" else f"ctx {u} {i}. {target}"
    out["ewok/ewok_fast"] = ranking(S["ewok"]["fast"], ewok)
    rows = [json.loads(x) for x in (gold / "entity_tracking_fast" / "regular.jsonl").read_text().splitlines()]
    by = C.group_entity_tracking(rows, rules)
    out["entity_tracking/entity_tracking_fast"] = {
        k: {"predictions": [{"id": f"{k}_{i}", "pred": r["options"][0] if ok(i) else r["options"][1]}
                            for i, r in enumerate(v)]} for k, v in by.items()}
    prob = (lambda i: {"prob": ((i * 37) % 11) / 10}) if perfect else (lambda i: {"prob": ((i * 13) % 7) / 7})
    for key, folder in (("wug_adj", "wug_adj_nominalization"), ("wug_past", "wug_past_tense")):
        out[f"{key}/{folder}"] = ranking(S[key]["fast"], lambda u, i: f"make {i}ity", prob)
    for task, n in PIQA.items():
        out[f"{task}/{task}"] = {f"{task}_{i}": {"predictions": [
            {"id": f"{task}_{i}_0", "pred": f" use a {'cup' if (i % 2 == 0) == ok(i) else 'hat'} {i}"}]}
            for i in range(n)}
    out["reading"] = {"reading": {"predictions": reading_preds(reading_table(1726), seed=2 if perfect else 1)}}
    return out


def build_results(results: Path, gold: Path, rules: str = "2025", fast: bool = True, track: str = TRACK) -> Path:
    """A complete results folder for MODEL under both rules' needs: every full file at `main` (2025 entity
    tracking sizes for `rules` 2025, 2026 ones otherwise), fine-tuning, AoA for the track's checkpoints, and
    with `fast` the fast files of every checkpoint (chck_1M all right, the others 3 of 4: hard links of one set)."""
    root = results / MODEL
    zs = root / "main" / "zero_shot" / "causal"
    _write(zs / "blimp" / "blimp_filtered" / "predictions.json", ranking(S["blimp"]["full"]))
    _write(zs / "blimp" / "supplement_filtered" / "predictions.json", ranking(S["supplement"]["full"]))
    _write(zs / "ewok" / "ewok_filtered" / "predictions.json", ranking(S["ewok"]["full"], lambda u, i: f" t{i}."))
    et = "entity_tracking" if rules == "2025" else "entity_tracking_filtered"
    _write(zs / "entity_tracking" / "entity_tracking" / "predictions.json",
           ranking(S[et]["full"], lambda u, i: "the cup."))
    _write(zs / "wug_adj" / "wug_adj_nominalization" / "predictions.json",
           ranking(S["wug_adj"]["full"], lambda u, i: f"make {i}ity", lambda i: {"prob": 0.5 + i / 1000}))
    _write(zs / "wug_past" / "wug_past_tense" / "predictions.json",
           ranking(S["wug_past"]["full"], lambda u, i: f"past {i}", lambda i: {"prob": i / 50}))
    _write(zs / "comps" / "comps" / "predictions.json", ranking(S["comps"]["full"], lambda u, i: "has fur."))
    _write(zs / "reading" / "predictions.json",
           {"reading": {"predictions": reading_preds(reading_table(1726), seed=3)}})    # holds NaN prev_pred
    for task, n in PIQA.items():
        _write(zs / task / task / "predictions.json",
               {f"{task}_{i}": {"predictions": [{"id": f"{task}_{i}_0", "pred": f" use a cup {i}"}]} for i in range(n)})
    _write(zs / "AoA_word" / "surprisal.json", {
        "metadata": {"model_name": MODEL, "use_bos_only": False, "total_steps": len(C.fast_revisions(track))},
        "results": [{"step": rev, "word_count": k, "target_word": f"w{j % 500}", "context_id": j % 16,
                     "context": "c", "surprisal": 1.5} for k, rev in enumerate(C.fast_revisions(track))
                    for j in range(C.AOA_SIZE)]})
    _write(zs / "AoA_word" / "aoa_score.json", {"curve_fitness": 0.25, "p_value": float("nan"), "n_words": 3})
    for t, g in GLUE_TASKS.items():
        _write(root / "main" / "finetune" / t / "predictions.json",
               {t: {"predictions": [{"id": f"{t}_{i}", "pred": i % g.num_labels} for i in range(g.valid_size)]}})
    if fast:
        sets = {}
        for perfect in (True, False):
            base = results / f".fast-{rules}-{perfect}"
            for rel, obj in fast_predictions(gold, rules, perfect).items():
                _write(base / rel / "predictions.json", obj)
            sets[perfect] = base
        for rev in C.fast_revisions(track):
            shutil.copytree(sets[rev == "chck_1M"], root / rev / "zero_shot" / "causal", copy_function=os.link)
    return results


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    """The OLS fits of the reading score: on a small shared CPU, OpenBLAS threads make each SVD ~100x slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


@pytest.fixture(scope="module")
def gold(tmp_path_factory) -> Path:
    return build_gold(tmp_path_factory.mktemp("gold"))


@pytest.fixture(scope="module")
def res2025(tmp_path_factory, gold) -> Path:
    return build_results(tmp_path_factory.mktemp("r2025"), gold, "2025")


@pytest.fixture(scope="module")
def res2026(tmp_path_factory, gold) -> Path:
    return build_results(tmp_path_factory.mktemp("r2026"), gold, "2026")


@pytest.fixture(scope="module")
def fast2025(res2025, gold) -> dict:
    return C.collate(res2025, MODEL, fast=True, track=TRACK, fast_eval_dir=gold)


@pytest.fixture(scope="module")
def fast2026(res2026, gold) -> dict:
    return C.collate(res2026, MODEL, rules="2026", fast=True, track=TRACK, fast_eval_dir=gold)


def copy_of(results: Path, tmp_path: Path) -> Path:
    """A hard-link copy of a fixture to break (files are replaced by `_write`, never written through)."""
    dst = tmp_path / "results"
    shutil.copytree(results, dst, copy_function=os.link)
    return dst


def refusal(results: Path, **kw) -> str:
    with pytest.raises(DataError) as e:
        C.collate(results, MODEL, track=TRACK, **kw)
    msg = str(e.value)
    assert "\n" not in msg
    with pytest.raises(DataError) as e2:                       # check_complete says the same
        C.check_complete(results, MODEL, track=TRACK, **{k: v for k, v in kw.items() if k != "fast_eval_dir"})
    assert str(e2.value) == msg
    return msg


def _load(results: Path, rel: str):
    return json.loads((results / MODEL / "main" / rel).read_text())


# ------------------------------------------------------------------------------------------------ full
def test_revision_lists():
    small = C.fast_revisions("strict-small")
    assert small[:2] == ["chck_1M", "chck_2M"] and len(small) == 19
    strict = C.fast_revisions("strict")
    assert len(strict) == 28 and strict[8:10] == ["chck_9M", "chck_10M"] and strict[17:19] == ["chck_90M", "chck_100M"]
    assert strict[-1] == "chck_1000M" and small[-1] == "chck_100M"
    with pytest.raises(ValueError):
        C.fast_revisions("multimodal")


def test_2025_keys_order_and_entries(res2025):
    obj = C.collate(res2025, MODEL, track=TRACK)
    assert list(obj) == K2025
    zs = "zero_shot/causal"
    assert obj["blimp"] == _load(res2025, f"{zs}/blimp/blimp_filtered/predictions.json")
    assert list(obj["blimp"])[:2] == list(_load(res2025, f"{zs}/blimp/blimp_filtered/predictions.json"))[:2]
    assert "complex_NP_island" in obj["blimp"]                    # key kept as written, checked lower-cased
    assert obj["entity_tracking"]["regular_0_ops"]["predictions"][0] == {"id": "regular_0_ops_0", "pred": "the cup."}
    assert obj["aoa"] == _load(res2025, f"{zs}/AoA_word/surprisal.json")
    assert any(math.isnan(p["prev_pred"]) for p in obj["reading"]["reading"]["predictions"])
    # GLUE: each file's {task: ...} merged in the official order (not the project's GLUE_TASK_NAMES order)
    assert list(obj["glue"]) == ["boolq", "mnli", "mrpc", "multirc", "qqp", "rte", "wsc"]
    for t in GLUE_TASKS:
        assert obj["glue"][t] == _load(res2025, f"finetune/{t}/predictions.json")[t]
    assert len(obj["glue"]["qqp"]["predictions"]) == 20215
    assert "fast_eval_results" not in obj


def test_2026_keys_order_and_entries(res2026):
    obj = C.collate(res2026, MODEL, rules="2026", track=TRACK)
    assert list(obj) == K2026
    assert "wug_adj" not in obj and "entity_tracking" not in obj
    assert sum(len(v["predictions"]) for v in obj["entity_tracking_filtered"].values()) == 6780
    assert len(obj["global_piqa_parallel"]) == 103 and len(obj["global_piqa_nonparallel"]) == 100
    zs = "zero_shot/causal/AoA_word"
    assert obj["aoa_surprisals"] == _load(res2026, f"{zs}/surprisal.json")
    assert obj["aoa"] == _load(res2026, f"{zs}/aoa_score.json")   # passed through unchecked, as the official
    assert list(obj["glue"]) == list(C.GLUE_ORDER)


def test_write_is_json_dump(fast2025, res2025, tmp_path):
    path = C.write_collated(fast2025, tmp_path / "out.json")
    with open(tmp_path / "ref.json", "w") as f:
        json.dump(fast2025, f)
    assert path.read_bytes() == (tmp_path / "ref.json").read_bytes()
    assert b"NaN" in path.read_bytes() and not path.read_bytes().endswith(b"\n")
    assert not list(tmp_path.glob(".*.tmp"))
    assert C.output_path(res2025, "some/dir/m") == res2025 / "m" / "all_full_preds_and_fast_scores_causal.json"


# ------------------------------------------------------------------------------------------------ fast
def test_fast_2025_scores(fast2025, gold):
    fr = fast2025["fast_eval_results"]
    assert list(fast2025) == K2025 + ["fast_eval_results"]
    assert list(fr) == F2025 and all(len(v) == len(REVS) for v in fr.values())
    first, later = {k: v[0] for k, v in fr.items()}, {k: v[5] for k, v in fr.items()}
    # chck_1M: all right; the others: 3 of every 4 (150/200 BLiMP, 38/50 supplement, 75/100 EWoK)
    assert set(first["blimp"].values()) == {1.0} and len(first["blimp"]) == 67
    assert later["blimp"]["adjunct_island"] == 0.75 and later["blimp"]["complex_NP_island"] == 0.75
    assert set(later["blimp_supplement"].values()) == {expected_accuracy(50)} == {0.76}
    assert set(later["ewok"].values()) == {0.75}                            # 2025: vs Target1
    assert later["entity_tracking"] == {f"regular_{k}_ops": expected_accuracy(n) for k, n in
                                        zip(range(6), (606, 607, 606, 606, 568, 159))}
    assert first["entity_tracking"]["regular_5_ops"] == 1.0
    (wug_adj,), (wug_past,) = S["wug_adj"]["fast"], S["wug_past"]["fast"]
    assert first["wug_adj"] == {wug_adj: pytest.approx(1.0)}                 # prob = ratio: rho 1
    from scipy.stats import spearmanr
    model = [((i * 13) % 7) / 7 for i in range(50)]
    human = [((i * 37) % 11) / 10 for i in range(50)]
    assert later["wug_past"] == {wug_past: float(spearmanr(model, human)[0])}
    assert list(later["reading"]) == ["spr", "rt"]
    assert later["reading"] == direct_reading(reading_table(1726), reading_preds(reading_table(1726), seed=1))
    assert fr["blimp"][1:] == [fr["blimp"][1]] * (len(REVS) - 1)


def test_fast_2026_scores(fast2026):
    fr = fast2026["fast_eval_results"]
    assert list(fast2026) == K2026 + ["fast_eval_results"]
    assert list(fr) == F2026
    later = {k: v[3] for k, v in fr.items()}
    assert set(later["ewok"].values()) == {0.75}                            # 2026: vs Context1 + " " + Target1
    # entity tracking: the gold without its "nothing" items, 517/409/405/425/388/94 = 2,238 items
    sizes = S["entity_tracking_filtered"]["fast"]
    assert list(sizes.values()) == [517, 409, 405, 425, 388, 94] and sum(sizes.values()) == 2238
    assert later["entity_tracking_filtered"] == {k: expected_accuracy(n) for k, n in sizes.items()}
    assert fr["entity_tracking_filtered"][0] == {k: 1.0 for k in sizes}
    assert later["global_piqa_parallel"] == {"global_piqa_parallel": expected_accuracy(103)}
    assert later["global_piqa_nonparallel"] == {"global_piqa_nonparallel": 0.75}
    assert fr["global_piqa_parallel"][0] == {"global_piqa_parallel": 1.0}


def direct_reading(table: pd.DataFrame, preds: list[dict]) -> dict:
    """The leaderboard's reading score computed straight with statsmodels, formulas written out."""
    import statsmodels.formula.api as smf
    d = table.copy()
    d["pred"] = [p["pred"] for p in preds]
    d["prev_pred"] = [p["prev_pred"] for p in preds]
    base = "Subtlex_log10 + length + context_length + Subtlex_log10:length + Subtlex_log10:context_length + " \
           "length:context_length"
    gains = []
    for dv in EYE:
        r0 = smf.ols(f"{dv} ~ {base}", d[[dv, "Subtlex_log10", "length", "context_length"]].dropna()).fit().rsquared
        r1 = smf.ols(f"{dv} ~ {base} + pred",
                     d[[dv, "Subtlex_log10", "length", "context_length", "pred"]].dropna()).fit().rsquared
        gains.append((float(r1) - float(r0)) / (1 - float(r0)))
    sp = ("Subtlex_log10 + length + context_length + prev_length + prev_pred + Subtlex_log10:length + "
          "Subtlex_log10:context_length + Subtlex_log10:prev_length + Subtlex_log10:prev_pred + "
          "length:context_length + length:prev_length + length:prev_pred + context_length:prev_length + "
          "context_length:prev_pred + prev_length:prev_pred")
    cols = ["self_paced_reading_time", "Subtlex_log10", "length", "context_length", "prev_length", "prev_pred"]
    r0 = float(smf.ols(f"self_paced_reading_time ~ {sp}", d[cols].dropna()).fit().rsquared)
    r1 = float(smf.ols(f"self_paced_reading_time ~ {sp} + pred", d[cols + ["pred"]].dropna()).fit().rsquared)
    return {"spr": (r1 - r0) / (1 - r0), "rt": sum(gains) / len(gains)}


def test_reading_small_table_matches_statsmodels():
    table = reading_table(60, seed=5)
    preds = reading_preds(table, seed=6)
    got = C.reading_fast_scores({"reading": {"predictions": preds}}, table)
    assert got == direct_reading(table, preds)
    assert -1 < got["rt"] < 1 and got["rt"] != 0            # a fraction, not x100
    with pytest.raises(DataError, match="59 predictions but reading/reading_data.csv has 60 rows"):
        C.reading_fast_scores({"reading": {"predictions": preds[:59]}}, table, "chck_1M/reading")


def test_target_accuracy_small():
    gold = {"u": [{"sentence_good": f"g{i}.", "Target1": f"t{i}", "Context1": f"c{i}"} for i in range(4)]}
    res = {"u": {"predictions": [{"id": "u_0", "pred": " g0. "}, {"id": "u_1", "pred": "g1."},
                                 {"id": "u_2", "pred": "bad"}, {"id": "u_3", "pred": "g3.\n"}]}}
    assert C.target_accuracy(res, gold, "blimp") == {"u": 0.75}
    ewok = {"u": {"predictions": [{"id": f"u_{i}", "pred": p} for i, p in
                                  enumerate([" t0", " t1", "c2 t2", "x"])]}}
    assert C.target_accuracy(ewok, gold, "ewok", "2025") == {"u": 0.5}
    assert C.target_accuracy(ewok, gold, "ewok", "2026") == {"u": 0.25}
    with pytest.raises(DataError, match="has 4 predictions but blimp_fast/u.jsonl has 3 items"):
        C.target_accuracy(res, {"u": gold["u"][:3]}, "blimp", label="chck_1M/blimp/blimp_fast", gold_name="blimp_fast")
    with pytest.raises(DataError, match="no gold file blimp_fast/v.jsonl"):
        C.target_accuracy({"v": res["u"]}, gold, "blimp", gold_name="blimp_fast")


def test_entity_tracking_2026_filter_small():
    rows = [{"numops": 0, "options": ["the a.", "the b."]}, {"numops": 0, "options": ["nothing.", "the b."]},
            {"numops": 0, "options": ["the c.", "the nothingness."]}, {"numops": 1, "options": ["the d.", "x"]}]
    assert {k: len(v) for k, v in C.group_entity_tracking(rows, "2025").items()} == {"regular_0_ops": 3,
                                                                                    "regular_1_ops": 1}
    g26 = C.group_entity_tracking(rows, "2026")        # substring test: "nothingness" goes too
    assert {k: len(v) for k, v in g26.items()} == {"regular_0_ops": 1, "regular_1_ops": 1}
    res = {"regular_0_ops": {"predictions": [{"id": "regular_0_ops_0", "pred": "the a."}]},
           "regular_1_ops": {"predictions": [{"id": "regular_1_ops_0", "pred": "x"}]}}
    assert C.entity_tracking_accuracy(res, g26) == {"regular_0_ops": 1.0, "regular_1_ops": 0.0}


def test_global_piqa_small():
    gold = [{"example_id": "a", "solution0": "cup", "solution1": "hat", "label": 1},
            {"example_id": "b", "solution0": "cup", "solution1": "hat", "label": 0}]
    res = {"a": {"predictions": [{"id": "a_0", "pred": " hat"}]}, "b": {"predictions": [{"id": "b_0", "pred": " hat"}]}}
    assert C.global_piqa_accuracy(res, gold, "global_piqa_parallel") == {"global_piqa_parallel": 0.5}
    with pytest.raises(DataError, match="no prediction for example b"):
        C.global_piqa_accuracy({"a": res["a"]}, gold, "global_piqa_parallel")


def test_2026_bare_ewok_targets_warn(tmp_path, caplog):
    (tmp_path / "ewok_fast").mkdir()
    _jsonl(tmp_path / "ewok_fast" / "d.jsonl", [{"Context1": "c.", "Target1": "t.", "Domain": "d"}])
    fg = C.FastGold(tmp_path, "2026")
    ds = next(d for d in C._datasets("2026", "causal", "chck_1M", "fast") if d.key == "ewok")
    with caplog.at_level(logging.WARNING, logger="classit_utils.collate"):
        assert fg.score(ds, {"d": {"predictions": [{"id": "d_0", "pred": " t."}]}}, "x") == {"d": 0.0}
    assert "full-sentence completions" in caplog.text


# ------------------------------------------------------------------------------------------------ refusals
def test_refuses_missing_file(res2025, tmp_path):
    r = copy_of(res2025, tmp_path)
    p = r / MODEL / "main" / "zero_shot" / "causal" / "blimp" / "blimp_filtered" / "predictions.json"
    p.unlink()
    assert refusal(r) == f"{p}: missing (run classit-eval zero-shot --variant full --tasks blimp)"
    (r / MODEL / "main" / "finetune" / "wsc" / "predictions.json").unlink()
    assert refusal(r).endswith("blimp_filtered/predictions.json: missing (run classit-eval zero-shot --variant "
                               "full --tasks blimp)")                      # the first in reading order


def test_refuses_short_dataset(res2025, tmp_path):
    r = copy_of(res2025, tmp_path)
    zs = r / MODEL / "main" / "zero_shot" / "causal"
    obj = ranking(S["blimp"]["full"])
    obj["adjunct_island"]["predictions"] = obj["adjunct_island"]["predictions"][:10]
    _write(zs / "blimp" / "blimp_filtered" / "predictions.json", obj)
    assert refusal(r) == "blimp/blimp_filtered: adjunct_island has 10 predictions, official 928"
    del obj["adjunct_island"]                                       # the official check would pass this
    _write(zs / "blimp" / "blimp_filtered" / "predictions.json", obj)
    assert refusal(r) == "blimp/blimp_filtered: adjunct_island is missing (official 928 predictions)"


def test_refuses_short_glue_and_aoa(res2025, tmp_path):
    r = copy_of(res2025, tmp_path)
    _write(r / MODEL / "main" / "finetune" / "rte" / "predictions.json",
           {"rte": {"predictions": [{"id": "rte_0", "pred": 0}]}})
    assert refusal(r) == "finetune/rte: rte has 1 predictions, official 139"
    aoa = r / MODEL / "main" / "zero_shot" / "causal" / "AoA_word" / "surprisal.json"
    obj = json.loads(aoa.read_text())
    obj["results"] = [x for x in obj["results"] if x["step"] != "chck_7M"]
    _write(aoa, obj)
    assert refusal(r) == "AoA_word/surprisal.json: predictions for 18 checkpoints, official 19 (chck_1M .. chck_100M)"


def test_refuses_missing_checkpoint_with_fast(res2025, gold, tmp_path):
    r = copy_of(res2025, tmp_path)
    C.check_complete(r, MODEL, track=TRACK)                       # without --fast the checkpoints are not read
    shutil.rmtree(r / MODEL / "chck_7M")
    p = r / MODEL / "chck_7M" / "zero_shot" / "causal" / "blimp" / "blimp_fast" / "predictions.json"
    assert refusal(r, fast=True, fast_eval_dir=gold) == (
        f"{p}: missing (run classit-eval zero-shot --variant fast --revision chck_7M --tasks blimp)")
    shutil.copytree(r / MODEL / "chck_8M", r / MODEL / "chck_7M", copy_function=os.link)
    _write(r / MODEL / "chck_7M" / "zero_shot" / "causal" / "reading" / "predictions.json",
           {"reading": {"predictions": [{"id": 0, "pred": 1.0, "prev_pred": 1.0}]}})
    assert refusal(r, fast=True, fast_eval_dir=gold) == "chck_7M/reading: reading has 1 predictions, official 1726"


def test_2026_refuses_2025_entity_tracking(res2025, gold, tmp_path):
    msg = refusal(res2025, rules="2026")
    assert msg.startswith("entity_tracking/entity_tracking: regular_0_ops has 606 predictions, official 517 "
                          "(the 2025 count;")
    assert msg.endswith("run classit-eval zero-shot --rules 2026 --variant full --tasks entity_tracking)")


def test_2026_global_piqa_size_check(res2026, tmp_path):
    r = copy_of(res2026, tmp_path)
    p = r / MODEL / "main" / "zero_shot" / "causal" / "global_piqa_parallel" / "global_piqa_parallel"
    p = p / "predictions.json"
    obj = json.loads(p.read_text())
    obj.pop("global_piqa_parallel_5")
    _write(p, obj)
    assert refusal(r, rules="2026") == "global_piqa_parallel/global_piqa_parallel: 102 examples, official 103"
    obj["global_piqa_parallel_5"] = {"predictions": [{"id": "x_0", "pred": " a"}, {"id": "x_1", "pred": " b"}]}
    _write(p, obj)
    assert refusal(r, rules="2026") == ("global_piqa_parallel/global_piqa_parallel: example global_piqa_parallel_5 "
                                        "has 2 predictions, official 1")
    (r / MODEL / "main" / "zero_shot" / "causal" / "AoA_word" / "aoa_score.json").unlink()
    assert refusal(r, rules="2026").endswith("AoA_word/aoa_score.json: missing (run classit-eval aoa)")


def test_refuses_without_fast_gold(res2025, tmp_path, monkeypatch):
    monkeypatch.delenv("CLASSIT_DATA", raising=False)
    with pytest.raises(DataError, match="no fast-eval data folder"):
        C.collate(res2025, MODEL, fast=True, track=TRACK)
    (tmp_path / "g").mkdir()
    with pytest.raises(DataError, match="blimp_fast/: folder not found"):
        C.collate(res2025, MODEL, fast=True, track=TRACK, fast_eval_dir=tmp_path / "g")


# ------------------------------------------------------------------------------------------------ CLI
def _cli(argv):
    p = argparse.ArgumentParser(prog="classit-eval collate")
    C.add_cli_arguments(p)
    return C.cli_main(p.parse_args(argv))


def test_cli(res2026, tmp_path, capsys):
    out = tmp_path / "sub.json"
    assert _cli(["--results", str(res2026), "--model", MODEL, "--out", str(out), "--rules", "2026",
                 "--track", TRACK]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(out) and len(lines) == 2
    assert lines[1].startswith("m: rules 2026, 11 entries (") and lines[1].endswith("glue 7 tasks)")
    assert list(json.loads(out.read_text())) == K2026
    assert _cli(["--results", str(tmp_path / "none"), "--model", MODEL]) == 2
    err = capsys.readouterr().err
    assert err.startswith("classit-eval: error: ") and err.count("\n") == 1 and "missing" in err


def test_summary_line(fast2026):
    line = C.summary_line(fast2026, "x/m", "2026", TRACK)
    assert line.startswith("m: rules 2026, 11 entries (")
    assert line.endswith(", fast scores of 7 tasks at 19 checkpoints (chck_1M .. chck_100M)")


# ------------------------------------------------------------------------------------------------ real data
@pytest.mark.realdata
def test_real_fast_gold(data_root):
    """The real fast gold folders read as the collation reads them; a perfect prediction set scores 1."""
    for rules in C.RULES:
        g = C.FastGold(data_root, rules)
        blimp = g.pairs("blimp_fast")
        assert len(blimp) == 67 and {len(v) for v in blimp.values()} == {200} and "complex_NP_island" in blimp
        assert {len(v) for v in g.pairs("supplement_fast").values()} == {50}
        ewok = g.pairs("ewok_fast")                                          # from inside ewok.zip
        assert sorted(ewok) == sorted(S["ewok"]["fast"]) and {len(v) for v in ewok.values()} == {100}
        et = g.entity_tracking()
        want = S["entity_tracking" if rules == "2025" else "entity_tracking_filtered"]["fast"]
        assert {k: len(v) for k, v in et.items()} == dict(want)
        assert len(g.reading()) == 1726
        assert len(g.records("wug_adj_nominalization", "wug_adj_nominalization.jsonl", ("ratio",))) == 200
        ewok_pred = ((lambda r: " " + r["Target1"]) if rules == "2025"
                     else (lambda r: r["Context1"] + " " + r["Target1"]))
        res = {k: {"predictions": [{"id": f"{k}_{i}", "pred": ewok_pred(r)} for i, r in enumerate(v)]}
               for k, v in ewok.items()}
        assert set(C.target_accuracy(res, ewok, "ewok", rules).values()) == {1.0}
        res = {k: {"predictions": [{"id": f"{k}_{i}", "pred": r["options"][0]} for i, r in enumerate(v)]}
               for k, v in et.items()}
        assert set(C.entity_tracking_accuracy(res, et).values()) == {1.0}
