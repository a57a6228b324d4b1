"""Pretraining corpus: loaders for the real sources, per-source cleaning, documents, word budget.

A corpus is a list of `Document`s. Loaders return the raw text of each source; `split_documents`
cuts it where the source's own markup says a document ends (a Wikipedia article, a Gutenberg book,
a stretch of dialogue), `clean` strips that markup, and `word_table` counts whitespace words per
source before and after, the way BabyLM counts its budget.
"""
from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

import pandas as pd

from .config import CorpusConfig, StudyConfig
from .errors import DataError


@dataclass(frozen=True)
class Document:
    source: str
    doc_id: str                       # "<source>:<n>", stable across runs
    text: str                         # lines joined by "\n"
    title: str | None = None          # article or book title where the source has one
    raw_words: int = field(default=0, compare=False)  # words before cleaning

    @property
    def words(self) -> int:
        return count_words(self.text)


def count_words(text: str) -> int:
    return len(text.split())


# --------------------------------------------------------------------------- loaders
def read_babylm_dir(path: str | Path, sources: Iterable[str] = ()) -> dict[str, str]:
    """The official BabyLM layout: a folder of `<source>.train` files (e.g. `train_100M/`)."""
    path = Path(path)
    if not path.is_dir():
        raise DataError(f"{path}: BabyLM corpus folder not found")
    files = sorted(path.glob("*.train"))
    return _select(path, {f.stem: f for f in files}, sources, "*.train")


def read_text_dir(path: str | Path, sources: Iterable[str] = ()) -> dict[str, str]:
    """A local folder of `*.txt` files; the file stem names the source."""
    path = Path(path)
    if not path.is_dir():
        raise DataError(f"{path}: text corpus folder not found")
    return _select(path, {f.stem: f for f in sorted(path.glob("*.txt"))}, sources, "*.txt")


def _select(path: Path, files: dict[str, Path], sources: Iterable[str], pattern: str) -> dict[str, str]:
    sources = tuple(sources)
    if not files:
        raise DataError(f"{path}: no {pattern} files")
    missing = [s for s in sources if s not in files]
    if missing:
        raise DataError(f"{path}: source(s) {', '.join(missing)} not found (have: {', '.join(files)})")
    chosen = sources or tuple(files)
    out = {}
    for s in chosen:
        try:
            out[s] = files[s].read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise DataError(f"{files[s]}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    return out


def read_hf_dataset(hf_id: str, split: str = "train", text_field: str = "text",
                    sources: Iterable[str] = ()) -> dict[str, str]:
    """A corpus through `datasets`: a hub id, or a local folder/file of parquet, jsonl or text.

    Rows are grouped by a `source` (or `domain`) column when the dataset has one.
    """
    import datasets

    local = Path(hf_id)
    if local.is_file():
        kind = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".txt": "text"}.get(local.suffix)
        if kind is None:
            raise DataError(f"{local}: unsupported corpus file type (parquet, jsonl, txt)")
        ds = datasets.load_dataset(kind, data_files=str(local), split=split)
    else:
        ds = datasets.load_dataset(hf_id, split=split)
    if text_field not in ds.column_names:
        raise DataError(f"{hf_id}: no column {text_field!r} (columns: {', '.join(ds.column_names)})")
    group = next((c for c in ("source", "domain") if c in ds.column_names), None)
    texts: dict[str, list[str]] = {}
    for row in ds:
        texts.setdefault(str(row[group]) if group else "hf", []).append(row[text_field])
    sources = tuple(sources)
    if sources:
        texts = {s: texts[s] for s in sources if s in texts}
    return {s: "\n".join(lines) for s, lines in texts.items()}


