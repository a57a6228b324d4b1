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

Replicated runs. A run is a model (`model`): each IT condition may be tuned several times from the same
pretrained base (tuning seeds), and there may be several pretrained bases (optional column
`pretrain_seed`, 0 when absent; `tune_seed` is informative only). The untuned base of a pretrain seed is
the control of that seed's IT runs and has no tuning noise, so tuned runs are analysed relative to their
own base (paired within pretrain seed), with the run as the unit of replication: run-to-run variance is in
every interval. `zero_shot_effects`, `finetune_effects`, `correlation_bootstrap` and `claims_table` take
`runs="auto"` ('auto' | 'item' | 'run'): with >= 2 runs in an IT condition of a size the run-level analysis
is used, otherwise the methods above, unchanged, whose rows then carry the note `ONE_RUN` (zero-shot,
correlation: `ONE_RUN_ITEMS`). Rows have `n_runs` (tuned runs per compared IT condition, the smallest).
With one pretrain seed the run-level intervals are conditional on that pretrained base (`ONE_PRETRAIN`).
Calibration (FPR and coverage against the item-level analyses): benchmarks/calibration.py and
benchmarks/RESULTS.md.
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
from statsmodels.regression.mixed_linear_model import VCSpec
from statsmodels.stats.multitest import multipletests
from statsmodels.tools.sm_exceptions import ConvergenceWarning

__all__ = [
    "Schema", "ZERO_SHOT_ITEMS", "CORRELATION_ITEMS", "READING_DELTAS", "FINETUNE", "SUMMARY", "LOSS_CURVES",
    "EFFECTS", "CLAIMS", "CONDITIONS", "BASE", "MERGED", "SEQUENTIAL", "SEQ_VS_MERGED", "IT_VS_BASE",
    "condition_order", "as_conditions",
    "Contrasts", "vs_base", "it_vs_base", "zscores", "iqr_table", "zero_shot_effects", "finetune_effects",
    "contrast", "correlation_bootstrap", "CorrelationBootstrap", "reading_differences", "holm", "claims_table",
    "verdict", "HYPOTHESES", "decision_rule", "NO_VARIATION", "NO_VARIATION_WITHIN",
    "run_spread", "RUN_MODES", "ONE_RUN", "ONE_RUN_ITEMS", "ONE_RUN_READING", "ITEM_ONLY", "ONE_PRETRAIN",
    "NO_RUN_DF", "ONE_SEED",
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
    "n_runs": "tuned runs per compared IT condition (the smallest); 1: one run per condition",
    "note": "why a row has no test (no variation), else what its interval does not cover (e.g. `ONE_RUN`)"},
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
    distinct = conditions.unique() if isinstance(conditions, pd.Series) else conditions
    return sorted(set(distinct), key=lambda c: (c != base, rank.get(c, len(rank)), c))


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


def run_spread(table: pd.DataFrame, value_col: str = "score",
               by: Sequence[str] = ("size", "task", "condition")) -> pd.DataFrame:
    """The spread of a score over runs (models), for the figure of run-to-run variation: per group of `by`,
    `n_runs, mean, sd, min, max` of the per-run value (the mean of `value_col` over the run's rows: seeds,
    measures). `value_col="correct"` (zero-shot items) gives per-run accuracy in percent. Works on `SUMMARY`
    (default `score`), `FINETUNE` (`value`; add `selection` to `by`), `ZERO_SHOT_ITEMS`, `READING_DELTAS`.
    `sd` is the sample SD (NaN for one run). Groups in the study's condition order."""
    scale = 100.0 if value_col == "correct" else 1.0
    per_run = table.groupby([*by, "model"], sort=False, observed=True)[value_col].mean() * scale
    g = per_run.groupby(level=list(range(len(by))), sort=False)
    out = pd.DataFrame({"n_runs": g.size(), "mean": g.mean(), "sd": g.std(), "min": g.min(),
                        "max": g.max()}).reset_index()
    keys = [b for b in by if b != "condition"]
    if "condition" in by:
        out = out.assign(_c=as_conditions(out["condition"])).sort_values([*keys, "_c"]).drop(columns="_c")
    else:
        out = out.sort_values(keys)
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


# ------------------------------------------------------------------------------------------ runs


ONE_RUN = ("one run per condition: run-to-run variance is not estimable; the interval covers items and "
           "fine-tuning seeds only")
ONE_RUN_ITEMS = "one run per condition: run-to-run variance is not estimable; the interval covers items only"
ITEM_ONLY = ("runs='item': the runs of a condition are treated as repeated answers; run-to-run variance is not "
             "in the interval")
ONE_PRETRAIN = ("one pretrained base: the interval is conditional on it (pretraining-seed variation is not in "
                "it)")
NO_RUN_DF = "no IT condition has 2 runs: run-to-run variance is not estimable, no run-level interval"
ONE_RUN_READING = ("one run per condition: run-to-run variance is not estimable and there are no items to "
                   "resample: no interval")
ONE_SEED = "one fine-tuning seed per run: the base's seed noise is not in the interval"
RUN_MODES = ("auto", "item", "run")


