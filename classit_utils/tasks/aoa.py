"""Age of Acquisition (AoA): when a model learns each CDI word, across its training checkpoints, against when
children learn it (Chang & Bergen 2022). Not a single-model zero-shot task (it runs over checkpoints), so it
is not in `TASK_NAMES`; `run_aoa` / `classit-eval aoa` run it on one model, `run_all` on a study's pretrained
models (read back by `results.aoa_scores`).

Followed: `babylm/evaluation-pipeline-2025` @ bf55c11 (the 2026 `babylm-org/babylm-eval` @ 45fe2c1 has the
same `strict/evaluation_pipeline/AoA_word/*.py`, `utils.py`, `collate_preds.py` rules):
- surprisal (`AoA_word/evaluation_functions.py`, `compute_surprisal`, `process_causal_input`): the text is
  `context.strip() + " " + word`, tokenized as one string with the tokenizer's own special tokens; the word's
  tokens are those whose character span ends after the start of the word (so a multi-token word is all its
  tokens, and the token that carries the leading space counts); surprisal = -sum of their natural-log probs
  (`log_softmax`, nats). Here: `Request(context.strip() + " ", word)` through `score_requests` with
  `bos="tokenizer"`, which is that rule exactly. `use_bos_only` is False (`run.py` never sets it).
- contexts (`AoA_word/dataset_util.py`, `NGramStatisticsComputer`, `filter_contexts`; `prepare_dataset.py`):
  a context is the whole left part of a sentence before an exact (case-sensitive) whitespace-token match of
  the word, never empty (positions 1..); contexts with fewer than `window_size` words are skipped; a word's
  distinct contexts are ranked by how often the word follows them ("frequent" mode) and the first
  `n_contexts` (default 20) kept. `eval_util.load_eval`: words of one character are dropped; a word needs
  `min_context` contexts (`run.py` default 0; `eval_aoa.sh` sets MIN_CONTEXT=20 but never passes it).
- records (`AoA_word/run.py`, `analyze_steps`; `collate_preds.py`): `surprisal.json` =
  `{"metadata": {model_name, use_bos_only, total_steps, completed_steps}, "results": [{step, word_count,
  target_word, context_id, context, surprisal}, ...]}`, one record per (checkpoint, word, context); `step`
  is the checkpoint name (`chck_<N>M`). `collate_preds.py`: `AOA_SIZE` = 8005 records per checkpoint and
  `STRICT_SMALL_FAST_REVISIONS` (chck_1M..9M, 10M..100M: 19) / `OTHER_FAST_REVISIONS` (28, to 1000M) are
  the leaderboard's completeness check (`_check_size_aoa`); they do not apply to these substitute data.
- children's AoA (`utils.py`, `AoAEvaluator.compute_child_aoa`): per word, the proportion of children
  producing it at 16..30 months (NaN ages dropped, >= 3 needed) fitted with
  `f(x) = a / (1 + exp(-b (x - c))) + d` by `curve_fit(p0=[1, 0.1, mean(ages), 0], bounds=([0, 0,
  first age, -0.5], [2, 1, last age, 0.5]), maxfev=1000)`; AoA = the age where f = 0.5; no AoA when
  a <= 0 or b <= 0, when 0.5 is outside (d, a + d), or when the age is outside the ages observed.
- model AoA (`utils.py`, `compute_model_aoa`, `compute_curve_fitness`): every (step, context) surprisal of
  the word is one point (`fit_on="records"`, the default); x = log10(words seen + 1), words seen from the
  checkpoint name; the same sigmoid is fitted to -surprisal by `curve_fit(p0=[max - min of -surprisal, 1,
  mean(x), min of -surprisal], maxfev=1000)` (no bounds); threshold surprisal = chance - 0.5 (chance -
  min observed surprisal) with chance = log2(300_000) ("official"); model AoA = the x where the curve
  crosses -threshold, in log10(words + 1); no AoA with < 3 points, a <= 0 or b <= 0, the threshold outside
  (d, a + d), or 10**AoA - 1 outside the words seen.
- score (`compute_curve_fitness`, `calculate_results_from_pred._calculate_aoa_results`): Pearson r between
  model and child AoA over the words with both (`curve_fitness`; 0.0 with fewer than 3 words), with its
  p-value, n_words, the words and both AoA lists, and `mean_monthly_score` / `monthly_scores` (the mean CDI
  proportion per month: a property of the CDI data, not of the model). `aoa_score.json` has these keys.

Forced by the missing official files (`full_eval/aoa/cdi_human.csv`, `cdi_childes.json`; see the data
README):
- children: `aoa_substitute/child_american_english_proportions.csv` (Wordbank WS production, Chang & Bergen
  2022) instead of `cdi_human.csv`; its `definition` strings are cleaned into words (`clean_item`);
- contexts: built from the AOCHILDES CHILDES transcripts (`aochildes_transcripts/*.csv`, `gloss`), not read
  from `cdi_childes.json` (whose source corpus the pipeline does not state): child speakers excluded, CHAT
  compound marks (`+`, `_`) read as spaces, utterances with untranscribed words (xxx, yyy, www) skipped; one
  utterance is one sentence (the official contexts come from spaCy sentences); ties in frequency broken by
  the context's text (the official order is corpus order); the minimum left context is the official
  `prepare_dataset.py --window_size` default, 5 words (`min_left_words`);
- checkpoints: local `chck_<N>M` HF folders (N read as a float, so `chck_0.1M` and `chck_4e-05M` work; the
  official regex reads `chck_4e-05M` as 4 words), not hub revisions of one repository.
Options that depart from the official numbers, off by default: `fit_on="mean"` (fit the per-checkpoint mean
surprisal, Chang & Bergen's curve; the fitted curve is the same least-squares optimum when every checkpoint
has the same contexts, only the minimum surprisal in the threshold changes), `chance="vocab"` (ln of the
model's vocabulary size, in nats like the surprisals). The official log2(300_000) = 18.2 is in bits while the
surprisals are in nats; halfway from it to the lowest surprisal lies above most of a small-vocabulary model's
curve (ln 2048 = 7.6 nats at initialisation), so the threshold is often outside the fitted range, and a crossing,
when there is one, comes from where the unbounded fit extrapolates its lower asymptote.
"""
from __future__ import annotations

