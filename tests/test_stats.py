"""Unit tests of `classit_utils.stats` and `classit_utils.plots` on synthetic data with known effects and
hand-made tables with golden values."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats as sps  # noqa: E402
from scipy.special import expit, logit  # noqa: E402

from classit_utils import plots, stats as S  # noqa: E402

CONDS = S.CONDITIONS
IT = [c for c in CONDS if c != "base"]


# ----------------------------------------------------------------------------------------- simulators


def sim_zero_shot(rng: np.random.Generator, n_items: int = 200, effects: dict[str, float] | None = None,
                  conds=CONDS, sizes=("100m",), tasks=("blimp",), sd: float = 1.0, a: float = 0.5) -> pd.DataFrame:
    """Binary correctness: logit P = a + u_item + effect[condition], u_item ~ N(0, sd^2), one model per
    size x condition, every model answering the same items."""
    effects = effects or {}
    frames = []
    for size in sizes:
        for task in tasks:
            u = rng.normal(0.0, sd, n_items)
            for c in conds:
                y = (rng.random(n_items) < expit(a + u + effects.get(c, 0.0))).astype(int)
                frames.append(pd.DataFrame({
                    "model": f"{size}_{c}", "size": size, "condition": c, "task": task,
                    "subtask": [f"p{i % 5}" for i in range(n_items)], "item_id": np.arange(n_items), "correct": y}))
    return pd.concat(frames, ignore_index=True)


def marginal_log_or(a: float, b: float, sd: float) -> float:
    """Population-averaged log-odds ratio (GEE's estimand) of a random-intercept logit model with
    conditional effect b: logit E[expit(a + b + u)] - logit E[expit(a + u)], u ~ N(0, sd^2)."""
    x, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()
    return float(logit(np.sum(w * expit(a + b + sd * x))) - logit(np.sum(w * expit(a + sd * x))))


FT_TASKS = ("boolq", "multirc", "rte", "wsc", "mrpc", "qqp", "mnli")
FT_GAIN = {"base": 0.0, "conv": 1.0, "qa": 1.0, "merged": 1.0, "seq_conv_qa": 2.0, "seq_qa_conv": 2.0}


def sim_finetune(rng: np.random.Generator, gain: dict[str, float] = FT_GAIN, seeds: int = 5,
                 sizes=("100m",), noise: float = 0.5, seed_sd: float = 0.0) -> pd.DataFrame:
    """value = task level + gain[condition] + N(0, (noise * task factor)^2), in points, plus a
    N(0, seed_sd^2) offset per task x seed shared by every condition (same head and data order)."""
    rows = []
    for size in sizes:
        for k, task in enumerate(FT_TASKS):
            level, sd = 60.0 + 3 * k, noise * (1 + k % 3)
            offset = rng.normal(0.0, seed_sd, seeds) if seed_sd else np.zeros(seeds)
            for c, g in gain.items():
                for s in range(seeds):
                    rows.append({"model": f"{size}_{c}", "size": size, "condition": c, "task": task, "seed": s,
                                 "selection": "best", "metric": "f1" if task in ("mrpc", "qqp") else "accuracy",
                                 "value": level + g + offset[s] + rng.normal(0.0, sd)})
    return pd.DataFrame(rows)


def spearman_of_normal(r: float) -> float:
    """Spearman rho of a bivariate normal with Pearson correlation r."""
    return 6 / np.pi * np.arcsin(r / 2)


def sim_correlation(rng: np.random.Generator, r: dict[str, float], n_items: int = 300, sizes=("100m",),
                    tasks=("wug_adj",), shared: float = 0.0) -> pd.DataFrame:
    """score = r_c * target + noise, standard-normal marginals; `shared` is the share of the noise variance
    common to every model (paired differences get more precise)."""
    frames = []
    for size in sizes:
        for task in tasks:
            t = rng.normal(size=n_items)
            common = rng.normal(size=n_items)
            for c, rc in r.items():
                noise = np.sqrt(shared) * common + np.sqrt(1 - shared) * rng.normal(size=n_items)
                frames.append(pd.DataFrame({"model": f"{size}_{c}", "size": size, "condition": c, "task": task,
                                            "item_id": np.arange(n_items), "target": t,
                                            "score": rc * t + np.sqrt(1 - rc ** 2) * noise}))
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------------------------- schemas


def test_schemas_validate():
    df = sim_zero_shot(np.random.default_rng(0), n_items=5)
    assert S.ZERO_SHOT_ITEMS.validate(df) is df
    with pytest.raises(ValueError, match="zero-shot items: missing column"):
        S.ZERO_SHOT_ITEMS.validate(df.drop(columns="correct"))
    with pytest.raises(ValueError, match="duplicated"):
        S.ZERO_SHOT_ITEMS.validate(pd.concat([df, df.iloc[:1]]))
    with pytest.raises(ValueError, match="missing values"):
        S.ZERO_SHOT_ITEMS.validate(df.assign(correct=np.nan))
    with pytest.raises(ValueError, match="0 or 1"):
        S.zero_shot_effects(df.assign(correct=2))
    for schema in (S.CORRELATION_ITEMS, S.READING_DELTAS, S.FINETUNE, S.SUMMARY, S.LOSS_CURVES, S.EFFECTS, S.CLAIMS):
        assert set(schema.keys) <= set(schema.columns)


def test_contrast_definitions():
    assert S.vs_base(["qa", "base", "conv"]) == {"conv - base": {"conv": 1.0, "base": -1.0},
                                                 "qa - base": {"qa": 1.0, "base": -1.0}}
    it = S.it_vs_base(CONDS)[S.IT_VS_BASE]
    assert it["base"] == -1.0 and all(it[c] == pytest.approx(0.2) for c in IT)
    with pytest.raises(ValueError, match="sum to 0"):
        S.finetune_effects(sim_finetune(np.random.default_rng(0)), contrasts={"bad": {"conv": 1.0}})


# ------------------------------------------------------------------------------------- z-scores, IQR


def test_zscores_and_iqr_golden():
    # 4 models (2 sizes x 2 conditions) x 3 tasks; task C is constant (z = 0), task D lower is better.
    models = [("m1", "100m", "base"), ("m2", "100m", "conv"), ("m3", "140m", "base"), ("m4", "140m", "conv")]
    scores = {"A": [1, 2, 3, 4], "B": [10, 10, 20, 40], "C": [5, 5, 5, 5], "D": [4, 3, 2, 1]}
    summary = pd.DataFrame([{"model": m, "size": s, "condition": c, "task": t, "score": scores[t][i]}
                            for t in scores for i, (m, s, c) in enumerate(models)])
    z = S.zscores(summary, lower_is_better=["D"])
    got = z.pivot(index="model", columns="task", values="z")
    # A: mean 2.5, population sd sqrt(1.25); B: mean 20, sd sqrt(150); D is A reversed, then negated.
    np.testing.assert_allclose(got["A"], [-1.341641, -0.447214, 0.447214, 1.341641], atol=1e-6)
    np.testing.assert_allclose(got["B"], [-0.816497, -0.816497, 0.0, 1.632993], atol=1e-6)
    np.testing.assert_allclose(got["C"], [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(got["D"], got["A"])
    z1 = S.zscores(summary, ddof=1)
    np.testing.assert_allclose(z1.pivot(index="model", columns="task", values="z")["A"],
                               [-1.161895, -0.387298, 0.387298, 1.161895], atol=1e-6)

    t = S.iqr_table(z)
    assert list(t.columns) == ["size", "condition", "n", "median", "q25", "q75", "iqr"]
    assert list(zip(t["size"], t["condition"])) == [("100m", "base"), ("100m", "conv"), ("140m", "base"),
                                                    ("140m", "conv")]
    # m1's z: A -1.341641, B -0.816497, C 0, D -1.341641 -> sorted [-1.341641, -1.341641, -0.816497, 0]
    # median -1.079069; q25 = -1.341641; q75 = -0.816497 + 0.25 * 0.816497 = -0.612372 (linear interpolation)
    r = t.iloc[0]
    assert r["n"] == 4
    assert r["median"] == pytest.approx(-1.079069, abs=1e-6)
    assert r["q25"] == pytest.approx(-1.341641, abs=1e-6)
    assert r["q75"] == pytest.approx(-0.612372, abs=1e-6)
    assert r["iqr"] == pytest.approx(0.729269, abs=1e-6)
    # m4: A 1.341641, B 1.632993, C 0, D 1.341641 -> median 1.341641, q25 1.006231, q75 1.414479
    r = t.iloc[3]
    assert (r["median"], r["q25"], r["q75"]) == pytest.approx((1.341641, 1.006231, 1.414479), abs=1e-6)


# ------------------------------------------------------------------------------------------ zero-shot


def test_zero_shot_recovers_planted_log_odds():
    """+0.5 (conditional log-odds) for conv, 0 for the others, 200 items with N(0, 1) item intercepts."""
    rng = np.random.default_rng(1)
    a, b, sd = 0.5, 0.5, 1.0
    truth = marginal_log_or(a, b, sd)            # ~0.43: GEE estimates the population-averaged effect
    assert 0.40 < truth < 0.46
    items = sim_zero_shot(rng, n_items=200, effects={"conv": b}, sd=sd, a=a)
    eff = S.zero_shot_effects(items).set_index("comparison")
    assert list(eff.index) == [f"{c} - base" for c in IT]
    conv = eff.loc["conv - base"]
    assert conv["ci_low"] < conv["estimate"] < conv["ci_high"]
    assert conv["ci_low"] < truth < conv["ci_high"]
    assert conv["odds_ratio"] == pytest.approx(np.exp(conv["estimate"]))
    assert (conv["or_low"], conv["or_high"]) == pytest.approx((np.exp(conv["ci_low"]), np.exp(conv["ci_high"])))
    assert conv["acc_low"] < conv["acc_diff"] < conv["acc_high"]
    wide = items.pivot(index="item_id", columns="condition", values="correct")
    assert conv["acc_diff"] == pytest.approx((wide["conv"] - wide["base"]).mean())
    assert (eff["n"] == 200).all() and (eff["task"] == "blimp").all()

    # over 20 such datasets: unbiased for the marginal effect, nominal coverage, power for conv, and
    # rejections near alpha for the four conditions without an effect
    reps = [S.zero_shot_effects(sim_zero_shot(rng, n_items=200, effects={"conv": b}, sd=sd, a=a))
            .set_index("comparison") for _ in range(20)]
    conv = pd.DataFrame([r.loc["conv - base"] for r in reps])
    assert abs(conv["estimate"].mean() - truth) < 0.08
    assert ((conv["ci_low"] < truth) & (truth < conv["ci_high"])).mean() >= 0.85
    assert (conv["p"] < 0.05).mean() >= 0.5
    null = pd.concat([r.drop(index="conv - base") for r in reps])
    assert abs(null["estimate"].mean()) < 0.05
    assert (null["p"] < 0.05).mean() < 0.12


def test_zero_shot_pooled_with_task_effects_and_contrast():
    rng = np.random.default_rng(2)
    eff = {"seq_conv_qa": 0.6, "seq_qa_conv": 0.6}
    items = sim_zero_shot(rng, n_items=150, effects=eff, tasks=("blimp", "ewok", "supplement"))
    per_task = S.zero_shot_effects(items)
    assert set(per_task["task"]) == {"blimp", "ewok", "supplement"} and len(per_task) == 15
    pooled = S.zero_shot_effects(items, pooled=True)
    assert (pooled["task"] == "pooled").all() and (pooled["n"] == 450).all()
    by_sub = S.zero_shot_effects(items, pooled=True, subtask_effects=True)     # 3 tasks x 5 paradigms
    assert by_sub["method"].str.endswith("subtask FE").all()
    np.testing.assert_allclose(by_sub["estimate"], pooled["estimate"], atol=0.1)
    c = S.contrast(items, "zero_shot", pooled=True).iloc[0]
    assert c["comparison"] == "sequential - merged"
    truth = marginal_log_or(0.5, 0.6, 1.0)
    assert c["ci_low"] < truth < c["ci_high"] and c["p"] < 0.01


def test_zero_shot_false_positive_rate_near_nominal():
    """100 datasets under the null (base vs conv, 200 items, item intercepts sd 1): the share with
    p < 0.05 stays near 0.05 (0.08 with this seed; 0.063 over 1000 datasets)."""
    rng = np.random.default_rng(20240601)
    p = np.array([S.zero_shot_effects(sim_zero_shot(rng, n_items=200, conds=("base", "conv")))["p"].iloc[0]
                  for _ in range(100)])
    rate = float(np.mean(p < 0.05))
    assert 0.0 <= rate < 0.12, rate
    assert 0.2 < np.mean(p < 0.5) < 0.8          # p-values spread out, not piled at 1 (not over-conservative)


# ---------------------------------------------------------------------------------------- fine-tuning


def test_finetune_recovers_planted_gain():
    """Gains +1 (conv, qa, merged) and +2 (sequential) points over base on 7 tasks x 5 seeds."""
    rng = np.random.default_rng(3)
    ft = sim_finetune(rng)
    eff = S.finetune_effects(ft)
    per_task = eff[eff["task"] != "pooled"]
    assert len(per_task) == 7 * 5 and set(eff["metric"]) == {"accuracy", "f1", "mixed"}
    # OLS with condition dummies: the estimate is the difference of means, df = 30 runs - 6 means
    rte = ft[ft["task"] == "rte"]
    r = per_task[(per_task["task"] == "rte") & (per_task["comparison"] == "qa - base")].iloc[0]
    diff = rte.loc[rte["condition"] == "qa", "value"].mean() - rte.loc[rte["condition"] == "base", "value"].mean()
    assert r["estimate"] == pytest.approx(diff) and r["df"] == 24 and r["n"] == 10
    truth = per_task["comparison"].str.split(" - ").str[0].map(FT_GAIN)
    assert ((per_task["ci_low"] < truth) & (truth < per_task["ci_high"])).mean() >= 0.85
    pooled = eff[eff["task"] == "pooled"].set_index("comparison")
    assert (pooled["p"] < 1e-3).all() and (pooled["n"] == 70).all()
    seq = S.contrast(ft, "finetune").set_index("task")
    assert seq.loc["pooled", "comparison"] == "sequential - merged" and seq.loc["pooled", "p"] < 1e-3

    # over 30 datasets: claim 1's IT - base (truth 1.4) and claim 2's sequential - merged (1.0), pooled
    cons = {**S.vs_base(CONDS), **S.it_vs_base(CONDS), **S.SEQ_VS_MERGED}
    truth = {**{f"{c} - base": g for c, g in FT_GAIN.items() if c != "base"}, "IT - base": 1.4,
             "sequential - merged": 1.0}
    reps = pd.concat([S.finetune_effects(sim_finetune(rng), contrasts=cons).query("task == 'pooled'")
                      for _ in range(30)])
    t = reps["comparison"].map(truth)
    reps = reps.assign(err=reps["estimate"] - t, cover=(reps["ci_low"] < t) & (t < reps["ci_high"]))
    by = reps.groupby("comparison")
    assert (by["err"].mean().abs() < 0.15).all(), by["err"].mean()
    assert (by["cover"].mean() >= 0.8).all(), by["cover"].mean()
    assert by["cover"].mean().mean() >= 0.9


def test_finetune_bootstrap_deterministic_and_covers():
    ft = sim_finetune(np.random.default_rng(4), seeds=8)
    a = S.finetune_effects(ft, method="bootstrap", n_boot=500, seed=7)
    b = S.finetune_effects(ft, method="bootstrap", n_boot=500, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(S.finetune_effects(ft, method="bootstrap", n_boot=500, seed=8))
    truth = a["comparison"].str.split(" - ").str[0].map(FT_GAIN)
    assert ((a["ci_low"] < truth) & (truth < a["ci_high"])).mean() >= 0.75   # percentile, 8 seeds: a bit narrow
    ols = S.finetune_effects(ft)
    np.testing.assert_allclose(a["estimate"], ols["estimate"])   # balanced design: same point estimates


def test_finetune_seed_pairing_removes_shared_seed_noise():
    """Seed offsets (sd 3 points) shared by all conditions swamp unpaired intervals; the seed-paired
    OLS has the same estimates (balanced), (seeds - 1) fewer residual df per task, covers the truth
    and is 2-6 times narrower (sqrt((9 + sd^2) / sd^2) for the task noise sd of 0.5-1.5)."""
    ft = sim_finetune(np.random.default_rng(11), seeds=5, seed_sd=3.0)
    plain, paired = S.finetune_effects(ft), S.finetune_effects(ft, paired=True)
    np.testing.assert_allclose(paired["estimate"], plain["estimate"])
    per_task = paired["task"] != "pooled"
    assert (paired.loc[per_task, "df"] == plain.loc[per_task, "df"] - 4).all()        # 24 -> 20
    assert (paired.loc[~per_task, "df"] == plain.loc[~per_task, "df"] - 7 * 4).all()  # task x seed blocks
    assert paired["method"].str.contains("seed-paired").all()
    width = lambda e: (e["ci_high"] - e["ci_low"]).to_numpy()   # noqa: E731
    assert np.median(width(plain) / width(paired)) > 2 and (width(plain) > width(paired)).all()
    truth = paired["comparison"].str.split(" - ").str[0].map(FT_GAIN)
    assert ((paired["ci_low"] < truth) & (truth < paired["ci_high"])).mean() >= 0.85
    # one seed missing in one condition: estimates move to the within-seed comparison, still finite
    holes = S.finetune_effects(ft.drop(ft.index[(ft["condition"] == "qa") & (ft["seed"] == 0)]), paired=True)
    assert np.isfinite(holes[["estimate", "ci_low", "ci_high"]].to_numpy()).all()
    with pytest.raises(ValueError, match="paired=True needs method='ols'"):
        S.finetune_effects(ft, method="bootstrap", paired=True)


# ---------------------------------------------------------------------------------------------- Holm


def test_holm_hand_computed():
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06
    np.testing.assert_allclose(S.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(S.holm([0.5, 0.6]), [1.0, 1.0])
    s = S.holm(pd.Series([0.01, np.nan, 0.02], index=["a", "b", "c"]))
    assert list(s.index) == ["a", "b", "c"] and np.isnan(s["b"])
    np.testing.assert_allclose(s[["a", "c"]], [0.02, 0.02])


# ---------------------------------------------------------------------------------------- correlation


def test_correlation_bootstrap_covers_truth_and_is_deterministic():
    rng = np.random.default_rng(5)
    r = {"base": 0.5, "conv": 0.7}
    items = sim_correlation(rng, r, n_items=300)
    res = S.correlation_bootstrap(items, n_boot=1000, seed=11)
    rho = res.rho.set_index("condition")
    for c, rc in r.items():
        truth = spearman_of_normal(rc)
        sub = items[items["condition"] == c]
        assert rho.loc[c, "rho"] == pytest.approx(sps.spearmanr(sub["score"], sub["target"]).statistic)
        assert rho.loc[c, "ci_low"] < truth < rho.loc[c, "ci_high"], c
    d = res.effects.iloc[0]
    assert d["comparison"] == "conv - base" and d["scale"] == "rho"
    true_diff = spearman_of_normal(0.7) - spearman_of_normal(0.5)
    assert d["estimate"] == pytest.approx(rho.loc["conv", "rho"] - rho.loc["base", "rho"])
    assert d["ci_low"] < true_diff < d["ci_high"] and d["p"] < 0.05
    again = S.correlation_bootstrap(items, n_boot=1000, seed=11)
    pd.testing.assert_frame_equal(res.rho, again.rho)
    pd.testing.assert_frame_equal(res.effects, again.effects)
    other = S.correlation_bootstrap(items, n_boot=1000, seed=12)
    assert not np.allclose(other.rho["ci_low"], res.rho["ci_low"])


def test_reading_differences():
    d = pd.DataFrame([{"model": f"m_{c}", "size": "100m", "condition": c, "task": "reading", "measure": m,
                       "delta_r2": v} for c, vals in {"base": (0.02, 0.04), "conv": (0.03, 0.01)}.items()
                      for m, v in zip(("eye", "spr"), vals)])
    out = S.reading_differences(d).set_index("measure")
    assert out.loc["eye", "difference"] == pytest.approx(0.01) and out.loc["spr", "difference"] == pytest.approx(-0.03)


# --------------------------------------------------------------------------------------------- claims


def test_verdict_rule():
    v = S.verdict
    assert v("> 0", 1.0, 0.5, 1.5, 0.01, 0.5) == "supported"
    assert v("> 0", -1.0, -1.5, -0.5, 0.01, 0.5) == "not supported"       # significant loss
    assert v("> 0", 0.05, -0.2, 0.3, 0.6, 0.5) == "not supported"         # gain >= margin ruled out
    assert v("> 0", 0.5, -0.2, 1.2, 0.2, 0.5) == "inconclusive"
    assert v("~ 0", 0.01, -0.05, 0.05, 0.7, 0.1) == "supported"
    assert v("~ 0", 0.5, 0.3, 0.7, 0.001, 0.1) == "not supported"
    assert v("~ 0", 0.1, -0.1, 0.3, 0.3, 0.1) == "inconclusive"
    assert v("~ 0", np.nan, np.nan, np.nan, np.nan, 0.1) == "inconclusive"


def test_claims_table_verdicts_on_planted_data():
    rng = np.random.default_rng(6)
    sizes = ("100m", "140m")
    ft = sim_finetune(rng, sizes=sizes)
    zs = sim_zero_shot(rng, n_items=500, sizes=sizes, tasks=("blimp", "ewok", "supplement", "entity_tracking"),
                       sd=1.5)
    corr = sim_correlation(rng, {c: 0.6 for c in CONDS}, n_items=400, sizes=sizes, shared=0.9)
    claims = S.claims_table(finetune=ft, zero_shot=zs, correlation=corr, n_boot=500, seed=0, zs_margin=0.15)
    assert list(claims.columns) == list(S.CLAIMS.columns)
    assert len(claims) == 2 * 5 and list(claims["size"]) == ["100m"] * 5 + ["140m"] * 5
    assert set(claims["claim"]) == {"ft_it", "ft_seq", "zs_it", "zs_seq", "corr_it:wug_adj"}
    np.testing.assert_allclose(claims["p_holm"], S.holm(claims["p"].to_numpy()))
    assert (claims["verdict"] == "supported").all(), claims[["size", "claim", "estimate", "ci_high", "p_holm",
                                                             "verdict"]]
    # the IT gain does transfer -> claim 3 not supported; no fine-tuning gain at all -> claims 1, 2 not supported
    zs_gain = sim_zero_shot(rng, n_items=300, effects={c: 0.6 for c in IT}, tasks=("blimp", "ewok"))
    ft_null = sim_finetune(rng, gain={c: 0.0 for c in CONDS}, seeds=6, noise=0.1)
    c2 = S.claims_table(finetune=ft_null, zero_shot=zs_gain).set_index("claim")
    assert c2.loc["zs_it", "verdict"] == "not supported"
    assert c2.loc["ft_it", "verdict"] == "not supported" and c2.loc["ft_seq", "verdict"] == "not supported"
    # two noisy seeds -> inconclusive
    ft_tiny = sim_finetune(rng, gain={"base": 0.0, "conv": 1.0}, seeds=2, noise=5.0)
    c3 = S.claims_table(finetune=ft_tiny).set_index("claim")
    assert list(c3.index) == ["ft_it"] and c3.loc["ft_it", "verdict"] == "inconclusive"


# ---------------------------------------------------------------------------------------------- plots


@pytest.fixture
def close_figs():
    figs = []
    yield figs
    for f in figs:
        f.clear()


def test_plot_zscores(close_figs):
    rng = np.random.default_rng(7)
    summary = pd.DataFrame([{"model": f"{s}_{c}", "size": s, "condition": c, "task": t, "score": rng.normal()}
                            for s in ("100m", "140m") for c in CONDS for t in ("a", "b", "c")])
    fig = plots.plot_zscores(S.zscores(summary))
    close_figs.append(fig)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert [t.get_text() for t in ax.get_xticklabels()] == list(CONDS)
        assert len(ax.collections) == len(CONDS)             # one strip of points per condition
        assert sum(len(c.get_offsets()) for c in ax.collections) == len(CONDS) * 3
        assert len(ax.patches) >= len(CONDS)                 # one box per condition


def test_plot_effects(close_figs):
    ft = sim_finetune(np.random.default_rng(8), sizes=("100m", "140m"))
    fig = plots.plot_effects(S.finetune_effects(ft))
    close_figs.append(fig)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert len(ax.containers) == 5                       # one errorbar series per comparison
        assert all(len(c.lines[0].get_xdata()) == 8 for c in ax.containers)   # 7 tasks + pooled
        assert any(np.allclose(line.get_xdata(), 0) for line in ax.lines)     # zero line
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [*sorted(FT_TASKS), "pooled"]
    eff = S.finetune_effects(ft)
    with pytest.raises(ValueError, match="one scale"):
        plots.plot_effects(pd.concat([eff, eff.assign(scale="log_odds", task=eff["task"] + "_x")]))
    with pytest.raises(ValueError, match="duplicated"):       # e.g. two selections at once
        plots.plot_effects(pd.concat([eff, eff.assign(selection="last")]))


def test_plot_loss_curves(close_figs):
    curves = pd.DataFrame([{"run": r, "step": s, "loss": 5 * np.exp(-s / 50) + k, "phase": ph}
                           for ph, runs in {"pretrain": ["100m", "140m"],
                                            "it": ["100m_conv", "100m_qa", "100m_merged"]}.items()
                           for k, r in enumerate(runs) for s in range(0, 200, 10)])
    fig = plots.plot_loss_curves(curves)
    close_figs.append(fig)
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["pretrain", "it"]
    assert [len(ax.lines) for ax in fig.axes] == [2, 3]
    assert all(len(line.get_xdata()) == 20 for line in fig.axes[1].lines)


def test_plot_blimp_heatmap(close_figs):
    items = sim_zero_shot(np.random.default_rng(9), n_items=50, conds=("base", "conv", "qa"),
                          sizes=("100m", "140m"))
    items["phenomenon"] = items["subtask"].map(lambda s: "island" if s in ("p0", "p1") else "agreement")
    fig = plots.plot_blimp_heatmap(items)
    close_figs.append(fig)
    assert len(fig.axes) == 2                                 # heatmap + colour bar
    ax = fig.axes[0]
    mesh = ax.collections[0]
    assert mesh.get_array().size == 5 * 6                     # 5 paradigms x 6 models
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"{s}_{c}" for s in ("100m", "140m")
                                                            for c in ("base", "conv", "qa")]
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "agreement: p2"
    with pytest.raises(ValueError, match="no items"):
        plots.plot_blimp_heatmap(items, task="nonesuch")


def test_plot_reading_and_save_figure(tmp_path, close_figs):
    deltas = pd.DataFrame([{"model": f"{s}_{c}", "size": s, "condition": c, "task": "reading", "measure": m,
                            "delta_r2": 0.01 * (i + 1) * (j + 1)}
                           for i, (s, c) in enumerate([(s, c) for s in ("100m", "140m") for c in ("base", "conv")])
                           for j, m in enumerate(("eye_tracking", "self_paced"))])
    fig = plots.plot_reading(deltas)
    close_figs.append(fig)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.containers) == 2 and all(len(c.patches) == 4 for c in ax.containers)
    np.testing.assert_allclose([p.get_height() for p in ax.containers[1].patches], [0.02, 0.04, 0.06, 0.08])

    png = fig._repr_png_()                   # what IPython shows inline (JupyterLab, papermill, HTML)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and fig._repr_png_() == png
    from IPython.core.formatters import PNGFormatter
    assert PNGFormatter()(fig) == png
    out = tmp_path / "figures" / "demo"
    paths = plots.save_figure(fig, out, "reading")
    assert [p.name for p in paths] == ["reading.png", "reading.pdf"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[1].read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in out.iterdir()) == ["reading.pdf", "reading.png"]   # no temp files left
    first = [p.read_bytes() for p in paths]
    plots.save_figure(fig, out, "reading")
    assert [p.read_bytes() for p in paths] == first          # same figure, same bytes


# ------------------------------------------------------------------------------------------ no variation
def test_a_comparison_without_variation_has_no_p_value():
    """Identical scores in the compared conditions (the demo's MRPC: every model predicts one class) used to
    give estimates of 1e-14 with p-values from rounding noise; they now say there is no test."""
    rows = [{"model": f"m_{c}", "size": "tiny", "condition": c, "task": t, "seed": s, "selection": "heldout",
             "metric": "f1", "value": v}
            for t, vals in (("mrpc", {"base": 80.0, "conv": 80.0, "qa": 80.0}),        # identical everywhere
                            ("rte", {"base": 50.0, "conv": 52.0, "qa": 55.0}))         # constant within condition
            for c, v in vals.items() for s in range(3)]
    eff = S.finetune_effects(pd.DataFrame(rows)).set_index(["task", "comparison"])
    mrpc = eff.loc["mrpc"]
    assert (mrpc["estimate"] == 0.0).all() and mrpc["p"].isna().all() and mrpc["ci_low"].isna().all()
    assert (mrpc["note"] == S.NO_VARIATION).all()
    rte = eff.loc[("rte", "qa - base")]
    assert rte["estimate"] == pytest.approx(5.0) and np.isnan(rte["p"]) and rte["note"] == S.NO_VARIATION_WITHIN
    boot = S.finetune_effects(pd.DataFrame(rows), method="bootstrap", n_boot=200).set_index(["task", "comparison"])
    assert boot.loc["mrpc", "p"].isna().all() and (boot.loc["mrpc", "note"] == S.NO_VARIATION).all()
    adjusted = S.holm(eff["p"])                                                    # NaN stays NaN under Holm
    assert adjusted.loc["mrpc"].isna().all() and adjusted.loc["rte"].notna().sum() == 0   # rte: no test either

    # noisy data keeps its test
    noisy = [dict(r, value=r["value"] + 0.5 * (r["seed"] - 1) * (1 + (r["condition"] == "qa"))) for r in rows]
    assert S.finetune_effects(pd.DataFrame(noisy)).loc[lambda d: d.task == "rte", "p"].notna().all()


def test_zero_shot_and_correlation_without_variation_have_no_p_value():
    rng = np.random.default_rng(0)
    correct = rng.integers(0, 2, 60)
    items = pd.DataFrame([{"model": f"m_{c}", "size": "tiny", "condition": c, "task": "blimp", "subtask": "p",
                           "item_id": f"i{i}", "correct": int(correct[i])} for c in ("base", "conv") for i in range(60)])
    z = S.zero_shot_effects(items).iloc[0]
    assert z["estimate"] == 0.0 and np.isnan(z["p"]) and z["note"] == S.NO_VARIATION
    score = rng.random(50)
    corr = pd.DataFrame([{"model": f"m_{c}", "size": "tiny", "condition": c, "task": "wug_adj", "item_id": i,
                          "score": score[i], "target": i % 7} for c in ("base", "conv") for i in range(50)])
    e = S.correlation_bootstrap(corr, n_boot=200).effects.iloc[0]
    assert e["estimate"] == 0.0 and np.isnan(e["p"]) and e["note"] == S.NO_VARIATION
    claims = S.claims_table(zero_shot=items, correlation=corr, n_boot=200)
    assert (claims["verdict"] == "inconclusive").all() and (claims["note"] == S.NO_VARIATION).all()
    assert claims["hypothesis"].tolist() == [S.HYPOTHESES["zs_it"], S.HYPOTHESES["corr_it"].format(task="wug_adj")]


def test_plot_run_spread_has_a_dot_per_run_and_a_bar_per_condition(close_figs):
    rows = [{"model": "b", "size": "tiny", "condition": "base", "task": t, "score": 50.0} for t in ("a", "b", "c")]
    rows += [{"model": f"{c}{s}", "size": "tiny", "condition": c, "task": t, "score": 50.0 + s}
             for c in ("conv", "qa") for s in range(3) for t in ("a", "b", "c")]
    fig = plots.plot_run_spread(pd.DataFrame(rows), ncols=2)
    close_figs.append(fig)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["a", "b", "c"] and len(fig.axes) == 4   # 2 x 2, one hidden
    for ax in visible:
        assert [t.get_text() for t in ax.get_xticklabels()] == ["base", "conv", "qa"]
        dots = np.concatenate([c.get_offsets() for c in ax.collections if hasattr(c, "get_offsets")
                               and len(c.get_offsets()) and c.get_offsets().shape[1] == 2 and type(c).__name__ == "PathCollection"])
        assert len(dots) == 7 and sorted(dots[:, 1]) == [50.0, 50.0, 50.0, 51.0, 51.0, 52.0, 52.0]
        bars = [c for c in ax.collections if type(c).__name__ == "LineCollection"]
        assert len(bars) == 3                                # a mean bar per condition
