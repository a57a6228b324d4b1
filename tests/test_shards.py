import json

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


def test_split_is_by_document_and_stable(tiny_tok, tmp_path):
    docs = [Document("s", f"s:{i}", f"word{i} " * 5) for i in range(100)]
    a = write_shards(docs, tiny_tok, tmp_path / "a", 8, 0.1)
    b = write_shards(docs[::-1][::-1], tiny_tok, tmp_path / "b", 8, 0.1)
    assert (tmp_path / "a" / "train.bin").read_bytes() == (tmp_path / "b" / "train.bin").read_bytes()
    assert a["n_documents"]["val"] + a["n_documents"]["train"] == 100 and a["n_documents"]["val"] > 0