def _runs_of(df: pd.DataFrame, base: str) -> pd.DataFrame:
    """One row per run (= model): `model, condition, pretrain_seed, tuned`, in condition order. Without a
    `pretrain_seed` column every run is of pretrain seed 0."""
    code, models = pd.factorize(df["model"])
    first = np.unique(code, return_index=True)[1]
    cols = {"model": np.asarray(models, dtype=object)}
    for c in ("condition", "pretrain_seed"):
        if c not in df:
            cols[c] = np.zeros(len(models), int)
            continue
        v = df[c].to_numpy()
        if (v != v[first][code]).any():
            bad = models[int(code[np.flatnonzero(v != v[first][code])[0]])]
            raise ValueError(f"model {bad!r} has several conditions or pretrain seeds: a model is one run")
        cols[c] = v[first]
    runs = pd.DataFrame(cols)
    runs = runs.assign(tuned=runs["condition"] != base, _c=as_conditions(runs["condition"], base))
    return runs.sort_values(["_c", "pretrain_seed", "model"]).drop(columns="_c").reset_index(drop=True)


def _use_runs(df: pd.DataFrame, base: str, runs: str) -> bool:
    """Run-level analysis? 'auto': when any IT condition of `df` (one size) has >= 2 runs (models)."""
    if runs not in RUN_MODES:
        raise ValueError(f"runs: unknown mode {runs!r} ({', '.join(RUN_MODES)})")
    if runs != "auto":
        return runs == "run"
    return bool((df.loc[df["condition"] != base].groupby("condition")["model"].nunique() >= 2).any())


def _counts(df: pd.DataFrame) -> pd.DataFrame:
    """Per condition: `rows` and `runs` (models)."""
    cond, names = pd.factorize(df["condition"])
    model, models = pd.factorize(df["model"])
    pairs = np.unique(cond * len(models) + model) // max(len(models), 1)
    return pd.DataFrame({"rows": np.bincount(cond, minlength=len(names)),
                         "runs": np.bincount(pairs, minlength=len(names))}, index=names)


def _n_runs(counts: pd.DataFrame, w: Mapping[str, float], base: str) -> int:
    """Runs (models) per compared IT condition (`_counts`); the smallest when they differ (1 when only the
    base is there)."""
    n = [int(counts.at[c, "runs"]) for c in w if c != base]
    return min(n) if n else 1


def _item_counter(df: pd.DataFrame) -> Any:
    """cols -> the number of distinct items (`task, subtask, item_id`) the conditions `cols` answered."""
    items = df.groupby(["task", "subtask", "item_id"], sort=False).ngroup().to_numpy()
    code, names = pd.factorize(df["condition"])
    return lambda cols: int(np.unique(items[np.isin(code, [i for i, c in enumerate(names) if c in cols])]).size)


def _item_note(note: str, replicated: bool, one_run: str) -> str:
    """The note of a tested row of the item-level (old) analysis: why run variance is not in the interval."""
    return note or (ITEM_ONLY if replicated else one_run)


class _RunTest(NamedTuple):
    est: float
    lo: float
    hi: float
    p: float
    df: float
    note: str
    se: float


def _run_level(runs: pd.DataFrame, values: np.ndarray, weights: Mapping[str, float], alpha: float, base: str,
               cov: np.ndarray | None = None, df_item: float = np.inf, satterthwaite: bool = True) -> _RunTest:
    """A contrast with the run as the unit of replication (two-stage analysis, stage 2).

    `values`: one number per run of `runs` (`_runs_of`), e.g. a run's logit accuracy. Each tuned run is
    paired to the base of its pretrain seed (the base has no tuning noise, so it is a fixed offset, not a
    run): OLS over tuned runs of `value - base value` on condition without intercept; the residual variance
    is pooled over IT conditions with df = tuned runs - IT conditions. A contrast among IT conditions only
    (no base weight) needs no base: with several pretrain seeds it is blocked on pretrain seed instead (df
    one less per extra seed). `cov`: the item- (or seed-) sampling covariance of `values` across runs
    (items are shared, so it is not diagonal). Its share in the residual (the runs' own sampling noise) is
    already in the run variance; what the residual cannot see, the base's own noise and item-set effects
    shared by the runs of a condition, is added: V = s2 |a|^2 + a'Ca - N |a|^2, N = tr(M C_y) / df the
    item-noise part of the residual variance (M the residual projection), floored at max(s2 |a|^2, a'Ca).
    t-interval with Satterthwaite df (run part: df, item part: `df_item`) or, `satterthwaite=False`, the
    run df (containment)."""
    tuned = runs["tuned"].to_numpy(bool)
    cond, pre = runs["condition"].to_numpy(), runs["pretrain_seed"].to_numpy()
    ti = np.flatnonzero(tuned)
    its = [c for c in condition_order(cond[ti], base) if c != base]
    X = (cond[ti][:, None] == np.array(its, dtype=object)[None, :]).astype(float)
    L = np.array([weights.get(c, 0.0) for c in its])
    T = np.zeros((len(ti), len(runs)))              # y = T @ values: tuned runs, minus their base if paired
    T[np.arange(len(ti)), ti] = 1.0
    pres = sorted(set(pre[ti]))
    if abs(weights.get(base, 0.0)) > 0:
        for j, p in enumerate(pre[ti]):
            b = np.flatnonzero(~tuned & (pre == p))
            if not len(b):
                raise ValueError(f"pretrain seed {p}: tuned runs but no {base!r} model to pair them with")
            T[j, b] -= 1.0 / len(b)
    elif len(pres) > 1:
        X = np.hstack([X, (pre[ti][:, None] == np.array(pres[1:])[None, :]).astype(float)])
        L = np.concatenate([L, np.zeros(len(pres) - 1)])
    y = T @ np.asarray(values, float)
    note = ONE_PRETRAIN if len(pres) == 1 else ""
    df_run = len(y) - np.linalg.matrix_rank(X)
    if df_run < 1:
        res = sm.OLS(y, X).fit() if len(y) else None
        est = float(L @ res.params) if res is not None else np.nan
        return _RunTest(est, np.nan, np.nan, np.nan, np.nan, NO_RUN_DF, np.nan)
    res = sm.OLS(y, X).fit()
    est = float(L @ res.params)
    at = X @ res.normalized_cov_params @ L             # the contrast's weights on y (est = at @ y)
    aa = float(at @ at)
    v_run = float(res.scale) * aa
    v = v_run
    if cov is not None:
        a = T.T @ at                                   # ... and on every run's value
        q = float(a @ cov @ a)
        M = np.eye(len(y)) - X @ res.normalized_cov_params @ X.T
        noise = float(np.trace(M @ T @ cov @ T.T)) / df_run
        v = max(v_run + q - noise * aa, v_run, q)
    scale = max(1.0, float(np.abs(values).max())) if len(values) else 1.0
    if np.sqrt(v) <= 1e-9 * scale:
        flat = _flat(np.asarray(values)[np.abs(T).sum(axis=0) > 0])
        e, lo, hi, p, why = _untested(est, scale, NO_VARIATION if flat else NO_VARIATION_WITHIN)
        return _RunTest(e, lo, hi, p, float(df_run), why, np.nan)
    v_item = v - v_run
    df = v ** 2 / (v_run ** 2 / df_run + v_item ** 2 / df_item) if satterthwaite else float(df_run)
    se = float(np.sqrt(v))
    half = float(sps.t.ppf(1 - alpha / 2, df)) * se
    p = float(2 * sps.t.sf(abs(est) / se, df))
    return _RunTest(est, est - half, est + half, p, float(df), note, se)


