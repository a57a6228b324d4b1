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

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from . import corpus as C
from . import instruct as I
from .config import StudyConfig
from .records import atomic_write_json

log = logging.getLogger(__name__)


def stage_dir(cfg: StudyConfig) -> Path:
    return cfg.run_dir / "00_data"


def preflight(cfg: StudyConfig, where: str = "params", stages: Sequence = (), fetch_as: str | None = None) -> None:
    """Fail before any compute, in one line naming the first missing input and the command that fetches it:
    the data stage's corpus and IT sources, then the folders of the `stages` (`pipeline.Stage`s) that read
    data, where a missing one would stop them (`evaluation`/`finetune` `skip_missing: false`)."""
    if cfg.demo is not None:
        return
    hint = f"fetch it with `classit-data fetch --profile {fetch_as or cfg.profile}` or put it there by hand"
    c, ic = cfg.corpus, cfg.instruct
    need = []
    if c.loader in ("babylm", "text"):
        need += [("corpus.path", c.path)] + [("corpus.extra_paths", p) for p in c.extra_paths]
    if ic.class_it is None:
        need.append(("instruct.conv.path", ic.conv.path))
    elif not re.fullmatch(r"[\w.-]+/[\w.-]+", ic.class_it):
        need.append(("instruct.class_it", ic.class_it))      # a folder; `owner/name` absent here is a hub id
    strict = {"evaluation": not cfg.evaluation.skip_missing, "finetune": not cfg.finetune.config.skip_missing}
    for stage in stages:
        if any(strict.get(sec) for sec in stage.sections):
            need += [(f"{stage.name} data", d) for d in stage.data]
    for key, path in need:
        if not cfg.data_path(path).exists():
            raise C.DataError(f"{where}: {key}: {cfg.data_path(path)} does not exist; {hint}")


def ensure_demo_data(cfg: StudyConfig) -> Path | None:
    """Generate the demo data into `data_root` when the profile asks for it (once)."""
    if cfg.demo is None:
        return None
    from .demo import DemoSpec, write_demo_data
    from .codekey import PACKAGE_DIR, sha
    marker = cfg.data_dir / "DEMO_MANIFEST.json"
    spec = DemoSpec(seed=cfg.demo.seed, words_per_source=cfg.demo.words_per_source,
                    swda_dialogues=cfg.demo.swda_dialogues)
    # the generator's code counts too: a new demo file (or a changed one) must appear in an existing run
    code = sha(b"".join(p.read_bytes() for p in sorted((PACKAGE_DIR / "demo").glob("*.py"))))
    old = _read_json(marker) if marker.exists() else {}
    if old.get("spec") != spec.__dict__ or old.get("code") != code:
        manifest = write_demo_data(cfg.data_dir, spec)
        atomic_write_json(marker, {"spec": spec.__dict__, "code": code, "files": manifest})
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
        sets = I.load_class_it(spec, revision=ic.class_it_revision)
    else:
        c = ic.conv
        dialogues = (I.read_swda(cfg.data_path(c.path)) if c.loader == "swda"
                     else I.read_babylm_switchboard(cfg.data_path(c.path)))
        articles = [d for d in corpus.docs if d.source == ic.qa.source]
        if not articles:
            raise C.DataError(f"instruct.qa.source: corpus has no {ic.qa.source!r} documents "
                              f"(sources: {', '.join(sorted(corpus.raw))})")
        sets = {"conv": I.conversational_pairs(dialogues, c), "qa": qa_pairs(cfg, articles)}
    for name, df in sets.items():
        if df.empty:
            raise C.DataError(f"instruct.{name}: no pairs were built; check its length params")
    return {k: I.finalize(v, ic.heldout_fraction, cfg.seed) for k, v in sets.items()}


def qa_pairs(cfg: StudyConfig, articles: list[C.Document], model=None) -> pd.DataFrame:
    """The lecture QA set: by template, or written by an instruct model (`instruct.qa.method: generate`),
    cached per article under `<run>/qagen_cache/` (outside the stage folder, so a rerun or an interrupted
    run resumes there). `model` overrides the params' model (a loaded (model, tokenizer) pair, in tests)."""
    qa = cfg.instruct.qa
    if qa.method == "template":
        return I.qa_pairs(articles, qa)
    from . import qagen
    g = qa.generate
    if model is None:      # a folder under data_root (or absolute) if there is one, else a hub id
        local = cfg.data_path(g.model)
        model = local if local.exists() else g.model
    df = qagen.generate_qa_with(g, articles, cfg.run_dir / "qagen_cache", model=model)
    log.info("instruct.qa.generate: %s", df.attrs.get("filtered"))
    return df if qa.max_pairs is None else df.iloc[: qa.max_pairs]


@dataclass
class Budget:
    docs: list[C.Document]     # pretraining documents after hold-out and trimming
    table: pd.DataFrame


def apply_budget(cfg: StudyConfig, corpus: Corpus, sets: dict[str, pd.DataFrame]) -> Budget:
    """Remove IT-reused text from pretraining, then fit pretraining + IT into the word budget."""
    ic = cfg.instruct
    if ic.class_it:      # released pairs: their source text is found by matching (documented there)
        holdout = I.class_it_holdout(sets, corpus.docs, qa_source=ic.qa.source, n=ic.class_it_ngram,
                                     min_shared=ic.class_it_min_shared)
    else:
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


PAPER_IT_WORDS = 8_700_000      # CLASS-IT's two released sets together (Capone et al. 2025, about 91M + 8.7M)


def it_words_vs_paper(sets: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Words (prompt + reply, whitespace-counted) per IT set and in all, beside the paper's 8.7M: `words` over
    every pair (the set as built or released), `tuned_words` over the training split (what the budget counts)."""
    rows = [{"set": k, "source": ", ".join(sorted(set(v.source))), "pairs": len(v),
             "words": int(sum(C.count_words(p) + C.count_words(r) for p, r in zip(v.prompt, v.reply))),
             "tuned_words": I.pair_words(v)} for k, v in sets.items()]
    rows.append({"set": "total", "source": "", **{k: sum(r[k] for r in rows) for k in ("pairs", "words", "tuned_words")}})
    df = pd.DataFrame(rows)
    df["share_of_paper_8.7M"] = (df["words"] / PAPER_IT_WORDS).round(4)
    return df


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
