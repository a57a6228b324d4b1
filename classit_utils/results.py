"""Where the study's results live and how they are read back: the interface between the stages that
make results (training, evaluation) and the statistics that read them.

It owns three things and imports nothing heavier than pandas, so every layer may use it:
- paths: training runs (`01_pretrain/<size>-p<P>/`, `02_instruction_tuning/<size>-<curriculum>-p<P>-s<S>/`
  for pretraining seed P and tuning seed S) and the BabyLM pipeline's results layout (`results/<model>/<revision>/zero_shot/causal/...`, `.../finetune/...`);
- the model registry (`models.json`, `models/<name>` links to each HF folder);
- the tidy tables the statistics read, each metric in one unit fixed when it was written (`UNITS`), with a
  `unit` column.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

import pandas as pd

from .config import StudyConfig
from .records import atomic_write_json, load_jsonl

BASE = "base"
REVISION = "main"
# metric -> the unit its values are stored in, everywhere below `results/` and in the tidy tables
UNITS = {"accuracy": "%", "f1": "%", "mcc": "MCC x 100", "spearman": "rho",
         "reading": "relative ΔR² (%)", "delta_r2": "ΔR²", "glue": "%"}
REGISTRY_COLUMNS = ["model", "size", "condition", "pretrain_seed", "tune_seed", "path"]
UNTUNED = -1             # `tune_seed` of a base model: it was not instruction-tuned
RUN_COLUMNS = ["pretrain_seed", "tune_seed"]   # a model's replicate, carried by every tidy table


def unit(metric: str) -> str:
    return UNITS.get(metric, "")


# ------------------------------------------------------------------------------------------- paths
def model_name(size: str, condition: str, pretrain_seed: int = 0, tune_seed: int = UNTUNED) -> str:
    """The study's name of a model: size, curriculum (`base` for the untuned control) and replicate, e.g.
    `classit-140m-base-p0` (pretraining seed 0) and `classit-140m-merged-p0-s1` (tuned from it, seed 1)."""
    name = f"classit-{size}-{condition}-p{pretrain_seed}"
    return name if condition == BASE else f"{name}-s{tune_seed}"


def pretrain_dir(cfg: StudyConfig, size: str, pretrain_seed: int) -> Path:
    return cfg.run_dir / "01_pretrain" / f"{size}-p{pretrain_seed}"


def tuning_dir(cfg: StudyConfig, size: str, curriculum: str, pretrain_seed: int, tune_seed: int) -> Path:
    return cfg.run_dir / "02_instruction_tuning" / f"{size}-{curriculum}-p{pretrain_seed}-s{tune_seed}"


def training_runs(cfg: StudyConfig) -> list[dict]:
    """Every training run of the design, in order: per size and pretraining seed the base, then each
    curriculum x tuning seed tuned from it. Rows: model, size, condition, pretrain_seed, tune_seed, dir."""
    rows = []
    for size in cfg.pretrain.sizes:
        for p in cfg.pretrain.run_seeds:
            rows.append({"model": model_name(size, BASE, p), "size": size, "condition": BASE, "pretrain_seed": p,
                         "tune_seed": UNTUNED, "dir": pretrain_dir(cfg, size, p)})
            rows += [{"model": model_name(size, c, p, s), "size": size, "condition": c, "pretrain_seed": p,
                      "tune_seed": s, "dir": tuning_dir(cfg, size, c, p, s)}
                     for c in cfg.tuning.curricula for s in cfg.tuning.run_seeds]
    return rows


def run_dirs(cfg: StudyConfig) -> dict[str, Path]:
    """Every training run's folder by model name: pretraining per size and seed, then each tuned run."""
    return {r["model"]: r["dir"] for r in training_runs(cfg)}


def results_dir(cfg: StudyConfig) -> Path:
    return cfg.run_dir / "results"