def _zs_run_values(df: pd.DataFrame, models: Sequence[str], tasks: Sequence[str]) -> tuple[np.ndarray, ...]:
    """Stage 1 of the run-level zero-shot analysis. Per run: the empirical logit of its accuracy,
    log((k + 0.5) / (n - k + 0.5)), and its accuracy, each the mean over task families of the per-family
    value (task fixed effects, in a balanced design); and the item-sampling covariance of those values across
    runs (items are shared by all runs): the cluster (over items) variance of the delta-method influence
    g_r (y_ir - p_r) of each item on each run's value. Returns (logit, acc, cov_logit, cov_acc, df_items)."""
    F = len(tasks)
    vals, covs = np.zeros((2, len(models))), np.zeros((2, len(models), len(models)))
    df_items = 0
    for task in tasks:
        sub = df[df["task"] == task]
        Y = sub.pivot(index=["subtask", "item_id"], columns="model", values="correct").reindex(columns=models)
        Y = Y.to_numpy(float)
        ok = ~np.isnan(Y)
        k, n, m = np.nansum(Y, axis=0), ok.sum(axis=0), len(Y)
        if (n == 0).any():
            raise ValueError(f"zero-shot items: model {models[int(np.argmin(n))]!r} answered no {task} item")
        p = k / n
        centred = np.where(ok, Y - p, 0.0)
        for j, (value, g) in enumerate(((np.log((k + 0.5) / (n - k + 0.5)), 1 / (k + 0.5) + 1 / (n - k + 0.5)),
                                        (p, 1 / n))):
            Z = centred * g
            vals[j] += value / F
            if m > 1:
                covs[j] += m / (m - 1) * (Z.T @ Z) / F ** 2
        df_items += m - 1
    return vals[0], vals[1], covs[0], covs[1], max(df_items, 1)


