"""Replicated runs in `classit_utils.stats`: the run-level analyses (golden numbers on hand-made inputs, the
one-run fallback, notes) and their calibration on simulated studies with planted run variance (the
simulators of benchmarks/calibration.py, which runs the same simulations at 1,000 datasets per setting)."""
from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from classit_utils import stats as S

_spec = importlib.util.spec_from_file_location(
    "calibration", Path(__file__).resolve().parent.parent / "benchmarks" / "calibration.py")
C = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(C)

CONS = C.contrasts()
ZS_CONDS = ("base", "conv", "merged", "seq_conv_qa", "seq_qa_conv")    # the compared conditions (no qa: faster)


def _ft_rows(values: dict[str, list[list[float]]], task: str = "rte") -> list[dict]:
    """Fine-tuning rows from {condition: [[seed values of run 1], [run 2], ...]}."""
    return [{"model": f"m-{c}-{j}", "size": "tiny", "condition": c, "task": task, "seed": s, "selection": "best",
             "metric": "accuracy", "value": v}
            for c, run_list in values.items() for j, seeds in enumerate(run_list) for s, v in enumerate(seeds)]


# ------------------------------------------------------------------------------------ golden numbers


def test_reading_run_level_t_by_hand():
    """2 runs per IT condition: conv - base is the mean of the runs' paired differences, its SE
    sqrt(s2 / 2) with s2 the within-condition variance pooled over conv and qa (df 4 - 2 = 2)."""
    vals = {"base": [0.020], "conv": [0.030, 0.034], "qa": [0.010, 0.016]}
    d = pd.DataFrame([{"model": f"m-{c}-{j}", "size": "100m", "condition": c, "task": "reading", "measure": "eye",
                       "delta_r2": v} for c, vs in vals.items() for j, v in enumerate(vs)])
    out = S.reading_differences(d).set_index("condition")
    s2 = (np.var(vals["conv"], ddof=1) + np.var(vals["qa"], ddof=1)) / 2
    se, q = np.sqrt(s2 / 2), sps.t.ppf(0.975, 2)
    r = out.loc["conv"]
    assert r["difference"] == pytest.approx(0.012) and r["n_runs"] == 2 and r["df"] == 2
    assert r["sd"] == pytest.approx(np.std(vals["conv"], ddof=1))
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((0.012 - q * se, 0.012 + q * se))
    assert r["p"] == pytest.approx(2 * sps.t.sf(0.012 / se, 2))
    assert (r["ci_low"], r["ci_high"], r["p"]) == pytest.approx((0.00103, 0.02297, 0.0423), abs=1e-4)   # golden
    assert "run-to-run variation only" in r["note"] and S.ONE_PRETRAIN in r["note"]
    one = S.reading_differences(d[d["model"].str.endswith("-0")])        # one run: descriptive, as before
    assert one["ci_low"].isna().all() and (one["note"] == S.ONE_RUN_READING).all()
    assert one.set_index("condition").loc["conv", "difference"] == pytest.approx(0.010)


def test_finetune_run_means_and_mixedlm_by_hand():
    """Run means of 2 seeds; conv - base = mean of conv's run means - base mean; variance = between-run
    variance of the run means (pooled over conv and qa, df 2) / 2 + the base's seed variance (pooled within
    every run, df 5) / 2, Satterthwaite df. MixedLM (REML) gives the same SE (balanced, run variance > 0)."""
    vals = {"base": [[60.0, 61.0]], "conv": [[62.0, 63.5], [64.0, 64.4]], "qa": [[59.0, 60.2], [62.5, 61.7]]}
    ft = pd.DataFrame(_ft_rows(vals))
    means = {c: [np.mean(s) for s in runs] for c, runs in vals.items()}
    s2_run = (np.var(means["conv"], ddof=1) + np.var(means["qa"], ddof=1)) / 2
    s2_seed = np.mean([np.var(s, ddof=1) for runs in vals.values() for s in runs])
    v_run, v_base = s2_run / 2, s2_seed / 2
    df = (v_run + v_base) ** 2 / (v_run ** 2 / 2 + v_base ** 2 / 5)
    est = np.mean(means["conv"]) - means["base"][0]
    half = sps.t.ppf(0.975, df) * np.sqrt(v_run + v_base)
    for run_method in ("means", "mixedlm"):
        eff = S.finetune_effects(ft, run_method=run_method, pooled=False).set_index("comparison")
        r = eff.loc["conv - base"]
        assert r["estimate"] == pytest.approx(est) and r["df"] == pytest.approx(df)
        assert (r["ci_low"], r["ci_high"]) == pytest.approx((est - half, est + half), rel=1e-4)
        assert r["n_runs"] == 2 and r["n"] == 6
        assert r["method"].startswith("MixedLM" if run_method == "mixedlm" else "run means")
    assert (est, r["ci_low"], r["ci_high"]) == pytest.approx((2.975, -0.6110, 6.5610), abs=1e-3)   # golden


