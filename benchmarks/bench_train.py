"""Training throughput: classit's loop (`classit_utils.train.train`) vs `transformers.Trainer`.

Same model (one init, copied), same random-token blocks, same micro-batch, accumulation and
precision (fp32 on CPU, bf16 autocast on CUDA), AdamW with a cosine schedule and clipping on both
sides (ours: fused on CUDA / foreach on CPU; Trainer: its default `adamw_torch_fused`). Each side's
step times are stamped at step ends (after a device sync); throughput = tokens per step / the MEDIAN
step time after `--warmup` steps, so set-up, compilation and the final save do not count. The two
sides alternate for `--rounds` rounds and each reports its best round (as `timeit` does): bursts of
CPU steal on a shared VM only ever slow a run down. Tokens are block tokens (`block_size` per
sequence) on both sides.

    .venv/bin/python benchmarks/bench_train.py                    # CPU default, about 1-2 minutes
    .venv/bin/python benchmarks/bench_train.py --size 100m --block 513 --micro 16 --steps 40   # GPU

Needs `accelerate` (transformers.Trainer requires it): `pip install 'accelerate>=1.1'`.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from classit_utils.config import ModelConfig, TrainConfig
from classit_utils.modeling import build_model, count_parameters, flops_per_token
from classit_utils.records import load_jsonl
from classit_utils.runtime import resolved_precision, seed_everything
from classit_utils.train import BlockBatches, peak_flops, train

SIZES = {   # `small` is a CPU-sized model with the study's real 16k vocabulary
    "tiny": dict(size="tiny"),
    "small": dict(size="tiny", hidden_size=256, n_layers=4, n_heads=4, n_kv_heads=4, intermediate_size=704),
    "100m": dict(size="100m"),
    "140m": dict(size="140m"),
}
SPECIAL = {"pad_id": 0, "bos_id": 1, "eos_id": 2}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=SIZES, default="small")
    p.add_argument("--vocab", type=int, default=16_000)
    p.add_argument("--block", type=int, default=129, help="block_size (inputs are block - 1 tokens)")
    p.add_argument("--micro", type=int, default=8)
    p.add_argument("--accum", type=int, default=1)
    p.add_argument("--steps", type=int, default=10, help="timed optimizer steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps before them")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best one counts")
    p.add_argument("--compile", action="store_true", help="torch.compile on both sides")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, help="also write the results here")
    return p.parse_args(argv)


def write_blocks(root: Path, n_blocks: int, block: int, vocab: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    rng.integers(3, vocab, (n_blocks, block), dtype=np.uint16).tofile(root / "train.bin")
    (root / "meta.json").write_text(json.dumps({
        "block_size": block, "dtype": "uint16", "n_blocks": {"train": n_blocks, "val": 0},
        "vocab_size": vocab, **SPECIAL}))
    return root


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def run_ours(model, shards: Path, args, out: Path) -> float:
    """Block tokens per second of `train`, from the per-step log timestamps."""
    cfg = TrainConfig(lr=3e-4, warmup_steps=1, micro_batch_size=args.micro, grad_accum_steps=args.accum,
                      max_steps=args.warmup + args.steps, log_interval=1, compile=args.compile,
                      seed=args.seed)
    train(cfg, model, BlockBatches(shards), out, resume=False, desc="classit loop")
    stamps = [r["time"] for r in load_jsonl(out / "train_log.jsonl")]
    return _tokens_per_s(stamps, args)


class _Blocks(torch.utils.data.Dataset):
    def __init__(self, shards: Path, block: int):
        self.data = np.memmap(shards / "train.bin", dtype=np.uint16, mode="r").reshape(-1, block)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        ids = torch.from_numpy(self.data[i].astype(np.int64))
        return {"input_ids": ids, "labels": ids}     # the model shifts labels itself


def run_trainer(model, shards: Path, args, out: Path) -> float:
    """Block tokens per second of `transformers.Trainer`, timed by a step-end callback."""
    from transformers import Trainer, TrainerCallback, TrainingArguments, default_data_collator

    stamps: list[float] = []

    class Stamp(TrainerCallback):
        def on_step_end(self, *_, **__):
            _sync()
            stamps.append(time.time())

    cuda = torch.cuda.is_available()
    targs = TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=args.micro, gradient_accumulation_steps=args.accum,
        learning_rate=3e-4, lr_scheduler_type="cosine", warmup_steps=1, weight_decay=0.1, adam_beta1=0.9,
        adam_beta2=0.95, max_grad_norm=1.0, max_steps=args.warmup + args.steps, bf16=cuda,
        logging_strategy="no", save_strategy="no", eval_strategy="no", report_to="none",
        disable_tqdm=True, dataloader_num_workers=0, seed=args.seed, use_cpu=not cuda,
        torch_compile=args.compile)
    Trainer(model=model, args=targs, train_dataset=_Blocks(shards, args.block),
            data_collator=default_data_collator, callbacks=[Stamp()]).train()
    return _tokens_per_s(stamps, args)


def _tokens_per_s(stamps: list[float], args) -> float:
    """Tokens per step over the median step time after warmup (stamps: one per step end)."""
    times = np.diff(stamps[args.warmup - 1:])
    assert len(times) == args.steps, (len(times), args.steps)
    return args.micro * args.accum * args.block / float(np.median(times))


def device_label() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    name = platform.machine()
    try:
        name = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"CPU {name}, {os.cpu_count()} cores, {torch.get_num_threads()} threads, no GPU"


def main(argv=None) -> dict:
    args = parse_args(argv)
    if min(args.warmup, args.steps, args.rounds) < 1:
        sys.exit("bench_train: --warmup, --steps and --rounds must be >= 1")
    cfg = ModelConfig(**SIZES[args.size], vocab_size=args.vocab)
    seed_everything(args.seed)
    base = build_model(cfg, SPECIAL)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    precision = resolved_precision("auto", device)
    with tempfile.TemporaryDirectory(prefix="bench_train_") as tmp:
        tmp = Path(tmp)
        n_blocks = args.micro * args.accum * (args.warmup + args.steps)
        shards = write_blocks(tmp, n_blocks, args.block, args.vocab, args.seed)
        rounds = [(run_ours(copy.deepcopy(base), shards, args, tmp / f"ours{r}"),
                   run_trainer(copy.deepcopy(base).to(device), shards, args, tmp / f"trainer{r}"))
                  for r in range(args.rounds)]
    ours, theirs = max(r[0] for r in rounds), max(r[1] for r in rounds)
    peak = peak_flops(device, precision)
    fpt = flops_per_token(cfg, args.block - 1)
    result = {"device": device_label(), "precision": precision, "size": args.size,
              "params": count_parameters(base), "block": args.block, "micro": args.micro,
              "accum": args.accum, "steps": args.steps, "compile": args.compile, "rounds": rounds,
              "ours_tokens_per_s": ours, "trainer_tokens_per_s": theirs, "ratio": ours / theirs,
              "ours_mfu": ours * fpt / peak if peak else None,
              "trainer_mfu": theirs * fpt / peak if peak else None,
              "torch": torch.__version__, "transformers": __import__("transformers").__version__}
    print(f"\n{result['device']} | {precision} | {args.size} ({result['params'] / 1e6:.2f}M params) | "
          f"batch {args.micro}x{args.accum}x{args.block} | {args.steps} timed steps, best of {args.rounds} rounds")
    print(f"  classit loop          {ours:12,.0f} tokens/s" + _mfu(result["ours_mfu"]))
    print(f"  transformers.Trainer  {theirs:12,.0f} tokens/s" + _mfu(result["trainer_mfu"]))
    print(f"  ratio (ours/Trainer)  {ours / theirs:12.2f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


def _mfu(mfu: float | None) -> str:
    return "" if mfu is None else f"   MFU {100 * mfu:.1f}%"


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
