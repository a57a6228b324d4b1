"""One training loop for pretraining and instruction tuning (nanoGPT-style).

`train(cfg, model, batches, out_dir)` runs both: the data differ only in the batch source,
`BlockBatches` (packed pretraining blocks from the memmap shards) or `ITBatches` (curriculum
phases of IT examples). Each optimizer step's loss is the mean over all target tokens of the global
batch (all micro-steps, all ranks), so grad accumulation and DDP give the gradients of one big batch
(for equal-length blocks this is exactly `loss / grad_accum_steps`).

Run as one plain process, or under `torchrun --nproc_per_node=N` (DDP: NCCL on CUDA, gloo on CPU).
"""
from __future__ import annotations

import atexit
import logging
import math
import os
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, NamedTuple, Protocol, Sequence

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from . import checkpoint as ckpt
from .config import ModelConfig, TrainConfig
from .modeling import build_model, flops_per_token, save_hf, unwrap
from .records import append_jsonl
from .runtime import autocast, enable_tf32, resolved_precision, seed_everything, to_device
from .shards import open_blocks, read_meta

log = logging.getLogger(__name__)

IGNORE = -100
Example = tuple[Sequence[int], Sequence[int]]   # (input_ids, reply_mask)
LOG_NAME = "train_log.jsonl"
CKPT_NAME = "ckpt.pt"
CONFIG_NAME = "train_config.json"
FINAL_NAME = "final"

# Dense peak FLOP/s by (device name fragment, precision); first match wins.
PEAK_FLOPS = (("H100 PCIe", "bf16", 756e12), ("H100", "bf16", 989e12), ("H200", "bf16", 989e12),
              ("A100", "bf16", 312e12), ("H100", "fp32", 494.5e12), ("H200", "fp32", 494.5e12),
              ("A100", "fp32", 156e12))   # fp32 rows: TF32 tensor cores


def babylm_checkpoint_words(total_words: int) -> tuple[int, ...]:
    """BabyLM's intermediate checkpoints: every 1M words to 10M, every 10M to 100M, every 100M to 1B."""
    marks = [m * 10**6 for m in (*range(1, 10), *range(10, 100, 10), *range(100, 1001, 100))]
    return tuple(m for m in marks if m <= total_words)


def checkpoint_name(words: int) -> str:
    return f"chck_{words / 1e6:g}M"


# --------------------------------------------------------------------------- batches
class Batch(NamedTuple):
    """One micro-batch on its device: inputs, shifted targets (-100 = no loss), and counts."""
    input_ids: torch.Tensor
    targets: torch.Tensor
    n_targets: int      # positions that carry loss
    n_tokens: int       # data tokens consumed (non-pad), for words-seen accounting


@dataclass(frozen=True)
class Step:
    """The micro-batches of one optimizer step on this rank, and where they come from."""
    batches: list[Batch]
    phase: int
    phase_name: str
    epoch: int


@dataclass(frozen=True)
class Layout:
    """How items are dealt out: per epoch a permutation from (seed, phase, epoch); a step takes
    `grad_accum_steps` global micro-batches of `micro_batch_size * world_size` items, and rank r
    takes the r-th slice of each, so N ranks x B items cover what one process x N*B items does."""
    micro_batch_size: int
    grad_accum_steps: int
    epochs: int
    seed: int
    rank: int = 0
    world_size: int = 1

    @property
    def global_micro(self) -> int:
        return self.micro_batch_size * self.world_size

    @property
    def items_per_step(self) -> int:
        return self.global_micro * self.grad_accum_steps


class BatchSource(Protocol):
    """What `train` needs from the data: steps in order, val batches, and a resumable position."""
    words_per_token: float | None

    def setup(self, layout: Layout, device: torch.device) -> None: ...
    def total_steps(self) -> int: ...
    def __iter__(self) -> Iterator[Step]: ...
    def val_batches(self, max_batches: int) -> Iterator[Batch]: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


