"""What training, scoring and fine-tuning share about the machine: the device, precision (bf16
autocast, TF32), seeding, host-to-device copies, special token ids, and loading a HF model folder."""
from __future__ import annotations

import random
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """`auto`: the first CUDA device when there is one, else the CPU."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def model_device(model: torch.nn.Module) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


def resolved_precision(precision: str, device: torch.device) -> str:
    """`auto` is bf16 on CUDA and fp32 elsewhere."""
    return "bf16" if precision == "bf16" or (precision == "auto" and device.type == "cuda") else "fp32"


def autocast(precision: str, device: torch.device):
    """bf16 autocast (no grad scaler needed) when the precision resolves to bf16; else a no-op."""
    if resolved_precision(precision, device) == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return nullcontext()


def enable_tf32() -> None:
    """fp32 matmuls/convs (outside autocast) on TF32 tensor cores."""
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):   # torch >= 2.9
        torch.backends.cuda.matmul.fp32_precision = "tf32"
        torch.backends.cudnn.conv.fp32_precision = "tf32"
    else:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def seed_everything(seed: int) -> None:
    """Python, numpy and torch (every device) generators from one seed."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def to_device(t: torch.Tensor | np.ndarray, device: torch.device) -> torch.Tensor:
    """Host-to-device copy (numpy arrays become int64 tensors): pinned and asynchronous on CUDA, so the
    copy overlaps the previous step's compute."""
    if isinstance(t, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(t, dtype=np.int64))
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)


def pad_id(tok: Any) -> int:
    """The id to pad with: the tokenizer's PAD, else its EOS (GPT-2 style), else 0 (masked out anyway)."""
    for tid in (getattr(tok, "pad_token_id", None), getattr(tok, "eos_token_id", None)):
        if tid is not None:
            return int(tid)
    return 0


def bos_id(tok: Any) -> int:
    """The id prepended under the BOS policy: BOS, else EOS (GPT-2 style)."""
    for tid in (getattr(tok, "bos_token_id", None), getattr(tok, "eos_token_id", None)):
        if tid is not None:
            return int(tid)
    raise ValueError("the tokenizer has neither a BOS nor an EOS token")


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """transformers' warnings off while loading (a backbone without its LM head is expected here)."""
    from transformers.utils import logging as hf_logging
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def load_causal_lm(model_dir: Path | str, device: str | torch.device = "cpu"):
    """(causal LM in fp32 on `device`, eval mode; tokenizer) from a HF folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    model.to(resolve_device(device)).eval()
    return model, AutoTokenizer.from_pretrained(str(model_dir))


def load_backbone(model_dir: Path | str):
    """(backbone in fp32 on CPU, tokenizer) from a HF folder: `AutoModel` (hidden states, no LM head); a
    causal LM that `AutoModel` cannot map falls back to `AutoModelForCausalLM`'s base model."""
    from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer
    with quiet_transformers():
        try:
            backbone = AutoModel.from_pretrained(str(model_dir), dtype=torch.float32)
        except (ValueError, KeyError):
            lm = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
            backbone = getattr(lm, "base_model", lm)
        tok = AutoTokenizer.from_pretrained(str(model_dir))
    return backbone, tok
