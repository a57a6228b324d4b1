"""Calibration of the run-level statistics (`classit_utils.stats`) against the old item-only analysis.

Simulated studies with replicated IT runs (2 or 3 tuned runs per IT condition, one untuned base, one
pretrained base): zero-shot items (item difficulty N(0, 1), tuned-run effect N(0, 0.25^2) on the logit, the
base fixed), fine-tuning (run effect + run x task effect + seed noise, 2 fine-tuning seeds per run) and
correlation items (run effect on the correlation). With no condition effect it counts how often
`conv - base`, `IT - base` and `sequential - merged` come out significant at alpha 0.05 (false-positive
rate, FPR); with a planted effect, how often the 95% interval covers it. Each dataset is analysed twice: the
run-level analysis (`runs="run"`) and the old item-level one (`runs="item"`) on the same data.

    nice .venv/bin/python benchmarks/calibration.py --kinds zero_shot,finetune     # 1,000 datasets per setting
    nice .venv/bin/python benchmarks/calibration.py --kinds correlation --datasets 300
    nice .venv/bin/python benchmarks/calibration.py --alternatives 200             # the rejected alternatives

On the 2-core CPU container shared with other work: 6,128 s, 1,092 s and ~78 min (BinomialBayesMixedGLM ~4 s a fit).

`tests/test_stats_runs.py` imports the simulators from here (the same simulations, fewer datasets).
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit, logit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from classit_utils import stats as S

CONDS = S.CONDITIONS
IT = tuple(c for c in CONDS if c != S.BASE)
COMPARISONS = ("conv - base", S.IT_VS_BASE, "sequential - merged")
ZS_TASKS = ("blimp", "ewok")
FT_TASKS = ("boolq", "rte", "mrpc")
RUN_SD = 0.25                  # tuned-run effect on the logit (zero-shot)
ZS_EFFECT = {"conv": 0.3, "qa": 0.1, "merged": 0.0, "seq_conv_qa": 0.4, "seq_qa_conv": 0.2}
FT_EFFECT = {"conv": 1.0, "qa": 0.5, "merged": 0.5, "seq_conv_qa": 1.5, "seq_qa_conv": 1.0}
CORR_R = {"base": 0.5, "conv": 0.55, "qa": 0.5, "merged": 0.5, "seq_conv_qa": 0.6, "seq_qa_conv": 0.55}


def contrasts(conds=CONDS) -> dict[str, dict[str, float]]:
    return {"conv - base": {"conv": 1.0, "base": -1.0}, **S.it_vs_base(conds), **S.SEQ_VS_MERGED}


def _run_names(size: str, c: str, p: int, j: int) -> tuple[str, int]:
    return (f"classit-{size}-base-p{p}", -1) if c == S.BASE else (f"classit-{size}-{c}-p{p}-s{j + 1}", j + 1)


# ----------------------------------------------------------------------------------------- simulators


def sim_zero_shot_runs(rng: np.random.Generator, n_runs: int = 3, n_items: int = 200, tasks=ZS_TASKS,
                       effects: dict[str, float] | None = None, run_sd: float = RUN_SD, item_sd: float = 1.0,
                       a: float = 0.5, conds=CONDS, size: str = "100m", pretrain_seeds: int = 1,
                       pretrain_sd: float = 0.0) -> pd.DataFrame:
    """Binary correctness, logit P = a + b_p + u_item + effect[condition] + e_run: u_item ~ N(0, item_sd^2)
    per task family (the same items for every model), e_run ~ N(0, run_sd^2) per tuned run (shared by its
    task families; 0 for the base), b_p ~ N(0, pretrain_sd^2) per pretrain seed (shared by its base and
    tuned runs). `n_runs` tuned runs per IT condition and pretrain seed."""
    effects = effects or {}
    u = {t: rng.normal(0.0, item_sd, n_items) for t in tasks}
    frames = []
    for p in range(pretrain_seeds):
        b = rng.normal(0.0, pretrain_sd) if pretrain_sd else 0.0
        for c in conds:
            for j in range(1 if c == S.BASE else n_runs):
                e = 0.0 if c == S.BASE else rng.normal(0.0, run_sd)
                model, tune = _run_names(size, c, p, j)
                for t in tasks:
                    y = (rng.random(n_items) < expit(a + b + u[t] + effects.get(c, 0.0) + e)).astype(int)
                    frames.append(pd.DataFrame({
                        "model": model, "size": size, "condition": c, "task": t,
                        "subtask": [f"p{i % 4}" for i in range(n_items)], "item_id": np.arange(n_items),
                        "correct": y, "pretrain_seed": p, "tune_seed": tune}))
    return pd.concat(frames, ignore_index=True)


def zs_truth(effects: dict[str, float], run_sd: float = RUN_SD, item_sd: float = 1.0, a: float = 0.5,
             conds=CONDS) -> dict[str, float]:
    """The run-level estimand of each comparison: E_run[logit E_item expit(a + u + effect + e)] minus the
    base's logit E_item expit(a + u) (Gauss-Hermite quadrature over u and e)."""
    x, w = np.polynomial.hermite_e.hermegauss(60)
    w = w / w.sum()

    def run_logit(eff: float, sd_e: float) -> float:
        p = (w[None, :] * expit(a + eff + item_sd * x[None, :] + sd_e * x[:, None])).sum(axis=1)
        return float((w * logit(p)).sum())

    level = {c: run_logit(effects.get(c, 0.0), 0.0 if c == S.BASE else run_sd) for c in conds}
    return {name: sum(wc * level[c] for c, wc in wt.items()) for name, wt in contrasts(conds).items()}


