"""LLaMA-style decoder models of the study (RMSNorm, SwiGLU, RoPE, SDPA attention), built from
named size presets through `transformers.LlamaConfig`, so saved folders load with `Auto*` classes.

Parameter counts with the study's 16,000-token vocabulary (already a multiple of 64, so no
padding rows) and tied input/output embeddings; with 16,384 tokens add 0.3M:

    tiny   d=64,  2 layers,  4 heads, ffn 192     1,130,816 (tests and the demo profile)
    small  d=128, 4 layers,  4 heads, ffn 352     the small profile's CPU-scale model
    100m   d=768, 12 layers, 12 heads, ffn 2176   100,780,800
    140m   d=768, 16 layers, 12 heads, ffn 2432   139,715,328

Both study sizes keep d=768 / 64-dim heads and differ in depth and FFN width, so the comparison is
about capacity, not about a change of attention geometry.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

from .config import MODEL_PRESETS as PRESETS, ModelConfig

__all__ = ["PRESETS", "ModelConfig", "expected_parameters", "flops_per_token", "special_ids", "llama_config",
           "build_model", "count_parameters", "unwrap", "save_hf"]


def expected_parameters(cfg: ModelConfig) -> int:
    """Total parameters counted from the shapes (tied embeddings counted once)."""
    d, v, kv = cfg.hidden_size, cfg.padded_vocab_size, cfg.n_kv_heads * cfg.head_dim
    attn = 2 * d * d + 2 * d * kv
    mlp = 3 * d * cfg.intermediate_size
    layers = cfg.n_layers * (attn + mlp + 2 * d)
    return layers + d + v * d * (1 if cfg.tie_embeddings else 2)


def flops_per_token(cfg: ModelConfig, seq_len: int) -> float:
    """Training FLOPs per token: 6 x (non-embedding + LM-head weights) + attention scores (PaLM, app. B)."""
    matmul_params = expected_parameters(cfg) - cfg.padded_vocab_size * cfg.hidden_size * (
        0 if cfg.tie_embeddings else 1)
    return 6.0 * matmul_params + 12.0 * cfg.n_layers * cfg.hidden_size * seq_len


def special_ids(source: Any) -> dict[str, int]:
    """{"bos_id", "eos_id", "pad_id"} from a shard `meta.json` mapping or a HF tokenizer."""
    if isinstance(source, Mapping):
        missing = [k for k in ("bos_id", "eos_id", "pad_id") if source.get(k) is None]
        if missing:
            raise ValueError(f"special ids: missing {', '.join(missing)}")
        return {k: int(source[k]) for k in ("bos_id", "eos_id", "pad_id")}
    return special_ids({"bos_id": source.bos_token_id, "eos_id": source.eos_token_id,
                        "pad_id": source.pad_token_id})


def llama_config(cfg: ModelConfig, tokenizer_special_ids: Mapping[str, int]) -> LlamaConfig:
    ids = special_ids(tokenizer_special_ids)
    for key, value in ids.items():
        if not 0 <= value < cfg.vocab_size:
            raise ValueError(f"model.vocab_size: {key} {value} is outside the vocabulary ({cfg.vocab_size})")
    return LlamaConfig(
        vocab_size=cfg.padded_vocab_size, hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size, num_hidden_layers=cfg.n_layers,
        num_attention_heads=cfg.n_heads, num_key_value_heads=cfg.n_kv_heads, head_dim=cfg.head_dim,
        hidden_act="silu", max_position_embeddings=cfg.max_position_embeddings,
        initializer_range=cfg.initializer_range, rms_norm_eps=cfg.rms_norm_eps,
        tie_word_embeddings=cfg.tie_embeddings,
        rope_parameters={"rope_type": "default", "rope_theta": float(cfg.rope_theta)},
        bos_token_id=ids["bos_id"], eos_token_id=ids["eos_id"], pad_token_id=ids["pad_id"],
        attention_bias=False, mlp_bias=False, attention_dropout=0.0, use_cache=True,
        attn_implementation="sdpa")


def build_model(cfg: ModelConfig, tokenizer_special_ids: Mapping[str, int]) -> LlamaForCausalLM:
    """A freshly initialised fp32 model (seed torch first for a reproducible init)."""
    model = LlamaForCausalLM(llama_config(cfg, tokenizer_special_ids))
    model.generation_config = _generation_config(model)
    return model


def count_parameters(model: torch.nn.Module, trainable_only: bool = False) -> int:
    """Unique parameters (a tied embedding counts once); works on meta-device models."""
    return sum(p.numel() for p in unwrap(model).parameters() if p.requires_grad or not trainable_only)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The plain module under DDP (`.module`) and `torch.compile` (`._orig_mod`) wrappers."""
    while True:
        if isinstance(model, torch.nn.parallel.DistributedDataParallel):
            model = model.module
        elif hasattr(model, "_orig_mod"):
            model = model._orig_mod
        else:
            return model


def _generation_config(model: LlamaForCausalLM) -> GenerationConfig:
    c = model.config
    return GenerationConfig(bos_token_id=c.bos_token_id, eos_token_id=c.eos_token_id,
                            pad_token_id=c.pad_token_id)


def _hf_tokenizer(tokenizer: Any, model: LlamaForCausalLM):
    """A tokenizer with `save_pretrained`; a bare `tokenizers.Tokenizer` is wrapped with the model's specials."""
    if hasattr(tokenizer, "save_pretrained"):
        return tokenizer
    from transformers import PreTrainedTokenizerFast
    c = model.config
    name = tokenizer.id_to_token
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token=name(c.bos_token_id),
                                   eos_token=name(c.eos_token_id), pad_token=name(c.pad_token_id),
                                   padding_side="right")


def save_hf(model: torch.nn.Module, tokenizer: Any, out_dir: str | Path,
            extra: Callable[[Path], None] | None = None) -> Path:
    """Save the uncompiled model, its generation config and the tokenizer as one HF folder.

    Written into a temp folder beside `out_dir` and renamed, so a reader never sees half a model.
    `tokenizer` may be None (model only); `extra(folder)` adds files to the folder before the rename."""
    model = unwrap(model)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}")
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    tok = None if tokenizer is None else _hf_tokenizer(tokenizer, model)
    if tok is not None and len(tok) > model.config.vocab_size:
        raise ValueError(f"save_hf: tokenizer has {len(tok)} tokens, model only {model.config.vocab_size}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.generation_config = _generation_config(model)
    model.save_pretrained(tmp, safe_serialization=True)
    if tok is not None:
        tok.save_pretrained(tmp)
    if extra is not None:
        extra(tmp)
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return out_dir
