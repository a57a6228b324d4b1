"""Statistics of the study: condition comparisons with intervals and corrections, and the claims verdicts.

Claims tested (README): (1) IT gives small consistent gains in fine-tuning; (2) sequential curricula
(`seq_conv_qa`, `seq_qa_conv`) beat the merged one; (3) the gains do not carry over to zero-shot tasks.

Inputs are tidy pandas tables; their schemas are the `Schema` constants below (`ZERO_SHOT_ITEMS`,
`CORRELATION_ITEMS`, `READING_DELTAS`, `FINETUNE`, `SUMMARY`, `LOSS_CURVES`), which producers should
follow and `Schema.validate` checks. Every comparison function returns rows of the `EFFECTS` schema, so
per-task, pooled and contrast results stack into one table and plot with `plots.plot_effects`.

Comparisons are linear contrasts of conditions, `{condition: weight}` with weights summing to zero:
`vs_base(...)` gives each condition minus the base, `it_vs_base(...)` the mean of all IT conditions minus the
base, `SEQ_VS_MERGED` the mean of the two sequential curricula minus merged.

Methods (all from statsmodels / scipy):
- zero-shot items: GEE, binomial family, logit link, exchangeable working correlation within an item (the
  same item answered by every model), robust (sandwich) covariance; effects are population-averaged
  log-odds ratios, with odds ratios and a paired (over items) difference in accuracy;
- fine-tuning: OLS `value ~ condition` per size x task (t-intervals over seeds, pooled residual variance
  across conditions), pooled over tasks by OLS `value ~ condition + task` (task fixed effects, HC3);
  a bootstrap over seeds is the alternative;
- correlation tasks: Spearman rho per model with a bootstrap over items (`scipy.stats.bootstrap`), and the
  paired difference of conditions (same resampled items for every model);
- Holm correction over a family of comparisons (`multipletests(method="holm")`).
Everything is deterministic given `seed`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.tools.sm_exceptions import ConvergenceWarning

__all__ = [
    "Schema", "ZERO_SHOT_ITEMS", "CORRELATION_ITEMS", "READING_DELTAS", "FINETUNE", "SUMMARY", "LOSS_CURVES",
    "EFFECTS", "CLAIMS", "CONDITIONS", "BASE", "MERGED", "SEQUENTIAL", "SEQ_VS_MERGED", "IT_VS_BASE",
    "condition_order", "as_conditions",
    "Contrasts", "vs_base", "it_vs_base", "zscores", "iqr_table", "zero_shot_effects", "finetune_effects",
    "contrast", "correlation_bootstrap", "CorrelationBootstrap", "reading_differences", "holm", "claims_table",
    "verdict", "HYPOTHESES", "decision_rule", "NO_VARIATION", "NO_VARIATION_WITHIN",
]

# --------------------------------------------------------------------------------------------- schemas


@dataclass(frozen=True)
class Schema:
    """A tidy table's columns (name -> meaning) and the columns that identify a row."""
    name: str
    columns: Mapping[str, str]
    keys: tuple[str, ...]

    def validate(self, df: pd.DataFrame) -> pd.DataFrame:
        """Raise `ValueError` (one line, naming the schema) on missing columns, missing values in the
        schema's columns or duplicated keys; return `df` unchanged (extra columns are allowed)."""
        missing = [c for c in self.columns if c not in df.columns]
        if missing:
            raise ValueError(f"{self.name}: missing column(s) {', '.join(missing)} "
                             f"(expected {', '.join(self.columns)})")
        nan = [c for c in self.columns if df[c].isna().any()]
        if nan:
            raise ValueError(f"{self.name}: missing values in column(s) {', '.join(nan)}")
        if self.keys and df.duplicated(list(self.keys)).any():
            raise ValueError(f"{self.name}: duplicated rows for key ({', '.join(self.keys)})")
        return df


_ID = {"model": "model name (one trained model)", "size": "model size: 100m, 140m (tiny in demos)",
       "condition": "base (untuned control), conv, qa, merged, seq_conv_qa, seq_qa_conv"}

ZERO_SHOT_ITEMS = Schema("zero-shot items", {
    **_ID, "task": "task family: blimp, supplement, ewok, entity_tracking, comps",
    "subtask": "paradigm / domain / file (the pipeline's UID)",
    "item_id": "item id, the same for every model (e.g. the item's `file:line` source)",
    "correct": "1 if the model ranked the correct candidate first, else 0"},
    keys=("model", "size", "condition", "task", "subtask", "item_id"))

CORRELATION_ITEMS = Schema("correlation items", {
    **_ID, "task": "wug_adj, wug_past, ...", "item_id": "item id, the same for every model",
    "score": "the model's prediction for the item (e.g. probability of one form)",
    "target": "the human value for the item (e.g. the human ratio)"},
    keys=("model", "size", "condition", "task", "item_id"))

READING_DELTAS = Schema("reading delta R2", {
    **_ID, "task": "reading", "measure": "eye-tracking / self-paced reading measure",
    "delta_r2": "R2 gain of the OLS regression when surprisal is added to the baseline predictors"},
    keys=("model", "size", "condition", "task", "measure"))

