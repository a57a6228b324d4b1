"""Reading: eye-tracking and self-paced reading times predicted from word surprisal
(`reading/reading_data.csv`, de Varda et al. 2023 / Frank et al. 2013 data; the same file for fast and full).

Followed: `babylm/evaluation-pipeline-2025`, `evaluation_pipeline/reading/run.py` (surprisal and the OLS
models) and `evaluation_pipeline/collate_preds.py::_calculate_reading_results` (the leaderboard's scores).

Surprisal. `pred` = -ln P(word | BOS + item), natural log as the pipeline's `-math.log(p)`; a word split
into several tokens gets the sum of its tokens' surprisals (the pipeline multiplies the subword
probabilities in `get_p2`). `prev_pred` is the same for (`prev_item`, `prev_word`), NaN for a sentence's
first word. Two deliberate differences from `get_p2`:
- the word is scored with its leading space (`" " + word`, `tokenizer.continuation`), the project's
  tokenizer policy: `get_p2` encodes the bare word (`tokenizer(word)`), which for a byte-level BPE without
  prefix space is a word-start form the model never sees after a space;
- a multi-token word is scored in one pass by the chain rule over the tokens of the full text; `get_p2`
  re-tokenizes `sentence + decode(token)` at each step.
The CSV is read with only empty cells as missing, so the context "None" stays a string (pandas would turn
it into NaN; the pipeline then drops one spill-over row); an empty `item` is rebuilt from the first
`context_length` words of `sentence` (the pipeline's `fillna("None")` gives the same text for the one such
row of the real file).

Scores (`_calculate_reading_results`, in percent as `run.py` prints them):
- eye tracking: for each of RTfirstfix, RTfirstpass, RTgopast, RTrightbound, baseline OLS
  `dv ~ Subtlex_log10 + length + context_length` + their pairwise interactions, full model + `pred`;
  100 * (R2_full - R2_base) / (1 - R2_base); the mean over the four measures;
- self-paced reading: the 1-word spill-over baseline adds `prev_length` and `prev_pred` (all pairwise
  interactions of the five predictors); the same relative Delta R2 for `self_paced_reading_time`.
Surprisal's base does not change either score (a linear rescaling of predictors leaves R2 unchanged).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..tokenizer import continuation
from . import DataError, Item, MissingData, Task, TaskResult, TaskSpec, item_record, limit_per_uid

READING = TaskSpec(
    name="reading", pipeline_task="reading", folders={"fast": "reading", "full": "reading"},
    fields=("item", "word", "sentence", "context_length", "Subtlex_log10", "length", "RTfirstfix", "RTfirstpass",
            "RTgopast", "RTrightbound", "self_paced_reading_time", "prev_word", "prev_item", "prev_length"),
    scored_span="' ' + word given BOS + item (and prev_word given prev_item)", metric="reading",
    aggregation="eye tracking: mean relative Delta R2 (%) over 4 RT measures; self-paced: spill-over Delta R2 (%)",
    subtask="one table")

FILE = "reading_data.csv"
EYE_TRACKING = ("RTfirstfix", "RTfirstpass", "RTgopast", "RTrightbound")
SPR = "self_paced_reading_time"
BASE = ("Subtlex_log10", "length", "context_length")
SPILLOVER = BASE + ("prev_length", "prev_pred")
_TEXT = ("item", "word", "sentence", "prev_word", "prev_item")
_NUMERIC = ("Subtlex_log10", "length", "context_length", "prev_length", *EYE_TRACKING, SPR)


def read_table(data_dir: Path | str, variant: str = "fast") -> pd.DataFrame:
    folder = READING.folder(variant)
    path = Path(data_dir) / folder / FILE
    display = f"{folder}/{FILE}"
    if not path.is_file():
        raise MissingData(f"{display}: file not found ({path})")
    try:
        df = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={c: "object" for c in _TEXT})
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise DataError(f"{display}: cannot parse CSV ({str(e).splitlines()[0]})") from None
    for col in READING.fields:
        if col not in df.columns:
            raise DataError(f"{display}: missing column {col!r}")
    for col in set(READING.fields) - set(_TEXT):
        bad = pd.to_numeric(df[col], errors="coerce").isna() & df[col].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{display}:{i + 2}: column {col!r} is not a number ({df[col].iloc[i]!r})")
        df[col] = pd.to_numeric(df[col])
    df = df.reset_index(drop=True)
    df["csv_line"] = np.arange(len(df)) + 2   # header is line 1 (no field spans lines)
    return df


def load(data_dir: Path | str, variant: str = "fast", limit: int | None = None) -> list[Item]:
    df = read_table(data_dir, variant)
    display = f"{READING.folder(variant)}/{FILE}"
    items = []
    for row in df.itertuples(index=True):
        where = f"{display}:{row.csv_line}"
        word = row.word
        if not isinstance(word, str) or not word.strip():
            raise DataError(f"{where}: empty 'word'")
        ctx = row.item
        if not isinstance(ctx, str):
            if not isinstance(row.sentence, str) or not isinstance(row.context_length, (int, np.integer)):
                raise DataError(f"{where}: empty 'item' and no 'sentence' to rebuild it from")
            ctx = " ".join(row.sentence.split()[:int(row.context_length)])
        contexts, conts = [ctx], [continuation(ctx, word)]
        has_prev = isinstance(row.prev_word, str) and isinstance(row.prev_item, str)
        if has_prev:
            contexts.append(row.prev_item)
            conts.append(continuation(row.prev_item, row.prev_word))
        items.append(Item(uid="reading", source=where, contexts=tuple(contexts), continuations=tuple(conts),
                          completions=(), label=0,
                          meta={"row": int(row.Index), "has_prev": has_prev,
                                **{c: float(getattr(row, c)) for c in _NUMERIC}}))
    return limit_per_uid(items, limit)


def _formula(dv: str, predictors: tuple[str, ...], extra: str | None = None) -> str:
    pairs = [f"{a}:{b}" for i, a in enumerate(predictors) for b in predictors[i + 1:]]
    return f"{dv} ~ " + " + ".join([*predictors, *pairs, *([extra] if extra else [])])


def relative_delta_r2(df: pd.DataFrame, dv: str, predictors: tuple[str, ...], iv: str = "pred") -> dict[str, float]:
    """OLS of `dv` on the baseline (predictors + pairwise interactions) and on baseline + `iv`; rows with
    missing values dropped per model, as the pipeline does. Returns R2s and 100*(R2 - R2_base)/(1 - R2_base)."""
    import statsmodels.formula.api as smf
    base_df = df[[dv, *predictors]].dropna()
    full_df = df[[dv, *predictors, iv]].dropna()
    n_params = 2 + len(predictors) * (len(predictors) + 1) // 2   # intercept, terms, pairs, iv
    if len(full_df) <= n_params + 1:   # too few rows to fit (e.g. a smoke run on a handful of items)
        return {"r2_base": math.nan, "r2": math.nan, "delta_r2": math.nan, "score": math.nan, "n": len(full_df)}
    r2_base = float(smf.ols(_formula(dv, predictors), data=base_df).fit().rsquared)
    r2_full = float(smf.ols(_formula(dv, predictors, iv), data=full_df).fit().rsquared)
    rel = 100.0 * (r2_full - r2_base) / (1.0 - r2_base) if r2_base < 1.0 else math.nan
    return {"r2_base": r2_base, "r2": r2_full, "delta_r2": r2_full - r2_base, "score": rel, "n": len(full_df)}


def reading_scores(df: pd.DataFrame) -> dict[str, dict[str, float]]:
    """`df` holds the CSV columns plus `pred` and `prev_pred` (surprisals)."""
    eye = {dv: relative_delta_r2(df, dv, BASE) for dv in EYE_TRACKING}
    spr = relative_delta_r2(df, SPR, SPILLOVER)
    return {"score": {"eye_tracking": float(np.mean([eye[dv]["score"] for dv in EYE_TRACKING])),
                      "self_paced_reading": spr["score"]},
            **{f"eye_tracking/{dv}": v for dv, v in eye.items()}, f"self_paced_reading/{SPR}": spr}


def evaluate(variant: str, items, scores) -> TaskResult:
    """Surprisals from `scores`, predictors and reading times from the items' metadata."""
    rows = [it.meta["row"] for it in items]
    df = pd.DataFrame({c: [it.meta[c] for it in items] for c in _NUMERIC})
    df["pred"] = [-ss[0].logprob for ss in scores]
    df["prev_pred"] = [-ss[1].logprob if it.meta["has_prev"] else math.nan for it, ss in zip(items, scores)]
    subs = reading_scores(df)
    records = []
    for it, ss, p, pp in zip(items, scores, df["pred"], df["prev_pred"]):
        rec = item_record(it, ss, 0)
        for k in ("pred", "correct", "label"):
            rec.pop(k)
        rec.update(surprisal=p, prev_surprisal=pp, surprisal_bits=p / math.log(2))
        records.append(rec)
    predictions = {"reading": {"predictions": [{"id": r, "pred": float(p), "prev_pred": float(pp)}
                                               for r, p, pp in zip(rows, df["pred"], df["prev_pred"])]}}
    return TaskResult("reading", READING.folder(variant), "reading", subs["score"]["eye_tracking"], subs,
                      len(items), {"reading": len(items)}, records, predictions,
                      notes=["score = eye tracking; sub_scores.score.self_paced_reading is the SPR score"])


TASKS = {"reading": Task(READING, load, evaluate)}