def load_raw_corpus(cfg: StudyConfig) -> dict[str, str]:
    """Raw text per source, as the params' `corpus` section says."""
    c: CorpusConfig = cfg.corpus
    if c.loader in ("babylm", "text"):
        read = read_babylm_dir if c.loader == "babylm" else read_text_dir
        out: dict[str, str] = {}
        for path in (c.path, *c.extra_paths):
            found = read(cfg.data_path(path))
            dup = set(found) & set(out)
            if dup:
                raise DataError(f"{cfg.data_path(path)}: source(s) {', '.join(sorted(dup))} also in an earlier corpus path")
            out.update(found)
        missing = [s for s in c.sources if s not in out]
        if missing:
            raise DataError(f"corpus.sources: {', '.join(missing)} not found (have: {', '.join(sorted(out))})")
        return {s: out[s] for s in (c.sources or sorted(out))}
    if not c.hf_id:
        raise DataError("corpus.hf_id: required when corpus.loader is 'hf'")
    hf = c.hf_id if not Path(cfg.data_path(c.hf_id)).exists() else str(cfg.data_path(c.hf_id))
    return read_hf_dataset(hf, c.hf_split, c.hf_text_field, c.sources)


# --------------------------------------------------------------------------- cleaning
_HEADING = re.compile(r"^\s*(=\s){1,}\s*(?P<title>.*?)\s*(\s=){1,}\s*$")
# A title is 1-20 words without "=": the 600k samples cut some headings in half ("She died = = Kenneth ...
# was born ..."), and an unbounded title would pair the broken heading with the next one's opening, shifting
# every later article's title onto its neighbour's body (17% of the simple_wiki sample's documents were).
_INLINE_HEADING = re.compile(r"\s*=(?: =)+ (?P<title>[^=\s]+(?: [^=\s]+){0,19}) =(?: =)+\s*")
_STRAY_MARKUP = re.compile(r"(?:(?<=\s)|^)=(?: =)+(?=\s|$)\s*")     # what is left of a broken heading
_CHILDES_CODE = re.compile(r"(?:(?<=\s)|^)\*[A-Z0-9]{2,4}:\s*")
_CHILDES_NOISE = re.compile(r"\[[^\]]*\]|(?<!\w)(?:xxx|yyy|www)(?!\w)")
_SWITCHBOARD_CODE = re.compile(r"(?:(?<=\s)|^)[AB]:\s+")
_GUTENBERG_MARK = re.compile(r"\*{3}\s*(START|END) OF (THE|THIS) PROJECT GUTENBERG.*?\*{3}", re.I)
_GUTENBERG_LINE = re.compile(r"^\s*(Produced by|E-text prepared by|Transcriber's note|\[Illustration).*$",
                             re.I | re.M)
_SPACES = re.compile(r"[ \t\u00a0]+")


def _normalize(text: str) -> str:
    lines = (_SPACES.sub(" ", ln).strip() for ln in text.splitlines())
    return "\n".join(ln for ln in lines if ln)


def clean_childes(text: str) -> str:
    """Drop CHAT speaker codes (`*MOT:`) and annotations (`[giggles]`, `xxx` for unintelligible)."""
    return _normalize(_CHILDES_NOISE.sub(" ", _CHILDES_CODE.sub("", text)))


def clean_switchboard(text: str) -> str:
    """Drop the `A:`/`B:` speaker prefixes; one utterance stays one line."""
    return _normalize(_SWITCHBOARD_CODE.sub("", text))


def clean_wiki(text: str) -> str:
    """Drop `= = = Title = = =` heading markup (titles are kept as Document.title)."""
    text = "\n".join(ln for ln in text.splitlines() if not _HEADING.match(ln))
    return _normalize(_STRAY_MARKUP.sub("", _INLINE_HEADING.sub(" ", text)))


def strip_gutenberg_frame(text: str) -> str:
    """Keep what lies between a book's Project Gutenberg START and END marks (the licence follows
    the END mark, the header precedes the START mark); text without marks is kept whole."""
    end = next((m for m in _GUTENBERG_MARK.finditer(text) if m.group(1).upper() == "END"), None)
    if end:
        text = text[: end.start()]
    starts = [m for m in _GUTENBERG_MARK.finditer(text) if m.group(1).upper() == "START"]
    return text[starts[-1].end():] if starts else text


def clean_gutenberg(text: str) -> str:
    """Drop the Gutenberg frame, book headings, producer lines and `_emphasis_` underscores."""
    text = _GUTENBERG_LINE.sub("", strip_gutenberg_frame(text))
    text = re.sub(r"(?<!\w)_(\S(?:.*?\S)?)_(?!\w)", r"\1", text)
    return clean_wiki(text)


