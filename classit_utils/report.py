"""Display tables of the notebooks: the tidy tables of `classit_utils.results` and `classit_utils.stats`
pivoted, rounded to a fixed number of decimals per metric, with units in the headers, and cut to the few
columns a reader needs (the full tables go to CSV beside them). Figures are in `classit_utils.plots`.
Nothing here computes a statistic."""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .config import StudyConfig
from .results import finetune_scores, unit

# decimals shown per metric (accuracy in percent: one; correlations: three; ...)
DECIMALS = {"accuracy": 1, "f1": 1, "mcc": 1, "glue": 1, "spearman": 3, "rho": 3, "reading": 2, "delta_r2": 4,
            "log_odds": 3, "points": 2, "z": 2}


class Note(str):
    """One line of text shown in place of a table (e.g. "Nothing skipped."), as Markdown in a notebook."""

    def _repr_markdown_(self) -> str:
        return str(self)


def number(x: Any, decimals: int) -> str:
    """`x` with `decimals` decimals, a true minus sign, and an en dash for a missing value."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    text = f"{float(x):.{decimals}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text.replace("-", "−")


def p_value(p: Any) -> str:
    """p to three decimals, `<0.001` below; an en dash when there is no test."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def interval(lo: Any, hi: Any, decimals: int) -> str:
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (lo, hi)):
        return "–"
    return f"[{number(lo, decimals)}, {number(hi, decimals)}]"


def _label(task: str, metric: str) -> str:
    if task == "reading":                   # the task's headline is the eye-tracking score (07 shows both)
        return f"reading: eye tracking ({unit(metric)})"
    u = unit(metric)
    return f"{task} ({metric}{', ' + u if u and u != metric else ''})"


def score_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Headline score per task (rows, labelled with metric and unit) and model (columns, registry order),
    each row with its metric's decimals."""
    ok = summary[summary.status == "ok"]
    models = [m for m in dict.fromkeys(summary.model) if m in set(ok.model)]
    rows = {}
    for (task, metric), g in ok.groupby(["task", "metric"], sort=False):
        scores = g.set_index("model")["score"]
        rows[_label(task, metric)] = {m: number(scores.get(m), DECIMALS.get(metric, 2)) for m in models}
    return pd.DataFrame.from_dict(rows, orient="index", columns=models)


def skipped(summary: pd.DataFrame) -> pd.DataFrame | Note:
    """The tasks recorded as skipped, with their reason, or one line saying nothing was skipped."""
    if summary.empty or "status" not in summary or not (summary.status == "skipped").any():
        return Note("Nothing skipped: every task's data was found.")
    sk = summary[summary.status == "skipped"]
    return sk[["task", "reason"]].drop_duplicates("task").reset_index(drop=True)


def subtask_accuracy(items: pd.DataFrame, task: str) -> pd.DataFrame:
    """Accuracy (%) per subtask (paradigm, domain, split x operations: rows) and model (columns)."""
    df = items[items.task == task]
    table = df.groupby(["subtask", "model"], sort=False)["correct"].mean().mul(100).unstack("model")
    table.columns.name = "accuracy (%)"
    return table.map(lambda v: number(v, 1))


def correlation_table(corr: pd.DataFrame) -> pd.DataFrame:
    """Spearman ρ of model preference against the human ratio, per model (rows) and task (columns)."""
    rows = [{"model": model, "task": task, "rho": g["score"].corr(g["target"], method="spearman")}
            for (task, model), g in corr.groupby(["task", "model"], sort=False)]
    table = pd.DataFrame(rows).pivot_table(index="model", columns="task", values="rho", sort=False)
    table.columns = [f"{t} (Spearman ρ)" for t in table.columns]
    return table.map(lambda v: number(v, 3))


