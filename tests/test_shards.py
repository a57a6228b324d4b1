import json
import random

import numpy as np

from classit_utils.corpus import Document, is_validation
from classit_utils.shards import open_blocks, write_shards


def test_packing_matches_naive_concatenation(tiny_tok, tmp_path):
    docs = [Document("s", f"s:{i}", f"The cat sat on the mat {i} times.") for i in range(60)]
    meta = write_shards(docs, tiny_tok, tmp_path, block_size=16, val_fraction=0.2, batch_docs=7)
    for split in ("train", "val"):
        chosen = [d for d in docs if is_validation(d.doc_id, 0.2) == (split == "val")]
        stream = [t for d in chosen for t in tiny_tok(d.text)["input_ids"] + [tiny_tok.eos_token_id]]
        n = len(stream) // 16
        blocks = open_blocks(tmp_path, split)
        assert blocks.shape == (n, 16) and blocks.dtype == np.uint16
        assert blocks.ravel().tolist() == stream[: n * 16]
        assert meta["n_blocks"][split] == n and meta["n_documents"][split] == len(chosen)
    assert json.loads((tmp_path / "meta.json").read_text())["bos_id"] == 1
    assert not list(tmp_path.glob("*.tmp"))


# Documents of six single-token words: BOS + 6 + EOS = 8 tokens, two whole blocks of 4. No tail is dropped,
# every document can be read back from the blocks, and a split that cut a document in two would show.
FIRST, REST = ["The", "She", "We", "A"], [" cat", " ran", " ball", " bird", " and", " is", " the", " a"]


def _doc(i: int) -> Document:
    words, n = [FIRST[i % 4]], i // 4
    for _ in range(5):
        words.append(REST[n % 8])
        n //= 8
    return Document("s", f"s:{i}", "".join(words))


def _read_back(shard_dir, tok, docs: list[Document]) -> dict[str, list[str]]:
    """The doc_ids of each split, in order, from the blocks on disk; each BOS...EOS run must be a whole
    document of `docs`."""
    by_ids = {tuple(tok(d.text)["input_ids"]) + (tok.eos_token_id,): d.doc_id for d in docs}
    assert len(by_ids) == len(docs)
    out = {}
    for split in ("train", "val"):
        runs, cur = [], []
        for t in open_blocks(shard_dir, split).ravel().tolist():
            cur.append(t)
            if t == tok.eos_token_id:
                assert tuple(cur) in by_ids, f"{split}: {cur} is not a whole document"
                runs.append(by_ids[tuple(cur)])
                cur = []
        assert cur == [], split
        out[split] = runs
    return out


def test_split_is_by_document_and_stable(tiny_tok, tmp_path):
    docs = [_doc(i) for i in range(200)]
    ids = {d.doc_id for d in docs}
    assert {len(tiny_tok(d.text)["input_ids"]) for d in docs} == {7}          # BOS + 6 words
    write_shards(docs, tiny_tok, tmp_path / "base", 4, 0.1)
    base = _read_back(tmp_path / "base", tiny_tok, docs)
    # By document: each document whole on one side, the sides disjoint and complete, as is_validation says.
    val = {i for i in ids if is_validation(i, 0.1)}
    assert set(base["val"]) == val and set(base["train"]) == ids - val
    assert len(base["train"]) + len(base["val"]) == len(docs)
    # Golden (seed 0): a changed hash would move documents of existing shards to the other side.
    assert len(val) == 31 and sorted(val, key=lambda x: int(x[2:]))[:5] == ["s:0", "s:7", "s:9", "s:11", "s:38"]

    # Stable when the order changes: the same sides, each packed in the new order.
    shuffled = random.Random(1).sample(docs, len(docs))
    write_shards(shuffled, tiny_tok, tmp_path / "shuffled", 4, 0.1)
    assert _read_back(tmp_path / "shuffled", tiny_tok, docs) == {
        split: [d.doc_id for d in shuffled if (d.doc_id in val) == (split == "val")] for split in ("train", "val")}

    # ... and when documents are removed or added: every kept document stays on its side.
    more = [d for d in docs if int(d.doc_id[2:]) % 3] + [_doc(i) for i in range(200, 300)]
    meta = write_shards(more, tiny_tok, tmp_path / "more", 4, 0.1)
    got = {split: set(v) for split, v in _read_back(tmp_path / "more", tiny_tok, more).items()}
    assert got["val"] == {d.doc_id for d in more if is_validation(d.doc_id, 0.1)}
    assert got["train"] == {d.doc_id for d in more} - got["val"]
    assert got["val"] & ids == val & {d.doc_id for d in more} and len(got["val"] - ids) > 0
    assert meta["n_documents"] == {"train": len(got["train"]), "val": len(got["val"])}

    # The split follows the doc_id, not the text; another seed gives another split.
    renamed = [Document(d.source, d.doc_id, docs[(k + 1) % len(docs)].text) for k, d in enumerate(docs)]
    write_shards(renamed, tiny_tok, tmp_path / "renamed", 4, 0.1)
    assert set(_read_back(tmp_path / "renamed", tiny_tok, renamed)["val"]) == val
    write_shards(docs, tiny_tok, tmp_path / "seed1", 4, 0.1, seed=1)
    val1 = set(_read_back(tmp_path / "seed1", tiny_tok, docs)["val"])
    assert val1 == {i for i in ids if is_validation(i, 0.1, seed=1)} and val1 != val