FINETUNE = Schema("fine-tuning results", {
    **_ID, "task": "boolq, multirc, rte, wsc, mrpc, qqp, mnli", "seed": "fine-tuning seed",
    "selection": "checkpoint selection rule (e.g. best-dev, last)", "metric": "accuracy, f1, ... (one per task)",
    "value": "the metric, in percent (0-100) as the BabyLM pipeline reports it"},
    keys=("model", "size", "condition", "task", "seed", "selection", "metric"))

SUMMARY = Schema("summary", {
    **_ID, "task": "any task, zero-shot or fine-tuning", "score": "the task's headline score, higher is better"},
    keys=("model", "size", "condition", "task"))

LOSS_CURVES = Schema("loss curves", {
    "run": "run name (model, or model + IT condition)", "step": "optimizer step",
    "loss": "training (or validation) loss", "phase": "pretrain or it (or any label: one panel each)"},
    keys=("run", "phase", "step"))

EFFECTS = Schema("effects", {
    "size": "model size", "task": "task name, or 'pooled' for a pooled fit",
    "comparison": "contrast name, e.g. 'conv - base', 'sequential - merged'",
    "scale": "log_odds (zero-shot), points (fine-tuning), rho (correlation)",
    "estimate": "effect estimate on `scale`", "ci_low": "lower end of the interval", "ci_high": "upper end",
    "p": "two-sided p-value (unadjusted)", "n": "items (zero-shot, correlation) or runs (fine-tuning) used",
    "method": "how it was estimated"},
    keys=("size", "task", "comparison"))   # fine-tuning rows also carry `selection`: filter to one to plot

CLAIMS = Schema("claims", {
    "size": "model size", "claim": "claim id", "hypothesis": "the claim the row tests, as a statement",
    "evidence": "which data and estimate answer it", "scale": "scale of the estimate",
    "estimate": "effect", "ci_low": "95% interval", "ci_high": "95% interval", "p": "unadjusted p",
    "p_holm": "Holm-adjusted p over every row of the table", "expected": "'> 0' (gain) or '~ 0' (no transfer)",
    "margin": "smallest effect that matters, on `scale`", "verdict": "supported / not supported / inconclusive",
    "note": "why a row has no test (no variation), else empty"},
    keys=("size", "claim"))

CONDITIONS = ("base", "conv", "qa", "merged", "seq_conv_qa", "seq_qa_conv")
BASE = "base"
MERGED = "merged"
SEQUENTIAL = ("seq_conv_qa", "seq_qa_conv")

Contrasts = Mapping[str, Mapping[str, float]]
SEQ_VS_MERGED: dict[str, dict[str, float]] = {
    "sequential - merged": {SEQUENTIAL[0]: 0.5, SEQUENTIAL[1]: 0.5, MERGED: -1.0}}
IT_VS_BASE = "IT - base"


def condition_order(conditions: Iterable[str], base: str = BASE) -> list[str]:
    """The one order of conditions in every table and figure: distinct values, the base first, then the
    study's order (`CONDITIONS`), then any others alphabetically."""
    rank = {c: i for i, c in enumerate(CONDITIONS)}
    return sorted(set(conditions), key=lambda c: (c != base, rank.get(c, len(rank)), c))


def as_conditions(values: pd.Series, base: str = BASE) -> pd.Categorical:
    """`values` as an ordered categorical in `condition_order` (sorting a table by it sorts conditions)."""
    return pd.Categorical(values, categories=condition_order(values, base), ordered=True)


def vs_base(conditions: Iterable[str], base: str = BASE) -> dict[str, dict[str, float]]:
    """Each condition minus the base: `{"conv - base": {"conv": 1, "base": -1}, ...}`."""
    return {f"{c} - {base}": {c: 1.0, base: -1.0} for c in condition_order(conditions, base) if c != base}


def it_vs_base(conditions: Iterable[str], base: str = BASE) -> dict[str, dict[str, float]]:
    """The mean of all IT conditions minus the base (claim 1's 'does IT help')."""
    its = [c for c in condition_order(conditions, base) if c != base]
    return {IT_VS_BASE: {**{c: 1.0 / len(its) for c in its}, base: -1.0}} if its else {}


def _check_contrasts(contrasts: Contrasts, present: set[str]) -> None:
    for name, w in contrasts.items():
        if abs(sum(w.values())) > 1e-9:
            raise ValueError(f"contrast {name!r}: weights must sum to 0, got {dict(w)}")
        unknown = set(w) - present
        if unknown:
            raise ValueError(f"contrast {name!r}: condition(s) {', '.join(sorted(unknown))} not in the data "
                             f"(present: {', '.join(sorted(present))})")


# ------------------------------------------------------------------------------------- z-scores, IQR


