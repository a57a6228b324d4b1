"""Display tables of the notebooks: the tidy tables of `classit_utils.results` pivoted and rounded for
reading (figures are in `classit_utils.plots`). Nothing here computes a statistic."""
from __future__ import annotations

import pandas as pd

from .config import StudyConfig
from .results import finetune_scores


def score_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Headline score per task (rows) and model (columns, in registry order)."""
    ok = summary[summary.status == "ok"]
    table = ok.pivot_table(index="task", columns="model", values="score", sort=False)
    return table[[m for m in dict.fromkeys(summary.model) if m in table.columns]]


def subtask_accuracy(items: pd.DataFrame, task: str) -> pd.DataFrame:
    """Accuracy (percent) per subtask (paradigm, domain, split x operations) and model."""
    df = items[items.task == task]
    return (df.groupby(["subtask", "model"], sort=False)["correct"].mean().mul(100)
            .unstack("model").round(1))


def correlation_table(corr: pd.DataFrame) -> pd.DataFrame:
    """Spearman ρ of model preference against the human ratio, per model (rows) and task (columns)."""
    rows = [{"model": model, "task": task, "rho": g["score"].corr(g["target"], method="spearman")}
            for (task, model), g in corr.groupby(["task", "model"], sort=False)]
    return pd.DataFrame(rows).pivot_table(index="model", columns="task", values="rho", sort=False).round(3)


def finetune_tables(cfg: StudyConfig, ft: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per epoch-selection rule: mean over seeds of each task's headline metric, task x model."""
    return {sel: finetune_scores(ft, sel).pivot_table(index="task", columns="model", values="score",
                                                      sort=False).round(1)
            for sel in cfg.finetune.config.selections}


def stage_metrics(summary: pd.DataFrame) -> dict:
    """What an evaluation stage writes to its metrics.json: scores per model and task, skips."""
    ok = summary[summary.status == "ok"]
    skipped = summary[summary.status == "skipped"]
    return {"scores": {m: dict(zip(g.task, g.score)) for m, g in ok.groupby("model", sort=False)},
            "skipped": {t: r for t, r in zip(skipped.task, skipped.reason)}}
