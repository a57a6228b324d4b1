"""Byte-level BPE tokenizer trained on the pretraining text, saved as a HF `PreTrainedTokenizerFast`.

Policies (tested in tests/test_tokenizer.py):
- BOS is added to every encoded text, so the first word of a sentence is scored given BOS.
- No prefix space: a text's first word is encoded as it stands ("The"), as it was in training,
  where every document starts at BOS. A word that continues a context is scored with its leading
  space (" cup"), which `continuation()` adds: the reading task gives `word` without a leading
  space and `item` (its left context) without a trailing one.
- Chat turns are marked with the special tokens `<|user|>` and `<|assistant|>` (see instruct.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

BOS, EOS, PAD = "<s>", "</s>", "<pad>"
USER, ASSISTANT = "<|user|>", "<|assistant|>"
SPECIAL_TOKENS = [PAD, BOS, EOS, USER, ASSISTANT]   # ids 0..4, in this order

# Jinja chat template equivalent to instruct.chat_text(), so `apply_chat_template` works on saved models.
CHAT_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'user' %}{{ '<|user|> ' + m['content'] + '\n' }}"
    "{% elif m['role'] == 'assistant' %}{{ '<|assistant|> ' + m['content'] + eos_token }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)


def train_tokenizer(texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE on `texts`; returns it wrapped for transformers."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                  special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_batched(texts), trainer=trainer)
    bos, eos = tok.token_to_id(BOS), tok.token_to_id(EOS)
    # Pairs (fine-tuning inputs) get an EOS between the two texts, a separator a decoder can see.
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {EOS} $B:1", special_tokens=[(BOS, bos), (EOS, eos)])
    return wrap(tok)


def _batched(texts: Iterable[str], n: int = 1000) -> Iterator[list[str]]:
    batch: list[str] = []
    for t in texts:
        batch.append(t)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def wrap(tok: Tokenizer) -> PreTrainedTokenizerFast:
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD,
                                 additional_special_tokens=[USER, ASSISTANT], padding_side="right",
                                 model_max_length=1_000_000, clean_up_tokenization_spaces=False)
    hf.chat_template = CHAT_TEMPLATE
    return hf


def save_tokenizer(tok: PreTrainedTokenizerFast, out_dir: str | Path) -> Path:
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    tok.save_pretrained(tmp)
    if out_dir.exists():
        import shutil
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return out_dir


def load_tokenizer(path: str | Path) -> PreTrainedTokenizerFast:
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(str(path))


def continuation(context: str, word: str) -> str:
    """The text to score for `word` after `context`: with its leading space unless it starts the text."""
    return (" " + word.lstrip()) if context else word.lstrip()


def fertility(tok: PreTrainedTokenizerFast, texts: Iterable[str]) -> float:
    """Tokens per whitespace word (without BOS)."""
    n_tok = n_words = 0
    for batch in _batched(texts, 512):
        enc = tok(batch, add_special_tokens=False)["input_ids"]
        n_tok += sum(len(e) for e in enc)
        n_words += sum(len(t.split()) for t in batch)
    return n_tok / max(n_words, 1)