def test_zero_shot_run_level_by_hand():
    """8 items, base + 2 runs of conv and qa: per-run empirical logits, the paired run-level t, plus the
    item-sampling term (the base's own noise and shared item effects), written out item by item."""
    Y = np.array([[1, 1, 0, 1, 0, 1, 1, 0],      # base
                  [1, 1, 1, 1, 0, 1, 1, 0],      # conv 1
                  [1, 0, 1, 1, 1, 1, 1, 1],      # conv 2
                  [0, 1, 0, 1, 0, 1, 0, 0],      # qa 1
                  [1, 1, 0, 0, 0, 1, 1, 0]])     # qa 2
    names = ["base", "conv-1", "conv-2", "qa-1", "qa-2"]
    items = pd.DataFrame([{"model": m, "size": "tiny", "condition": m.split("-")[0], "task": "blimp",
                           "subtask": "p", "item_id": i, "correct": int(Y[r, i])}
                          for r, m in enumerate(names) for i in range(Y.shape[1])])
    got = S.zero_shot_effects(items).set_index("comparison").loc["conv - base"]
    n, m = Y.shape[1], Y.shape[1]
    k = Y.sum(axis=1)
    L = np.log((k + 0.5) / (n - k + 0.5))
    est = L[1:3].mean() - L[0]
    s2 = (np.var(L[1:3], ddof=1) + np.var(L[3:5], ddof=1)) / 2                 # df 4 - 2 = 2
    g = 1 / (k + 0.5) + 1 / (n - k + 0.5)
    Z = np.array([[g[r] * (Y[r, i] - k[r] / n) for r in range(5)] for i in range(m)])
    Cov = m / (m - 1) * Z.T @ Z
    a = np.array([-1.0, 0.5, 0.5, 0.0, 0.0])
    own = sum(np.trace(Cov[b, b]) - Cov[b, b].sum() / 2 for b in (slice(1, 3), slice(3, 5))) / 2
    v_run, q = s2 * 0.5, a @ Cov @ a
    v = max(v_run + q - own * 0.5, v_run, q)
    df = v ** 2 / (v_run ** 2 / 2 + (v - v_run) ** 2 / (m - 1))
    half = sps.t.ppf(0.975, df) * np.sqrt(v)
    assert got["estimate"] == pytest.approx(est) and got["df"] == pytest.approx(df)
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((est - half, est + half))
    assert (got["estimate"], got["ci_low"], got["ci_high"]) == pytest.approx((0.8305, -0.7531, 2.4141), abs=1e-3)
    assert got["odds_ratio"] == pytest.approx(np.exp(est)) and got["n_runs"] == 2 and got["n"] == 8
    assert got["acc_diff"] == pytest.approx(Y[1:3].mean() - Y[0].mean())
    assert got["method"].startswith("run-level t") and got["note"] == S.ONE_PRETRAIN


def test_two_pretrain_seeds_pair_each_run_with_its_own_base():
    """Runs are paired with the base of their pretrain seed (a pretrain offset of 5 points cancels);
    sequential - merged is blocked on pretrain seed (one df fewer); no 'one pretrained base' note."""
    rows = []
    for p, off in ((0, 0.0), (1, 5.0)):
        for c, vals in {"base": [60.0], "merged": [61.0, 62.0], "seq_conv_qa": [63.0, 62.5],
                        "seq_qa_conv": [61.5, 63.5]}.items():
            for j, v in enumerate(vals):
                rows += [{"model": f"{c}-p{p}-s{j}", "size": "tiny", "condition": c, "task": "rte", "seed": s,
                          "selection": "best", "metric": "accuracy", "value": v + off + (s - 0.5) * (0.4 + j),
                          "pretrain_seed": p, "tune_seed": -1 if c == "base" else j}
                         for s in range(2)]
    ft = pd.DataFrame(rows)
    cons = {"merged - base": {"merged": 1.0, "base": -1.0}, **S.SEQ_VS_MERGED}
    eff = S.finetune_effects(ft, contrasts=cons, pooled=False, run_method="means").set_index("comparison")
    assert eff.loc["merged - base", "estimate"] == pytest.approx(1.5)          # mean of 1, 2 (each seed's base)
    assert eff.loc["sequential - merged", "estimate"] == pytest.approx(1.125)
    assert not eff["note"].str.contains("one pretrained base").any()
    runs = S._runs_of(ft, "base")
    means = ft.groupby("model")["value"].mean().loc[list(runs["model"])].to_numpy()
    df = {k: S._run_level(runs, means, w, 0.05, "base", satterthwaite=False).df for k, w in cons.items()}
    assert df == {"merged - base": 12 - 3, "sequential - merged": 12 - 3 - 1}  # tuned runs - IT conditions (- 1)
    # without the column every run is of pretrain seed 0 (the two bases averaged): the same estimate, but
    # the 5-point offset is now run-to-run variance
    flat = S.finetune_effects(ft.drop(columns="pretrain_seed"), contrasts=cons, pooled=False,
                              run_method="means").set_index("comparison")
    assert flat.loc["merged - base", "estimate"] == pytest.approx(1.5)
    width = lambda e: e["ci_high"] - e["ci_low"]
    assert (width(flat) > 3 * width(eff)).all()
    with pytest.raises(ValueError, match="pretrain seed 1: tuned runs but no 'base'"):
        S.finetune_effects(ft[~((ft["pretrain_seed"] == 1) & (ft["condition"] == "base"))], contrasts=cons)


