"""Tokenized pretraining shards: documents packed into fixed-length blocks in memory-mapped arrays.

Layout of a shard folder: `train.bin`, `val.bin` (raw little-endian arrays of shape
(n_blocks, block_size), dtype uint16 when the vocabulary fits, else uint32) and `meta.json`.
Each document is encoded as BOS ... EOS; documents are concatenated and cut into blocks, the last
partial block of each split is dropped. The split is by document (`corpus.is_validation`), so the
same text never lands on both sides.
"""
from __future__ import annotations

import json
import os
from pathlib import Path


import numpy as np
from tqdm.auto import tqdm

from .corpus import Document, is_validation
from .records import atomic_write_json


def _dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= 2**16 else np.dtype(np.uint32)


def write_shards(docs: list[Document], tok, out_dir: str | Path, block_size: int,
                 val_fraction: float, seed: int = 0, batch_docs: int = 256) -> dict:
    """Encode, pack and write both splits; returns the metadata written to `meta.json`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dtype = _dtype(len(tok))
    eos = tok.eos_token_id
    splits = {"train": [d for d in docs if not is_validation(d.doc_id, val_fraction, seed)],
              "val": [d for d in docs if is_validation(d.doc_id, val_fraction, seed)]}
    meta = {"block_size": block_size, "dtype": dtype.name, "vocab_size": len(tok),
            "bos_id": tok.bos_token_id, "eos_id": eos, "pad_id": tok.pad_token_id,
            "n_blocks": {}, "n_tokens": {}, "n_documents": {}, "n_words": {}}
    for split, sdocs in splits.items():
        n_tok = _pack(sdocs, tok, out_dir / f"{split}.bin", block_size, dtype, batch_docs, split)
        meta["n_blocks"][split] = n_tok // block_size
        meta["n_tokens"][split] = n_tok - n_tok % block_size
        meta["n_documents"][split] = len(sdocs)
        meta["n_words"][split] = sum(d.words for d in sdocs)
    atomic_write_json(out_dir / "meta.json", meta)
    return meta


def _pack(docs: list[Document], tok, path: Path, block_size: int, dtype: np.dtype,
          batch_docs: int, desc: str) -> int:
    """Stream documents' ids into `path` in whole blocks; returns the tokens written."""
    tmp = path.with_name(path.name + ".tmp")
    carry = np.zeros(0, dtype=dtype)
    written = 0
    with open(tmp, "wb") as f:
        for i in tqdm(range(0, len(docs), batch_docs), desc=f"shards/{desc}", unit="batch", leave=False):
            enc = tok([d.text for d in docs[i:i + batch_docs]])["input_ids"]   # BOS added by the tokenizer
            ids = np.fromiter((t for e in enc for t in (*e, tok.eos_token_id)), dtype=dtype)
            carry = np.concatenate([carry, ids])
            n_full = len(carry) // block_size * block_size
            carry[:n_full].tofile(f)
            written += n_full
            carry = carry[n_full:]
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return written + len(carry)   # the tail is counted so the caller can see what was dropped


def open_blocks(shard_dir: str | Path, split: str = "train") -> np.memmap:
    """The (n_blocks, block_size) memory-mapped view of one split."""
    shard_dir = Path(shard_dir)
    meta = read_meta(shard_dir)
    path = shard_dir / f"{split}.bin"
    arr = np.memmap(path, dtype=meta["dtype"], mode="r")
    if arr.size % meta["block_size"]:
        raise ValueError(f"{path}: size {arr.size} is not a multiple of block_size {meta['block_size']}")
    return arr.reshape(-1, meta["block_size"])


def read_meta(shard_dir: str | Path) -> dict:
    return json.loads((Path(shard_dir) / "meta.json").read_text())
