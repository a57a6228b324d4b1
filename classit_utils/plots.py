"""The study's figures (seaborn on matplotlib). Every function takes a tidy table of a `stats` schema and
returns a `StudyFigure`: a matplotlib `Figure` built without pyplot (no global state, no figure left open)
that displays itself as a PNG wherever IPython shows it (JupyterLab, papermill's executed notebooks, their
HTML), since IPython's inline formatter only knows pyplot's figures. `save_figure` writes it as PNG and PDF,
atomically, under the run's figures folder (`runs/<profile>/figures/`; `make figures` copies the README's).

| function | input | figure |
|---|---|---|
| `plot_zscores` | `zscores(...)` output | box + strip of per-task z per condition, one panel per size |
| `plot_effects` | `EFFECTS` rows (one scale) | point + interval per task and comparison, zero line, panel per size |
| `plot_loss_curves` | `LOSS_CURVES` | loss against step per run, one panel per phase (pretraining, IT) |
| `plot_blimp_heatmap` | `ZERO_SHOT_ITEMS` | accuracy (%) per paradigm (rows) x model (columns) |
| `plot_reading` | `READING_DELTAS` | ΔR² per model, bars per measure |
| `plot_run_spread` | `SUMMARY` (several runs per condition) | each run's score per condition, one panel per task |
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import MatplotlibDeprecationWarning
from matplotlib.figure import Figure

from . import records
from .stats import EFFECTS, LOSS_CURVES, READING_DELTAS, ZERO_SHOT_ITEMS, as_conditions, condition_order

__all__ = ["StudyFigure", "save_figure", "plot_zscores", "plot_effects", "plot_loss_curves", "plot_blimp_heatmap",
           "plot_reading", "plot_run_spread", "model_order"]


class StudyFigure(Figure):
    """A Figure that IPython displays as a PNG (`_repr_png_`), so notebooks and their HTML show it inline."""
    DISPLAY_DPI = 110

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=self.DISPLAY_DPI, bbox_inches="tight", metadata={"Software": None})
        return buf.getvalue()


def save_figure(fig: Figure, out_dir: str | Path, name: str, dpi: int = 200,
                formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Write `fig` as `<out_dir>/<name>.png` and `.pdf` (temp file, then rename); returns the paths.
    Date and software metadata are left out, so the same figure gives the same bytes."""
    paths = []
    for fmt in formats:
        buf = io.BytesIO()
        meta = {"CreationDate": None} if fmt == "pdf" else {"Software": None} if fmt == "png" else None
        fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight", metadata=meta)
        paths.append(records.atomic_write_bytes(Path(out_dir) / f"{name}.{fmt}", buf.getvalue()))
    return paths


def _sizes(values: pd.Series) -> list[str]:
    return sorted(set(values), key=str)


def model_order(df: pd.DataFrame) -> list[str]:
    """Models sorted by size, then the study's condition order, then name."""
    m = df[["model", "size", "condition"]].drop_duplicates("model")
    m = m.assign(_c=as_conditions(m["condition"]), _s=m["size"].astype(str))
    return list(m.sort_values(["_s", "_c", "model"])["model"])


def _panels(n: int, width: float, height: float, sharey: bool = True) -> tuple[StudyFigure, list]:
    fig = StudyFigure(figsize=(width * n, height), layout="constrained")
    axes = fig.subplots(1, n, sharey=sharey, squeeze=False)[0]
    return fig, list(axes)


def plot_zscores(z: pd.DataFrame, value: str = "z", title: str | None = None) -> StudyFigure:
    """Distribution of per-task z-scores per condition: a box (median, IQR) and one point per task, one
    panel per size. Input: `stats.zscores(summary)`."""
    sizes = _sizes(z["size"])
    order = condition_order(z["condition"])
    fig, axes = _panels(len(sizes), 1.0 + 0.8 * len(order), 3.6)
    for ax, size in zip(axes, sizes):
        sub = z[z["size"] == size]
        with warnings.catch_warnings():      # seaborn 0.13 passes matplotlib 3.11 a deprecated `vert`
            warnings.simplefilter("ignore", MatplotlibDeprecationWarning)
            sns.boxplot(data=sub, x="condition", y=value, order=order, ax=ax, color="0.85", showfliers=False,
                        width=0.6)
        state = np.random.get_state()        # seaborn jitters with the global generator: fix it, then restore
        np.random.seed(0)
        try:
            sns.stripplot(data=sub, x="condition", y=value, order=order, ax=ax, color="0.2", size=3.5, jitter=0.15)
        finally:
            np.random.set_state(state)
        ax.axhline(0, color="0.5", lw=0.8, ls="--")
        ax.set_title(f"{size}")
        ax.set_xlabel("")
        ax.tick_params(axis="x", rotation=30)
    axes[0].set_ylabel(f"{value} (per task, across models)")
    if title:
        fig.suptitle(title)
    return fig