def zero_shot_effects(items: pd.DataFrame, base: str = BASE, contrasts: Contrasts | None = None,
                      pooled: bool = False, subtask_effects: bool = False, alpha: float = 0.05,
                      maxiter: int = 100, runs: str = "auto") -> pd.DataFrame:
    """Condition effects on item-level zero-shot correctness (`ZERO_SHOT_ITEMS`), per size x task family,
    or per size pooled over families (`pooled=True`, `task` = 'pooled'). Contrasts default to each
    condition minus `base`. Each row (`EFFECTS`) also has `odds_ratio`, `or_low`, `or_high` (exp of the
    log-odds and its interval), `acc_diff`, `acc_low`, `acc_high` (the same contrast of accuracies, as
    fractions), `n_runs` (runs per compared IT condition, the smallest), `df` and `note`.

    `runs`: 'item' = one model per condition (or the runs of a condition treated as repeated answers), 'run'
    = the run-level analysis, 'auto' = 'run' when any IT condition of the size has >= 2 runs (models).

    Item level (`runs='item'`): GEE `correct ~ condition [+ task | + subtask]`, binomial family, logit link,
    exchangeable working correlation within an item (`task, subtask, item_id`), robust covariance, normal
    intervals. The estimand is the population-averaged (marginal) log-odds ratio; with items that differ in
    difficulty it is smaller in magnitude than the conditional (item-specific) one of a mixed model.
    `acc_*`: a paired t-interval over the items every contrasted condition answered. Run-to-run variance is
    not in these intervals (the note says so): with a tuned-run effect of sd 0.25 logits, 2 runs per
    condition and 200 items x 2 families, 25% of null datasets call `conv - base` significant at 0.05 and
    42% `sequential - merged` (benchmarks/RESULTS.md; more items, more false positives).

    Run level: two stages. (1) per run x task family the empirical logit of the run's accuracy (pooled: the
    mean over families, i.e. task fixed effects; `subtask_effects` is not used) and its item-sampling
    covariance across runs (`_zs_run_values`); (2) the contrast with the run as the unit (`_run_level`):
    tuned runs paired to the base of their pretrain seed, OLS on condition, t-interval from the residual
    variance between runs within conditions, plus the item-sampling variance the runs cannot show (the
    base's own item noise, and item-set effects shared by the runs of a condition): a method-of-moments
    term, not conservative by design; Satterthwaite df. The estimand is the mean over runs of the run's
    marginal (over items) log-odds, the GEE's scale. `acc_*` is the same analysis on accuracies.
    Null simulations (benchmarks/calibration.py; 2 | 3 runs per condition, FPR of `conv - base` at 0.05)
    decided the method: this one 0.060 | 0.050 (1,000 datasets); adding the item GEE's whole variance
    instead counts the tuned runs' item noise twice (SE x1.26-1.31, FPR 0.025 | 0.000); no item term at
    all misses the base's noise (0.075 | 0.080). Models with the runs inside reject far too often (200
    datasets): a GEE clustered on runs, whose sandwich has a single base cluster and few clusters overall
    (0.43 | 0.27); a cluster bootstrap over runs, whose variance is short by (n - 1) / n and whose
    distribution has n^n points (0.51 | 0.29); `BinomialBayesMixedGLM` with crossed item and run effects,
    whose variational posterior sd is too small with few runs (0.52 | 0.41, 100 datasets)."""
    ZERO_SHOT_ITEMS.validate(items)
    if not items["correct"].isin([0, 1]).all():
        raise ValueError("zero-shot items: `correct` must be 0 or 1")
    rows = []
    by_run = {size: _use_runs(d, base, runs) for size, d in items.groupby("size", sort=True)}
    keys = ["size"] if pooled else ["size", "task"]
    for key, df in items.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        size, task = key[0], ("pooled" if pooled else key[1])
        conds = condition_order(df["condition"], base)
        cons = dict(contrasts) if contrasts is not None else vs_base(conds, base)
        _check_contrasts(cons, set(conds))
        replicated = bool((df.loc[df["condition"] != base].groupby("condition")["model"].nunique() >= 2).any())
        if by_run[size]:
            rows += _zero_shot_runs(df, size, task, cons, base, alpha)
            continue
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
        n_of, counts = _item_counter(df), _counts(df)
        for name, w in cons.items():
            cols = list(w)
            d = (acc[cols].dropna() * pd.Series(w)).sum(axis=1).to_numpy()
            note = ""
            if _flat(d):      # every item answered alike by the compared conditions: GEE would fit noise
                est, lo, hi, p, note = _untested(0.0, 1.0, NO_VARIATION)
            else:
                est, lo, hi, p = _test(res, w, alpha, base)
            ad, alo, ahi = _paired_mean(d, alpha)
            n_items = n_of(cols)
            rows.append({"size": size, "task": task, "comparison": name, "scale": "log_odds", "estimate": est,
                         "ci_low": lo, "ci_high": hi, "p": p, "n": n_items,
                         "method": "GEE binomial, exchangeable within item"
                         + (" + subtask FE" if subtask_effects else " + task FE" if pooled else ""),
                         "odds_ratio": np.exp(est), "or_low": np.exp(lo), "or_high": np.exp(hi),
                         "acc_diff": ad, "acc_low": alo, "acc_high": ahi, "n_runs": _n_runs(counts, w, base),
                         "df": np.nan, "note": _item_note(note, replicated, ONE_RUN_ITEMS)})
    return pd.DataFrame(rows, columns=[*EFFECTS.columns, "odds_ratio", "or_low", "or_high",
                                       "acc_diff", "acc_low", "acc_high", "n_runs", "df", "note"])