# -------------------------------------------------------------------------- fallback, modes, notes


def test_one_run_per_condition_is_the_old_analysis_with_a_note():
    rng = np.random.default_rng(0)
    zs = C.sim_zero_shot_runs(rng, n_runs=1, n_items=80)
    auto, item = S.zero_shot_effects(zs, pooled=True), S.zero_shot_effects(zs, pooled=True, runs="item")
    pd.testing.assert_frame_equal(auto, item)
    assert auto["method"].str.startswith("GEE").all() and (auto["note"] == S.ONE_RUN_ITEMS).all()
    assert (auto["n_runs"] == 1).all()
    ft = C.sim_finetune_runs(rng, n_runs=1)
    a, b = S.finetune_effects(ft), S.finetune_effects(ft, runs="item")
    pd.testing.assert_frame_equal(a, b)
    assert (a["note"] == S.ONE_RUN).all() and a["method"].str.startswith("OLS").all()
    corr = C.sim_correlation_runs(rng, n_runs=1, n_items=60)
    x, y = (S.correlation_bootstrap(corr, n_boot=200, runs=r).effects for r in ("auto", "item"))
    pd.testing.assert_frame_equal(x, y)
    assert (x["note"] == S.ONE_RUN_ITEMS).all()
    claims = S.claims_table(finetune=ft, zero_shot=zs, correlation=corr, n_boot=200)
    assert (claims["n_runs"] == 1).all() and not claims["evidence"].str.contains("run-level").any()
    assert set(claims["note"]) == {S.ONE_RUN, S.ONE_RUN_ITEMS}
    # runs='run' with one run per condition: no run-level interval
    r = S.zero_shot_effects(zs, pooled=True, runs="run")
    assert r["ci_low"].isna().all() and (r["note"] == S.NO_RUN_DF).all() and r["estimate"].notna().all()
    with pytest.raises(ValueError, match="unknown mode"):
        S.zero_shot_effects(zs, runs="runs")


def test_replicates_switch_every_analysis_to_run_level():
    rng = np.random.default_rng(1)
    zs = C.sim_zero_shot_runs(rng, n_runs=2, n_items=60, conds=ZS_CONDS)
    ft = C.sim_finetune_runs(rng, n_runs=2, conds=ZS_CONDS)
    corr = C.sim_correlation_runs(rng, n_runs=2, n_items=60, conds=ZS_CONDS)
    claims = S.claims_table(finetune=ft, zero_shot=zs, correlation=corr, n_boot=200)
    assert list(claims.columns) == list(S.CLAIMS.columns) and (claims["n_runs"] == 2).all()
    assert claims["evidence"].str.endswith("2 runs per condition (run-level)").all()
    assert (claims["note"] == S.ONE_PRETRAIN).all()
    assert S.correlation_bootstrap(corr, n_boot=200).effects["method"].str.startswith("run-level t").all()
    item = S.zero_shot_effects(zs, runs="item")
    assert (item["note"] == S.ITEM_ONLY).all() and item["method"].str.startswith("GEE").all()
    old = S.claims_table(finetune=ft, zero_shot=zs, runs="item")         # passed through to each analysis
    assert (old["note"] == S.ITEM_ONLY).all() and (old["n_runs"] == 2).all()
    assert not old["evidence"].str.contains("run-level").any()
    assert (old["ci_high"] - old["ci_low"] < claims.loc[:3, "ci_high"] - claims.loc[:3, "ci_low"]).all()
    with pytest.raises(ValueError, match="needs method='ols'"):
        S.finetune_effects(ft, method="bootstrap")
    assert len(S.finetune_effects(ft, method="bootstrap", runs="item", n_boot=100))