def finetune_tables(cfg: StudyConfig, ft: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per epoch-selection rule: mean over seeds of each task's headline metric (%), task (rows, labelled
    with the metric) x model."""
    out = {}
    for sel in cfg.finetune.config.selections:
        s = finetune_scores(ft, sel)
        s = s.assign(task=[_label(t, m) for t, m in zip(s.task, s.metric)])
        out[sel] = s.pivot_table(index="task", columns="model", values="score", sort=False).map(lambda v: number(v, 1))
    return out


def stage_metrics(summary: pd.DataFrame) -> dict:
    """What an evaluation stage writes to its metrics.json: scores per model and task, skips."""
    ok = summary[summary.status == "ok"]
    skipped_rows = summary[summary.status == "skipped"]
    return {"scores": {m: dict(zip(g.task, g.score)) for m, g in ok.groupby("model", sort=False)},
            "skipped": {t: r for t, r in zip(skipped_rows.task, skipped_rows.reason)}}


def results_table(res: pd.DataFrame) -> pd.DataFrame:
    """The headline table (`results.headline_table`): task (rows, with metric and unit) x condition, the mean
    over a condition's models, each row with its metric's decimals."""
    from .stats import condition_order
    conds = condition_order(res["condition"])
    rows = {}
    for (kind, task, metric), g in res.groupby(["kind", "task", "metric"], sort=False):
        m = g.groupby("condition")["score"].mean()
        rows[(kind, _label(task, metric))] = {c: number(m.get(c), DECIMALS.get(metric, 2)) for c in conds}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=conds)
    out.index = pd.MultiIndex.from_tuples(out.index, names=["kind", "task"])
    return out


def spread_table(res: pd.DataFrame) -> pd.DataFrame:
    """Run-to-run spread of the headline table (`results.headline_table`): task (rows) x condition, each cell
    the mean over the condition's runs ± their SD, with the number of runs, in the task's decimals."""
    from .stats import condition_order
    conds = condition_order(res["condition"])
    rows = {}
    for (size, kind, task, metric), g in res.groupby(["size", "kind", "task", "metric"], sort=False):
        d = DECIMALS.get(metric, 2)
        cells = {}
        for c, x in g.groupby("condition")["score"]:
            x = x.dropna()
            sd = f" ± {number(x.std(ddof=1), d)}" if len(x) > 1 else ""
            cells[c] = f"{number(x.mean(), d)}{sd} ({len(x)})" if len(x) else "–"
        rows[(size, kind, _label(task, metric))] = {c: cells.get(c, "–") for c in conds}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=conds)
    out.index = pd.MultiIndex.from_tuples(out.index, names=["size", "kind", "task"])
    return out


def runs_per_condition(res: pd.DataFrame) -> pd.Series:
    """Runs (models) of each IT condition, by (size, condition), from any table with `model, size, condition`."""
    from .stats import BASE
    return res[res["condition"] != BASE].groupby(["size", "condition"])["model"].nunique()


def runs_note(runs_per: pd.Series) -> Note:
    """One line: how many runs each IT condition has, and, with one, that run variance is not estimable."""
    from .stats import ONE_RUN
    if runs_per.empty:
        return Note("No tuned runs.")
    lo, hi = int(runs_per.min()), int(runs_per.max())
    text = f"Runs per IT condition: {lo}" + (f"–{hi}" if hi > lo else "") + "."
    return Note(text + (f" {ONE_RUN[0].upper()}{ONE_RUN[1:]}." if hi < 2 else ""))


def effects_table(eff: pd.DataFrame) -> pd.DataFrame:
    """An effects table (`stats.EFFECTS`, plus `p_holm` and `note` when present) cut to what a reader needs:
    comparison, estimate, 95% interval, p, Holm p, n (and the note, when any row has one)."""
    rows = []
    for r in eff.to_dict("records"):
        d = DECIMALS.get(r["scale"], 3)
        row = {"size": r["size"], "task": r["task"], "comparison": r["comparison"],
               f"estimate ({r['scale'].replace('_', '-')})": number(r["estimate"], d),
               "95% CI": interval(r["ci_low"], r["ci_high"], d), "p": p_value(r["p"]),
               "Holm p": p_value(r.get("p_holm", math.nan)), "n": int(r["n"])}
        if "n_runs" in r:
            row["runs"] = int(r["n_runs"])
        if str(r.get("note") or ""):
            row["note"] = r["note"]
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    if "note" in out:
        out["note"] = out["note"].fillna("")
    if out["Holm p"].eq("–").all() and out["p"].ne("–").any():
        out = out.drop(columns="Holm p")               # a table that was not corrected does not pretend to be
    return out.set_index(["size", "task", "comparison"])


def iqr_display(table: pd.DataFrame) -> pd.DataFrame:
    """`stats.iqr_table` rounded: median, quartiles and IQR of z (two decimals)."""
    out = table.copy()
    for col in ("median", "q25", "q75", "iqr"):
        out[col] = out[col].map(lambda v: number(v, 2))
    return out


def claims_display(claims: pd.DataFrame) -> pd.DataFrame:
    """The claims table for reading: size, hypothesis (in full), estimate with its interval and unit, Holm p,
    verdict, and the note when a row has no test."""
    scale_names = {"points": "points", "log_odds": "log-odds", "rho": "ρ"}
    rows = []
    for r in claims.to_dict("records"):
        d = DECIMALS.get(r["scale"], 3)
        rows.append({"size": r["size"], "hypothesis": r["hypothesis"],
                     "estimate [95% CI]": f"{number(r['estimate'], d)} {interval(r['ci_low'], r['ci_high'], d)} "
                                          f"{scale_names.get(r['scale'], r['scale'])}",
                     "Holm p": p_value(r["p_holm"]), "verdict": r["verdict"],
                     **({"runs": int(r["n_runs"])} if "n_runs" in r else {}), "note": r.get("note", "")})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out = out if out["note"].astype(bool).any() else out.drop(columns="note")
    return out.set_index(["size", "hypothesis"])


def reading_scores(deltas: pd.DataFrame) -> pd.DataFrame:
    """The reading score per surprisal and measure (rows) and model: relative ΔR² in percent (two decimals)."""
    table = deltas.pivot_table(index=["surprisal", "measure"], columns="model", values="score", sort=False)
    table.columns.name = "relative ΔR² (%)"
    return table.map(lambda v: number(v, 2))


def reading_differences(diffs: pd.DataFrame) -> pd.DataFrame:
    """`stats.reading_differences` for reading: ΔR² of each condition (mean over its runs), the base's, the
    difference, and, when a condition has several runs, their number and the interval over runs."""
    out = diffs[["size", "task", "measure", "condition", "delta_r2", "base_delta_r2", "difference"]].copy()
    for col in ("delta_r2", "base_delta_r2", "difference"):
        out[col] = out[col].map(lambda v: number(v, 4))
    if "n_runs" in diffs and (diffs["n_runs"] > 1).any():
        out["runs"] = diffs["n_runs"].astype(int)
        out["95% CI (over runs)"] = [interval(lo, hi, 4) for lo, hi in zip(diffs["ci_low"], diffs["ci_high"])]
    out = out.rename(columns={"delta_r2": "ΔR²", "base_delta_r2": "base ΔR²", "difference": "difference (ΔR²)"})
    return out.set_index(["size", "task", "measure", "condition"])


def reply_losses(reply: pd.DataFrame) -> pd.DataFrame:
    """Held-out reply loss (nats per reply token, three decimals): size x condition (rows) x held-out set."""
    table = reply.pivot_table(index=["size", "condition"], columns="heldout", values="reply_loss", sort=False)
    table.columns = [f"{c} pairs (nats/token)" for c in table.columns]
    return table.map(lambda v: number(v, 3))


def rho_table(rho: pd.DataFrame) -> pd.DataFrame:
    """`stats.correlation_bootstrap(...).rho` for reading: ρ per model with its bootstrap interval."""
    return pd.DataFrame({"size": rho["size"], "task": rho["task"], "model": rho["model"],
                         "condition": rho["condition"], "ρ": rho["rho"].map(lambda v: number(v, 3)),
                         "95% CI": [interval(a, b, 3) for a, b in zip(rho["ci_low"], rho["ci_high"])],
                         "n": rho["n"]}).set_index(["size", "task", "model"])


def aoa_table(aoa: pd.DataFrame) -> pd.DataFrame | Note:
    """`results.aoa_scores` per base model: words with both AoAs, Pearson r (three decimals) and its p, the
    checkpoints fitted; a skipped model shows its reason."""
    if aoa.empty:
        return Note("No AoA result: no base model was scored.")
    out = pd.DataFrame({"model": aoa["model"], "status": aoa["status"],
                        "words": aoa["n_words"].map(lambda v: "–" if pd.isna(v) else str(int(v))),
                        "r": aoa["r"].map(lambda v: number(v, 3)), "p": aoa["p"].map(p_value),
                        "checkpoints": aoa["checkpoints"], "reason": aoa["reason"].fillna("")})
    out = out if out["reason"].astype(bool).any() else out.drop(columns="reason")
    return out.set_index("model")


def aoa_metrics(aoa: pd.DataFrame) -> dict:
    """What stage 07 writes to its metrics.json for AoA: status, r and words per base model (None if none)."""
    def value(v, kind):
        return None if pd.isna(v) else kind(v)
    return {r.model: {"status": r.status, "r": value(r.r, float), "n_words": value(r.n_words, int)}
            for r in aoa.itertuples()}