def sim_finetune_runs(rng: np.random.Generator, n_runs: int = 3, seeds: int = 2, tasks=FT_TASKS,
                      gain: dict[str, float] | None = None, run_sd: float = 1.0, run_task_sd: float = 0.5,
                      noise: float = 0.4, conds=CONDS, size: str = "100m", pretrain_seeds: int = 1,
                      pretrain_sd: float = 0.0) -> pd.DataFrame:
    """value = task level + gain[condition] + run effect N(0, run_sd^2) + run x task effect
    N(0, run_task_sd^2) (tuned runs only) + a pretrain-seed offset per task + seed noise
    N(0, (noise * (1 + k % 3))^2) per fine-tuning seed, in points."""
    gain = gain or {}
    rows = []
    for p in range(pretrain_seeds):
        off = rng.normal(0.0, pretrain_sd, len(tasks)) if pretrain_sd else np.zeros(len(tasks))
        for c in conds:
            for j in range(1 if c == S.BASE else n_runs):
                tuned = c != S.BASE
                e = rng.normal(0.0, run_sd) if tuned else 0.0
                model, tune = _run_names(size, c, p, j)
                for k, t in enumerate(tasks):
                    et = rng.normal(0.0, run_task_sd) if tuned else 0.0
                    for s in range(seeds):
                        rows.append({"model": model, "size": size, "condition": c, "task": t, "seed": s,
                                     "selection": "best", "metric": "accuracy",
                                     "value": 60.0 + 3 * k + off[k] + gain.get(c, 0.0) + e + et
                                     + rng.normal(0.0, noise * (1 + k % 3)),
                                     "pretrain_seed": p, "tune_seed": tune})
    return pd.DataFrame(rows)


def ft_truth(gain: dict[str, float], conds=CONDS) -> dict[str, float]:
    return {name: sum(wc * gain.get(c, 0.0) for c, wc in wt.items()) for name, wt in contrasts(conds).items()}


def sim_correlation_runs(rng: np.random.Generator, n_runs: int = 3, n_items: int = 200,
                         r: dict[str, float] | None = None, run_sd: float = 0.05, shared: float = 0.5,
                         tasks=("wug_adj",), conds=CONDS, size: str = "100m") -> pd.DataFrame:
    """score = r_run * target + sqrt(1 - r_run^2) * noise (standard-normal marginals), r_run = r[condition]
    + N(0, run_sd^2) for tuned runs; `shared` is the share of the noise variance common to every model."""
    r = r or {c: 0.5 for c in conds}
    frames = []
    for task in tasks:
        t = rng.normal(size=n_items)
        common = rng.normal(size=n_items)
        for c in conds:
            for j in range(1 if c == S.BASE else n_runs):
                rr = float(np.clip(r[c] + (rng.normal(0.0, run_sd) if c != S.BASE else 0.0), -0.99, 0.99))
                noise = np.sqrt(shared) * common + np.sqrt(1 - shared) * rng.normal(size=n_items)
                model, tune = _run_names(size, c, 0, j)
                frames.append(pd.DataFrame({"model": model, "size": size, "condition": c, "task": task,
                                            "item_id": np.arange(n_items), "target": t,
                                            "score": rr * t + np.sqrt(1 - rr ** 2) * noise,
                                            "pretrain_seed": 0, "tune_seed": tune}))
    return pd.concat(frames, ignore_index=True)