def zscores(summary: pd.DataFrame, within: Sequence[str] = ("task",), ddof: int = 0,
            lower_is_better: Iterable[str] = ()) -> pd.DataFrame:
    """The summary (`SUMMARY`) with a `z` column: each score standardized across the models of its task
    (`within` the given columns; population SD by default, `ddof=0`). Tasks in `lower_is_better` are
    negated first, so higher z is always better. A task whose scores are all equal gets z = 0."""
    SUMMARY.validate(summary)
    out = summary.copy()
    sign = np.where(out["task"].isin(set(lower_is_better)), -1.0, 1.0)
    signed = out["score"].astype(float) * sign
    grouped = signed.groupby([out[c] for c in within])
    sd = grouped.transform(lambda s: s.std(ddof=ddof))
    out["z"] = ((signed - grouped.transform("mean")) / sd.where(sd > 0)).fillna(0.0)
    return out


def iqr_table(z: pd.DataFrame, by: Sequence[str] = ("size", "condition"), value: str = "z") -> pd.DataFrame:
    """Median and interquartile range (25th / 75th percentile, linear interpolation) of `value` per group:
    columns `*by, n, median, q25, q75, iqr`, groups in the study's condition order."""
    g = z.groupby(list(by), sort=False)[value]
    out = pd.DataFrame({"n": g.size(), "median": g.median(), "q25": g.quantile(0.25), "q75": g.quantile(0.75)})
    out["iqr"] = out["q75"] - out["q25"]
    out = out.reset_index()
    if "condition" in out:
        out = (out.assign(_c=as_conditions(out["condition"]))
               .sort_values([*(b for b in by if b != "condition"), "_c"]).drop(columns="_c"))
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------------------ zero-shot


def _formula(outcome: str, base: str, fixed: Sequence[str] = ()) -> str:
    """`outcome ~ C(condition, Treatment(base)) [+ C(fixed) ...]`: the base is the reference level, so each
    condition's coefficient is its difference from the base."""
    return " + ".join([f"{outcome} ~ C(condition, Treatment({base!r}))", *(f"C(Q({f!r}))" for f in fixed)])


def _contrast_vector(names: Sequence[str], weights: Mapping[str, float], base: str) -> np.ndarray:
    L = np.zeros(len(names))
    for c, w in weights.items():
        name = f"C(condition, Treatment({base!r}))[T.{c}]"
        if name in names:            # the reference condition is the intercept's: its coefficient is 0
            L[list(names).index(name)] = w
    return L


def _test(res: Any, weights: Mapping[str, float], alpha: float, base: str) -> tuple[float, ...]:
    """(estimate, ci_low, ci_high, p) of a linear contrast of a fitted statsmodels formula result."""
    t = res.t_test(_contrast_vector(res.model.exog_names, weights, base)[None, :])
    lo, hi = np.asarray(t.conf_int(alpha=alpha)).ravel()
    return float(np.squeeze(t.effect)), float(lo), float(hi), float(np.squeeze(t.pvalue))


NO_VARIATION = "no variation in the compared values: no test"
NO_VARIATION_WITHIN = "no variation within conditions (every run scored the same): no test"


def _flat(values: np.ndarray) -> bool:
    """True when `values` are all equal up to float rounding (relative 1e-9)."""
    values = np.asarray(values, float)
    values = values[~np.isnan(values)]
    return len(values) == 0 or float(np.ptp(values)) <= 1e-9 * max(1.0, float(np.abs(values).max()))


def _untested(est: float, scale: float, note: str) -> tuple[float, float, float, float, str]:
    """A comparison without variation: the estimate (rounding noise set to 0), no interval, no p-value."""
    est = 0.0 if abs(est) <= 1e-9 * max(1.0, scale) else est
    return est, np.nan, np.nan, np.nan, note


