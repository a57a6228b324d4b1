"""Reading: eye-tracking and self-paced reading times predicted from word surprisal
(`reading/reading_data.csv`, de Varda et al. 2023 / Frank et al. 2013 data; the same file for fast and full).

Followed: `babylm/evaluation-pipeline-2025` @ bf55c11, `evaluation_pipeline/reading/run.py` (CSV reading,
surprisal, the OLS models, `predictions.json`, `report.txt`), `reading/evaluation_functions.py` (`get_p2`,
`get_p`) and `collate_preds.py::_calculate_reading_results` (the leaderboard's scores).

Two surprisal measures are computed from the same rows; the files the leaderboard reads hold the first.

`reading` (official, `get_p2` step by step). The CSV is read as `pd.read_csv(path, dtype={"item": str})`
(pandas' default missing values, so an `item` or `prev_item` reading "None" is missing) and
`item.fillna("None")`. For each row: the context `item` is tokenized with the tokenizer's own special
tokens (`tokenizer(item)`), the *bare* word (`tokenizer(word, add_special_tokens=False)`, no leading space)
is the target; its first token's probability is read at the context's last position; for every further
token the text grows by `decode(token)` and is tokenized afresh, and the target is the first token of
`decode(token)` re-tokenized. `pred = -ln(product of the probabilities)`; `prev_pred` is the same for
(`prev_item`, `prev_word`) when `prev_item` is a string, else NaN. `predictions.json` is
`{"reading": {"predictions": [{"id": <row>, "pred": ..., "prev_pred": ...}]}}`; `report.txt` holds
`EYE TRACKING SCORE: x.xx` and `SELF-PACED READING SCORE: y.yy`.

`reading_spaced` (the project's measure, reported beside it in `predictions_spaced.json` and the
`surprisal_spaced` column). The word is scored *with its leading space* (`" " + word`) given BOS + context,
in one pass by the chain rule over the tokens of the full text (`tokenizer.continuation`). Why it differs:
a byte-level BPE without prefix space encodes a bare word as a word-start form the model never sees after
a space, so `get_p2` asks for the probability of a string that does not occur in running text, and its
surprisals are far higher and mostly noise (the eye-tracking score of a small model falls from ~1.8 to
~0.1); re-tokenizing `item + decode(token)` also glues the word to the previous one (`"the" + "cat"`). The
spaced measure reads the CSV with only empty cells missing, so the context "None" stays a string, and
rebuilds an empty `item` from the first `context_length` words of `sentence`.

Scores (`_calculate_reading_results`, in percent as `run.py` prints them), for either measure:
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
from typing import Any

import numpy as np
import pandas as pd

from ..scoring import Encoded, Request, Score, score_encoded, score_requests
from ..tokenizer import continuation
from . import DataError, Item, MissingData, Task, TaskResult, TaskSpec, item_record, limit_per_uid

READING = TaskSpec(
    name="reading", pipeline_task="reading", folders={"fast": "reading", "full": "reading"},
    fields=("item", "word", "sentence", "context_length", "Subtlex_log10", "length", "RTfirstfix", "RTfirstpass",
            "RTgopast", "RTrightbound", "self_paced_reading_time", "prev_word", "prev_item", "prev_length"),
    scored_span="official: the bare word after tokenizer(item), token by token (get_p2); spaced: ' ' + word "
                "given BOS + item in one pass (reading_spaced)", metric="reading",
    aggregation="eye tracking: mean relative Delta R2 (%) over 4 RT measures; self-paced: spill-over Delta R2 (%)",
    subtask="one table")
SPACED = "reading_spaced"

FILE = "reading_data.csv"
EYE_TRACKING = ("RTfirstfix", "RTfirstpass", "RTgopast", "RTrightbound")
SPR = "self_paced_reading_time"
BASE = ("Subtlex_log10", "length", "context_length")
SPILLOVER = BASE + ("prev_length", "prev_pred")
_TEXT = ("item", "word", "sentence", "prev_word", "prev_item")
_NUMERIC = ("Subtlex_log10", "length", "context_length", "prev_length", *EYE_TRACKING, SPR)


def _path(data_dir: Path | str, variant: str) -> tuple[Path, str]:
    folder = READING.folder(variant)
    path = Path(data_dir) / folder / FILE
    if not path.is_file():
        raise MissingData(f"{folder}/{FILE}: file not found ({path})")
    return path, f"{folder}/{FILE}"


def read_table(data_dir: Path | str, variant: str = "fast") -> pd.DataFrame:
    """The CSV with only empty cells missing (the spaced measure's reading), columns checked."""
    path, display = _path(data_dir, variant)
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


def read_official(data_dir: Path | str, variant: str = "fast") -> pd.DataFrame:
    """The CSV exactly as `run.py` reads it: pandas' default missing values, `item` filled with "None"."""
    path, _ = _path(data_dir, variant)
    df = pd.read_csv(path, dtype={"item": str})
    df["item"] = df["item"].fillna("None")
    return df


def load(data_dir: Path | str, variant: str = "fast", limit: int | None = None) -> list[Item]:
    df = read_table(data_dir, variant)
    off = read_official(data_dir, variant)
    display = f"{READING.folder(variant)}/{FILE}"
    if len(off) != len(df):
        raise DataError(f"{display}: {len(off)} rows as the pipeline reads it, {len(df)} as read here")
    items = []
    for row, orow in zip(df.itertuples(index=True), off.itertuples(index=False)):
        where = f"{display}:{row.csv_line}"
        word = row.word
        if not isinstance(word, str) or not word.strip() or not isinstance(orow.word, str):
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
        official_prev = isinstance(orow.prev_item, str)
        items.append(Item(uid="reading", source=where, contexts=tuple(contexts), continuations=tuple(conts),
                          completions=(), label=0,
                          meta={"row": int(row.Index), "has_prev": has_prev,
                                "official_item": orow.item, "official_word": orow.word,
                                "official_has_prev": official_prev,
                                "official_prev_item": orow.prev_item if official_prev else None,
                                "official_prev_word": orow.prev_word if official_prev else None,
                                **{c: float(getattr(row, c)) for c in _NUMERIC}}))
    return limit_per_uid(items, limit)


# ----------------------------------------------------------------------------------------------- scoring
def get_p2_steps(tok, sentence: str, word: str) -> list[Encoded]:
    """`get_p2`'s model calls as (input ids, target) pairs, one per token of the bare word: each scores the
    single token after `tokenizer(sentence)` (module docstring). No model is needed to build them."""
    ids = list(tok(sentence)["input_ids"])
    target = list(tok(word, add_special_tokens=False)["input_ids"])
    if not target:
        raise DataError(f"reading: the word {word!r} has no tokens")
    steps = [Encoded(tuple(ids) + (int(target[0]),), len(ids))]
    sentence = sentence + tok.decode(target[0])
    for token in target[1:]:
        t = tok.decode(token)
        ids = list(tok(sentence)["input_ids"])
        first = tok(t, add_special_tokens=False)["input_ids"]
        if not first:
            raise DataError(f"reading: token {token} of {word!r} decodes to {t!r}, which has no tokens")
        steps.append(Encoded(tuple(ids) + (int(first[0]),), len(ids)))
        sentence = sentence + t
    return steps


def _official_score(scores: list[Score]) -> Score:
    """One word's `get_p2` result from its steps: the product of probabilities, kept as a sum of logs."""
    lps = tuple(lp for s in scores for lp in s.token_logprobs)
    return Score(float(math.fsum(lps)), tuple(t for s in scores for t in s.token_ids), lps)


def score(model, tok, items: list[Item], *, batch_size: int = 64, bos: Any = "tokenizer", share_context: bool = True,
          bf16: bool = False, progress: bool = True, desc: str = "score reading") -> list[list[Score]]:
    """Per item `[official word, official prev (or None), spaced word, spaced prev (or None)]`. The official
    steps of all rows are scored in one batched call (the tries share every common context)."""
    steps: list[Encoded] = []
    spans: list[tuple[int, int]] = []
    for it in items:
        pairs = [(it.meta["official_item"], it.meta["official_word"])]
        if it.meta["official_has_prev"]:
            pairs.append((it.meta["official_prev_item"], it.meta["official_prev_word"]))
        for sentence, word in pairs:
            enc = get_p2_steps(tok, sentence, word)
            spans.append((len(steps), len(steps) + len(enc)))
            steps.extend(enc)
    flat = score_encoded(model, tok, steps, batch_size, share_context=share_context, bf16=bf16, progress=progress,
                         desc=f"{desc} (official)")
    spaced = score_requests(model, tok, [r for it in items for r in it.requests()], batch_size, bos=bos,
                            share_context=share_context, bf16=bf16, progress=progress, desc=f"{desc} (spaced)")
    out, k, j = [], 0, 0
    for it in items:
        word = _official_score(flat[spans[k][0]:spans[k][1]])
        k += 1
        prev = None
        if it.meta["official_has_prev"]:
            prev = _official_score(flat[spans[k][0]:spans[k][1]])
            k += 1
        n = len(it.contexts)
        sp = spaced[j:j + n]
        j += n
        out.append([word, prev, sp[0], sp[1] if n > 1 else None])
    return out


# ----------------------------------------------------------------------------------------------- scores
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
    """`df` holds the CSV columns plus `pred` and `prev_pred` (surprisals). The fits run on one BLAS thread:
    these small regressions are ~10x slower with the thread pool on a busy 2-core machine."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):
        eye = {dv: relative_delta_r2(df, dv, BASE) for dv in EYE_TRACKING}
        spr = relative_delta_r2(df, SPR, SPILLOVER)
    return {"score": {"eye_tracking": float(np.mean([eye[dv]["score"] for dv in EYE_TRACKING])),
                      "self_paced_reading": spr["score"]},
            **{f"eye_tracking/{dv}": v for dv, v in eye.items()}, f"self_paced_reading/{SPR}": spr}


def official_report(subs: dict[str, dict[str, float]]) -> str:
    """`report.txt` as `run.py` writes it (two lines, two decimals)."""
    return (f"EYE TRACKING SCORE: {subs['score']['eye_tracking']:.2f}\n"
            f"SELF-PACED READING SCORE: {subs['score']['self_paced_reading']:.2f}\n")


def _surprisal(s: Score | None) -> float:
    return -s.logprob if s is not None else math.nan


def _result(task: str, variant: str, items, df: pd.DataFrame, pred, prev, note: str) -> TaskResult:
    df = df.assign(pred=pred, prev_pred=prev)
    subs = reading_scores(df)
    rows = [it.meta["row"] for it in items]
    predictions = {"reading": {"predictions": [{"id": r, "pred": float(p), "prev_pred": float(pp)}
                                               for r, p, pp in zip(rows, pred, prev)]}}
    return TaskResult(task, READING.folder(variant), "reading", subs["score"]["eye_tracking"], subs, len(items),
                      {"reading": len(items)}, [], predictions, notes=[note], report=official_report(subs))


def evaluate(variant: str, items, scores) -> TaskResult:
    """Both measures from `score`'s output; the official one is the result, the spaced one its companion."""
    df = pd.DataFrame({c: [it.meta[c] for it in items] for c in _NUMERIC})
    official = [_surprisal(ss[0]) for ss in scores], [_surprisal(ss[1]) for ss in scores]
    spaced = [_surprisal(ss[2]) for ss in scores], [_surprisal(ss[3]) for ss in scores]
    res = _result("reading", variant, items, df, *official,
                  "official get_p2 surprisal (bare word, step-by-step re-tokenization); score = eye tracking; "
                  "sub_scores.score.self_paced_reading is the SPR score")
    res.companions.append(_result(SPACED, variant, items, df, *spaced,
                                  "the project's spaced one-pass surprisal (' ' + word); beside the official one"))
    for it, ss, p, pp, sp, spp in zip(items, scores, *official, *spaced):
        rec = item_record(it, [s for s in ss if s is not None], 0)
        for k in ("pred", "correct", "label"):
            rec.pop(k)
        rec.update(surprisal=p, prev_surprisal=pp, surprisal_bits=p / math.log(2), surprisal_spaced=sp,
                   prev_surprisal_spaced=spp)
        res.records.append(rec)
    return res


TASKS = {"reading": Task(READING, load, evaluate, score=score)}
