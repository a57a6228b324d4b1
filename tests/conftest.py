"""Shared fixtures: the real data root (skipped with a reason when unset), a tiny tokenizer, tiny Llama configs."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SKIP_REASON = "CLASSIT_DATA is not set (point it at the shared data folder; .ci/run sets it)"

# Hand-made text for tiny tokenizers: the project's own sentences.
TINY_TEXT = [
    "The cat sat on the mat.", "A dog ran to the park and the cat ran after it.",
    "She reads a book about birds.", "They sing songs in the morning.",
    "The small bird flies over the tall tree.", "We eat bread and drink milk.",
    "Where is the red ball?", "The ball is under the bed.",
] * 20


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = os.environ.get("CLASSIT_DATA")
    if not root:
        pytest.skip(SKIP_REASON)
    path = Path(root)
    if not path.is_dir():
        pytest.skip(f"CLASSIT_DATA={root} is not a folder")
    return path


@pytest.fixture(scope="session")
def tiny_tok():
    from classit_utils.tokenizer import train_tokenizer
    return train_tokenizer(TINY_TEXT, vocab_size=300, min_frequency=1)


def tiny_llama_config(vocab: int, **overrides):
    """A 2-layer, 64-wide Llama config with the project's special ids (pad 0, BOS 1, EOS 2)."""
    from transformers import LlamaConfig
    kw = dict(vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=4, max_position_embeddings=256, pad_token_id=0, bos_token_id=1, eos_token_id=2)
    return LlamaConfig(**{**kw, **overrides})


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models gain nothing from intra-op threads; on a busy 2-core machine two threads only oversubscribe
    it (~5x slower matmuls). Modules opt in with `pytestmark = pytest.mark.usefixtures("one_torch_thread")`."""
    import torch
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
