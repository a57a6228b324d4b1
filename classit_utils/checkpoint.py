"""Resumable training checkpoints: everything needed to continue a run as if it never stopped.

`ckpt.pt` (one file, replaced atomically) holds:

    format          1
    progress        step, tokens_seen, phase, epoch, train_loss, val_loss
    model           state_dict of the uncompiled, unwrapped model (fp32)
    optimizer       AdamW state_dict
    scheduler       LambdaLR state_dict (the CosineSchedule's fields included)
    data            the batch source's position {phase, epoch, step} and layout
    rng             one entry per rank: python, numpy, torch (CPU), cuda (all devices or None)
    config          the TrainConfig as a dict
    model_config    the HF model config as a dict
    world_size      ranks that wrote it (resuming needs the same number)
    versions        torch / transformers versions

Under DDP every rank calls `save` (the RNG states are gathered), only rank 0 writes.
"""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.distributed as dist

from .records import atomic_write_json, atomic_write_text, atomic_writer, load_jsonl

if TYPE_CHECKING:   # train imports this module; the names below are only for annotations
    from .train import BatchSource, DistEnv, TrainConfig

FORMAT = 1
# TrainConfig fields that may change between a run and its resumption (they do not change the math).
RESUME_FREE = frozenset({"log_interval", "eval_interval", "eval_batches", "checkpoint_interval",
                         "checkpoint_words", "compile"})


def rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _gather(obj: Any, env: "DistEnv") -> list[Any]:
    if env.world_size == 1:
        return [obj]
    out: list[Any] = [None] * env.world_size
    dist.all_gather_object(out, obj)
    return out


def atomic_save(obj: Any, path: Path) -> None:
    """torch.save into a temp file in the same folder, fsync, then rename over `path`."""
    with atomic_writer(path) as f:
        torch.save(obj, f)


def save(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
         scheduler: torch.optim.lr_scheduler.LRScheduler, batches: "BatchSource", cfg: "TrainConfig",
         env: "DistEnv", progress: dict[str, Any]) -> None:
    """Collective under DDP (RNG states of all ranks are gathered); rank 0 writes `path`."""
    rngs = _gather(rng_state(), env)
    if not env.is_main:
        return
    import transformers
    atomic_save({"format": FORMAT, "progress": dict(progress), "model": model.state_dict(),
                 "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                 "data": batches.state_dict(), "rng": rngs, "config": cfg.model_dump(),
                 "model_config": model.config.to_dict(), "world_size": env.world_size,
                 "versions": {"torch": torch.__version__, "transformers": transformers.__version__}}, path)


def load(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
         scheduler: torch.optim.lr_scheduler.LRScheduler, batches: "BatchSource", cfg: "TrainConfig",
         env: "DistEnv") -> dict[str, Any]:
    """Restore everything `save` wrote into the live objects; returns the progress counters."""
    state = torch.load(path, map_location="cpu", weights_only=False)   # our own file: RNG states need pickle
    if state.get("format") != FORMAT:
        raise ValueError(f"resume: {path} has checkpoint format {state.get('format')}, expected {FORMAT}")
    check_compatible(state, cfg, env, path)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    batches.load_state_dict(state["data"])
    set_rng_state(state["rng"][env.rank])
    return dict(state["progress"])


def check_compatible(state: dict[str, Any], cfg: "TrainConfig", env: "DistEnv", path: Path) -> None:
    """A checkpoint continues only the same run: same math config and the same number of ranks."""
    if state["world_size"] != env.world_size:
        raise ValueError(f"resume: {path} was written by {state['world_size']} ranks, this run has "
                         f"{env.world_size}")
    now = cfg.model_dump()
    for key, old in state["config"].items():
        new = now.get(key)
        if key not in RESUME_FREE and _plain(old) != _plain(new):
            raise ValueError(f"resume: train.{key} is {new!r} here but {old!r} in {path} "
                             "(use a new out_dir, or resume=False)")


def _plain(v: Any) -> Any:
    return list(v) if isinstance(v, (tuple, list)) else v


def trim_log(path: Path, step: int) -> None:
    """Drop records past the resumed step: an interrupted run may have logged steps it then lost."""
    if path.exists():
        kept = [r for r in load_jsonl(path) if r.get("step", 0) <= step]
        write_text(path, "".join(json.dumps(r) + "\n" for r in kept))


write_text = atomic_write_text   # the log trim and config files are replaced atomically too
write_json = atomic_write_json