def clean_generic(text: str) -> str:
    return _normalize(text)


CLEANERS = {
    "childes": clean_childes,
    "switchboard": clean_switchboard,
    "simple_wiki": clean_wiki,
    "wikipedia": clean_wiki,
    "gutenberg": clean_gutenberg,
}


def clean(source: str, text: str) -> str:
    return CLEANERS.get(source, clean_generic)(text)


# --------------------------------------------------------------------------- documents
def _chunk_words(text: str, n: int) -> list[str]:
    """Cut text into pieces of at most ~n words, at line ends when lines are short."""
    out, cur, cur_n = [], [], 0
    for line in text.splitlines():
        words = line.split()
        while len(words) > n:                     # a single over-long line (the 600k samples)
            if cur:
                out.append("\n".join(cur)); cur, cur_n = [], 0
            out.append(" ".join(words[:n])); words = words[n:]
        if cur_n + len(words) > n and cur:
            out.append("\n".join(cur)); cur, cur_n = [], 0
        if words:
            cur.append(" ".join(words)); cur_n += len(words)
    if cur:
        out.append("\n".join(cur))
    return out


def _split_on_headings(text: str) -> list[tuple[str | None, str]]:
    """(title, body) per `= = = Title = = =` heading, whether headings sit on their own lines
    (BabyLM files) or inline (the space-joined 600k samples)."""
    parts = _INLINE_HEADING.split(text)   # [before, title1, body1, title2, body2, ...]
    out = [(None, parts[0])] if parts[0].strip() else []
    out += [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts) - 1, 2)]
    return out


def split_documents(source: str, text: str, doc_words: int) -> list[Document]:
    """Raw source text -> cleaned documents. Articles and books split on headings; everything else
    (and long books) on ~doc_words-word chunks of consecutive lines."""
    pieces: list[tuple[str | None, str]]
    if source in ("simple_wiki", "wikipedia", "gutenberg"):
        pieces = _split_on_headings(text)
    else:
        pieces = [(None, text)]
    docs: list[Document] = []
    for title, raw in pieces:
        if source in ("simple_wiki", "wikipedia"):
            chunks = [raw]                    # an article is one document, whatever its length
        elif source == "gutenberg":           # the frame is a whole-book matter: strip before cutting
            chunks = _chunk_words(strip_gutenberg_frame(raw), doc_words)
        else:
            chunks = _chunk_words(raw, doc_words)
        markup = count_words(f"= = = {title} = = =") if title is not None else 0
        for i, chunk in enumerate(chunks):
            cleaned = clean(source, chunk)
            raw_words = count_words(chunk) + (markup if i == 0 else 0)
            if cleaned:
                docs.append(Document(source, f"{source}:{len(docs)}", cleaned, title, raw_words))
    return docs


def build_documents(raw: dict[str, str], doc_words: int, max_words_per_source: int | None = None
                    ) -> list[Document]:
    """All sources' documents, each source capped (by whole documents, in file order) if asked."""
    docs = []
    for source in sorted(raw):
        taken = 0
        for d in split_documents(source, raw[source], doc_words):
            if max_words_per_source is not None and taken >= max_words_per_source:
                break
            docs.append(d)
            taken += d.words
    return docs


def word_table(raw: dict[str, str], docs: list[Document]) -> pd.DataFrame:
    """Words per source in the raw files, in the documents taken (before and after cleaning)."""
    rows = []
    for source in sorted(raw):
        sd = [d for d in docs if d.source == source]
        rows.append({"source": source, "words_file": count_words(raw[source]), "documents": len(sd),
                     "words_raw": sum(d.raw_words for d in sd), "words_clean": sum(d.words for d in sd)})
    df = pd.DataFrame(rows)
    total = df.drop(columns="source").sum().to_dict()
    return pd.concat([df, pd.DataFrame([{"source": "total", **total}])], ignore_index=True)