def corr_truth(r: dict[str, float], run_sd: float = 0.05, conds=CONDS) -> dict[str, float]:
    """E over runs of the Spearman rho of a bivariate normal, 6/pi asin(r/2), r = r_c + N(0, run_sd^2)."""
    x, w = np.polynomial.hermite_e.hermegauss(40)
    w = w / w.sum()
    level = {c: float((w * 6 / np.pi * np.arcsin(np.clip(r[c] + (run_sd if c != S.BASE else 0.0) * x, -.99, .99)
                                                 / 2)).sum()) for c in conds}
    return {name: sum(wc * level[c] for c, wc in wt.items()) for name, wt in contrasts(conds).items()}


# ---------------------------------------------------------------------------------------------- analyses


def analyse(kind: str, data: pd.DataFrame, runs: str, n_boot: int = 500, seed: int = 0,
            run_method: str = "mixedlm") -> pd.DataFrame:
    """The claims' pooled comparisons (`COMPARISONS`) of one dataset: estimate, ci_low, ci_high, p, method."""
    cons = contrasts(sorted(set(data["condition"])))
    if kind == "zero_shot":
        eff = S.zero_shot_effects(data, contrasts=cons, pooled=True, runs=runs)
    elif kind == "finetune":
        eff = S.finetune_effects(data, contrasts=cons, runs=runs, run_method=run_method).query("task == 'pooled'")
    elif kind == "correlation":
        eff = S.correlation_bootstrap(data, contrasts=cons, runs=runs, n_boot=n_boot, seed=seed).effects
    else:
        raise ValueError(kind)
    return eff.set_index("comparison")[["estimate", "ci_low", "ci_high", "p", "method"]]


SIMS = {"zero_shot": (sim_zero_shot_runs, ZS_EFFECT, zs_truth, "effects"),
        "finetune": (sim_finetune_runs, FT_EFFECT, ft_truth, "gain"),
        "correlation": (sim_correlation_runs, CORR_R, corr_truth, "r")}


def _effect(kind: str, planted: bool) -> dict[str, float]:
    effect = SIMS[kind][1]
    if kind == "correlation":
        return effect if planted else {c: effect[S.BASE] for c in CONDS}
    return effect if planted else {}


def simulate(kind: str, rng: np.random.Generator, n_runs: int, planted: bool, **kw) -> pd.DataFrame:
    """One simulated dataset of `kind` (zero_shot, finetune, correlation); planted effects or none."""
    sim, _, _, arg = SIMS[kind]
    return sim(rng, n_runs=n_runs, **{arg: _effect(kind, planted)}, **kw)


def truth(kind: str, planted: bool, conds=CONDS) -> dict[str, float]:
    """The value of each comparison the run-level analysis estimates."""
    return SIMS[kind][2](_effect(kind, planted), conds=conds)