import argparse
import csv
import io
import logging
import math
import os
import re
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import DataError, MissingData

if TYPE_CHECKING:
    from ..config import StudyConfig

log = logging.getLogger(__name__)

__all__ = ["CDI_FILE", "TRANSCRIPTS", "AGES", "OFFICIAL_CHANCE", "Fit", "Context", "Checkpoint", "clean_item",
           "select_items", "read_cdi", "sigmoid", "fit_child_aoa", "fit_model_aoa", "threshold_surprisal",
           "normalize_utterance", "read_utterances", "build_contexts", "checkpoint_words", "find_checkpoints",
           "pearson", "curve_fitness", "TooFewCheckpoints", "run_aoa", "run_all", "add_cli_arguments", "cli_main",
           "format_summary"]

CDI_FILE = "aoa_substitute/child_american_english_proportions.csv"
TRANSCRIPTS = "aochildes_transcripts"
TASK_DIR = "AoA_word"
AGES = tuple(range(16, 31))
OFFICIAL_CHANCE = math.log2(300_000)      # utils.py: np.log2(approximate_vocab=300_000)
THRESHOLD = 0.5
CONTEXTS_PER_WORD = 20                    # prepare_dataset.py --n_contexts
WINDOW_SIZE = 5                           # prepare_dataset.py --window_size: min words of left context
MAXFEV = 1000
CONTEXTS_NOTE = "built from AOCHILDES transcripts (official cdi_childes.json absent)"
CHILD_NOTE = ("children's AoA from Wordbank WS production proportions (aoa_substitute/"
              "child_american_english_proportions.csv, Chang & Bergen 2022; official cdi_human.csv absent)")
# speaker roles that are children: their speech is not child-directed (AOCHILDES already drops Target_Child)
CHILD_ROLES = frozenset({"Target_Child", "Child", "Brother", "Sister", "Sibling", "Playmate", "Cousin", "Boy",
                         "Girl"})
UNTRANSCRIBED = frozenset({"xxx", "yyy", "www"})
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_CHECKPOINT = re.compile(r"chck_([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)M")

OK = "ok"


# ----------------------------------------------------------------------------------------------- CDI items
def clean_item(definition: str) -> tuple[str | None, str]:
    """A CDI `definition` as one scorable word: (word, how it was changed) or (None, why it is dropped).

    Rule, in order: strip the sense label in parentheses ("chicken (animal)"), the `*` that marks a
    family-specific wording ("daddy*") and a final "!"; of slash alternatives keep the first, the printed
    form ("owie/boo boo" -> "owie", "soda/pop" -> "soda"); drop placeholders ("child's own name"), multi-word
    items ("ice cream"), anything that is not letters with at most one inner apostrophe ("don't" stays), and
    one-letter words (official `load_eval` keeps len(word) > 1). Case is kept ("TV"): matching is exact."""
    text = definition.strip()
    how = []
    if "name" in text.split() and "'s" in text:
        return None, "placeholder"
    if re.search(r"\(.*\)", text):
        text = re.sub(r"\s*\([^)]*\)", "", text).strip()
        how.append("sense label removed")
    if "*" in text or text.endswith("!"):
        text = text.replace("*", "").rstrip("!").strip()
        how.append("marker removed")
    if "/" in text:
        text = text.split("/")[0].strip()
        how.append("first of alternatives")
    if len(text.split()) > 1:
        return None, "multi-word"
    if not _WORD.fullmatch(text):
        return None, "not a plain word"
    if len(text) <= 1:
        return None, "one letter"
    return text, ", ".join(how)