def plot_effects(effects: pd.DataFrame, title: str | None = None, tasks: Sequence[str] | None = None) -> StudyFigure:
    """Effects vs the reference with their intervals: per task (rows; 'pooled' last) one point and error bar
    per comparison, a zero line, one panel per size. Input: `EFFECTS` rows of one scale (e.g. the output of
    `finetune_effects` or `zero_shot_effects`)."""
    EFFECTS.validate(effects)
    scales = effects["scale"].unique()
    if len(scales) != 1:
        raise ValueError(f"plot_effects: one scale per figure, got {', '.join(map(str, scales))}")
    sizes = _sizes(effects["size"])
    tasks = list(tasks) if tasks is not None else (
        sorted(t for t in effects["task"].unique() if t != "pooled")
        + (["pooled"] if (effects["task"] == "pooled").any() else []))
    # comparisons in the study's condition order ("conv - base" before "qa - base"), whatever rows were dropped
    lead = condition_order(c.split(" - ")[0] for c in effects["comparison"])
    comps = sorted(dict.fromkeys(effects["comparison"]),
                   key=lambda c: lead.index(c.split(" - ")[0]))
    colors = sns.color_palette("colorblind", len(comps))
    step = 0.7 / max(len(comps), 1)
    offsets = (np.arange(len(comps)) - (len(comps) - 1) / 2) * step
    fig, axes = _panels(len(sizes), 4.2, 0.9 + 0.45 * len(tasks) * max(1, len(comps)) ** 0.5)
    ypos = {t: i for i, t in enumerate(tasks)}
    for ax, size in zip(axes, sizes):
        sub = effects[(effects["size"] == size) & effects["task"].isin(ypos)]
        for comp, off, color in zip(comps, offsets, colors):
            e = sub[sub["comparison"] == comp]
            y = e["task"].map(ypos).to_numpy(float) + off
            est = e["estimate"].to_numpy(float)
            err = np.vstack([est - e["ci_low"].to_numpy(float), e["ci_high"].to_numpy(float) - est])
            ax.errorbar(est, y, xerr=err, fmt="o", ms=4, capsize=2, color=color, label=comp)
        ax.axvline(0, color="0.4", lw=0.8, ls="--")
        ax.set_yticks(range(len(tasks)), tasks)
        ax.set_ylim(len(tasks) - 0.5, -0.5)
        ax.set_title(f"{size}")
        ax.set_xlabel(f"effect ({scales[0]})")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(comps), 3), fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def plot_loss_curves(curves: pd.DataFrame, logy: bool = False, title: str | None = None) -> StudyFigure:
    """Loss against step, one line per run (runs in order of appearance), one panel per phase. Input:
    `LOSS_CURVES` (`run, step, loss, phase`)."""
    LOSS_CURVES.validate(curves)
    phases = list(dict.fromkeys(curves["phase"]))
    fig, axes = _panels(len(phases), 4.5, 3.4, sharey=False)
    for ax, phase in zip(axes, phases):
        sub = curves[curves["phase"] == phase].sort_values(["run", "step"])
        runs = list(dict.fromkeys(sub["run"]))
        for run, color in zip(runs, sns.color_palette("colorblind", len(runs))):
            r = sub[sub["run"] == run]
            ax.plot(r["step"], r["loss"], lw=1.2, color=color, label=str(run))
        if logy:
            ax.set_yscale("log")
        ax.set_title(str(phase))
        ax.set_xlabel("step")
        ax.legend(fontsize="small")
    axes[0].set_ylabel("loss")
    if title:
        fig.suptitle(title)
    return fig