class _PhasedSource:
    """Phases -> epochs -> steps over indexable items; subclasses say how many and how to collate."""
    phase_names: list[str]
    words_per_token: float | None = None
    shuffle: bool = True

    def _phase_len(self, phase: int) -> int: raise NotImplementedError
    def _collate(self, phase: int, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]: raise NotImplementedError
    def _val_len(self) -> int: return 0
    def _val_collate(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]: raise NotImplementedError

    def setup(self, layout: Layout, device: torch.device) -> None:
        self.layout, self.device = layout, torch.device(device)
        self.position = {"phase": 0, "epoch": 0, "step": 0}
        self._orders: dict[tuple[int, int], np.ndarray] = {}
        for p, name in enumerate(self.phase_names):
            if self.steps_per_epoch(p) == 0:
                raise ValueError(f"data: phase {name!r} has {self._phase_len(p)} items, fewer than one "
                                 f"global batch ({layout.items_per_step} = micro_batch_size x "
                                 f"grad_accum_steps x world_size)")

    def steps_per_epoch(self, phase: int) -> int:
        return self._phase_len(phase) // self.layout.items_per_step

    def total_steps(self) -> int:
        return sum(self.steps_per_epoch(p) for p in range(len(self.phase_names))) * self.layout.epochs

    def order(self, phase: int, epoch: int) -> np.ndarray:
        """Item order of one epoch: a pure function of (seed, phase, epoch), so resuming needs no
        state beyond the position. Only the current epoch's order is kept."""
        key = (phase, epoch)
        if key not in self._orders:
            self._orders = {key: self._epoch_order(phase, epoch)}
        return self._orders[key]

    def _epoch_order(self, phase: int, epoch: int) -> np.ndarray:
        n = self._phase_len(phase)
        return np.random.default_rng([self.layout.seed, phase, epoch]).permutation(n) if self.shuffle \
            else np.arange(n)

    def __iter__(self) -> Iterator[Step]:
        lay, pos = self.layout, self.position
        while pos["phase"] < len(self.phase_names):
            p, e, s = pos["phase"], pos["epoch"], pos["step"]
            if s >= self.steps_per_epoch(p):     # next epoch, or the next phase's first
                if e + 1 < lay.epochs:
                    pos.update(epoch=e + 1, step=0)
                else:
                    pos.update(phase=p + 1, epoch=0, step=0)
                continue
            order, base = self.order(p, e), s * lay.items_per_step
            micro = []
            for a in range(lay.grad_accum_steps):
                lo = base + a * lay.global_micro + lay.rank * lay.micro_batch_size
                micro.append(self._to_batch(*self._collate(p, np.sort(order[lo:lo + lay.micro_batch_size]))))
            pos["step"] = s + 1          # the position is always the next step to take
            yield Step(micro, p, self.phase_names[p], e)

    def val_batches(self, max_batches: int) -> Iterator[Batch]:
        """The first `max_batches` global val micro-batches, in file order, this rank's slice of each."""
        lay = self.layout
        n = min(max_batches, self._val_len() // lay.global_micro)
        for i in range(n):
            lo = i * lay.global_micro + lay.rank * lay.micro_batch_size
            yield self._to_batch(*self._val_collate(np.arange(lo, lo + lay.micro_batch_size)))

    def _to_batch(self, inputs: np.ndarray, targets: np.ndarray, n_tokens: int) -> Batch:
        n_targets = int((targets != IGNORE).sum())
        return Batch(to_device(inputs, self.device), to_device(targets, self.device), n_targets, n_tokens)

    def state_dict(self) -> dict[str, Any]:
        return {"position": dict(self.position), "layout": asdict(self.layout)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        # rank 0 writes the checkpoint for every rank: its rank is not part of what must match
        saved = {k: v for k, v in dict(state["layout"]).items() if k != "rank"}
        here = {k: v for k, v in asdict(self.layout).items() if k != "rank"}
        if saved != here:
            raise ValueError(f"resume: data layout {saved} differs from {here} "
                             "(batch size, accumulation, epochs, seed and world size must match)")
        self.position = dict(state["position"])


class BlockBatches(_PhasedSource):
    """Pretraining batches from a shard folder (`train.bin`, `val.bin`, `meta.json`).

    A block is trained as input = block[:-1], target = block[1:]; pad tokens (if any) carry no loss.
    `words_per_token` defaults to meta's n_words / (n_blocks x block_size) when meta has n_words."""

    def __init__(self, shard_dir: str | Path, words_per_token: float | None = None):
        self.shard_dir = Path(shard_dir)
        self.meta = read_meta(self.shard_dir)
        self.block_size, self.pad_id = int(self.meta["block_size"]), int(self.meta["pad_id"])
        self.special = {k: int(self.meta[k]) for k in ("bos_id", "eos_id", "pad_id")}
        self.train = open_blocks(self.shard_dir, "train")
        self.val = open_blocks(self.shard_dir, "val") if (self.shard_dir / "val.bin").exists() else None
        self.phase_names = ["pretrain"]
        n_words = (self.meta.get("n_words") or {}).get("train")
        self.words_per_token = words_per_token or (
            n_words / (len(self.train) * self.block_size) if n_words and len(self.train) else None)

    def _phase_len(self, phase: int) -> int:
        return len(self.train)

    def _val_len(self) -> int:
        return 0 if self.val is None else len(self.val)

    def _blocks(self, arr: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        x = arr[idx].astype(np.int64)
        targets = x[:, 1:].copy()
        if self.pad_id not in (self.special["bos_id"], self.special["eos_id"]):
            targets[targets == self.pad_id] = IGNORE
        return x[:, :-1], targets, int((x != self.pad_id).sum())

    def _collate(self, phase: int, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        return self._blocks(self.train, idx)

    def _val_collate(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        return self._blocks(self.val, idx)


def collate_examples(examples: Sequence[Example], pad_id: int, reply_only_loss: bool = True,
                     max_length: int | None = None, multiple: int = 8) -> tuple[np.ndarray, np.ndarray, int]:
    """Right-pad IT examples into (inputs, targets, n_tokens).

    Targets are the next tokens, -100 on padding and (with `reply_only_loss`) wherever the
    predicted token is a prompt/template token. Right padding needs no attention mask under causal
    attention: real tokens never see the pads after them. Lengths are rounded up to `multiple`."""
    seqs = [(list(ids)[:max_length], list(mask)[:max_length]) for ids, mask in examples]
    width = -(-max(len(ids) - 1 for ids, _ in seqs) // multiple) * multiple
    inputs = np.full((len(seqs), width), pad_id, dtype=np.int64)
    targets = np.full((len(seqs), width), IGNORE, dtype=np.int64)
    for row, (ids, mask) in enumerate(seqs):
        n = len(ids) - 1
        inputs[row, :n] = ids[:-1]
        tgt = np.asarray(ids[1:], dtype=np.int64)
        if reply_only_loss:
            tgt = np.where(np.asarray(mask[1:]) == 1, tgt, IGNORE)
        targets[row, :n] = tgt
    return inputs, targets, sum(len(ids) for ids, _ in seqs)


class ITBatches(_PhasedSource):
    """Instruction-tuning batches from curriculum phases, trained in order, `epochs` passes each.

    `group_by_length` sorts each window of 8 steps' worth of examples by length (less padding);
    the window order itself stays random, so batches still mix the phase."""

    def __init__(self, phases: Sequence[Sequence[Example]], pad_id: int, reply_only_loss: bool = True,
                 phase_names: Sequence[str] | None = None, val_examples: Sequence[Example] | None = None,
                 max_length: int | None = None, group_by_length: bool = False,
                 words_per_token: float | None = None, shuffle: bool = True):
        self.phases = [list(p) for p in phases]
        self.phase_names = list(phase_names) if phase_names else [f"phase{i}" for i in range(len(phases))]
        if not self.phases or len(self.phase_names) != len(self.phases):
            raise ValueError("data: need at least one phase, and one name per phase")
        self.val_examples = list(val_examples or [])
        for name, exs in [*zip(self.phase_names, self.phases), ("val", self.val_examples)]:
            _check_examples(exs, name)
        self.pad_id, self.reply_only_loss, self.max_length = pad_id, reply_only_loss, max_length
        self.group_by_length, self.words_per_token, self.shuffle = group_by_length, words_per_token, shuffle

    def _phase_len(self, phase: int) -> int:
        return len(self.phases[phase])

    def _epoch_order(self, phase: int, epoch: int) -> np.ndarray:
        order = super()._epoch_order(phase, epoch)
        if not self.group_by_length:
            return order
        window = self.layout.items_per_step * 8
        lengths = np.array([len(ex[0]) for ex in self.phases[phase]])
        chunks = [order[i:i + window] for i in range(0, len(order), window)]
        return np.concatenate([c[np.argsort(-lengths[c], kind="stable")] for c in chunks])

    def _collate(self, phase: int, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        return collate_examples([self.phases[phase][i] for i in idx], self.pad_id,
                                self.reply_only_loss, self.max_length)

    def _val_len(self) -> int:
        return len(self.val_examples)

    def _val_collate(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        return collate_examples([self.val_examples[i] for i in idx], self.pad_id,
                                self.reply_only_loss, self.max_length)


def _check_examples(examples: Sequence[Example], where: str) -> None:
    for i, (ids, mask) in enumerate(examples):
        if len(ids) != len(mask) or len(ids) < 2:
            raise ValueError(f"data: example {i} of {where}: need >= 2 tokens and one mask value per "
                             f"token (got {len(ids)} ids, {len(mask)} mask values)")


# --------------------------------------------------------------------------- runtime
@dataclass(frozen=True)
class DistEnv:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup_distributed() -> DistEnv:
    """Join the process group `torchrun` describes (RANK / WORLD_SIZE / LOCAL_RANK), if any."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = torch.cuda.is_available()
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
        # Leaving the group to interpreter teardown lets a rank abort ("terminate called without an
        # active exception") when its peer exits first; leave it explicitly, once, at exit.
        atexit.register(_leave_process_group)
    return DistEnv(rank, local, world, device)


def _leave_process_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def peak_flops(device: torch.device, precision: str) -> float | None:
    """The device's dense peak for MFU; None on CPU or an unknown GPU."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for frag, prec, peak in PEAK_FLOPS if frag in name and prec == precision), None)


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (not norms or biases); fused kernel on CUDA."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    impl = {"fused": True} if device.type == "cuda" else {"foreach": True}
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, **impl)


class CosineSchedule:
    """LR multiplier: linear warmup to 1, then cosine to `min_ratio` at `total` steps.
    A plain object (not a lambda), so LambdaLR's state_dict carries it."""

    def __init__(self, warmup: int, total: int, min_ratio: float):
        self.warmup, self.total, self.min_ratio = warmup, total, min_ratio

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / (self.warmup + 1)
        progress = min(1.0, (step - self.warmup) / max(1, self.total - self.warmup))
        return self.min_ratio + (1 - self.min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def _all_reduce(t: torch.Tensor, env: DistEnv) -> torch.Tensor:
    if env.world_size > 1:
        dist.all_reduce(t)
    return t


def _sum_loss(model: torch.nn.Module, batch: Batch, amp) -> torch.Tensor:
    """Summed next-token cross-entropy (fp32) over the batch's target positions."""
    with amp:
        logits = model(input_ids=batch.input_ids, use_cache=False).logits
    return F.cross_entropy(logits.float().flatten(0, 1), batch.targets.flatten(),
                           ignore_index=IGNORE, reduction="sum")


def _train_step(model: torch.nn.Module, step: Step, amp, env: DistEnv) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward/backward of one optimizer step; returns (summed loss, global [targets, tokens, inputs])."""
    counts = torch.tensor([[b.n_targets, b.n_tokens, b.input_ids.numel()] for b in step.batches],
                          dtype=torch.int64).sum(0)
    if env.world_size > 1:     # known on the host; only DDP needs a (tiny, syncing) all-reduce
        counts = _all_reduce(counts.to(env.device), env).cpu()
    scale = env.world_size / max(int(counts[0]), 1)   # DDP averages over ranks: undo it
    loss_sum = torch.zeros((), device=env.device)
    for i, batch in enumerate(step.batches):
        last = i == len(step.batches) - 1
        with model.no_sync() if env.world_size > 1 and not last else nullcontext():
            loss = _sum_loss(model, batch, amp)
            (loss * scale).backward()
        loss_sum += loss.detach()
    return loss_sum, counts


@torch.no_grad()
def evaluate(model: torch.nn.Module, batches: Iterator[Batch], amp, env: DistEnv) -> float | None:
    """Mean token loss over `batches` (all ranks together); None when there are none."""
    was_training = model.training
    model.eval()
    total = torch.zeros(2, dtype=torch.float64, device=env.device)
    for batch in batches:
        total[0] += _sum_loss(model, batch, amp).double()
        total[1] += batch.n_targets
    model.train(was_training)
    total = _all_reduce(total, env)
    return float(total[0] / total[1]) if total[1] > 0 else None


# --------------------------------------------------------------------------- the loop
@dataclass(frozen=True)
class TrainState:
    """Where a run ended."""
    step: int
    total_steps: int
    phase: int
    epoch: int
    tokens_seen: int
    words_seen: float | None
    train_loss: float | None
    val_loss: float | None
    out_dir: Path
    final_dir: Path | None     # HF folder of the finished model (None when stopped early)

    @property
    def finished(self) -> bool:
        return self.step >= self.total_steps


def train(cfg: TrainConfig, model: torch.nn.Module, batches: BatchSource, out_dir: str | Path, *,
          tokenizer: Any = None, resume: bool = True, stop_at_step: int | None = None,
          desc: str = "train") -> TrainState:
    """Train `model` on `batches`; resumes from `out_dir/ckpt.pt` when there is one.

    Writes (rank 0) `train_log.jsonl`, `train_config.json`, `ckpt.pt` every `checkpoint_interval`
    steps, `chck_<N>M/` HF folders at `checkpoint_words`, and `final/` (model + tokenizer) at the
    end. `stop_at_step` ends early with a checkpoint, leaving the schedule as for the full run
    (for job time limits; a later call continues)."""
    env = setup_distributed()
    out_dir = Path(out_dir)
    seed_everything(cfg.seed + env.rank)
    if env.device.type == "cuda":
        enable_tf32()
    raw = unwrap(model).to(env.device)
    raw.train()
    batches.setup(Layout(cfg.micro_batch_size, cfg.grad_accum_steps, cfg.epochs, cfg.seed,
                         env.rank, env.world_size), env.device)
    total = _total_steps(cfg, batches)
    if cfg.checkpoint_words and batches.words_per_token is None:
        raise ValueError("train.checkpoint_words: the batch source has no words_per_token "
                         "(give it, or n_words in meta.json)")
    optimizer = make_optimizer(raw, cfg, env.device)
    warmup = cfg.warmup_steps or round(cfg.warmup_fraction * total)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, CosineSchedule(warmup, total, cfg.min_lr_ratio))
    progress = {"step": 0, "tokens_seen": 0, "phase": 0, "epoch": 0, "train_loss": None, "val_loss": None}
    if resume and (out_dir / CKPT_NAME).exists():
        progress.update(ckpt.load(out_dir / CKPT_NAME, raw, optimizer, scheduler, batches, cfg, env))
        if env.is_main:
            ckpt.trim_log(out_dir / LOG_NAME, progress["step"])
    elif env.is_main:
        (out_dir / LOG_NAME).unlink(missing_ok=True)
    start_step = progress["step"]
    if env.is_main:
        ckpt.write_json(out_dir / CONFIG_NAME, {"train": cfg.model_dump(mode="json"), "model": raw.config.to_dict(),
                                                "world_size": env.world_size, "total_steps": total})

    fwd = torch.compile(raw) if cfg.compile else raw
    if env.world_size > 1:
        fwd = DDP(fwd, device_ids=[env.local_rank] if env.device.type == "cuda" else None)
    amp = autocast(cfg.precision, env.device)
    peak = peak_flops(env.device, resolved_precision(cfg.precision, env.device))
    end = total if stop_at_step is None else min(total, max(stop_at_step, progress["step"]))
    wpt = batches.words_per_token

    def words(tokens: int) -> float | None:
        return None if wpt is None else tokens * wpt

    with logging_redirect_tqdm():
        bar = tqdm(total=total, initial=progress["step"], desc=desc, unit="step", disable=not env.is_main,
                   dynamic_ncols=True)
        steps, meter = iter(batches), _Throughput(_model_cfg(raw), env.world_size, peak)
        while progress["step"] < end:
            step = next(steps)
            lr = scheduler.get_last_lr()[0]
            loss_sum, counts = _train_step(fwd, step, amp, env)
            grad_norm = torch.nn.utils.clip_grad_norm_(raw.parameters(), cfg.grad_clip or float("inf"))
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            words_before = words(progress["tokens_seen"])
            progress.update(step=progress["step"] + 1, phase=step.phase, epoch=step.epoch,
                            tokens_seen=progress["tokens_seen"] + int(counts[1]))
            meter.add(int(counts[2]), len(step.batches) * cfg.micro_batch_size * env.world_size)
            s = progress["step"]
            do_eval = s == total or (cfg.eval_interval and s % cfg.eval_interval == 0)
            if do_eval or s % cfg.log_interval == 0 or s == end:
                progress["train_loss"] = loss = float(_all_reduce(loss_sum, env)) / max(int(counts[0]), 1)
                record = {"step": s, "epoch": step.epoch, "phase": step.phase, "phase_name": step.phase_name,
                          "loss": loss, "lr": lr, "grad_norm": float(grad_norm), **meter.read(),
                          "tokens_seen": progress["tokens_seen"], "words_seen": words(progress["tokens_seen"]),
                          "time": time.time()}
                if do_eval:
                    record["val_loss"] = progress["val_loss"] = evaluate(
                        raw, batches.val_batches(cfg.eval_batches), amp, env)
                if env.is_main:
                    append_jsonl(out_dir / LOG_NAME, record)
                    bar.set_postfix(loss=f"{loss:.3f}", lr=f"{lr:.2e}")
                meter.reset()     # eval and logging time is not training throughput
            for mark in cfg.checkpoint_words:
                if env.is_main and words_before < mark <= words(progress["tokens_seen"]):
                    save_hf(raw, tokenizer, out_dir / checkpoint_name(mark))
            if s == end or (cfg.checkpoint_interval and s % cfg.checkpoint_interval == 0):
                ckpt.save(out_dir / CKPT_NAME, raw, optimizer, scheduler, batches, cfg, env, progress)
            bar.update(1)
        bar.close()

    final_dir = None
    if progress["step"] >= total:
        final_dir = out_dir / FINAL_NAME
        # a finished run found again keeps its saved folder untouched: downstream jobs key on its files' times
        if env.is_main and not (start_step >= total and (final_dir / "model.safetensors").exists()):
            save_hf(raw, tokenizer, final_dir)
            log.info("%s: %d steps, train loss %s, val loss %s -> %s", desc, total,
                     progress["train_loss"], progress["val_loss"], final_dir)
    if env.world_size > 1:
        dist.barrier()
    return TrainState(step=progress["step"], total_steps=total, phase=progress["phase"],
                      epoch=progress["epoch"], tokens_seen=progress["tokens_seen"],
                      words_seen=words(progress["tokens_seen"]), train_loss=progress["train_loss"],
                      val_loss=progress["val_loss"], out_dir=out_dir, final_dir=final_dir)


class _Throughput:
    """Input tokens per second (padding included: it is computed) and MFU since the last read."""

    def __init__(self, cfg: ModelConfig, world_size: int, peak: float | None):
        self.cfg, self.world_size, self.peak = cfg, world_size, peak
        self.reset()

    def reset(self) -> None:
        self.t0, self.tokens, self.seqs = time.perf_counter(), 0, 0

    def add(self, tokens: int, seqs: int) -> None:
        self.tokens += tokens
        self.seqs += seqs

    def read(self) -> dict[str, float | None]:
        tps = self.tokens / max(time.perf_counter() - self.t0, 1e-9)
        seq_len = round(self.tokens / max(self.seqs, 1))
        mfu = (tps / self.world_size * flops_per_token(self.cfg, seq_len) / self.peak) if self.peak else None
        return {"tokens_per_s": tps, "mfu": mfu}


def _total_steps(cfg: TrainConfig, batches: BatchSource) -> int:
    available = batches.total_steps()
    if cfg.max_steps is not None and cfg.max_steps > available:
        raise ValueError(f"train.max_steps: {cfg.max_steps} exceeds the {available} steps that "
                         f"epochs={cfg.epochs} give with this data and batch size")
    return available if cfg.max_steps is None else cfg.max_steps


def _model_cfg(model: torch.nn.Module) -> ModelConfig:
    c = model.config
    return ModelConfig(size="tiny", vocab_size=c.vocab_size, hidden_size=c.hidden_size,
                       n_layers=c.num_hidden_layers, n_heads=c.num_attention_heads,
                       n_kv_heads=c.num_key_value_heads, intermediate_size=c.intermediate_size,
                       tie_embeddings=bool(c.tie_word_embeddings))


# --------------------------------------------------------------------------- entry points
def pretrain(shard_dir: str | Path, model: ModelConfig | torch.nn.Module, cfg: TrainConfig,
             out_dir: str | Path, *, tokenizer: Any = None, words_per_token: float | None = None,
             resume: bool = True, stop_at_step: int | None = None) -> TrainState:
    """Pretrain on a shard folder. A ModelConfig is built (seeded by cfg.seed) with the shards'
    vocabulary size and special ids."""
    batches = BlockBatches(shard_dir, words_per_token=words_per_token)
    if isinstance(model, ModelConfig):
        torch.manual_seed(cfg.seed)
        model = build_model(model.model_copy(update={"vocab_size": batches.meta["vocab_size"]}),
                            batches.special)
    return train(cfg, model, batches, out_dir, tokenizer=tokenizer, resume=resume,
                 stop_at_step=stop_at_step, desc="pretrain")


def instruction_tune(model: torch.nn.Module | str | Path, curriculum: Sequence[Sequence[Example]],
                     cfg: TrainConfig, out_dir: str | Path, *, tokenizer: Any = None,
                     pad_id: int | None = None, reply_only_loss: bool = True,
                     phase_names: Sequence[str] | None = None, val_examples: Sequence[Example] | None = None,
                     max_length: int | None = None, group_by_length: bool = False,
                     words_per_token: float | None = None, resume: bool = True,
                     stop_at_step: int | None = None) -> TrainState:
    """Tune `model` (or the HF folder it names, tokenizer included) through the curriculum's phases
    in order."""
    if isinstance(model, (str, Path)):
        from transformers import AutoModelForCausalLM, AutoTokenizer
        path = Path(model)
        if tokenizer is None and (path / "tokenizer_config.json").exists():
            tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    pad_id = unwrap(model).config.pad_token_id if pad_id is None else pad_id
    batches = ITBatches(curriculum, pad_id, reply_only_loss=reply_only_loss, phase_names=phase_names,
                        val_examples=val_examples, max_length=max_length or
                        unwrap(model).config.max_position_embeddings,
                        group_by_length=group_by_length, words_per_token=words_per_token)
    return train(cfg, model, batches, out_dir, tokenizer=tokenizer, resume=resume,
                 stop_at_step=stop_at_step, desc="instruction-tune")


@torch.inference_mode()
def reply_token_loss(model: torch.nn.Module, examples: Sequence[Example], batch_size: int = 16,
                     pad_id: int | None = None, precision: str = "auto") -> float:
    """Mean loss over reply tokens (mask 1) of `examples`, for before/after-tuning comparisons."""
    if batch_size < 1:
        raise ValueError(f"batch_size: must be >= 1 (got {batch_size})")
    _check_examples(examples, "reply_token_loss")
    model = unwrap(model)
    device = next(model.parameters()).device
    pad_id = model.config.pad_token_id if pad_id is None else pad_id
    amp = autocast(precision, device)
    was_training = model.training
    model.eval()
    order = sorted(range(len(examples)), key=lambda i: -len(examples[i][0]))   # longest first
    total, count = 0.0, 0
    for lo in range(0, len(order), batch_size):
        inputs, targets, _ = collate_examples([examples[i] for i in order[lo:lo + batch_size]], pad_id,
                                              reply_only_loss=True)
        batch = Batch(to_device(inputs, device), to_device(targets, device), 0, 0)
        total += float(_sum_loss(model, batch, amp))
        count += int((targets != IGNORE).sum())
    model.train(was_training)
    if count == 0:
        raise ValueError("reply_token_loss: the examples have no reply tokens")
    return total / count