def test_mixedlm_equals_run_means_on_balanced_data_and_falls_back_when_singular():
    """REML on balanced data with positive variance components = the run-means two-stage analysis
    (estimate and SE); with no run variance at all REML is singular and the run means are used."""
    rng = np.random.default_rng(2)
    for _ in range(3):
        ft = C.sim_finetune_runs(rng, n_runs=3, run_sd=1.5, run_task_sd=1.0, gain=C.FT_EFFECT)
        mixed = S.finetune_effects(ft, contrasts=CONS)
        means = S.finetune_effects(ft, contrasts=CONS, run_method="means")
        assert mixed["method"].str.startswith("MixedLM").all(), mixed["method"].unique()
        np.testing.assert_allclose(mixed["estimate"], means["estimate"], rtol=1e-8)
        np.testing.assert_allclose(mixed["ci_high"] - mixed["ci_low"], means["ci_high"] - means["ci_low"],
                                   rtol=1e-3)
    flat = C.sim_finetune_runs(rng, n_runs=2, run_sd=0.0, run_task_sd=0.0)
    eff = S.finetune_effects(flat, contrasts=CONS)
    assert eff["method"].str.contains("run means used").any()
    assert np.isfinite(eff[["ci_low", "ci_high"]].to_numpy()).all()


def test_run_spread():
    summary = pd.DataFrame([{"model": f"m-{c}-{j}", "size": "100m", "condition": c, "task": "blimp", "score": v}
                            for c, vs in {"qa": [70.0, 74.0, 72.0], "base": [71.0]}.items()
                            for j, v in enumerate(vs)])
    out = S.run_spread(summary)
    assert list(out.columns) == ["size", "task", "condition", "n_runs", "mean", "sd", "min", "max"]
    assert list(out["condition"]) == ["base", "qa"]
    assert out.iloc[1][["n_runs", "mean", "sd", "min", "max"]].tolist() == [3, 72.0, 2.0, 70.0, 74.0]
    assert np.isnan(out.iloc[0]["sd"])
    items = C.sim_zero_shot_runs(np.random.default_rng(3), n_runs=2, n_items=50, conds=("base", "conv"))
    acc = S.run_spread(items, "correct", by=("size", "condition"))
    per_run = items[items["condition"] == "conv"].groupby("model")["correct"].mean() * 100
    assert acc.iloc[1]["mean"] == pytest.approx(per_run.mean()) and acc.iloc[1]["n_runs"] == 2


# ----------------------------------------------------------------------------------------- calibration


def _rates(kind: str, n_runs: int, planted: bool, n_item: int, seed: int, **kw) -> pd.DataFrame:
    """`calibrate` over 100 datasets (the item-only analysis on the first `n_item`), indexed by method x
    comparison."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = C.calibrate(kind, n_runs, planted, 100, seed=seed, n_item=n_item, conds=ZS_CONDS, **kw)
    return res.set_index(["method", "comparison"])


@pytest.mark.parametrize("n_runs", [2, 3])
def test_zero_shot_run_level_is_calibrated(n_runs):
    """Tuned-run effect sd 0.25 logits, no condition effect, 200 items x 2 families: the run-level FPR stays
    near 0.05 (<= 0.10 over 100 datasets) where the item-only GEE's is far above for sequential - merged
    (the comparison the run variance dominates; the base's item noise dilutes it in the others); with
    planted effects the intervals cover the run-level truth."""
    null = _rates("zero_shot", n_runs, False, 30, seed=1)
    eff = _rates("zero_shot", n_runs, True, 0, seed=1)
    run = null.loc["run"]
    assert (run["reject"] <= 0.10).all(), run
    assert null.loc[("item", "sequential - merged"), "reject"] >= 0.25, null
    assert (eff.loc["run", "cover"] >= 0.88).all(), eff


@pytest.mark.parametrize("n_runs", [2, 3])
def test_finetune_run_level_is_calibrated(n_runs):
    """Run effect sd 1 point + run x task 0.5 + seed noise, 2 seeds per run, pooled over 3 tasks (run means,
    which MixedLM equals on balanced data): FPR <= 0.10 over 100 datasets; the item-level OLS is far above."""
    null = _rates("finetune", n_runs, False, 30, seed=1, run_method="means")
    eff = _rates("finetune", n_runs, True, 0, seed=1, run_method="means")
    assert (null.loc["run", "reject"] <= 0.10).all(), null
    assert null.loc[("item", "sequential - merged"), "reject"] >= 0.25, null
    assert (eff.loc["run", "cover"] >= 0.88).all(), eff