def plot_blimp_heatmap(items: pd.DataFrame, task: str = "blimp", title: str | None = None) -> StudyFigure:
    """Accuracy (%) per BLiMP paradigm (rows, grouped by a `phenomenon` column when the items have one)
    and model (columns, by size then condition). Input: `ZERO_SHOT_ITEMS` (other tasks are ignored)."""
    ZERO_SHOT_ITEMS.validate(items)
    sub = items[items["task"] == task]
    if sub.empty:
        raise ValueError(f"plot_blimp_heatmap: no items of task {task!r}")
    acc = sub.pivot_table(index="subtask", columns="model", values="correct", aggfunc="mean") * 100
    acc = acc[model_order(sub)]
    if "phenomenon" in sub:
        ph = sub.groupby("subtask")["phenomenon"].first()
        rows = sorted(acc.index, key=lambda s: (str(ph[s]), s))
        acc = acc.loc[rows]
        acc.index = [f"{ph[s]}: {s}" for s in rows]
    fig = StudyFigure(figsize=(3.0 + 0.5 * acc.shape[1], 2.6 + 0.24 * acc.shape[0]), layout="constrained")
    ax = fig.subplots()
    sns.heatmap(acc, ax=ax, vmin=0, vmax=100, cmap="viridis", cbar_kws={"label": "accuracy (%)"},
                annot=acc.shape[0] * acc.shape[1] <= 200, fmt=".0f", annot_kws={"fontsize": 6})
    ax.set_xlabel("model")
    ax.set_ylabel("paradigm")
    ax.tick_params(axis="x", rotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set_title(title or f"{task}: accuracy per paradigm")
    return fig


def plot_reading(deltas: pd.DataFrame, title: str | None = None) -> StudyFigure:
    """ΔR² per model (bars; one colour per measure, mean over rows of a model x measure). Input:
    `READING_DELTAS`."""
    READING_DELTAS.validate(deltas)
    order = model_order(deltas)
    measures = list(dict.fromkeys(deltas["measure"]))
    fig = StudyFigure(figsize=(1.5 + 0.6 * len(order) * max(1, len(measures)) ** 0.5, 3.6), layout="constrained")
    ax = fig.subplots()
    sns.barplot(data=deltas, x="model", y="delta_r2", hue="measure", order=order, hue_order=measures,
                errorbar=None, ax=ax, palette=sns.color_palette("colorblind", len(measures)))
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set_ylabel("ΔR²")
    ax.set_xlabel("")
    ax.tick_params(axis="x", rotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set_title(title or "reading: ΔR² per model")
    return fig


def plot_run_spread(summary: pd.DataFrame, title: str | None = None, ncols: int = 4,
                    tasks: Sequence[str] | None = None) -> StudyFigure:
    """Run-to-run spread next to the condition differences: per task (one panel each, its own y scale) one dot
    per run (trained model) at its condition, a bar at the condition's mean, and a dashed line at the base's
    mean. Dots of one condition as far apart as the conditions' bars mean the differences are within
    training noise. Sizes are told apart by colour. Input: `SUMMARY` (`model, size, condition, task, score`); with
    a `kind` column (`results.headline_table`), fine-tuning tasks are titled "<task> (ft)"."""
    if "kind" in summary:
        summary = summary.assign(task=summary["task"].where(summary["kind"] != "fine-tuning",
                                                            summary["task"] + " (ft)"))
    tasks = list(tasks) if tasks is not None else list(dict.fromkeys(summary["task"]))
    if not tasks:
        raise ValueError("plot_run_spread: no tasks")
    order = condition_order(summary["condition"])
    sizes = _sizes(summary["size"])
    colors = dict(zip(sizes, sns.color_palette("colorblind", len(sizes))))
    ncols = min(ncols, len(tasks))
    nrows = -(-len(tasks) // ncols)
    fig = StudyFigure(figsize=(0.9 + (0.5 + 0.42 * len(order)) * ncols, 2.4 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    x = {c: i for i, c in enumerate(order)}
    for ax, task in zip(axes, tasks):
        sub = summary[summary["task"] == task]
        for k, size in enumerate(sizes):
            d = sub[sub["size"] == size]
            shift = (k - (len(sizes) - 1) / 2) * 0.25
            # runs of a condition spread evenly across a small width: deterministic, no jitter generator
            rank = d.groupby("condition")["model"].rank(method="first").to_numpy() - 1
            n = d.groupby("condition")["model"].transform("count").to_numpy()
            offs = (rank - (n - 1) / 2) * 0.08
            ax.scatter(d["condition"].map(x).to_numpy(float) + shift + offs, d["score"], s=14, color=colors[size],
                       alpha=0.8, label=str(size), zorder=3)
            mean = d.groupby("condition")["score"].mean()
            for c, v in mean.items():
                ax.hlines(v, x[c] + shift - 0.18, x[c] + shift + 0.18, color=colors[size], lw=2)
            if "base" in mean:
                ax.axhline(mean["base"], color=colors[size], lw=0.8, ls="--", alpha=0.7)
        ax.set_xticks(range(len(order)), order, rotation=40, ha="right", fontsize="small")
        ax.set_xlim(-0.6, len(order) - 0.4)
        ax.set_title(str(task), fontsize="medium")
    for ax in axes[len(tasks):]:
        ax.set_visible(False)
    if len(sizes) > 1:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(sizes), fontsize="small")
    fig.suptitle(title or "each run's score per condition (bar: mean; dashed: base)")
    return fig