def _zero_shot_runs(df: pd.DataFrame, size: Any, task: str, cons: Contrasts, base: str,
                    alpha: float) -> list[dict[str, Any]]:
    """`zero_shot_effects` rows of the run-level analysis of one size (x task)."""
    runs = _runs_of(df, base)
    tasks = sorted(df["task"].unique())
    logit, acc, c_logit, c_acc, df_items = _zs_run_values(df, list(runs["model"]), tasks)
    rows = []
    n_of, counts = _item_counter(df), _counts(df)
    for name, w in cons.items():
        t = _run_level(runs, logit, w, alpha, base, c_logit, df_items)
        a = _run_level(runs, acc, w, alpha, base, c_acc, df_items)
        n_items = n_of(list(w))
        rows.append({"size": size, "task": task, "comparison": name, "scale": "log_odds", "estimate": t.est,
                     "ci_low": t.lo, "ci_high": t.hi, "p": t.p, "n": n_items,
                     "method": "run-level t (per-run logit accuracy"
                     + (", mean over task families" if len(tasks) > 1 else "")
                     + ", paired to base) + item variance, Satterthwaite df",
                     "odds_ratio": np.exp(t.est), "or_low": np.exp(t.lo), "or_high": np.exp(t.hi),
                     "acc_diff": a.est, "acc_low": a.lo, "acc_high": a.hi, "n_runs": _n_runs(counts, w, base),
                     "df": t.df, "note": t.note})
    return rows


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
                     n_boot: int = 2000, seed: int = 0, paired: bool = False, runs: str = "auto",
                     run_method: str = "mixedlm") -> pd.DataFrame:
    """Condition effects on fine-tuning results (`FINETUNE`), in metric points, per size x task (x
    selection) and, with `pooled`, per size pooled over tasks (`task` = 'pooled'; claim 1).

    `runs`: 'item' = the analysis of one model per condition below (several runs of a condition are then
    treated as more seeds), 'run' = the run-level analysis, 'auto' = 'run' when any IT condition of the size
    has >= 2 runs (models).

    One model per condition. `method="ols"` (default, right for few seeds): per task `value ~ condition` by
    OLS; a contrast's interval is a t-interval with the residual degrees of freedom (variance pooled across
    conditions). Pooled: OLS `value ~ condition + task` (task fixed effects, `pooled_cov` covariance,
    t-intervals), whose residual holds both seed noise and task-to-task variation of the effects, so the
    interval is wide when gains are inconsistent across tasks. `method="bootstrap"`: seeds resampled within
    each condition (and task), percentile intervals, bootstrap p; pooled is the equal-weight mean over tasks
    of the per-task contrast. By default seeds of different conditions are independent runs. `paired=True`
    (OLS only) blocks on the seed: a fine-tuning seed draws the same head and data order for every
    condition, so the model gets a fixed effect per seed (per task x seed when pooled) and seed-to-seed
    variation shared by all conditions leaves the residual; with every seed in every condition the
    estimates are unchanged.

    Run level (`run_method`): 'mixedlm' = `MixedLM` (REML), fixed effects for the base of each pretrain seed
    x task and for each IT condition x task (effects relative to the base, so the base rows get no run
    effect), a random effect per tuned run (fine-tuning seeds nested in it), pooled also a run x task
    variance component; the pooled contrast is the mean over tasks of the per-task contrasts (tasks fixed).
    'means' = the two-stage analysis of run means (`_run_level`): each run's mean over seeds (pooled: over
    tasks too), tuned runs paired to their base, OLS t with the residual variance between runs, plus the
    base's seed-noise variance from the pooled within-run seed variance. For balanced data with a positive
    run variance the two give the same contrasts and standard errors (REML = ANOVA estimators); when REML
    does not converge or puts a variance component at 0 (often, with 2 runs), the run means are used and
    `method` says so. Intervals are t, not normal (few runs), with the Satterthwaite df of the run-means
    variance (run part: tuned runs - IT conditions; base seed part: the within-run df). The containment df
    (tuned runs - IT conditions) alone is conservative when the base's seed noise is a large share of the
    variance: in null simulations (benchmarks/calibration.py, 2 seeds, 1,000 datasets) it rejected a true
    `IT - base` at 0.05 in 1.3% (2 runs) and 3.0% (3 runs) of datasets, Satterthwaite in 4.3% and 4.9%.
    `paired` is not used at run level: seed offsets shared by every run cancel from run means (they only
    inflate the base's seed term). `method` must be 'ols' there.
    Extra columns: `selection`, `metric` (one per task; 'mixed' when pooled), `df` (residual df), `n_runs`,
    `note`."""
    FINETUNE.validate(ft)
    if method not in ("ols", "bootstrap"):
        raise ValueError(f"finetune_effects: unknown method {method!r} (ols, bootstrap)")
    if paired and method != "ols":
        raise ValueError("finetune_effects: paired=True needs method='ols' (seed fixed effects)")
    if run_method not in ("mixedlm", "means"):
        raise ValueError(f"finetune_effects: unknown run_method {run_method!r} (mixedlm, means)")
    by_run = {size: _use_runs(d, base, runs) for size, d in ft.groupby("size", sort=True)}
    if method != "ols" and any(by_run.values()):
        raise ValueError("finetune_effects: the run-level analysis (replicated runs) needs method='ols'; "
                         "runs='item' for the bootstrap over seeds")
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
        if by_run[size]:
            rows += _finetune_runs(dsz, size, selection, cons, base, alpha, pooled, run_method, paired)
            continue
        rep = bool((dsz.loc[dsz["condition"] != base].groupby("condition")["model"].nunique() >= 2).any())
        for task, df in dsz.groupby("task", sort=True):
            df = df.sort_values(["condition", "model", "seed"]).reset_index(drop=True)
            tconds = condition_order(df["condition"], base)
            tcons = {k: w for k, w in cons.items() if set(w) <= set(tconds)}
            metric = ",".join(sorted(df["metric"].unique()))
            if method == "ols":
                for name, est, lo, hi, p, note, dfr in fit(df, tcons, blocks, "nonrobust"):
                    rows.append(_ft_row(size, task, name, est, lo, hi, p, _item_note(note, rep, ONE_RUN), df,
                                        tcons[name], f"OLS per task{how}, t-interval", selection, metric, dfr, base))
            else:
                for name, w in tcons.items():
                    samples = [df.loc[df["condition"] == c, "value"].to_numpy(float) for c in w]
                    est, lo, hi, p, note = _boot_contrast(samples, list(w.values()), n_boot, seed, alpha)
                    rows.append(_ft_row(size, task, name, est, lo, hi, p, _item_note(note, rep, ONE_RUN), df, w,
                                        "bootstrap over seeds", selection, metric, np.nan, base))
        if not pooled:
            continue
        tasks = sorted(dsz["task"].unique())
        full = {k: w for k, w in cons.items()
                if all(set(w) <= set(dsz.loc[dsz["task"] == t, "condition"]) for t in tasks)}
        df = dsz.sort_values(["task", "condition", "model", "seed"]).reset_index(drop=True)
        if method == "ols":
            # task x seed blocks nest the task fixed effects
            for name, est, lo, hi, p, note, dfr in fit(df, full, blocks or ["task"], pooled_cov):
                rows.append(_ft_row(size, "pooled", name, est, lo, hi, p, _item_note(note, rep, ONE_RUN), df,
                                    full[name], f"OLS + task FE{how} ({pooled_cov}), t-interval", selection,
                                    "mixed", dfr, base))
        else:
            for name, w in full.items():
                samples, weights = [], []
                for t in tasks:
                    for c, wc in w.items():
                        samples.append(df.loc[(df["task"] == t) & (df["condition"] == c), "value"].to_numpy(float))
                        weights.append(wc / len(tasks))
                est, lo, hi, p, note = _boot_contrast(samples, weights, n_boot, seed, alpha)
                rows.append(_ft_row(size, "pooled", name, est, lo, hi, p, _item_note(note, rep, ONE_RUN), df, w,
                                    "bootstrap over seeds, mean over tasks", selection, "mixed", np.nan, base))
    return pd.DataFrame(rows, columns=[*EFFECTS.columns, "selection", "metric", "df", "n_runs", "note"])