def zero_shot_root(out_dir: Path | str, model: str, revision: str = REVISION) -> Path:
    """`<out>/<model>/<revision>/zero_shot/causal/`, the pipeline's zero-shot results folder."""
    return Path(out_dir) / model / revision / "zero_shot" / "causal"


def finetune_root(out_dir: Path | str, model: str, revision: str = REVISION) -> Path:
    """`<out>/<model>/<revision>/finetune/`, the pipeline's fine-tuning results folder."""
    return Path(out_dir) / model / revision / "finetune"


# ------------------------------------------------------------------------------------------- registry
def write_registry(cfg: StudyConfig, table: pd.DataFrame) -> Path:
    """`models.json` (`REGISTRY_COLUMNS`) and `models/<name>` links to each model's HF folder, so every
    model has a folder named for it (evaluation pipelines name results by the folder). A table without
    replicate columns (a hand-made registry) is one replicate: pretraining seed 0, tuning seed 0."""
    if "pretrain_seed" not in table:
        table = table.assign(pretrain_seed=0)
    if "tune_seed" not in table:
        table = table.assign(tune_seed=[UNTUNED if c == BASE else 0 for c in table["condition"]])
    link_dir = cfg.run_dir / "models"
    link_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for m in table.itertuples():
        link = link_dir / m.model
        target = os.path.relpath(m.path, link_dir)
        if link.is_symlink() and os.readlink(link) != target:
            link.unlink()
        if not link.is_symlink():
            os.symlink(target, link)
        paths.append(str(link))
    table = table.assign(path=paths)[REGISTRY_COLUMNS]
    return atomic_write_json(cfg.run_dir / "models.json", table.to_dict(orient="records"))


def read_registry(cfg: StudyConfig) -> pd.DataFrame:
    path = cfg.run_dir / "models.json"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no model registry; run 01_pretrain and 02_instruction_tuning first")
    rows = json.loads(path.read_text())
    missing = [c for c in REGISTRY_COLUMNS if rows and c not in rows[0]]
    if missing:
        raise ValueError(f"{path}: registry lacks {', '.join(missing)} (written before replicates); "
                         "rerun 01_pretrain")
    return pd.DataFrame(rows, columns=REGISTRY_COLUMNS)


def _ids(m) -> dict:
    """A registry row's identifying columns, as every tidy table carries them."""
    return {"model": m.model, "size": m.size, "condition": m.condition, "pretrain_seed": int(m.pretrain_seed),
            "tune_seed": int(m.tune_seed)}


ID_COLUMNS = ["model", "size", "condition", *RUN_COLUMNS]


# ------------------------------------------------------------------------------------------- tidy tables
def zero_shot_summary(cfg: StudyConfig, tasks: Iterable[str] | None = None) -> pd.DataFrame:
    """model, size, condition, task, dataset, metric, unit, score, n, status, reason (skipped tasks with
    their reason), from each model's `summary.json`."""
    tasks = None if tasks is None else set(tasks)
    rows = []
    for m in read_registry(cfg).itertuples():
        path = zero_shot_root(results_dir(cfg), m.model) / "summary.json"
        if not path.exists():
            continue
        s = json.loads(path.read_text())
        ids = _ids(m)
        for task, t in s.get("tasks", {}).items():
            if tasks is None or task in tasks:
                rows.append({**ids, "task": task, "dataset": t["dataset"], "metric": t["metric"],
                             "unit": unit(t["metric"]), "score": t["score"], "n": t["n"], "status": "ok",
                             "reason": ""})
        for task, why in s.get("skipped", {}).items():
            if tasks is None or task in tasks:
                rows.append({**ids, "task": task, "status": "skipped", "reason": why})
    return pd.DataFrame(rows, columns=[*ID_COLUMNS, "task", "dataset", "metric", "unit", "score",
                                       "n", "status", "reason"])