def calibrate(kind: str, n_runs: int, planted: bool, n_datasets: int, seed: int = 0, methods=("run", "item"),
              n_item: int | None = None, conds=CONDS, run_method: str = "mixedlm", **kw) -> pd.DataFrame:
    """Per method x comparison over `n_datasets` simulated datasets (the item-only analysis on the first
    `n_item` of them, default all): the rejection rate at 0.05 (`reject`), the interval's coverage of the
    truth (`cover`) and, run level, the share of fits where MixedLM fell back to the run means."""
    rng = np.random.default_rng([seed, n_runs, int(planted), len(kind)])
    tr = pd.Series(truth(kind, planted, conds))
    n_item = n_datasets if n_item is None else n_item
    out = []
    for i in range(n_datasets):
        data = simulate(kind, rng, n_runs, planted, conds=conds, **kw)
        for m in methods:
            if m == "item" and i >= n_item:
                continue
            e = analyse(kind, data, m, seed=i, run_method=run_method)
            t = tr.reindex(e.index)
            out.append(pd.DataFrame({"method": m, "comparison": e.index, "reject": (e["p"] < 0.05).to_numpy(),
                                     "cover": ((e["ci_low"] <= t) & (t <= e["ci_high"])).to_numpy(),
                                     "fallback": e["method"].str.contains("run means used").to_numpy()}))
    res = pd.concat(out).groupby(["method", "comparison"], sort=False)[["reject", "cover", "fallback"]].mean()
    return res.reset_index().assign(kind=kind, n_runs=n_runs, planted=planted, datasets=n_datasets)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", type=int, default=1000)
    ap.add_argument("--kinds", default="zero_shot,finetune,correlation")
    ap.add_argument("--runs", default="2,3")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--alternatives", type=int, default=0, help="datasets for the rejected alternatives")
    ap.add_argument("--bayes", type=int, default=100, help="of which fitted by BinomialBayesMixedGLM (~4 s each)")
    ap.add_argument("--alt-kinds", default="zero_shot,correlation", help="and/or finetune")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    t0 = time.time()
    if args.alternatives:
        alternatives(args.alternatives, [int(r) for r in args.runs.split(",")], args.seed, n_bayes=args.bayes,
                     kinds=args.alt_kinds.split(","))
        return
    rows = []
    for kind in args.kinds.split(","):
        for n_runs in (int(r) for r in args.runs.split(",")):
            for planted in (False, True):
                t1 = time.time()
                rows.append(calibrate(kind, n_runs, planted, args.datasets, args.seed))
                r = rows[-1].set_index(["method", "comparison"])["cover" if planted else "reject"].round(3)
                print(f"# {kind}, {n_runs} runs, {'planted: coverage' if planted else 'null: FPR'} "
                      f"{r.to_dict()} ({time.time() - t1:.0f} s)", flush=True)
    res = pd.concat(rows)
    table = res.pivot_table(index=["kind", "n_runs", "comparison"], columns=["planted", "method"],
                            values=["reject", "cover"], sort=False)
    fpr = table["reject"][False].rename(columns={"run": "FPR run-level", "item": "FPR item-only"})
    cov = table["cover"][True].rename(columns={"run": "coverage run-level", "item": "coverage item-only"})
    out = pd.concat([fpr, cov], axis=1)
    fb = res[res["method"] == "run"].groupby(["kind", "n_runs", "comparison"], sort=False)["fallback"].mean()
    if (fb.index.get_level_values("kind") == "finetune").any():
        out["MixedLM fell back to run means"] = fb.where(fb.index.get_level_values("kind") == "finetune")
    print(f"\n{args.datasets} datasets per row and column (alpha 0.05; coverage of the planted effect by the "
          f"95% interval); {time.time() - t0:.0f} s\n")
    print(markdown(out))


