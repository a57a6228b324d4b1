"""Instruction-tuning (IT) data: the two IT sets, the released CLASS_IT format, the chat template
and the curricula.

Every IT set is a table with columns `prompt`, `reply`, `source`, `text` (the chat-formatted
training text), `origin` (where the pair came from) and `split` (`train` or `heldout`).

- Conversational (`conv`): Switchboard dialogues. Consecutive utterances of one speaker are merged
  into a turn; each turn whose speaker changes answers the `context_turns` turns before it
  (joined by newlines into the prompt). With `overlapping: false` (default) a turn is used once,
  so pairs are (t1,t2), (t3,t4), ... and no word is counted twice against the budget.
- Lecture-aligned QA (`qa`): Simple English Wikipedia articles read as short lectures. The article
  is cut into consecutive sections of `answer_sentences` sentences; section k is the reply to a
  question built from the title by template k ("What is X?" / "Who is X?" for the first section,
  follow-up questions after it). Deterministic: no sampling, no model.
"""
from __future__ import annotations

import json
import random
from collections import Counter
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from .config import CURRICULA, ConvConfig, QAConfig
from .corpus import Document, Holdout, count_words, normalize_line
from .errors import DataError
from .tokenizer import ASSISTANT, USER

COLUMNS = ["prompt", "reply", "source", "text", "origin", "split"]


# --------------------------------------------------------------------------- chat template
def chat_prefix(prompt: str) -> str:
    """Everything before the reply; the tokenizer adds BOS in front."""
    return f"{USER} {prompt}\n{ASSISTANT}"


def chat_text(prompt: str, reply: str) -> str:
    """The training text of one pair (EOS is appended at encoding)."""
    return f"{chat_prefix(prompt)} {reply}"