def _ft_row(size: Any, task: str, name: str, est: float, lo: float, hi: float, p: float, note: str,
            df: pd.DataFrame, w: Mapping[str, float], method: str, selection: Any, metric: str,
            dfr: float, base: str = BASE) -> dict[str, Any]:
    counts = df if list(df.columns) == ["rows", "runs"] else _counts(df)     # `_counts`, or the rows to count
    n = int(sum(counts.at[c, "rows"] for c in w))
    return {"size": size, "task": task, "comparison": name, "scale": "points", "estimate": est, "ci_low": lo,
            "ci_high": hi, "p": p, "n": n, "method": method, "selection": selection, "metric": metric, "df": dfr,
            "n_runs": _n_runs(counts, w, base), "note": note}


def _ft_run_values(cell: pd.DataFrame, runs: pd.DataFrame, tasks: Sequence[str]) -> tuple[np.ndarray, Any, float]:
    """Stage 1 of the run means, from `cell` (per task x model: mean, count, var of the seeds): per run the
    mean over tasks of its mean over seeds; the seed-sampling covariance of those means (diagonal: seeds are
    drawn anew per run; per task the within-run seed variance pooled over all runs, base included), and its
    df (None, 0 with one seed per run)."""
    models = list(runs["model"])
    values, var, dfs = np.zeros(len(models)), np.zeros(len(models)), 0
    for t in tasks:
        c = cell.loc[t].reindex(models)
        k = c["count"].to_numpy(float)
        d = int((k - 1).sum())
        s2 = float(((k - 1) * c["var"].fillna(0.0)).sum() / d) if d else np.nan
        values += c["mean"].to_numpy(float) / len(tasks)
        var += s2 / k / len(tasks) ** 2
        dfs += d
    return values, (np.diag(var) if dfs else None), float(dfs)


def _ft_mixedlm(df: pd.DataFrame, runs: pd.DataFrame, tasks: Sequence[str], base: str) -> Any:
    """REML fit of the run-level mixed model (see `finetune_effects`), or a string saying why not. Returns
    (result, column index of each (IT condition, task) effect)."""
    d = df.drop(columns=[c for c in ("pretrain_seed", "tuned") if c in df]).merge(
        runs[["model", "pretrain_seed", "tuned"]], on="model").sort_values(["model", "task"], kind="stable")
    its = [c for c in runs["condition"].unique() if c != base]
    cols, index = [], {}
    for p in sorted(runs["pretrain_seed"].unique()):
        for t in tasks:
            cols.append(((d["pretrain_seed"] == p) & (d["task"] == t)).to_numpy(float))
    for c in its:
        for t in tasks:
            index[(c, t)] = len(cols)
            cols.append(((d["condition"] == c) & (d["task"] == t)).to_numpy(float))
    X = np.column_stack(cols)
    groups = d["model"].to_numpy()
    tuned = d["tuned"].to_numpy(float)
    vc = None
    if len(tasks) > 1:
        labels = sorted(set(groups))
        mats = [((d.loc[groups == g, "task"].to_numpy()[:, None] == np.array(tasks)[None, :])
                 * tuned[groups == g][:, None]).astype(float) for g in labels]
        vc = VCSpec(["run x task"], [[[f"{g}:{t}" for t in tasks] for g in labels]], [mats])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            res = sm.MixedLM(d["value"].to_numpy(float), X, groups, exog_re=tuned[:, None], exog_vc=vc).fit(reml=True)
        except (ConvergenceWarning, np.linalg.LinAlgError, ValueError) as e:
            return f"MixedLM failed ({type(e).__name__})"
    comps = [float(np.asarray(res.cov_re).ravel()[0]), *np.atleast_1d(res.vcomp)]
    if not res.converged:
        return "MixedLM did not converge"
    if min(comps) <= 1e-4 * float(res.scale):
        return "MixedLM singular (a variance component at 0)"
    return res, index