def select_items(items: Iterable[tuple[int, str]]) -> tuple[dict[int, str], list[tuple[int, str, str]]]:
    """Clean (item id, definition) pairs in file order: ({item id: word}, [(item id, definition, reason)]).
    A word that two items clean to ("chicken (animal)", "chicken (food)") keeps its first item, as the
    official `compute_curve_fitness` takes the first CDI row that matches a word."""
    kept: dict[int, str] = {}
    first: dict[str, int] = {}
    dropped: list[tuple[int, str, str]] = []
    for item_id, definition in items:
        word, why = clean_item(definition)
        if word is None:
            dropped.append((item_id, definition, why))
        elif word in first:
            dropped.append((item_id, definition, f"duplicate of item {first[word]}"))
        else:
            first[word] = item_id
            kept[item_id] = word
    return kept, dropped


def read_cdi(data_dir: Path | str) -> pd.DataFrame:
    """The CDI proportions table (`num_item_id, definition, type, category, 16..30`), checked."""
    path = Path(data_dir) / CDI_FILE
    if not path.is_file():
        raise MissingData(f"{CDI_FILE}: file not found ({path})")
    try:
        df = pd.read_csv(path, keep_default_na=False, na_values=["", "NA"], dtype={"definition": "object"})
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise DataError(f"{CDI_FILE}: cannot parse CSV ({str(e).splitlines()[0]})") from None
    for col in ("num_item_id", "definition", *map(str, AGES)):
        if col not in df.columns:
            raise DataError(f"{CDI_FILE}: missing column {col!r}")
    for col in map(str, AGES):
        bad = pd.to_numeric(df[col], errors="coerce").isna() & df[col].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{CDI_FILE}:{i + 2}: column {col!r} is not a number ({df[col].iloc[i]!r})")
        df[col] = pd.to_numeric(df[col]).astype(float)
    ids = pd.to_numeric(df["num_item_id"], errors="coerce")
    if ids.isna().any() or ids.duplicated().any():
        i = int(np.flatnonzero((ids.isna() | ids.duplicated()).to_numpy())[0])
        raise DataError(f"{CDI_FILE}:{i + 2}: num_item_id must be a unique integer ({df['num_item_id'].iloc[i]!r})")
    df["num_item_id"] = ids.astype(int)
    return df.reset_index(drop=True)


# ----------------------------------------------------------------------------------------------- curves
@dataclass(frozen=True)
class Fit:
    """A sigmoid fit and the AoA read off it; `aoa` is None when `status` says why there is none."""
    aoa: float | None
    status: str
    params: tuple[float, float, float, float] | None = None

    @property
    def ok(self) -> bool:
        return self.aoa is not None


def sigmoid(x: np.ndarray, a: float, b: float, c: float, d: float) -> np.ndarray:
    """utils.py `sigmoid_function`: a / (1 + exp(-b (x - c))) + d."""
    return a / (1 + np.exp(-b * (x - c))) + d


def _crossing(params: np.ndarray, y: float) -> tuple[float | None, str]:
    """Where the fitted sigmoid reaches `y` (the official inversion), or why it never does."""
    a, b, c, d = (float(v) for v in params)
    if b <= 0 or a <= 0:
        return None, "fit not increasing (a <= 0 or b <= 0)"
    if y <= d or y >= a + d:
        return None, "threshold outside the fitted range"
    return c - math.log(a / (y - d) - 1) / b, OK


def _curve_fit(x: np.ndarray, y: np.ndarray, p0: list[float], **kw) -> tuple[np.ndarray | None, str]:
    from scipy.optimize import OptimizeWarning, curve_fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        warnings.simplefilter("ignore", RuntimeWarning)   # exp overflow while searching
        try:
            popt, _ = curve_fit(sigmoid, x, y, p0=p0, maxfev=MAXFEV, **kw)
        except (RuntimeError, ValueError, TypeError) as e:   # no convergence, m < n, bad values
            return None, f"fit failed ({str(e).splitlines()[0][:120]})"
    if not np.all(np.isfinite(popt)):
        return None, "fit failed (non-finite parameters)"
    return popt, OK


