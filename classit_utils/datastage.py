"""The data stage (notebooks/00_data.ipynb) as functions: corpus -> IT sets -> budget -> tokenizer
-> shards -> curricula. Outputs go to `<run_dir>/00_data/`:

    corpus_words.csv, budget.csv           word tables
    it/{conv,qa}.parquet                   IT sets (prompt, reply, source, text, origin, split)
    curricula/<name>.json                  curriculum manifests
    tokenizer/                             HF tokenizer folder
    shards/{train,val}.bin, meta.json      packed pretraining blocks
    metrics.json                           counts, fertility, provenance
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import corpus as C
from . import instruct as I
from .config import StudyConfig
from .records import atomic_write_json


def stage_dir(cfg: StudyConfig) -> Path:
    return cfg.run_dir / "00_data"


def preflight(cfg: StudyConfig, where: str = "params") -> None:
    """Fail before any compute when an input the data stage reads is missing."""
    if cfg.demo is not None:
        return
    c = cfg.corpus
    for key, path in [("corpus.path", c.path)] + [("corpus.extra_paths", p) for p in c.extra_paths]:
        if c.loader in ("babylm", "text") and not cfg.data_path(path).is_dir():
            raise C.DataError(f"{where}: {key}: {cfg.data_path(path)} does not exist")
    if cfg.instruct.class_it is None and not cfg.data_path(cfg.instruct.conv.path).exists():
        raise C.DataError(f"{where}: instruct.conv.path: {cfg.data_path(cfg.instruct.conv.path)} does not exist")


def ensure_demo_data(cfg: StudyConfig) -> Path | None:
    """Generate the demo data into `data_root` when the profile asks for it (once)."""
    if cfg.demo is None:
        return None
    from .demo import DemoSpec, write_demo_data
    marker = cfg.data_dir / "DEMO_MANIFEST.json"
    spec = DemoSpec(seed=cfg.demo.seed, words_per_source=cfg.demo.words_per_source,
                    swda_dialogues=cfg.demo.swda_dialogues)
    if not marker.exists() or _read_json(marker).get("spec") != spec.__dict__:
        manifest = write_demo_data(cfg.data_dir, spec)
        atomic_write_json(marker, {"spec": spec.__dict__, "files": manifest})
    return cfg.data_dir


def _read_json(path: Path) -> dict:
    import json
    return json.loads(path.read_text())


@dataclass
class Corpus:
    raw: dict[str, str]
    docs: list[C.Document]
    table: pd.DataFrame


def load_corpus(cfg: StudyConfig) -> Corpus:
    raw = C.load_raw_corpus(cfg)
    docs = C.build_documents(raw, cfg.corpus.doc_words, cfg.corpus.max_words_per_source)
    return Corpus(raw, docs, C.word_table(raw, docs))


def build_it_sets(cfg: StudyConfig, corpus: Corpus) -> dict[str, pd.DataFrame]:
    """The two IT sets, built from the corpora (or the released CLASS_IT data when configured)."""
    ic = cfg.instruct
    if ic.class_it:
        spec = cfg.data_path(ic.class_it) if cfg.data_path(ic.class_it).exists() else ic.class_it
        sets = I.load_class_it(spec)
    else:
        c = ic.conv
        dialogues = (I.read_swda(cfg.data_path(c.path)) if c.loader == "swda"
                     else I.read_babylm_switchboard(cfg.data_path(c.path)))
        articles = [d for d in corpus.docs if d.source == ic.qa.source]
        if not articles:
            raise C.DataError(f"instruct.qa.source: corpus has no {ic.qa.source!r} documents "
                              f"(sources: {', '.join(sorted(corpus.raw))})")
        sets = {"conv": I.conversational_pairs(dialogues, c), "qa": I.qa_pairs(articles, ic.qa)}
    for name, df in sets.items():
        if df.empty:
            raise C.DataError(f"instruct.{name}: no pairs were built; check its length params")
    return {k: I.finalize(v, ic.heldout_fraction, cfg.seed) for k, v in sets.items()}


@dataclass
class Budget:
    docs: list[C.Document]     # pretraining documents after hold-out and trimming
    table: pd.DataFrame


def apply_budget(cfg: StudyConfig, corpus: Corpus, sets: dict[str, pd.DataFrame]) -> Budget:
    """Remove IT-reused text from pretraining, then fit pretraining + IT into the word budget."""
    holdout = C.Holdout(doc_ids=I.holdout_docs(sets["qa"]), lines=I.holdout_lines(sets["conv"]))
    docs, removed = (C.apply_holdout(corpus.docs, holdout) if cfg.instruct.hold_out_from_pretraining
                     else (corpus.docs, {}))
    it_words = {k: I.pair_words(v) for k, v in sets.items()}
    budget = cfg.corpus.budget_words - sum(it_words.values())
    if budget <= 0:
        raise C.DataError(f"corpus.budget_words: {cfg.corpus.budget_words:,} leaves nothing for "
                          f"pretraining after {sum(it_words.values()):,} IT words")
    docs, trimmed = C.fit_budget(docs, budget)
    table = C.budget_table(corpus.table, removed, trimmed, docs, it_words, cfg.corpus.budget_words)
    return Budget(docs, table)


def save_it_sets(sets: dict[str, pd.DataFrame], out: Path) -> dict[str, Path]:
    paths = {}
    for name, df in sets.items():
        path = out / "it" / f"{name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        df[I.COLUMNS].to_parquet(tmp, index=False)
        tmp.replace(path)
        paths[name] = path
    return paths


def load_it_sets(stage: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in sorted((Path(stage) / "it").glob("*.parquet"))}


def save_curricula(cfg: StudyConfig, sets: dict[str, pd.DataFrame], out: Path) -> dict[str, dict]:
    manifests = {n: I.build_curriculum(n, sets, cfg.curricula.shuffle_seed) for n in cfg.curricula.names}
    for n, m in manifests.items():
        atomic_write_json(out / "curricula" / f"{n}.json", m)
    return manifests


def load_curriculum(stage: Path, name: str) -> dict:
    return _read_json(Path(stage) / "curricula" / f"{name}.json")


def train_tokenizer(cfg: StudyConfig, docs: list[C.Document], out: Path):
    """Train the BPE on the pretraining documents (after hold-out) and save it as a HF folder."""
    from .tokenizer import save_tokenizer, train_tokenizer as _train
    tok = _train((d.text for d in docs), cfg.tokenizer.vocab_size, cfg.tokenizer.min_frequency)
    save_tokenizer(tok, out / "tokenizer")
    return tok


def fertility_table(tok, docs: list[C.Document], per_source: int = 200) -> pd.DataFrame:
    """Tokens per word for each source, on its first `per_source` documents."""
    from .tokenizer import fertility
    rows = []
    for source in sorted({d.source for d in docs}):
        texts = [d.text for d in docs if d.source == source][:per_source]
        rows.append({"source": source, "documents": len(texts), "tokens_per_word": round(fertility(tok, texts), 3)})
    return pd.DataFrame(rows)


def it_summary(sets: dict[str, pd.DataFrame]) -> pd.DataFrame:
    rows = []
    for name, df in sets.items():
        for split, part in df.groupby("split"):
            rows.append({"set": name, "split": split, "pairs": len(part),
                         "prompt_words": int(part.prompt.str.split().str.len().sum()),
                         "reply_words": int(part.reply.str.split().str.len().sum())})
    return pd.DataFrame(rows)