def encode_pair(tok, prompt: str, reply: str) -> tuple[list[int], list[int]]:
    """Token ids of one pair and the mask of reply tokens (1 on the reply and its EOS).

    Prefix and reply are encoded separately so the mask boundary is exact; the byte-level
    pre-tokenizer splits before the reply's leading space, so the ids equal those of the whole
    `chat_text` (tested)."""
    prefix = tok(chat_prefix(prompt))["input_ids"]
    reply_ids = tok(" " + reply, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    return prefix + reply_ids, [0] * len(prefix) + [1] * len(reply_ids)


# --------------------------------------------------------------------------- conversational
@dataclass(frozen=True)
class Turn:
    speaker: str
    text: str
    utterances: tuple[str, ...]


def read_swda_dialogue(path: str | Path) -> list[tuple[str, str]]:
    """(speaker, utterance) lines of one SwDA file (`Speaker|Utterance text|DAMSL tag`)."""
    out = []
    path = Path(path)
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("|")
        if len(parts) < 3 or not parts[0].strip():
            raise DataError(f"{path}:{n}: expected 'Speaker|Utterance|tag', got {line[:60]!r}")
        out.append((parts[0].strip(), "|".join(parts[1:-1]).strip()))
    return out


def read_swda(root: str | Path, splits: Iterable[str] = ("train", "val", "test")) -> dict[str, list]:
    """All SwDA dialogues under `root` (the `swda_data/` folder): {"<split>/<id>": utterances}."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: SwDA folder not found")
    out = {}
    for split in splits:
        for f in sorted((root / split).glob("*.txt")):
            out[f"{split}/{f.stem}"] = read_swda_dialogue(f)
    if not out:
        raise DataError(f"{root}: no SwDA dialogue files under {'/, '.join(splits)}/")
    return out


def read_babylm_switchboard(path: str | Path) -> dict[str, list]:
    """BabyLM's `switchboard.train` (`A:\\t<utterance>` lines) as one utterance stream."""
    path = Path(path)
    utts = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        m = re.match(r"^([AB]):\s*(.*)$", line)
        if not m:
            raise DataError(f"{path}:{n}: expected 'A:<tab>utterance' or 'B:<tab>utterance'")
        utts.append((m.group(1), m.group(2).strip()))
    return {path.stem: utts}


def merge_turns(utterances: list[tuple[str, str]]) -> list[Turn]:
    """Consecutive utterances of one speaker become one turn."""
    turns: list[Turn] = []
    for speaker, text in utterances:
        if not text:
            continue
        if turns and turns[-1].speaker == speaker:
            last = turns[-1]
            turns[-1] = Turn(speaker, f"{last.text} {text}", last.utterances + (text,))
        else:
            turns.append(Turn(speaker, text, (text,)))
    return turns


def conversational_pairs(dialogues: dict[str, list], cfg: ConvConfig) -> pd.DataFrame:
    """Prompt/reply pairs from speaker changes, filtered by reply and total length."""
    rows = []
    for did, utts in dialogues.items():
        turns = merge_turns(utts)
        free = 0                                   # first turn not yet used by a pair
        for i in range(1, len(turns)):
            if not cfg.overlapping and i - 1 < free:
                continue
            ctx = turns[max(0, i - cfg.context_turns): i]
            prompt = "\n".join(t.text for t in ctx)
            reply = turns[i].text
            if count_words(reply) < cfg.min_reply_words:
                continue
            if count_words(prompt) + count_words(reply) > cfg.max_words:
                continue
            rows.append({"prompt": prompt, "reply": reply, "source": "switchboard",
                         "origin": f"{did}#{i}",
                         "_lines": [u for t in (*ctx, turns[i]) for u in t.utterances]})
            free = i + 1
    df = pd.DataFrame(rows, columns=["prompt", "reply", "source", "origin", "_lines"])
    if cfg.max_pairs is not None:
        df = df.iloc[: cfg.max_pairs]
    return df


# --------------------------------------------------------------------------- lecture QA
_SENT = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
FOLLOW_UPS = ("What else can you tell me about {t}?", "Can you explain more about {t}?",
              "What is another thing to know about {t}?", "Tell me more about {t}.")


def sentences(text: str) -> list[str]:
    out = []
    for line in text.split("\n"):
        out += [s.strip() for s in _SENT.split(line) if s.strip()]
    return out


def first_question(title: str, first_sentence: str) -> str:
    """"Who is" for people (a birth date or "(born" in the first sentence), "What is" otherwise."""
    person = re.search(r"\((?:born|[^)]*\b\d{3,4}\s*[–-])|\bwas born\b", first_sentence)
    return f"{'Who' if person else 'What'} is {title}?"


def qa_pairs(articles: list[Document], cfg: QAConfig) -> pd.DataFrame:
    """Questions about each titled article answered by its own consecutive sentences."""
    rows = []
    for doc in articles:
        if not doc.title:
            continue
        sents = sentences(doc.text)
        if len(sents) < cfg.min_article_sentences:
            continue
        k = cfg.answer_sentences
        sections = [" ".join(sents[i:i + k]) for i in range(0, len(sents), k)][: cfg.questions_per_article]
        for j, answer in enumerate(sections):
            q = (first_question(doc.title, sents[0]) if j == 0
                 else FOLLOW_UPS[(j - 1) % len(FOLLOW_UPS)].format(t=doc.title))
            rows.append({"prompt": q, "reply": answer, "source": "simple_wiki",
                         "origin": f"{doc.doc_id}#{j}", "_doc": doc.doc_id})
    df = pd.DataFrame(rows, columns=["prompt", "reply", "source", "origin", "_doc"])
    if cfg.max_pairs is not None:
        df = df.iloc[: cfg.max_pairs]
    return df


# --------------------------------------------------------------------------- released CLASS_IT
CLASS_IT_CONFIGS = {"switchboard": "conv", "simple_wiki": "qa"}


def load_class_it(spec: str | Path, revision: str | None = None) -> dict[str, pd.DataFrame]:
    """The released `colinglab/CLASS_IT` data: a HF id (at `revision`), or a local folder with, per config,
    `<config>.parquet`, `<config>.jsonl` or `<config>/*.parquet` (the hub's layout). A `title` column, where
    the release has one, is kept as `_title` (the hold-out matches articles by it)."""
    local = Path(spec)
    out = {}
    for config, name in CLASS_IT_CONFIGS.items():
        if local.exists():
            files = [local / f"{config}.parquet", local / f"{config}.jsonl", *sorted(local.glob(f"{config}/*.parquet")),
                     *sorted(local.glob(f"{config}/*.jsonl"))]
            files = [f for f in files if f.is_file()]
            if not files:
                raise DataError(f"{local}: no {config}.parquet, {config}.jsonl or {config}/*.parquet")
            df = pd.concat([_read_table(f) for f in files], ignore_index=True)
            where = str(files[0])
        else:
            import datasets
            df = datasets.load_dataset(str(spec), config, split="train", revision=revision).to_pandas()
            where = f"{spec}[{config}]"
        missing = {"prompt", "reply"} - set(df.columns)
        if missing:
            raise DataError(f"{where}: missing column(s) {', '.join(sorted(missing))} (have {', '.join(df.columns)})")
        title = df["title"].astype(str) if "title" in df else None
        df = df[["prompt", "reply"]].astype(str).assign(source=config)
        df["origin"] = [f"class_it/{config}#{i}" for i in range(len(df))]
        if title is not None:
            df["_title"] = title.to_numpy()
        out[name] = df
    return out


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise DataError(f"{path}:{n}: invalid JSON ({err.msg})") from None
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- finishing
def finalize(df: pd.DataFrame, heldout_fraction: float, seed: int = 0) -> pd.DataFrame:
    """Add the chat `text` and a deterministic train/heldout `split` (by origin hash)."""
    df = df.copy()
    df["text"] = [chat_text(p, r) for p, r in zip(df.prompt, df.reply)]
    held = [(zlib.crc32(f"{seed}:{o}".encode()) % 10_000) < heldout_fraction * 10_000 for o in df.origin]
    df["split"] = ["heldout" if h else "train" for h in held]
    return df[COLUMNS + [c for c in df.columns if c.startswith("_")]].reset_index(drop=True)


def pair_words(df: pd.DataFrame) -> int:
    """Words the model reads from a set: prompt plus reply of every training pair."""
    train = df[df.split == "train"]
    return int(sum(count_words(p) + count_words(r) for p, r in zip(train.prompt, train.reply)))


def holdout_lines(conv: pd.DataFrame) -> frozenset[str]:
    """Normalized Switchboard utterances that the conversational pairs reuse."""
    if "_lines" not in conv:
        return frozenset()
    return frozenset(normalize_line(u) for lines in conv["_lines"] for u in lines)


def holdout_docs(qa: pd.DataFrame) -> frozenset[str]:
    return frozenset(qa["_doc"]) if "_doc" in qa else frozenset()


def _ngram_hashes(text: str, n: int) -> set[int]:
    """Hashes of the word n-grams of `text` (lowercase letter/digit/apostrophe runs, punctuation ignored)."""
    words = _WORD.findall(text.lower())
    return {hash(" ".join(words[i:i + n])) for i in range(len(words) - n + 1)}


_WORD = re.compile(r"[a-z0-9']+")


def class_it_holdout(sets: dict[str, pd.DataFrame], docs: Sequence[Document], *, qa_source: str,
                     conv_sources: Iterable[str] = ("switchboard",), n: int = 8, min_shared: int = 2) -> Holdout:
    """The pretraining text the released CLASS_IT pairs come from, found by matching (the release carries no
    pointer back into the BabyLM corpus):
    - QA (`simple_wiki`): an article of `qa_source` is held out whole when its title is a released pair's
      `title` (if the release has that column), or when it is a released pair's best match: the article
      (or the articles, on a tie) sharing the most distinct word `n`-grams with the pair's prompt and
      reply, at least `min_shared`. Best-match rather than any-overlap, because stock phrases ("is a
      commune in the ... department in north-western France") recur across hundreds of stubs and an
      any-overlap rule takes them all. On the small profile's real data, with the template QA's own
      source articles as the truth, this finds all of them (tests/test_instruct).
    - Conversation (`switchboard`): a line of a `conv_sources` document is held out when it shares one word
      `n`-gram with the released turns, or, shorter than `n` words, when it equals one of their sentences
      (case and spacing aside; as with SwDA pairs, a short "Yeah." goes with them).
    Errs towards holding out too much, which only lowers pretraining words: the budget stays kept."""
    conv_sources = frozenset(conv_sources)
    qa, conv = sets.get("qa"), sets.get("conv")
    doc_ids: set[str] = set()
    if qa is not None and len(qa):
        titles = set(qa["_title"].str.strip().str.lower()) if "_title" in qa else set()
        articles = [d for d in docs if d.source == qa_source]
        pair_grams = [_ngram_hashes(f"{p}\n{r}", n) for p, r in zip(qa.prompt, qa.reply)]
        wanted = set().union(*pair_grams)
        postings: dict[int, list[int]] = {}
        for k, d in enumerate(articles):
            if d.title and d.title.strip().lower() in titles:
                doc_ids.add(d.doc_id)
            for g in _ngram_hashes(d.text, n) & wanted:
                postings.setdefault(g, []).append(k)
        for grams in pair_grams:          # each pair's source: the article(s) sharing the most n-grams with it
            votes = Counter(k for g in grams for k in postings.get(g, ()))
            if votes:
                top = max(votes.values())
                if top >= min_shared:
                    doc_ids.update(articles[k].doc_id for k, v in votes.items() if v == top)
    lines: set[str] = set()
    if conv is not None and len(conv):
        grams = set().union(*(_ngram_hashes(t, n) for t in (*conv.prompt, *conv.reply)))
        short = {normalize_line(x) for t in (*conv.prompt, *conv.reply) for x in (t, *sentences(t))}
        for d in docs:
            if d.source not in conv_sources:
                continue
            for line in d.text.split("\n"):
                key = normalize_line(line)
                if not key:
                    continue
                if (_ngram_hashes(line, n) & grams) if len(_WORD.findall(key)) >= n else key in short:
                    lines.add(key)
    return Holdout(doc_ids=frozenset(doc_ids), lines=frozenset(lines), line_sources=conv_sources)


# --------------------------------------------------------------------------- curricula
_PHASES = {"conv": [["conv"]], "qa": [["qa"]], "merged": [["conv", "qa"]],
           "seq_conv_qa": [["conv"], ["qa"]], "seq_qa_conv": [["qa"], ["conv"]]}
assert set(_PHASES) == set(CURRICULA)


def build_curriculum(name: str, sets: dict[str, pd.DataFrame], seed: int = 0) -> dict:
    """A curriculum manifest: its ordered phases, each an ordered list of [set, row] of training
    pairs. A phase of several sets is their shuffled union (merged); every phase is shuffled with
    a seed derived from `seed` and the phase, so conv in `conv` and in `seq_conv_qa` match."""
    if name not in _PHASES:
        raise ValueError(f"curricula.names: unknown curriculum {name!r} (known: {', '.join(_PHASES)})")
    phases = []
    for set_names in _PHASES[name]:
        rows = [[s, int(i)] for s in set_names for i in sets[s].index[sets[s].split == "train"]]
        random.Random(f"{seed}:{'+'.join(set_names)}").shuffle(rows)
        words = {s: pair_words(sets[s]) for s in set_names}
        phases.append({"name": "+".join(set_names), "sets": set_names, "pairs": len(rows),
                       "words": sum(words.values()), "rows": rows})
    return {"name": name, "phases": phases, "seed": seed}


def curriculum_table(manifests: dict[str, dict]) -> pd.DataFrame:
    return pd.DataFrame([{"curriculum": m["name"], "phase": i + 1, "sets": p["name"], "pairs": p["pairs"],
                          "words": p["words"]} for m in manifests.values() for i, p in enumerate(m["phases"])])


def curriculum_examples(manifest: dict, sets: dict[str, pd.DataFrame], tok) -> list[list[tuple]]:
    """The tokenized examples of each phase, in manifest order: [(input_ids, reply_mask), ...]."""
    return [[encode_pair(tok, sets[s].at[i, "prompt"], sets[s].at[i, "reply"]) for s, i in p["rows"]]
            for p in manifest["phases"]]