def fit_child_aoa(ages: Sequence[float], proportions: Sequence[float], threshold: float = THRESHOLD) -> Fit:
    """`compute_child_aoa`: the age (months) at which the fitted proportion of producers reaches `threshold`."""
    ages_a, props = np.asarray(ages, dtype=float), np.asarray(proportions, dtype=float)
    keep = ~np.isnan(props)
    ages_a, props = ages_a[keep], props[keep]
    if len(props) < 3:
        return Fit(None, "fewer than 3 ages")
    p0 = [1.0, 0.1, float(np.mean(ages_a)), 0.0]
    bounds = ([0, 0, ages_a[0], -0.5], [2.0, 1.0, ages_a[-1], 0.5])
    popt, status = _curve_fit(ages_a, props, p0, bounds=bounds)
    if popt is None:
        return Fit(None, status)
    params = tuple(float(v) for v in popt)
    aoa, status = _crossing(popt, threshold)
    if aoa is None:
        return Fit(None, status, params)
    if aoa < ages_a[0] or aoa > ages_a[-1]:
        return Fit(None, "AoA outside the ages observed", params)
    return Fit(float(aoa), OK, params)


def threshold_surprisal(chance: float, min_surprisal: float, fraction: float = THRESHOLD) -> float:
    """`compute_model_aoa`: `fraction` of the way from chance down to the lowest surprisal."""
    return chance - fraction * (chance - min_surprisal)


def fit_model_aoa(words_seen: Sequence[float], surprisals: Sequence[float], chance: float = OFFICIAL_CHANCE,
                  fraction: float = THRESHOLD) -> Fit:
    """`compute_model_aoa`: a sigmoid of -surprisal over log10(words + 1); AoA in log10(words + 1).
    Points may repeat an x (one per context at a checkpoint), as the official fit pools them."""
    steps, surp = np.asarray(words_seen, dtype=float), np.asarray(surprisals, dtype=float)
    if steps.shape != surp.shape:
        raise ValueError("words_seen and surprisals must have the same length")
    if len(surp) < 3:
        return Fit(None, "fewer than 3 points")
    keep = ~np.isnan(surp)
    steps, surp = steps[keep], surp[keep]
    if len(surp) == 0:
        return Fit(None, "no surprisal")
    neg, x = -surp, np.log10(steps + 1)
    target = -threshold_surprisal(chance, float(np.min(surp)), fraction)
    p0 = [float(np.max(neg) - np.min(neg)), 1.0, float(np.mean(x)), float(np.min(neg))]
    popt, status = _curve_fit(x, neg, p0)
    if popt is None:
        return Fit(None, status)
    params = tuple(float(v) for v in popt)
    aoa, status = _crossing(popt, target)
    if aoa is None:
        return Fit(None, status, params)
    if not math.log10(steps.min() + 1) <= aoa <= math.log10(steps.max() + 1):   # 10**aoa - 1 in the words seen
        return Fit(None, "AoA outside the words seen", params)
    return Fit(float(aoa), OK, params)