def markdown(df: pd.DataFrame) -> str:
    """A pipe table (numbers to 3 decimals) without `tabulate`."""
    df = df.reset_index() if not isinstance(df.index, pd.RangeIndex) else df
    cols = [" ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in df.columns]
    cell = lambda v: ("–" if np.isnan(v) else f"{v:.3f}") if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(cols) + " |",
             "| " + " | ".join("---:" if pd.api.types.is_float_dtype(df[c]) else "---" for c in df.columns) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- rejected alternatives


def _zs_alternatives(data: pd.DataFrame, rng: np.random.Generator, n_boot: int, bayes: bool) -> dict[str, float]:
    """p-values of `conv - base` (pooled zero-shot, no effect) under the alternatives to the two-stage t."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    from scipy import stats as sps
    from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

    out = {}
    f = "correct ~ C(condition, Treatment('base')) + C(task)"
    term = "C(condition, Treatment('base'))[T.conv]"
    # GEE clustered on runs (models), exchangeable within a run, sandwich covariance
    res = smf.gee(f, groups=data["model"], data=data.assign(correct=data["correct"] * 1.0),
                  family=sm.families.Binomial(), cov_struct=sm.cov_struct.Exchangeable()).fit()
    out["GEE clustered on runs (sandwich)"] = float(res.pvalues[term])
    # cluster bootstrap over runs of the two-stage estimate (tuned runs resampled within condition)
    runs = S._runs_of(data, S.BASE)
    values = S._zs_run_values(data, list(runs["model"]), sorted(data["task"].unique()))[0]
    conv = values[(runs["condition"] == "conv").to_numpy()]
    b = values[(runs["condition"] == S.BASE).to_numpy()].mean()
    draws = conv[rng.integers(0, len(conv), (n_boot, len(conv)))].mean(axis=1) - b
    out["bootstrap over runs (percentile)"] = float(min(1.0, 2 * min(np.mean(draws <= 0), np.mean(draws >= 0))))
    # the run-level t without the item term (the runs' spread only), and with the item GEE's whole variance
    # added instead of the method-of-moments term (the tuned runs' item noise then counts twice)
    t = S._run_level(runs, values, {"conv": 1.0, S.BASE: -1.0}, 0.05, S.BASE)
    eff = S.zero_shot_effects(data, contrasts={"c": {"conv": 1.0, S.BASE: -1.0}}, pooled=True, runs="item").iloc[0]
    n_it = runs.loc[runs["tuned"], "condition"].nunique()
    df_run = int(runs["tuned"].sum()) - n_it
    s2 = float(np.sum([np.sum((values[(runs["condition"] == c).to_numpy()]
                               - values[(runs["condition"] == c).to_numpy()].mean()) ** 2)
                       for c in runs.loc[runs["tuned"], "condition"].unique()])) / df_run
    v_run = s2 / len(conv)
    out["run-level t, no item term"] = float(2 * sps.t.sf(abs(t.est) / np.sqrt(v_run), df_run))
    v_gee = ((eff["ci_high"] - eff["ci_low"]) / (2 * sps.norm.ppf(0.975))) ** 2
    out["run-level t + GEE item variance"] = float(2 * sps.t.sf(abs(t.est) / np.sqrt(v_run + v_gee), df_run))
    out["_se ratio GEE-added / this module"] = float(np.sqrt(v_run + v_gee) / t.se)
    if bayes:   # crossed item and tuned-run random effects, variational Bayes, normal interval
        data = data.assign(item=data["task"] + ":" + data["item_id"].astype(str),
                           tuned=(data["condition"] != S.BASE).astype(float))
        m = BinomialBayesMixedGLM.from_formula(f, {"item": "0 + C(item)", "run": "0 + C(model):tuned"}, data)
        r = m.fit_vb()
        j = list(m.exog_names).index(term)
        out["BinomialBayesMixedGLM (VB)"] = float(2 * sps.norm.sf(abs(r.fe_mean[j]) / r.fe_sd[j]))
    return out


def _corr_alternatives(data: pd.DataFrame, rng: np.random.Generator, n_boot: int) -> dict[str, float]:
    """p of `conv - base` (correlation, no effect): a bootstrap over runs (within condition) and items
    together, percentile, the literal reading of 'bootstrap over runs and items'."""
    runs = S._runs_of(data, S.BASE)
    score = data.pivot(index="item_id", columns="model", values="score")[list(runs["model"])].to_numpy(float)
    target = data.groupby("item_id")["target"].first().to_numpy(float)
    idx = rng.integers(0, len(target), (n_boot, len(target)))
    rho = np.stack([S._spearman(score[idx, j], target[idx], axis=-1) for j in range(score.shape[1])])  # runs x B
    cond = runs["condition"].to_numpy()
    conv, base = np.flatnonzero(cond == "conv"), np.flatnonzero(cond == S.BASE)
    pick = conv[rng.integers(0, len(conv), (n_boot, len(conv)))]
    draws = rho[pick, np.arange(n_boot)[:, None]].mean(axis=1) - rho[base].mean(axis=0)
    return {"bootstrap over runs and items together": float(min(1.0, 2 * min(np.mean(draws <= 0),
                                                                          np.mean(draws >= 0))))}


def _ft_alternatives(data: pd.DataFrame) -> dict[str, dict[str, float]]:
    """p of `conv - base` and `IT - base` (fine-tuning pooled run means, no effect) with the containment df
    (tuned runs - IT conditions) and with the Satterthwaite df this module uses."""
    runs = S._runs_of(data, S.BASE)
    tasks = sorted(data["task"].unique())
    cell = data.groupby(["task", "model"])["value"].agg(["mean", "count", "var"])
    values, cov, df_seed = S._ft_run_values(cell, runs, tasks)
    cons = {"conv - base": {"conv": 1.0, S.BASE: -1.0}, **S.it_vs_base(data["condition"])}
    return {f"run means, {how}": {name: S._run_level(runs, values, w, 0.05, S.BASE, cov, df_seed, satterthwaite=sat).p
                                  for name, w in cons.items()}
            for how, sat in (("containment df", False), ("Satterthwaite df (this module)", True))}


CORR_SETTINGS = {"run sd 0.05, shared noise 0.5": {},                  # the calibration's setting
                 "run sd 0.10, shared noise 0.8": {"run_sd": 0.1, "shared": 0.8}}   # run variance dominates


def alternatives(n_datasets: int, runs_list, seed: int = 0, n_boot: int = 999, n_bayes: int = 100,
                 kinds=("zero_shot", "correlation")) -> pd.DataFrame:
    """FPR at 0.05 of `conv - base` under the alternatives the issue names (zero-shot: GEE clustered on runs,
    cluster bootstrap over runs, BinomialBayesMixedGLM; correlation: bootstrap over runs and items together,
    in the calibration's setting and one where run variance dominates the item noise; fine-tuning: the
    containment df, also for `IT - base`), next to the run-level analysis on the same simulated null data."""
    rows = []
    for n_runs in runs_list:
        jobs = [("zero_shot", "", {}, np.random.default_rng([seed, n_runs, 99]))] if "zero_shot" in kinds else []
        if "finetune" in kinds:
            jobs.append(("finetune", "", {}, np.random.default_rng([seed, n_runs, 99, 0])))
        if "correlation" in kinds:
            jobs += [("correlation", name, kw, np.random.default_rng([seed, n_runs, 99, j + 1]))
                     for j, (name, kw) in enumerate(CORR_SETTINGS.items())]
        for kind, setting, kw, rng in jobs:
            t0 = time.time()
            ps = []
            for i in range(n_datasets):
                data = simulate(kind, rng, n_runs, planted=False, **kw)
                if kind == "finetune":
                    ps.append(_ft_alternatives(data))
                    continue
                p = (_zs_alternatives(data, rng, n_boot, i < n_bayes) if kind == "zero_shot"
                     else _corr_alternatives(data, rng, n_boot))
                p["run-level (this module)"] = float(analyse(kind, data, "run", seed=i).loc["conv - base", "p"])
                ps.append(p)
            if kind == "finetune":
                for m in ps[0]:
                    p = pd.DataFrame([x[m] for x in ps])
                    rows.append({"kind": kind, "n_runs": n_runs, "method": m, "datasets": len(p),
                                 **{f"FPR {c}": float((p[c] < 0.05).mean()) for c in p}})
                print(f"# {kind}, {n_runs} runs: {time.time() - t0:.0f} s", flush=True)
                continue
            ps = pd.DataFrame(ps)
            ratio = ps.pop("_se ratio GEE-added / this module") if "_se ratio GEE-added / this module" in ps else None
            rows += [{"kind": kind + (f" ({setting})" if setting else ""), "n_runs": n_runs, "method": m,
                      "datasets": int(ps[m].notna().sum()), "FPR conv - base": float((ps[m].dropna() < 0.05).mean())}
                     for m in ps]
            if ratio is not None:
                print(f"# SE of run-level t + GEE item variance / this module's: median {ratio.median():.3f}")
            print(f"# {kind} {setting}, {n_runs} runs: {time.time() - t0:.0f} s", flush=True)
    out = pd.DataFrame(rows)
    print("\nnull datasets (no condition effect), alpha 0.05\n")
    print(markdown(out))
    return out


if __name__ == "__main__":
    main()