def _finetune_runs(dsz: pd.DataFrame, size: Any, selection: Any, cons: Contrasts, base: str, alpha: float,
                   pooled: bool, run_method: str, paired: bool, satterthwaite: bool = True) -> list[dict[str, Any]]:
    """`finetune_effects` rows of the run-level analysis of one size x selection."""
    cell = dsz.groupby(["task", "model"])["value"].agg(["mean", "count", "var"])
    all_runs = _runs_of(dsz, base)
    tasks = sorted(dsz["task"].unique())
    has = {t: set(cell.loc[t].index) for t in tasks}
    conds_of = {t: set(all_runs.loc[all_runs["model"].isin(has[t]), "condition"]) for t in tasks}
    metric = dsz.groupby("task")["metric"].agg(lambda m: ",".join(sorted(m.unique())))
    units = [(t, {k: w for k, w in cons.items() if set(w) <= conds_of[t]}, [t], metric[t]) for t in tasks]
    if pooled:
        units.append(("pooled", {k: w for k, w in cons.items() if all(set(w) <= conds_of[t] for t in tasks)},
                      tasks, "mixed"))
    unpaired = ", seed pairing not used" if paired else ""
    rows = []
    for task, tcons, ttasks, metric in units:
        models = set.intersection(*(has[t] for t in ttasks))
        left = sorted(set.union(*(has[t] for t in ttasks)) - models)
        dropped = f"runs without every task left out: {', '.join(left)}" if left else ""
        runs = all_runs[all_runs["model"].isin(models)].reset_index(drop=True)
        k = cell.loc[ttasks, "count"].groupby(level="model").sum().loc[list(runs["model"])].to_numpy()
        counts = pd.DataFrame({"rows": k, "runs": 1}, index=runs["condition"]).groupby(level=0).sum()
        values, cov, df_seed = _ft_run_values(cell, runs, ttasks)
        if run_method == "mixedlm":
            df = dsz[dsz["task"].isin(ttasks) & dsz["model"].isin(models)]
            mixed = _ft_mixedlm(df, runs, ttasks, base)
        else:
            mixed = "run means"
        for name, w in tcons.items():
            t = _run_level(runs, values, w, alpha, base, cov, df_seed, satterthwaite=satterthwaite)
            est, lo, hi, p, dfr, note = t.est, t.lo, t.hi, t.p, t.df, t.note
            if isinstance(mixed, tuple) and not np.isnan(t.se):
                res, index = mixed
                L = np.zeros(len(res.fe_params))
                for c, wc in w.items():
                    for tk in ttasks:
                        if c != base:
                            L[index[(c, tk)]] = wc / len(ttasks)
                est = float(L @ res.fe_params)
                se = float(np.sqrt(L @ np.asarray(res.cov_params())[:len(L), :len(L)] @ L))
                dfr = t.df
                half = float(sps.t.ppf(1 - alpha / 2, dfr)) * se
                lo, hi, p = est - half, est + half, float(2 * sps.t.sf(abs(est) / se, dfr))
                how = "MixedLM (REML): run effect" + (" + run x task, task FE" if len(ttasks) > 1 else "") \
                      + ", t (Satterthwaite df of the run means)"
            else:
                fallback = "" if run_method == "means" or np.isnan(t.se) else f" ({mixed}: run means used)"
                how = ("run means" + (" over tasks" if len(ttasks) > 1 else "") + ": run-level t (paired to base)"
                       " + base seed variance, Satterthwaite df" + fallback)
            if cov is None and not np.isnan(t.se):
                note = "; ".join(filter(None, [note, ONE_SEED]))
            rows.append(_ft_row(size, task, name, est, lo, hi, p, "; ".join(filter(None, [note, dropped])),
                                counts, w, how + unpaired, selection, metric, dfr, base))
    return rows


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
                          method: str = "percentile", runs: str = "auto") -> CorrelationBootstrap:
    """Spearman rho between `score` and `target` per model (`CORRELATION_ITEMS`), per size x task, with a
    bootstrap over items (`scipy.stats.bootstrap`, `method` percentile or BCa), and contrasts of the
    conditions' rho (default: each condition minus `base`), paired over items: every replicate resamples
    the same items for every model. A condition's rho is the mean over its models. Items are those every
    model of the size x task answered. Deterministic given `seed` (the same generator seed per group).

    `runs` ('auto' | 'item' | 'run'; 'auto' = 'run' when an IT condition of the size has >= 2 runs) decides
    the contrasts' intervals. Item level: the bootstrap's interval, and the two-sided bootstrap p (twice the
    smaller share of replicates beyond 0); run-to-run variance is not in it. Run level: the run's rho is the
    unit (`_run_level`): tuned runs paired to their base, t from the residual variance between runs within
    conditions, plus the item variance the runs cannot show, from the covariance of the models' rho over the
    same paired bootstrap replicates; Satterthwaite df. A bootstrap over runs and items together is not
    used: with 2-3 runs per condition resampling runs shrinks their variance by (n-1)/n and has only n^n
    distinct draws, which the items' noise (counted once more) hides only while it dominates. In null
    simulations (benchmarks/calibration.py, 200 datasets, `conv - base` at 0.05, 2 | 3 runs) it rejected
    0.065 | 0.045 with item noise dominating but 0.205 | 0.170 when run variance does (run sd 0.1 in r,
    shared noise 0.8); this analysis 0.045-0.060 in both.
    `effects` has the `EFFECTS` columns and `n_runs`, `df`, `note`."""
    CORRELATION_ITEMS.validate(items)
    rho_rows, eff_rows = [], []
    by_run = {size: _use_runs(d, base, runs) for size, d in items.groupby("size", sort=True)}
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
        counts = _counts(df)
        replicated = bool((counts.drop(index=base, errors="ignore")["runs"] >= 2).any())
        if by_run[size]:
            runs_ = _runs_of(df, base).set_index("model").loc[list(models["model"])].reset_index()
            cov = np.cov(dist[:k])
        for i, (name, w) in enumerate(cons.items()):
            if by_run[size]:
                t = _run_level(runs_, est[:k], w, alpha, base, cov, n - 1)
                eff_rows.append({"size": size, "task": task, "comparison": name, "scale": "rho",
                                 "estimate": t.est, "ci_low": t.lo, "ci_high": t.hi, "p": t.p, "n": n,
                                 "method": f"run-level t (per-run rho, paired to base) + item variance (paired "
                                           f"bootstrap, {n_boot}), Satterthwaite df",
                                 "n_runs": _n_runs(counts, w, base), "df": t.df, "note": t.note})
                continue
            d = dist[k + i]
            e, elo, ehi = est[k + i], lo[k + i], hi[k + i]
            p, note = min(1.0, 2 * min(np.mean(d <= 0), np.mean(d >= 0))), ""
            if _flat(d):          # the compared models rank every resample alike (e.g. identical scores)
                e, elo, ehi, p, note = _untested(e, 1.0, NO_VARIATION)
            eff_rows.append({"size": size, "task": task, "comparison": name, "scale": "rho",
                             "estimate": e, "ci_low": elo, "ci_high": ehi, "p": float(p),
                             "n": n, "method": f"bootstrap over items ({method}, {n_boot})",
                             "n_runs": _n_runs(counts, w, base), "df": np.nan,
                             "note": _item_note(note, replicated, ONE_RUN_ITEMS)})
    return CorrelationBootstrap(
        pd.DataFrame(rho_rows, columns=["size", "task", "model", "condition", "rho", "ci_low", "ci_high", "n"]),
        pd.DataFrame(eff_rows, columns=[*EFFECTS.columns, "n_runs", "df", "note"]))