def _paired_mean(d: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """Mean of paired differences with its t-interval (NaN interval when undefined)."""
    d = d[~np.isnan(d)]
    if len(d) < 2:
        return (float(d.mean()) if len(d) else np.nan), np.nan, np.nan
    if np.ptp(d) == 0:
        return float(d[0]), float(d[0]), float(d[0])
    lo, hi = sps.ttest_1samp(d, 0.0).confidence_interval(1 - alpha)
    return float(d.mean()), float(lo), float(hi)


def zero_shot_effects(items: pd.DataFrame, base: str = BASE, contrasts: Contrasts | None = None,
                      pooled: bool = False, subtask_effects: bool = False, alpha: float = 0.05,
                      maxiter: int = 100) -> pd.DataFrame:
    """Condition effects on item-level zero-shot correctness (`ZERO_SHOT_ITEMS`), per size x task family,
    or per size pooled over families with task fixed effects (`pooled=True`, `task` = 'pooled').

    Model: GEE `correct ~ condition [+ task | + subtask]`, binomial family, logit link, exchangeable
    working correlation within an item (`task, subtask, item_id`), robust covariance, normal intervals.
    The estimand is the population-averaged (marginal) log-odds ratio; with items that differ in
    difficulty it is smaller in magnitude than the conditional (item-specific) one of a mixed model.
    Contrasts default to each condition minus `base`. Each row (`EFFECTS`) also has `odds_ratio`,
    `or_low`, `or_high` (exp of the log-odds and its interval) and `acc_diff`, `acc_low`, `acc_high`:
    the same contrast of accuracies (fractions), a paired t-interval over the items every contrasted
    condition answered. Several models of one size x condition are treated as repeated answers of that
    condition (model-to-model variance is then not in the interval)."""
    ZERO_SHOT_ITEMS.validate(items)
    if not items["correct"].isin([0, 1]).all():
        raise ValueError("zero-shot items: `correct` must be 0 or 1")
    rows = []
    keys = ["size"] if pooled else ["size", "task"]
    for key, df in items.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        size, task = key[0], ("pooled" if pooled else key[1])
        conds = condition_order(df["condition"], base)
        cons = dict(contrasts) if contrasts is not None else vs_base(conds, base)
        _check_contrasts(cons, set(conds))
        df = df.sort_values(["task", "subtask", "item_id", "condition", "model"]).reset_index(drop=True)
        cluster = df.groupby(["task", "subtask", "item_id"], sort=False).ngroup().to_numpy()
        if subtask_effects:               # subtask fixed effects (nested in, so replacing, task's)
            df["task/subtask"] = df["task"].astype(str) + "/" + df["subtask"].astype(str)
        fixed = ["task/subtask"] if subtask_effects else (["task"] if pooled else [])
        model = smf.gee(_formula("correct", base, fixed), groups=cluster, data=df.assign(correct=df["correct"] * 1.0),
                        family=sm.families.Binomial(), cov_struct=sm.cov_struct.Exchangeable())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = model.fit(maxiter=maxiter)
        acc = df.pivot_table(index=["task", "subtask", "item_id"], columns="condition", values="correct",
                             aggfunc="mean")
        for name, w in cons.items():
            cols = list(w)
            d = (acc[cols].dropna() * pd.Series(w)).sum(axis=1).to_numpy()
            note = ""
            if _flat(d):      # every item answered alike by the compared conditions: GEE would fit noise
                est, lo, hi, p, note = _untested(0.0, 1.0, NO_VARIATION)
            else:
                est, lo, hi, p = _test(res, w, alpha, base)
            ad, alo, ahi = _paired_mean(d, alpha)
            n_items = int(df.loc[df["condition"].isin(cols), ["task", "subtask", "item_id"]]
                          .drop_duplicates().shape[0])
            rows.append({"size": size, "task": task, "comparison": name, "scale": "log_odds", "estimate": est,
                         "ci_low": lo, "ci_high": hi, "p": p, "n": n_items,
                         "method": "GEE binomial, exchangeable within item"
                         + (" + subtask FE" if subtask_effects else " + task FE" if pooled else ""),
                         "odds_ratio": np.exp(est), "or_low": np.exp(lo), "or_high": np.exp(hi),
                         "acc_diff": ad, "acc_low": alo, "acc_high": ahi, "note": note})
    return pd.DataFrame(rows, columns=[*EFFECTS.columns, "odds_ratio", "or_low", "or_high",
                                       "acc_diff", "acc_low", "acc_high", "note"])


# ---------------------------------------------------------------------------------------- fine-tuning


def _boot_contrast(samples: list[np.ndarray], weights: list[float], n_boot: int, seed: int,
                   alpha: float) -> tuple[float, float, float, float, str]:
    """Bootstrap (resampling each sample independently) of sum_k w_k mean(sample_k): estimate, percentile
    interval, a two-sided bootstrap p-value (twice the smaller tail share beyond 0) and a note (why there
    is no test, when there is none)."""
    w = np.asarray(weights, float)

    def stat(*xs: np.ndarray, axis: int = -1) -> np.ndarray:
        return sum(wk * x.mean(axis=axis) for wk, x in zip(w, xs))

    est = float(stat(*samples))
    scale = max(float(np.abs(np.concatenate(samples)).max()), 1.0)
    if all(_flat(x) for x in samples):
        return _untested(est, scale, NO_VARIATION if _flat(np.concatenate(samples)) else NO_VARIATION_WITHIN)
    if any(len(s) < 2 for s in samples):
        return est, np.nan, np.nan, np.nan, "fewer than 2 runs in a condition: no interval"
    res = sps.bootstrap(tuple(samples), stat, n_resamples=n_boot, vectorized=True, paired=False,
                        confidence_level=1 - alpha, method="percentile", random_state=np.random.default_rng(seed))
    dist = res.bootstrap_distribution
    p = min(1.0, 2 * min(np.mean(dist <= 0), np.mean(dist >= 0)))
    return est, float(res.confidence_interval.low), float(res.confidence_interval.high), float(p), ""


def finetune_effects(ft: pd.DataFrame, base: str = BASE, contrasts: Contrasts | None = None,
                     method: str = "ols", pooled: bool = True, pooled_cov: str = "HC3", alpha: float = 0.05,
                     n_boot: int = 2000, seed: int = 0, paired: bool = False) -> pd.DataFrame:
    """Condition effects on fine-tuning results (`FINETUNE`), in metric points, per size x task (x
    selection) and, with `pooled`, per size pooled over tasks (`task` = 'pooled'; claim 1).

    `method="ols"` (default, right for few seeds): per task `value ~ condition` by OLS; a contrast's interval
    is a t-interval with the residual degrees of freedom (variance pooled across conditions). Pooled: OLS
    `value ~ condition + task` (task fixed effects, `pooled_cov` covariance, t-intervals), whose residual
    holds both seed noise and task-to-task variation of the effects, so the interval is wide when gains
    are inconsistent across tasks. `method="bootstrap"`: seeds resampled within each condition (and task),
    percentile intervals, bootstrap p; pooled is the equal-weight mean over tasks of the per-task contrast.
    By default seeds of different conditions are independent runs. `paired=True` (OLS only) blocks on
    the seed: a fine-tuning seed draws the same head and data order for every condition, so the model
    gets a fixed effect per seed (per task x seed when pooled) and seed-to-seed variation shared by all
    conditions leaves the residual; with every seed in every condition the estimates are unchanged.
    Extra columns: `selection`, `metric` (one per task; 'mixed' when pooled), `df` (residual df, OLS)."""
    FINETUNE.validate(ft)
    if method not in ("ols", "bootstrap"):
        raise ValueError(f"finetune_effects: unknown method {method!r} (ols, bootstrap)")
    if paired and method != "ols":
        raise ValueError("finetune_effects: paired=True needs method='ols' (seed fixed effects)")
    blocks = []
    if paired:
        ft = ft.assign(block=ft["task"].astype(str) + ":" + ft["seed"].astype(str))
        blocks = ["block"]
    how = ", seed-paired" if paired else ""
    rows = []

    def fit(df: pd.DataFrame, cons: Contrasts, fixed: Sequence[str], cov: str) -> list:
        y = df["value"].astype(float)
        res = smf.ols(_formula("value", base, fixed), data=df.assign(value=y)).fit(cov_type=cov, use_t=True)
        scale = max(float(y.abs().max()), 1.0)
        out = []
        for name, w in cons.items():
            est, lo, hi, p = _test(res, w, alpha, base)
            note = ""
            compared = y[df["condition"].isin(list(w)).to_numpy()]
            if _flat(compared):                               # identical values: the fit's t is rounding noise
                est, lo, hi, p, note = _untested(est, scale, NO_VARIATION)
            elif np.sqrt(max(res.scale, 0.0)) <= 1e-9 * scale:   # no residual variance to test against
                est, lo, hi, p, note = _untested(est, scale, NO_VARIATION_WITHIN)
            out.append((name, est, lo, hi, p, note, float(res.df_resid)))
        return out

    for (size, selection), dsz in ft.groupby(["size", "selection"], sort=True):
        conds = condition_order(dsz["condition"], base)
        cons = dict(contrasts) if contrasts is not None else vs_base(conds, base)
        _check_contrasts(cons, set(conds))
        for task, df in dsz.groupby("task", sort=True):
            df = df.sort_values(["condition", "model", "seed"]).reset_index(drop=True)
            tconds = condition_order(df["condition"], base)
            tcons = {k: w for k, w in cons.items() if set(w) <= set(tconds)}
            metric = ",".join(sorted(df["metric"].unique()))
            if method == "ols":
                for name, est, lo, hi, p, note, dfr in fit(df, tcons, blocks, "nonrobust"):
                    rows.append(_ft_row(size, task, name, est, lo, hi, p, note, df, tcons[name],
                                        f"OLS per task{how}, t-interval", selection, metric, dfr))
            else:
                for name, w in tcons.items():
                    samples = [df.loc[df["condition"] == c, "value"].to_numpy(float) for c in w]
                    est, lo, hi, p, note = _boot_contrast(samples, list(w.values()), n_boot, seed, alpha)
                    rows.append(_ft_row(size, task, name, est, lo, hi, p, note, df, w, "bootstrap over seeds",
                                        selection, metric, np.nan))
        if not pooled:
            continue
        tasks = sorted(dsz["task"].unique())
        full = {k: w for k, w in cons.items()
                if all(set(w) <= set(dsz.loc[dsz["task"] == t, "condition"]) for t in tasks)}
        df = dsz.sort_values(["task", "condition", "model", "seed"]).reset_index(drop=True)
        if method == "ols":
            # task x seed blocks nest the task fixed effects
            for name, est, lo, hi, p, note, dfr in fit(df, full, blocks or ["task"], pooled_cov):
                rows.append(_ft_row(size, "pooled", name, est, lo, hi, p, note, df, full[name],
                                    f"OLS + task FE{how} ({pooled_cov}), t-interval", selection, "mixed", dfr))
        else:
            for name, w in full.items():
                samples, weights = [], []
                for t in tasks:
                    for c, wc in w.items():
                        samples.append(df.loc[(df["task"] == t) & (df["condition"] == c), "value"].to_numpy(float))
                        weights.append(wc / len(tasks))
                est, lo, hi, p, note = _boot_contrast(samples, weights, n_boot, seed, alpha)
                rows.append(_ft_row(size, "pooled", name, est, lo, hi, p, note, df, w,
                                    "bootstrap over seeds, mean over tasks", selection, "mixed", np.nan))
    return pd.DataFrame(rows, columns=[*EFFECTS.columns, "selection", "metric", "df", "note"])


def _ft_row(size: Any, task: str, name: str, est: float, lo: float, hi: float, p: float, note: str,
            df: pd.DataFrame, w: Mapping[str, float], method: str, selection: Any, metric: str,
            dfr: float) -> dict[str, Any]:
    n = int(df["condition"].isin(list(w)).sum())
    return {"size": size, "task": task, "comparison": name, "scale": "points", "estimate": est, "ci_low": lo,
            "ci_high": hi, "p": p, "n": n, "method": method, "selection": selection, "metric": metric, "df": dfr,
            "note": note}


# ---------------------------------------------------------------------------------------- correlation


class CorrelationBootstrap(NamedTuple):
    """`rho`: per size x task x model (`model, condition, rho, ci_low, ci_high, n`); `effects`: contrasts
    of the conditions' rho (`EFFECTS`, scale 'rho')."""
    rho: pd.DataFrame
    effects: pd.DataFrame


def _spearman(score: np.ndarray, target: np.ndarray, axis: int = -1) -> np.ndarray:
    """Spearman rho along `axis` (average ranks for ties): Pearson correlation of the ranks."""
    rs = sps.rankdata(score, axis=axis)
    rt = sps.rankdata(target, axis=axis)
    rs = rs - rs.mean(axis=axis, keepdims=True)
    rt = rt - rt.mean(axis=axis, keepdims=True)
    den = np.sqrt((rs ** 2).sum(axis=axis) * (rt ** 2).sum(axis=axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rs * rt).sum(axis=axis) / den


def correlation_bootstrap(items: pd.DataFrame, n_boot: int = 2000, seed: int = 0, base: str = BASE,
                          contrasts: Contrasts | None = None, alpha: float = 0.05,
                          method: str = "percentile") -> CorrelationBootstrap:
    """Spearman rho between `score` and `target` per model (`CORRELATION_ITEMS`), per size x task, with a
    bootstrap over items (`scipy.stats.bootstrap`, `method` percentile or BCa), and contrasts of the
    conditions' rho (default: each condition minus `base`), paired over items: every replicate resamples
    the same items for every model. A condition's rho is the mean over its models. Items are those every
    model of the size x task answered. The p-value of a contrast is the two-sided bootstrap p (twice the
    smaller share of replicates beyond 0). Deterministic given `seed` (the same generator seed per group)."""
    CORRELATION_ITEMS.validate(items)
    rho_rows, eff_rows = [], []
    for (size, task), df in items.groupby(["size", "task"], sort=True):
        conds = condition_order(df["condition"], base)
        cons = dict(contrasts) if contrasts is not None else vs_base(conds, base)
        _check_contrasts(cons, set(conds))
        rank = {c: i for i, c in enumerate(conds)}
        models = df[["model", "condition"]].drop_duplicates()
        models = models.iloc[sorted(range(len(models)), key=lambda i: (rank[models["condition"].iloc[i]],
                                                                       models["model"].iloc[i]))]
        score = df.pivot(index="item_id", columns="model", values="score")[list(models["model"])].dropna()
        target = df.groupby("item_id")["target"].first().loc[score.index].to_numpy(float)
        S = score.to_numpy(float)                                 # items x models
        k = S.shape[1]
        cond_of = models["condition"].to_numpy()
        # condition contrast weights on models: w_c / (number of models in c)
        W = np.array([[w.get(c, 0.0) / (cond_of == c).sum() for c in cond_of] for w in cons.values()])
        W = W.reshape(len(cons), k)

        def stat(t: np.ndarray, *cols: np.ndarray, axis: int = -1) -> np.ndarray:
            r = np.stack([_spearman(c, t, axis=axis) for c in cols], axis=0)     # models x ...
            return np.concatenate([r, np.tensordot(W, r, axes=(1, 0))], axis=0)

        data = (target, *(S[:, j] for j in range(k)))
        est = stat(*data)
        res = sps.bootstrap(data, stat, n_resamples=n_boot, vectorized=True, paired=True,
                            confidence_level=1 - alpha, method=method, random_state=np.random.default_rng(seed))
        lo = np.atleast_1d(res.confidence_interval.low)
        hi = np.atleast_1d(res.confidence_interval.high)
        dist = res.bootstrap_distribution
        n = len(target)
        for j, (m, c) in enumerate(models.itertuples(index=False)):
            rho_rows.append({"size": size, "task": task, "model": m, "condition": c, "rho": est[j],
                             "ci_low": lo[j], "ci_high": hi[j], "n": n})
        for i, name in enumerate(cons):
            d = dist[k + i]
            e, elo, ehi = est[k + i], lo[k + i], hi[k + i]
            p, note = min(1.0, 2 * min(np.mean(d <= 0), np.mean(d >= 0))), ""
            if _flat(d):          # the compared models rank every resample alike (e.g. identical scores)
                e, elo, ehi, p, note = _untested(e, 1.0, NO_VARIATION)
            eff_rows.append({"size": size, "task": task, "comparison": name, "scale": "rho",
                             "estimate": e, "ci_low": elo, "ci_high": ehi, "p": float(p),
                             "n": n, "method": f"bootstrap over items ({method}, {n_boot})", "note": note})
    return CorrelationBootstrap(
        pd.DataFrame(rho_rows, columns=["size", "task", "model", "condition", "rho", "ci_low", "ci_high", "n"]),
        pd.DataFrame(eff_rows, columns=[*EFFECTS.columns, "note"]))


def reading_differences(deltas: pd.DataFrame, base: str = BASE) -> pd.DataFrame:
    """Descriptive only (an aggregate table has no items to resample): each condition's ΔR² minus the
    base's, per size x task x measure (mean over models of a condition). Columns `size, task, measure,
    condition, delta_r2, base_delta_r2, difference`."""
    READING_DELTAS.validate(deltas)
    m = deltas.groupby(["size", "task", "measure", "condition"], as_index=False)["delta_r2"].mean()
    b = m[m["condition"] == base].rename(columns={"delta_r2": "base_delta_r2"}).drop(columns="condition")
    out = m[m["condition"] != base].merge(b, on=["size", "task", "measure"], how="inner")
    out["difference"] = out["delta_r2"] - out["base_delta_r2"]
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------- contrasts, Holm, claims


def contrast(data: pd.DataFrame, kind: str, plus: Sequence[str] = SEQUENTIAL, minus: Sequence[str] = (MERGED,),
             name: str | None = None, **kwargs: Any) -> pd.DataFrame:
    """mean(`plus`) - mean(`minus`) (default: sequential curricula minus merged) on `kind` data:
    'finetune' (`finetune_effects`, per task and pooled), 'zero_shot' (`zero_shot_effects`; pass
    `pooled=True` for the pooled fit) or 'correlation' (`correlation_bootstrap`'s effects). `kwargs` go to
    that function. Returns `EFFECTS` rows."""
    name = name or (f"mean({', '.join(plus)}) - mean({', '.join(minus)})"
                    if (tuple(plus), tuple(minus)) != (SEQUENTIAL, (MERGED,)) else "sequential - merged")
    w = {c: 1.0 / len(plus) for c in plus}
    for c in minus:
        w[c] = w.get(c, 0.0) - 1.0 / len(minus)
    cons = {name: w}
    if kind == "finetune":
        return finetune_effects(data, contrasts=cons, **kwargs)
    if kind == "zero_shot":
        return zero_shot_effects(data, contrasts=cons, **kwargs)
    if kind == "correlation":
        return correlation_bootstrap(data, contrasts=cons, **kwargs).effects
    raise ValueError(f"contrast: unknown kind {kind!r} (finetune, zero_shot, correlation)")


def holm(pvalues: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray | pd.Series:
    """Holm-adjusted p-values over one family (`multipletests(method="holm")`), in the input's order
    (a Series keeps its index). NaNs stay NaN and are not counted in the family."""
    p = pd.Series(pvalues, dtype=float) if not isinstance(pvalues, pd.Series) else pvalues.astype(float)
    out = pd.Series(np.nan, index=p.index)
    ok = p.notna()
    if ok.any():
        out[ok] = multipletests(p[ok].to_numpy(), method="holm")[1]
    return out if isinstance(pvalues, pd.Series) else out.to_numpy()


def verdict(expected: str, estimate: float, ci_low: float, ci_high: float, p_adj: float, margin: float,
            alpha: float = 0.05) -> str:
    """The claims table's rule. `expected="> 0"` (a gain is claimed):
    'supported' if p_adj < alpha and estimate > 0; else 'not supported' if ci_high < margin (a gain as
    large as the margin is ruled out, which includes a significant loss); else 'inconclusive'.
    `expected="~ 0"` (no transfer is claimed): 'supported' if ci_high < margin (no gain of the margin's
    size); else 'not supported' if p_adj < alpha and estimate > 0; else 'inconclusive'. NaN -> inconclusive."""
    if any(np.isnan(v) for v in (estimate, ci_low, ci_high, p_adj)):
        return "inconclusive"
    if expected == "> 0":
        if p_adj < alpha and estimate > 0:
            return "supported"
        return "not supported" if ci_high < margin else "inconclusive"
    if expected == "~ 0":
        if ci_high < margin:
            return "supported"
        return "not supported" if (p_adj < alpha and estimate > 0) else "inconclusive"
    raise ValueError(f"verdict: unknown expectation {expected!r} ('> 0', '~ 0')")


HYPOTHESES = {
    "ft_it": "IT gives a fine-tuning gain (mean of the IT conditions above the base)",
    "ft_seq": "Sequential curricula beat the merged one in fine-tuning",
    "zs_it": "IT gains do not carry over to zero-shot accuracy",
    "zs_seq": "The sequential advantage does not carry over to zero-shot accuracy",
    "corr_it": "IT gains do not carry over to {task} (Spearman rho)",
}


def decision_rule(alpha: float, ft_margin: float, zs_margin: float, rho_margin: float) -> str:
    """The claims table's verdict rule in words (markdown), with the study's margins."""
    return (f"Each row tests one hypothesis; `p_holm` is Holm-adjusted over every row. A claimed **gain** is "
            f"*supported* when `p_holm` < {alpha:g} and the estimate is positive, *not supported* when the 95% "
            f"interval excludes a gain as large as the margin ({ft_margin:g} points in fine-tuning), otherwise "
            f"*inconclusive*. A claimed **absence of transfer** is *supported* when the interval excludes a gain as "
            f"large as the margin ({zs_margin:g} log-odds zero-shot, {rho_margin:g} in ρ), *not supported* when "
            f"there is a significant gain, otherwise *inconclusive*. A row without variation has no test and is "
            f"*inconclusive* (its note says so).")


def claims_table(finetune: pd.DataFrame | None = None, zero_shot: pd.DataFrame | None = None,
                 correlation: pd.DataFrame | None = None, base: str = BASE, alpha: float = 0.05,
                 ft_margin: float = 0.5, zs_margin: float = 0.1, rho_margin: float = 0.05,
                 n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per size x question (`CLAIMS`), from whichever tables are given:
    - `ft_it` (claim 1, expected > 0): fine-tuning, mean of all IT conditions minus base, pooled over tasks
      (OLS + task fixed effects, points);
    - `ft_seq` (claim 2, > 0): fine-tuning, mean of the sequential curricula minus merged, pooled;
    - `zs_it` (claim 3, ~ 0): zero-shot items, IT minus base, GEE pooled over task families (log-odds);
    - `zs_seq` (claim 3, ~ 0): zero-shot items, sequential minus merged, pooled (log-odds);
    - `corr_it:<task>` (claim 3, ~ 0): correlation tasks, IT minus base in Spearman rho (bootstrap).
    Questions need their conditions (claim 2 rows appear only when both sequential curricula and merged
    are present). `p_holm` is Holm-adjusted over every row of the table (all sizes): one family.
    Verdicts follow `verdict` with the margins: `ft_margin` in metric points (0-100 scale), `zs_margin`
    in log-odds, `rho_margin` in rho. In words: a claimed gain is 'supported' when its Holm-adjusted p is
    below `alpha` and the estimate is positive, 'not supported' when the 95% interval excludes a gain as
    large as the margin, otherwise 'inconclusive'; claimed absence of transfer is 'supported' when the
    interval excludes a gain as large as the margin, 'not supported' when there is a significant positive
    effect, otherwise 'inconclusive'."""
    rows: list[dict[str, Any]] = []
    seq_ok = lambda conds: set(SEQUENTIAL) | {MERGED} <= set(conds)  # noqa: E731

    def add(size: Any, claim: str, hypothesis: str, evidence: str, r: pd.Series, expected: str, margin: float):
        rows.append({"size": size, "claim": claim, "hypothesis": hypothesis, "evidence": evidence,
                     "scale": r["scale"], "estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "p": r["p"], "expected": expected, "margin": margin, "note": r.get("note", "") or ""})

    if finetune is not None:
        for size, df in finetune.groupby("size", sort=True):
            cons = {**it_vs_base(df["condition"], base), **(SEQ_VS_MERGED if seq_ok(df["condition"]) else {})}
            eff = finetune_effects(df, base=base, contrasts=cons, alpha=alpha)
            for _, r in eff[eff["task"] == "pooled"].iterrows():
                it = r["comparison"] == IT_VS_BASE
                sel = f", selection {r['selection']}" if df["selection"].nunique() > 1 else ""
                add(size, ("ft_it" if it else "ft_seq") + (f"@{r['selection']}" if sel else ""),
                    HYPOTHESES["ft_it"] if it else HYPOTHESES["ft_seq"],
                    f"fine-tuning, {r['comparison']}, pooled over {df['task'].nunique()} tasks{sel}",
                    r, "> 0", ft_margin)
    if zero_shot is not None:
        for size, df in zero_shot.groupby("size", sort=True):
            cons = {**it_vs_base(df["condition"], base), **(SEQ_VS_MERGED if seq_ok(df["condition"]) else {})}
            eff = zero_shot_effects(df, base=base, contrasts=cons, pooled=True, alpha=alpha)
            for _, r in eff.iterrows():
                it = r["comparison"] == IT_VS_BASE
                add(size, "zs_it" if it else "zs_seq",
                    HYPOTHESES["zs_it"] if it else HYPOTHESES["zs_seq"],
                    f"zero-shot items, {r['comparison']}, pooled over {df['task'].nunique()} task families",
                    r, "~ 0", zs_margin)
    if correlation is not None:
        for size, df in correlation.groupby("size", sort=True):
            eff = correlation_bootstrap(df, n_boot=n_boot, seed=seed, base=base,
                                        contrasts=it_vs_base(df["condition"], base), alpha=alpha).effects
            for _, r in eff.iterrows():
                add(size, f"corr_it:{r['task']}", HYPOTHESES["corr_it"].format(task=r["task"]),
                    f"{r['task']} Spearman rho, {r['comparison']}, bootstrap over items", r, "~ 0", rho_margin)
    out = pd.DataFrame(rows, columns=[c for c in CLAIMS.columns if c not in ("p_holm", "verdict")])
    out["note"] = out["note"].fillna("")
    out = out.sort_values("size", kind="stable").reset_index(drop=True)
    out["p_holm"] = holm(out["p"].to_numpy()) if len(out) else []
    out["verdict"] = [verdict(r.expected, r.estimate, r.ci_low, r.ci_high, r.p_holm, r.margin, alpha)
                      for r in out.itertuples()]
    return out[list(CLAIMS.columns)]