def pearson(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Pearson (r, p); NaNs with fewer than 3 pairs or a constant side."""
    from scipy.stats import pearsonr
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(xa) < 3 or np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return math.nan, math.nan
    r, p = pearsonr(xa, ya)
    return float(r), float(p)


def curve_fitness(words: Sequence[str], model_aoas: Sequence[float], child_aoas: Sequence[float],
                  monthly_scores: Mapping[str, float]) -> dict[str, Any]:
    """`compute_curve_fitness`'s result (the keys of `aoa_score.json`); `curve_fitness` is 0.0 with fewer than
    3 words, as there, and the p-value is then None."""
    r, p = pearson(model_aoas, child_aoas)
    few = len(words) < 3
    return {"curve_fitness": 0.0 if few or math.isnan(r) else r, "p_value": None if few or math.isnan(p) else p,
            "n_words": len(words), "mean_monthly_score": float(np.mean(list(monthly_scores.values())))
            if monthly_scores else None, "monthly_scores": dict(monthly_scores), "valid_words": list(words),
            "model_aoas": [float(v) for v in model_aoas], "child_aoas": [float(v) for v in child_aoas]}


# ----------------------------------------------------------------------------------------------- contexts
@dataclass(frozen=True)
class Context:
    """A left context of a word in child-directed speech: the words before it (no trailing space), its
    position (= words before it), how many times the word followed that context, one such utterance."""
    context: str
    position: int
    count: int
    utterance: str


def normalize_utterance(gloss: str) -> str | None:
    """A CHILDES gloss as plain words: CHAT compound marks read as spaces ("peanut+butter", "thank_you");
    None for an utterance with an untranscribed word (xxx, yyy, www), which is no text to score."""
    tokens = gloss.replace("+", " ").replace("_", " ").split()
    if not tokens or any(t in UNTRANSCRIBED for t in tokens):
        return None
    return " ".join(tokens)


def read_utterances(data_dir: Path | str, *, max_files: int | None = None,
                    max_rows: int | None = None) -> list[str]:
    """The glosses of non-child speakers in `aochildes_transcripts/*.csv` (sorted file names; `max_files`,
    `max_rows` per file cap what is read, for quick checks)."""
    folder = Path(data_dir) / TRANSCRIPTS
    if not folder.is_dir():
        raise MissingData(f"{TRANSCRIPTS}/: folder not found under {data_dir}")
    files = sorted(folder.glob("*.csv"))[:max_files]
    if not files:
        raise MissingData(f"{TRANSCRIPTS}/: no .csv files in {folder}")
    out: list[str] = []
    for f in files:
        display = f"{TRANSCRIPTS}/{f.name}"
        try:
            df = pd.read_csv(f, usecols=lambda c: c in ("gloss", "speaker_role"), dtype=str,
                             keep_default_na=False, nrows=max_rows)
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
            raise DataError(f"{display}: cannot parse CSV ({str(e).splitlines()[0]})") from None
        if "gloss" not in df.columns:
            raise DataError(f"{display}: missing column 'gloss'")
        if "speaker_role" in df.columns:
            df = df[~df["speaker_role"].isin(CHILD_ROLES)]
        out.extend(df["gloss"].tolist())
    return out


def build_contexts(utterances: Iterable[str], words: Iterable[str], *, per_word: int = CONTEXTS_PER_WORD,
                   min_left_words: int = WINDOW_SIZE) -> dict[str, list[Context]]:
    """Per word, its distinct left contexts in `utterances` (each normalized): every exact whole-word
    occurrence with at least `min_left_words` words before it; the most frequent first, ties by text; at most
    `per_word`. Every word is a key (an empty list when it has none)."""
    if per_word < 1 or min_left_words < 1:
        raise ValueError(f"per_word and min_left_words must be >= 1 (got {per_word}, {min_left_words})")
    wanted = set(words)
    counts: dict[str, Counter] = {w: Counter() for w in wanted}
    example: dict[tuple[str, str], str] = {}
    for raw in utterances:
        utt = normalize_utterance(raw)
        if utt is None:
            continue
        tokens = utt.split()
        for i in range(min_left_words, len(tokens)):
            w = tokens[i]
            if w in wanted:
                left = " ".join(tokens[:i])
                counts[w][left] += 1
                key = (w, left)
                if key not in example or utt < example[key]:
                    example[key] = utt
    out: dict[str, list[Context]] = {}
    for w in sorted(wanted):
        ranked = sorted(counts[w].items(), key=lambda kv: (-kv[1], kv[0]))[:per_word]
        out[w] = [Context(left, len(left.split()), n, example[(w, left)]) for left, n in ranked]
    return out


# ----------------------------------------------------------------------------------------------- checkpoints
class TooFewCheckpoints(DataError):
    """A model has fewer than 3 `chck_<N>M` checkpoints: no sigmoid to fit (a study run records it as skipped)."""


@dataclass(frozen=True)
class Checkpoint:
    name: str
    path: Path
    words: float


def checkpoint_words(name: str) -> float | None:
    """Words seen by a `chck_<N>M` folder (N a float: `chck_0.1M` = 100,000), None for other names."""
    m = _CHECKPOINT.fullmatch(name)
    return float(m.group(1)) * 1e6 if m else None


def find_checkpoints(model_dir: Path | str, names: Sequence[str | Path] | None = None) -> list[Checkpoint]:
    """The `chck_<N>M` HF folders of a model, by words seen: inside `model_dir`, else beside it (its real
    folder's parent: `models/<name>` links to `01_pretrain/<size>/final`, next to the `chck_*` folders).
    `names`: only these (names or paths, relative to that folder). Fewer than 3 is a DataError."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise MissingData(f"{model_dir}: model folder not found")
    here = sorted(p for p in model_dir.glob("chck_*") if p.is_dir())
    base = model_dir if here else model_dir.resolve().parent
    if names is None:
        paths = sorted(p for p in base.glob("chck_*") if p.is_dir())
    else:
        paths = [Path(n) if Path(n).is_absolute() else base / n for n in names]
    found = []
    for p in paths:
        if not p.is_dir():
            raise MissingData(f"{p}: checkpoint folder not found")
        words = checkpoint_words(p.name)
        if words is None:
            raise DataError(f"{p}: not a chck_<N>M checkpoint name (words seen unknown)")
        found.append(Checkpoint(p.name, p, words))
    found.sort(key=lambda c: c.words)
    if len(found) < 3:
        got = ", ".join(c.name for c in found) or "none"
        raise TooFewCheckpoints(f"{base}: {len(found)} chck_<N>M checkpoint folder(s) ({got}); the AoA sigmoid "
                                f"needs at least 3 (set train.checkpoint_words)")
    return found


# ----------------------------------------------------------------------------------------------- scoring
def _surprisals(model, tok, requests: Sequence[tuple[str, str]], batch_size: int) -> list[float]:
    """-log P(word | context) in nats for (context, word) pairs, the official text `context.strip() + " " +
    word` with the tokenizer's own special tokens."""
    from ..scoring import Request, score_requests
    reqs = [Request(ctx.strip() + " ", word.strip()) for ctx, word in requests]
    return [-s.logprob for s in score_requests(model, tok, reqs, batch_size, bos="tokenizer", progress=False)]


def _vocab_size(model) -> int:
    emb = model.get_input_embeddings()
    return int(getattr(emb, "num_embeddings", emb.weight.shape[0]))


def _none_if_nan(v: float | None) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _csv_text(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL, float_format="%.6g")
    return buf.getvalue()


def _children(cdi: pd.DataFrame) -> tuple[dict[int, str], list[tuple[int, str, str]], dict[str, Fit]]:
    """Cleaned CDI words by item id, the dropped items, and each kept word's child AoA fit."""
    kept, dropped = select_items(zip(cdi["num_item_id"], cdi["definition"].astype(str)))
    props = cdi.set_index("num_item_id")[[str(a) for a in AGES]]
    return kept, dropped, {w: fit_child_aoa(AGES, props.loc[i].to_numpy(float)) for i, w in kept.items()}


def _score_checkpoints(ckpts: Sequence[Checkpoint], contexts: Mapping[str, Sequence[Context]],
                       words: Sequence[str], *, batch_size: int, device: str, progress: bool,
                       desc: str) -> tuple[list[dict[str, Any]], int]:
    """`surprisal.json` records (checkpoint, then word, then context, as `analyze_steps` orders them), and
    the model's vocabulary size."""
    from tqdm.auto import tqdm

    from ..runtime import load_causal_lm
    pairs = [(w, j, c.context) for w in words for j, c in enumerate(contexts[w])]
    results: list[dict[str, Any]] = []
    vocab = 0
    for ck in tqdm(ckpts, desc=desc, unit="ckpt", disable=not progress):
        model, tok = load_causal_lm(ck.path, device)
        vocab = _vocab_size(model)
        surps = _surprisals(model, tok, [(ctx, w) for w, _, ctx in pairs], batch_size) if pairs else []
        results += [{"step": ck.name, "word_count": ck.words, "target_word": w, "context_id": j, "context": ctx,
                     "surprisal": s} for (w, j, ctx), s in zip(pairs, surps)]
        del model, tok
    return results, vocab


def _model_fits(results: Sequence[Mapping[str, Any]], chance: float, fit_on: str) -> dict[str, tuple[Fit, float]]:
    """Per scored word: its model AoA fit and its lowest surprisal (over records or checkpoint means)."""
    recs = pd.DataFrame(list(results), columns=["word_count", "target_word", "surprisal"])
    out = {}
    for w, g in recs.groupby("target_word", sort=False):
        if fit_on == "mean":
            g = g.groupby("word_count", as_index=False)["surprisal"].mean()
        fit = fit_model_aoa(g["word_count"].to_numpy(), g["surprisal"].to_numpy(), chance)
        out[w] = (fit, float(g["surprisal"].min()))
    return out


def _curves(results: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Mean surprisal per (word, checkpoint): the learning curves, tidy."""
    recs = pd.DataFrame(list(results), columns=["target_word", "step", "word_count", "surprisal"])
    return (recs.groupby(["target_word", "step", "word_count"], sort=False)["surprisal"].agg(["mean", "count"])
            .reset_index().rename(columns={"target_word": "word", "word_count": "words_seen",
                                           "mean": "mean_surprisal", "count": "n_contexts"}))


def _word_table(cdi: pd.DataFrame, kept: Mapping[int, str], child: Mapping[str, Fit],
                model: Mapping[str, tuple[Fit, float]], contexts: Mapping[str, Sequence[Context]]) -> pd.DataFrame:
    """`aoa_words.csv`: every kept CDI word, both AoAs (or why not), and whether it enters the correlation."""
    category = cdi.set_index("num_item_id")["category"] if "category" in cdi.columns else {}
    rows = []
    for item_id, w in kept.items():
        c = child[w]
        m, min_s = model.get(w, (Fit(None, "no contexts"), math.nan))
        rows.append({"word": w, "item_id": int(item_id), "category": category.get(item_id, ""),
                     "n_contexts": len(contexts[w]), "child_aoa": c.aoa, "child_status": c.status,
                     "model_aoa": m.aoa, "model_aoa_words": None if m.aoa is None else 10 ** m.aoa - 1,
                     "model_status": m.status, "min_surprisal": min_s, "in_correlation": c.ok and m.ok})
    return pd.DataFrame(rows)


def _cdi_report(cdi: pd.DataFrame, kept: Mapping[int, str], dropped: Sequence[tuple[int, str, str]],
                child: Mapping[str, Fit]) -> dict[str, Any]:
    """How many CDI items were kept, changed and dropped (and why), and how many have a child AoA."""
    definition = cdi.set_index("num_item_id")["definition"].astype(str)
    changed = Counter(part for i in kept for part in clean_item(definition[i])[1].split(", ") if part)
    reasons = Counter("duplicate sense" if r.startswith("duplicate") else r for _, _, r in dropped)
    return {"items": len(cdi), "kept": len(kept), "dropped": len(dropped),
            "dropped_by_reason": dict(sorted(reasons.items())), "kept_changed": dict(sorted(changed.items())),
            "dropped_items": [[int(i), d, r] for i, d, r in dropped],
            "child_aoa": sum(f.ok for f in child.values()),
            "child_status": dict(Counter(f.status for f in child.values()))}


def run_aoa(model_dir: Path | str, data_dir: Path | str, out_dir: Path | str = "results", *,
            model_name: str | None = None, checkpoints: Sequence[str | Path] | None = None,
            contexts_per_word: int = CONTEXTS_PER_WORD, min_left_words: int = WINDOW_SIZE,
            min_contexts: int = 0, fit_on: str = "records", chance: str | float = "official",
            revision: str = "main", batch_size: int = 64, device: str = "auto", progress: bool = True,
            max_transcript_rows: int | None = None) -> dict[str, Any]:
    """Score every cleaned CDI word in its contexts at every `chck_<N>M` checkpoint of `model_dir`, fit both
    AoAs, correlate them. Writes `surprisal.json`, `aoa_score.json` (the official shapes), `aoa_words.csv`,
    `aoa_curves.csv`, `contexts.json` (the stand-in for `cdi_childes.json`) and `summary.json` under
    `<out>/<model>/<revision>/zero_shot/causal/AoA_word/`; returns the summary. Rules: module docstring."""
    from ..records import atomic_write_json, atomic_write_text, provenance
    from ..results import zero_shot_root

    if fit_on not in ("records", "mean"):
        raise ValueError(f"fit_on must be 'records' or 'mean' (got {fit_on!r})")
    if not (chance in ("official", "vocab") or isinstance(chance, (int, float))):
        raise ValueError(f"chance must be 'official', 'vocab' or a number (got {chance!r})")
    t0 = time.time()
    model_name = model_name or Path(model_dir).stem
    ckpts = find_checkpoints(model_dir, checkpoints)
    cdi = read_cdi(data_dir)
    kept, dropped, child = _children(cdi)
    words = list(kept.values())
    contexts = build_contexts(read_utterances(data_dir, max_rows=max_transcript_rows), words,
                              per_word=contexts_per_word, min_left_words=min_left_words)
    scored = [w for w in words if contexts[w] and len(contexts[w]) >= min_contexts]

    results, vocab = _score_checkpoints(ckpts, contexts, scored, batch_size=batch_size, device=device,
                                        progress=progress, desc=f"aoa {model_name}")
    chance_value = OFFICIAL_CHANCE if chance == "official" else math.log(vocab) if chance == "vocab" \
        else float(chance)
    table = _word_table(cdi, kept, child, _model_fits(results, chance_value, fit_on), contexts)
    both = table[table["in_correlation"]]
    monthly = {f"month_{a}": float(cdi.loc[cdi["num_item_id"].isin(list(kept)), str(a)].mean()) for a in AGES}
    score = curve_fitness(both["word"].tolist(), both["model_aoa"].tolist(), both["child_aoa"].tolist(), monthly)
    r, p = pearson(both["model_aoa"], both["child_aoa"])

    out = zero_shot_root(out_dir, model_name, revision) / TASK_DIR
    files = ("surprisal.json", "aoa_score.json", "aoa_words.csv", "aoa_curves.csv", "contexts.json",
             "summary.json")
    atomic_write_json(out / "surprisal.json", {
        "metadata": {"model_name": model_name, "use_bos_only": False, "total_steps": len(ckpts),
                     "completed_steps": len({rec["step"] for rec in results})},
        "results": results})
    atomic_write_json(out / "aoa_score.json", score)
    atomic_write_text(out / "aoa_words.csv", _csv_text(table))
    atomic_write_text(out / "aoa_curves.csv", _csv_text(_curves(results)))
    atomic_write_json(out / "contexts.json", {w: [asdict(c) for c in contexts[w]] for w in words})
    summary = {
        "task": "aoa", "status": OK, "reason": "", "model": str(model_dir), "model_name": model_name,
        "revision": revision,
        "checkpoints": [{"name": c.name, "words": c.words} for c in ckpts],
        "r": _none_if_nan(r), "p": _none_if_nan(p), "curve_fitness": score["curve_fitness"],
        "n_words": len(both), "cdi": _cdi_report(cdi, kept, dropped, child), "contexts": CONTEXTS_NOTE,
        "n_words_with_contexts": sum(1 for w in words if contexts[w]), "n_words_scored": len(scored),
        "n_contexts": sum(len(contexts[w]) for w in scored), "records": len(results),
        "model_aoa": int(table["model_aoa"].notna().sum()), "model_status": dict(Counter(table["model_status"])),
        "rules": {"fit_on": fit_on, "chance": chance, "chance_surprisal": chance_value, "threshold": THRESHOLD,
                  "contexts_per_word": contexts_per_word, "min_left_words": min_left_words,
                  "min_contexts": min_contexts, "x": "log10(words seen + 1)", "surprisal": "nats",
                  "max_transcript_rows": max_transcript_rows},
        "data_notes": [CHILD_NOTE, CONTEXTS_NOTE,
                       ("checkpoints are local chck_<N>M folders; the leaderboard's revision lists and AOA_SIZE "
                        "(8005 records per checkpoint) do not apply to these data")],
        "files": {k: str(out / k) for k in files}, "wall_s": round(time.time() - t0, 2),
        "provenance": provenance(),
    }
    atomic_write_json(out / "summary.json", summary)
    return summary


def run_all(cfg: StudyConfig) -> pd.DataFrame:
    """Run the AoA task on every pretrained (`base`) model of the study's registry, over the `chck_<N>M`
    checkpoints of its run folder, with the params' `evaluation` batch size and device, under the study's
    results folder. A model with fewer than 3 checkpoints, or absent AoA data, is recorded as skipped (its
    `summary.json` says why) when `evaluation.skip_missing`, else raises. Returns one row per model
    (`results.aoa_scores`)."""
    from ..records import atomic_write_json, provenance
    from ..results import BASE, REVISION, aoa_scores, read_registry, results_dir, zero_shot_root
    e = cfg.evaluation
    out = results_dir(cfg)
    base = read_registry(cfg)
    base = base[base["condition"] == BASE]
    for m in base.itertuples():
        try:
            run_aoa(m.path, cfg.data_dir, out, model_name=m.model, revision=REVISION, batch_size=e.batch_size,
                    device=e.device)
        except (MissingData, TooFewCheckpoints) as err:
            if not e.skip_missing:
                raise
            log.warning("skipping aoa for %s: %s", m.model, err)
            atomic_write_json(zero_shot_root(out, m.model, REVISION) / TASK_DIR / "summary.json", {
                "task": "aoa", "status": "skipped", "reason": str(err), "model": str(m.path), "model_name": m.model,
                "revision": REVISION, "checkpoints": [], "r": None, "p": None, "n_words": None,
                "provenance": provenance()})
    scores = aoa_scores(cfg)
    return scores[scores["model"].isin(list(base["model"]))].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------- CLI
def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `classit-eval aoa`."""
    parser.add_argument("--model", required=True,
                        help="HF model folder; its chck_<N>M checkpoints are inside it or beside it")
    parser.add_argument("--data", default=os.environ.get("CLASSIT_DATA"),
                        help="data folder with aoa_substitute/ and aochildes_transcripts/ (default: $CLASSIT_DATA)")
    parser.add_argument("--out", default="results", help="results root (default: results)")
    parser.add_argument("--contexts-per-word", type=int, default=CONTEXTS_PER_WORD,
                        help=f"at most N contexts per word (default: {CONTEXTS_PER_WORD}, as the pipeline)")
    parser.add_argument("--chance", default="official",
                        help="chance surprisal: official (log2 300000), vocab (ln |V|) or a number")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda, ...")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def format_summary(s: Mapping[str, Any]) -> str:
    """The few lines `classit-eval aoa` prints."""
    r = "n/a" if s["r"] is None else f"{s['r']:.3f} (p={s['p']:.3g})"
    return "\n".join([
        (f"AoA {s['model_name']}: {len(s['checkpoints'])} checkpoints "
         f"({s['checkpoints'][0]['name']} .. {s['checkpoints'][-1]['name']})"),
        (f"  CDI items {s['cdi']['items']}, kept {s['cdi']['kept']}, child AoA {s['cdi']['child_aoa']}; "
         f"with contexts {s['n_words_with_contexts']} ({s['n_contexts']} contexts)"),
        f"  model AoA {s['model_aoa']}; words with both {s['n_words']}; Pearson r {r}",
        f"  -> {Path(s['files']['summary.json']).parent}"])


def cli_main(args: argparse.Namespace) -> int:
    """`classit-eval aoa`: prints a short summary; a data problem prints one line and returns 2."""
    def error(msg: object) -> int:
        print(f"classit-eval: error: {msg}", file=sys.stderr)
        return 2
    if not args.data:
        return error("no data folder (give --data or set CLASSIT_DATA)")
    chance: str | float = args.chance
    if chance not in ("official", "vocab"):
        try:
            chance = float(chance)
        except ValueError:
            return error(f"--chance: official, vocab or a number (got {args.chance!r})")
    try:
        summary = run_aoa(args.model, args.data, args.out, contexts_per_word=args.contexts_per_word,
                          chance=chance, batch_size=args.batch_size, device=args.device,
                          progress=not args.quiet)
    except DataError as e:
        return error(e)
    print(format_summary(summary))
    return 0