# --------------------------------------------------------------------------- budget
def normalize_line(line: str) -> str:
    return " ".join(line.split()).lower()


@dataclass(frozen=True)
class Holdout:
    """Text that instruction tuning reuses, to be removed from pretraining."""
    doc_ids: frozenset[str] = frozenset()   # whole documents (Wikipedia articles used for QA)
    lines: frozenset[str] = frozenset()     # normalized lines (Switchboard utterances used in pairs)
    line_sources: frozenset[str] = frozenset({"switchboard"})  # sources the lines are matched in: a
    # "Yeah." in BNC is not Switchboard text, so only the IT pairs' own source loses lines


def apply_holdout(docs: list[Document], holdout: Holdout) -> tuple[list[Document], Counter]:
    """Documents without the held-out text; returns the words removed per source."""
    kept, removed = [], Counter()
    for d in docs:
        if d.doc_id in holdout.doc_ids:
            removed[d.source] += d.words
            continue
        if holdout.lines and d.source in holdout.line_sources:
            lines = d.text.split("\n")
            keep = [ln for ln in lines if normalize_line(ln) not in holdout.lines]
            if len(keep) != len(lines):
                removed[d.source] += d.words - count_words("\n".join(keep))
                if not keep:
                    continue
                d = replace(d, text="\n".join(keep))
        kept.append(d)
    return kept, removed


def fit_budget(docs: list[Document], budget_words: int) -> tuple[list[Document], Counter]:
    """Trim pretraining documents so that they fit `budget_words`, every source by the same share,
    dropping each source's last documents first (deterministic). Returns words trimmed per source."""
    total = sum(d.words for d in docs)
    trimmed: Counter = Counter()
    if total <= budget_words:
        return docs, trimmed
    share = budget_words / total
    by_source: dict[str, list[Document]] = {}
    for d in docs:
        by_source.setdefault(d.source, []).append(d)
    kept = []
    for source, sd in by_source.items():
        allowed = int(sum(d.words for d in sd) * share)
        used = 0
        for d in sd:
            if used + d.words <= allowed:
                kept.append(d); used += d.words
            else:
                trimmed[source] += d.words
    return kept, trimmed


def budget_table(table: pd.DataFrame, removed: Counter, trimmed: Counter, kept: list[Document],
                 it_words: dict[str, int], budget_words: int) -> pd.DataFrame:
    """The word accounting shown by the data notebook: per source, then IT sets, then the total."""
    df = table[table.source != "total"][["source", "words_clean"]].copy()
    df["held_for_it"] = df.source.map(removed).fillna(0).astype(int)
    df["trimmed_for_budget"] = df.source.map(trimmed).fillna(0).astype(int)
    pre = Counter()
    for d in kept:
        pre[d.source] += d.words
    df["pretraining"] = df.source.map(pre).fillna(0).astype(int)
    df["role"] = "pretraining"
    it = pd.DataFrame([{"source": f"IT: {k}", "pretraining": 0, "role": "instruction tuning",
                        "it_words": v} for k, v in it_words.items()])
    df["it_words"] = 0
    out = pd.concat([df, it], ignore_index=True).fillna(0)
    total_pre, total_it = int(out.pretraining.sum()), int(out.it_words.sum())
    out = pd.concat([out, pd.DataFrame([{"source": "total", "role": f"budget {budget_words:,}",
                                         "pretraining": total_pre, "it_words": total_it,
                                         "words_clean": out.words_clean.sum(),
                                         "held_for_it": out.held_for_it.sum(),
                                         "trimmed_for_budget": out.trimmed_for_budget.sum()}])],
                    ignore_index=True)
    for col in ("words_clean", "held_for_it", "trimmed_for_budget", "pretraining", "it_words"):
        out[col] = out[col].astype(int)
    return out[["source", "role", "words_clean", "held_for_it", "trimmed_for_budget", "pretraining", "it_words"]]


def is_validation(doc_id: str, fraction: float, seed: int = 0) -> bool:
    """Deterministic document-level train/validation split (stable when other documents change)."""
    return (zlib.crc32(f"{seed}:{doc_id}".encode()) % 10_000) < fraction * 10_000