def reading_differences(deltas: pd.DataFrame, base: str = BASE, runs: str = "auto",
                        alpha: float = 0.05) -> pd.DataFrame:
    """Each condition's ΔR² minus the base's, per size x task x measure (mean over models of a condition).
    Columns `size, task, measure, condition, delta_r2, base_delta_r2, difference`, and `n_runs`, `sd` (the
    run spread: models of the condition and their SD), `ci_low, ci_high, p, df, note`.

    An aggregate table has no items to resample, so with one run per condition the differences are
    descriptive (no interval). With >= 2 runs in an IT condition ('auto'; or `runs='run'`), the difference
    gets a run-level t-interval (`_run_level`: tuned runs paired to the base of their pretrain seed,
    residual variance between runs within conditions); it covers run-to-run variation only."""
    READING_DELTAS.validate(deltas)
    m = deltas.groupby(["size", "task", "measure", "condition"], as_index=False).agg(
        delta_r2=("delta_r2", "mean"), n_runs=("model", "nunique"), sd=("delta_r2", "std"))
    b = m[m["condition"] == base][["size", "task", "measure", "delta_r2"]].rename(
        columns={"delta_r2": "base_delta_r2"})
    out = m[m["condition"] != base].merge(b, on=["size", "task", "measure"], how="inner")
    out["difference"] = out["delta_r2"] - out["base_delta_r2"]
    out = out[["size", "task", "measure", "condition", "delta_r2", "base_delta_r2", "difference", "n_runs", "sd"]]
    by_run = {size: _use_runs(d, base, runs) for size, d in deltas.groupby("size", sort=True)}
    tests = []
    for r in out.itertuples(index=False):
        if not by_run[r.size]:
            tests.append((r.difference, np.nan, np.nan, np.nan, np.nan, ONE_RUN_READING))
            continue
        df = deltas[(deltas["size"] == r.size) & (deltas["task"] == r.task) & (deltas["measure"] == r.measure)]
        rl = _runs_of(df, base)
        values = df.groupby("model")["delta_r2"].mean().loc[list(rl["model"])].to_numpy(float)
        t = _run_level(rl, values, {r.condition: 1.0, base: -1.0}, alpha, base)
        note = "; ".join(filter(None, [t.note, "run-to-run variation only (no items in the ΔR² table)"]))
        tests.append((t.est, t.lo, t.hi, t.p, t.df, t.note if np.isnan(t.p) else note))
    cols = ["difference", "ci_low", "ci_high", "p", "df", "note"]
    out[cols] = pd.DataFrame(tests, index=out.index, columns=cols)
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
                 n_boot: int = 2000, seed: int = 0, runs: str = "auto") -> pd.DataFrame:
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
    effect, otherwise 'inconclusive'. `runs` goes to each analysis: with replicated runs ('auto': an IT
    condition of the size has >= 2 models) every row uses the run-level interval (run as the unit, item or
    seed variance added), and `n_runs` says how many runs; with one run per condition the rows are those of
    before and their note says the interval does not cover run-to-run variance."""
    rows: list[dict[str, Any]] = []
    seq_ok = lambda conds: set(SEQUENTIAL) | {MERGED} <= set(conds)  # noqa: E731

    def add(size: Any, claim: str, hypothesis: str, evidence: str, r: pd.Series, expected: str, margin: float):
        n_runs = int(r["n_runs"])
        if str(r["method"]).startswith(("run", "MixedLM")):
            evidence += f", {n_runs} runs per condition (run-level)"
        rows.append({"size": size, "claim": claim, "hypothesis": hypothesis, "evidence": evidence,
                     "scale": r["scale"], "estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                     "p": r["p"], "expected": expected, "margin": margin, "n_runs": n_runs,
                     "note": r.get("note", "") or ""})

    if finetune is not None:
        for size, df in finetune.groupby("size", sort=True):
            cons = {**it_vs_base(df["condition"], base), **(SEQ_VS_MERGED if seq_ok(df["condition"]) else {})}
            eff = finetune_effects(df, base=base, contrasts=cons, alpha=alpha, runs=runs)
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
            eff = zero_shot_effects(df, base=base, contrasts=cons, pooled=True, alpha=alpha, runs=runs)
            for _, r in eff.iterrows():
                it = r["comparison"] == IT_VS_BASE
                add(size, "zs_it" if it else "zs_seq",
                    HYPOTHESES["zs_it"] if it else HYPOTHESES["zs_seq"],
                    f"zero-shot items, {r['comparison']}, pooled over {df['task'].nunique()} task families",
                    r, "~ 0", zs_margin)
    if correlation is not None:
        for size, df in correlation.groupby("size", sort=True):
            eff = correlation_bootstrap(df, n_boot=n_boot, seed=seed, base=base, runs=runs,
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