def _items(cfg: StudyConfig, metric: str) -> pd.DataFrame:
    """Per-item rows of every zero-shot task whose metric is `metric`, with the model's ids."""
    frames = []
    for m in read_registry(cfg).itertuples():
        for f in sorted(zero_shot_root(results_dir(cfg), m.model).glob("*/**/items.parquet")):
            # the task's name and metric are in its results.json: folders follow the pipeline, which files
            # the BLiMP supplement under blimp/
            meta = json.loads((f.parent / "results.json").read_text())
            if meta["metric"] != metric:
                continue
            df = pd.read_parquet(f).drop(columns=["token_logprobs"], errors="ignore")
            frames.append(df.assign(**_ids(m), task=meta["task"]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def zero_shot_items(cfg: StudyConfig) -> pd.DataFrame:
    """Item-level correctness of the accuracy tasks (`stats.ZERO_SHOT_ITEMS`)."""
    cols = [*ID_COLUMNS, "task", "subtask", "item_id", "correct"]
    df = _items(cfg, "accuracy")
    if df.empty:
        return pd.DataFrame(columns=cols)
    out = df.rename(columns={"uid": "subtask", "source": "item_id"})
    out["correct"] = out["correct"].astype(int)
    return out[cols]


def correlation_items(cfg: StudyConfig) -> pd.DataFrame:
    """Item-level model probability and human ratio of the WUG tasks (`stats.CORRELATION_ITEMS`)."""
    cols = [*ID_COLUMNS, "task", "item_id", "score", "target"]
    df = _items(cfg, "spearman")
    if df.empty:
        return pd.DataFrame(columns=cols)
    return df.rename(columns={"source": "item_id", "prob": "score", "ratio": "target"})[cols]


# reading task -> the surprisal it uses: the official get_p2 rule, and the project's spaced one beside it
READING_MEASURES = {"reading": "official", "reading_spaced": "spaced"}


def reading_deltas(cfg: StudyConfig) -> pd.DataFrame:
    """ΔR² (`delta_r2`, R² units) and the relative ΔR² score (`score`, %) per reading measure, surprisal
    (`official` / `spaced`) and model (`stats.READING_DELTAS`, `task` = reading or reading_spaced); a
    degenerate fit (NaN: too few rows in a smoke run) has no row."""
    rows = []
    for m in read_registry(cfg).itertuples():
        path = zero_shot_root(results_dir(cfg), m.model) / "summary.json"
        tasks = json.loads(path.read_text()).get("tasks", {}) if path.exists() else {}
        for task, surprisal in READING_MEASURES.items():
            for key, v in (tasks.get(task) or {}).get("sub_scores", {}).items():
                if "/" in key and v.get("delta_r2") is not None and v["delta_r2"] == v["delta_r2"]:
                    family, measure = key.split("/", 1)    # "eye_tracking/RTfirstfix", ...
                    rows.append({**_ids(m), "task": task,
                                 "surprisal": surprisal, "family": family, "measure": measure,
                                 "delta_r2": v["delta_r2"], "score": v["score"], "n": v["n"]})
    return pd.DataFrame(rows, columns=[*ID_COLUMNS, "task", "surprisal", "family", "measure",
                                       "delta_r2", "score", "n"])


AOA_DIR = "AoA_word"     # `classit_utils.tasks.aoa`: <zero-shot root>/AoA_word/summary.json
AOA_COLUMNS = [*ID_COLUMNS, "status", "reason", "n_words", "r", "p", "checkpoints"]


def aoa_scores(cfg: StudyConfig) -> pd.DataFrame:
    """The AoA score of every model that has one (`AoA_word/summary.json`): status (ok / skipped) and reason,
    n_words (words with a child and a model AoA), Pearson r and its p between the two AoAs (NaN with fewer
    than 3 words), and the number of checkpoints fitted."""
    rows = []
    for m in read_registry(cfg).itertuples():
        path = zero_shot_root(results_dir(cfg), m.model) / AOA_DIR / "summary.json"
        if not path.exists():
            continue
        s = json.loads(path.read_text())
        rows.append({**_ids(m), "status": s.get("status", "ok"),
                     "reason": s.get("reason", ""), "n_words": s.get("n_words"), "r": s.get("r"), "p": s.get("p"),
                     "checkpoints": len(s.get("checkpoints") or [])})
    df = pd.DataFrame(rows, columns=AOA_COLUMNS)
    df["n_words"] = df["n_words"].astype("Int64")
    df[["r", "p"]] = df[["r", "p"]].astype(float)
    df["checkpoints"] = df["checkpoints"].astype(int)
    return df


FINETUNE_CSV = "finetune_results.csv"


def finetune_table(cfg: StudyConfig) -> pd.DataFrame:
    """Every model's fine-tuning rows (`stats.FINETUNE` plus unit, headline, status, reason, ...), as
    `classit_utils.finetune` wrote them (values in `unit`)."""
    frames = [pd.read_csv(p).drop(columns=RUN_COLUMNS, errors="ignore").assign(
                  pretrain_seed=int(m.pretrain_seed), tune_seed=int(m.tune_seed))
              for m in read_registry(cfg).itertuples()
              if (p := finetune_root(results_dir(cfg), m.model) / FINETUNE_CSV).exists()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def finetune_headline(ft: pd.DataFrame, selection: str) -> pd.DataFrame:
    """The rows (every seed) of each task's headline metric (F1 for MRPC/QQP, else accuracy) under one
    epoch-selection rule, finished runs only (`stats.FINETUNE`)."""
    if ft.empty:
        return ft
    return ft[(ft.status == "ok") & (ft.selection == selection) & ft.headline.astype(bool)]


def finetune_scores(ft: pd.DataFrame, selection: str) -> pd.DataFrame:
    """Mean over seeds of each task's headline metric, per model."""
    head = finetune_headline(ft, selection)
    return (head.groupby([*ID_COLUMNS, "task", "metric", "unit"], sort=False)["value"].mean()
            .reset_index().rename(columns={"value": "score"}))


def headline_table(cfg: StudyConfig, selection: str) -> pd.DataFrame:
    """One row per model x task (`stats.SUMMARY` plus kind, metric, unit): every zero-shot task (reading
    split into eye tracking and self-paced reading, relative ΔR²) and every fine-tuning task (mean over
    seeds of the headline metric, `selection` rule)."""
    cols = [*ID_COLUMNS, "kind", "task", "metric", "unit", "score"]
    zs = zero_shot_summary(cfg)
    zs = zs[(zs.status == "ok") & ~zs.task.isin(list(READING_MEASURES))]
    frames = [zs.assign(kind="zero-shot")]
    deltas = reading_deltas(cfg)
    if len(deltas):
        fam = (deltas.groupby([*ID_COLUMNS, "task", "family"], sort=False)["score"].mean()
               .reset_index())
        # reading_eye_tracking / reading_self_paced_reading (official), reading_spaced_... beside them
        frames.append(fam.assign(task=fam["task"] + "_" + fam["family"], metric="reading", unit=unit("reading"),
                                 kind="zero-shot"))
    ft = finetune_table(cfg)
    if len(ft):
        frames.append(finetune_scores(ft, selection).assign(kind="fine-tuning"))
    frames = [f[cols] for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def loss_curves(runs: dict[str, Path]) -> pd.DataFrame:
    """Training log rows of several runs (`stats.LOSS_CURVES`): run, step, loss, val_loss, phase (name),
    lr, tokens/s."""
    frames = []
    for run, path in runs.items():
        rows = load_jsonl(Path(path) / "train_log.jsonl")
        if rows:
            df = pd.DataFrame(rows)
            df["run"] = run
            df["phase"] = df.get("phase_name", df.get("phase"))
            frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["run", "step", "loss", "phase"])
    return pd.concat(frames, ignore_index=True)
