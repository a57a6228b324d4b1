"""Fine-tuning throughput: classit's loop (`classit_utils.finetune.finetune_run`) vs `transformers.Trainer`.

Same `DecoderClassifier` (one init, reset to the same backbone state and head seed before every run), same
examples, and the SAME batches: Trainer's sampler replays `finetune.train_batches` with our seed (length
grouping, shuffled batch order, last partial batch dropped), and `DataCollatorWithPadding` pads right to a
multiple of 8 as our `collate` does (the script checks that both sides ran identical batch shapes). Same
optimizer and schedule objects (AdamW with the recipe's LR, betas, eps and weight decay on all parameters,
fused on CUDA / foreach on CPU; the pipeline's cosine with warmup and floor), no clipping, same precision
(fp32 on CPU, bf16 autocast on CUDA), same epochs. For Trainer the classifier is wrapped in a small module
returning {"loss", "logits"} (the same fp32 cross-entropy).

Timing: each training forward is stamped on entry (after a device sync); a step's time is the gap to the
next stamp (collate + forward + backward + optimizer + loop overhead). Gaps that span our per-epoch
evaluation or an epoch boundary are left out, as are the first `--warmup` steps; each side reports the
MEDIAN step time of its best round, the two sides alternating for `--rounds` rounds (bursts of CPU steal
on a shared VM only slow a run down). examples/s = batch / median step; tokens/s = that x the mean real
(unpadded) tokens per example of the timed steps.

    .venv/bin/python benchmarks/bench_finetune.py                     # CPU default: small, RTE, ~1.5 min idle
    .venv/bin/python benchmarks/bench_finetune.py --size 100m --train-examples 0 --epochs 1   # GPU

Data: RTE train from $CLASSIT_DATA (`glue.load_split`), tokenized by the 16k BPE that bench_scoring.py
trains on `babylm_corpus/` (or `--tokenizer DIR`); `--synthetic` (or no data) uses random ids with RTE-like
lengths. Needs `accelerate` (`pip install -e '.[bench]'`).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_train import SIZES, SPECIAL, device_label  # noqa: E402
from classit_utils.config import FinetuneConfig, ModelConfig  # noqa: E402
from classit_utils.finetune import (DecoderClassifier, Encoded, encode, finetune_run,  # noqa: E402
                                    n_train_batches, subsample, train_batches)
from classit_utils.glue import GLUE_TASKS, load_split  # noqa: E402
from classit_utils.modeling import build_model, count_parameters  # noqa: E402
from classit_utils.runtime import enable_tf32, resolved_precision, seed_everything  # noqa: E402
from transformers import get_cosine_with_min_lr_schedule_with_warmup  # noqa: E402

TASK = GLUE_TASKS["rte"]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=SIZES, default="small")
    p.add_argument("--vocab", type=int, default=16_000)
    p.add_argument("--data", type=Path, default=Path(os.environ.get("CLASSIT_DATA", "../shared/data")))
    p.add_argument("--tokenizer", type=Path, help="a saved HF tokenizer folder (else trained as bench_scoring does)")
    p.add_argument("--synthetic", action="store_true", help="random ids with RTE-like lengths instead of RTE")
    p.add_argument("--train-examples", type=int, default=256, help="seeded subsample of RTE train (0: all 2,490)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--warmup", type=int, default=2, help="untimed steps at the start of each run")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best one counts")
    p.add_argument("--compile", action="store_true", help="torch.compile on both sides (ours: dynamic=True)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default; 1 on a loaded VM)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, help="also write the results here")
    return p.parse_args(argv)


# --------------------------------------------------------------------------- data and model
def corpus_tokenizer(data: Path, vocab: int):
    """The tokenizer bench_scoring.py trains (switchboard + the 600k-word samples), so figures compare."""
    from bench_scoring import build
    return build(data, vocab)[1]


def load_data(args, n_valid: int = 32) -> tuple[Encoded, Encoded, int, Any]:
    """(train, valid slice, pad id, tokenizer or None): RTE tokenized, or synthetic rows of RTE-like lengths."""
    cap = 512
    if not args.synthetic and (args.data / "glue_filtered" / "rte.train.jsonl").is_file():
        if args.tokenizer:
            from transformers import AutoTokenizer
            tok = AutoTokenizer.from_pretrained(str(args.tokenizer))
        else:
            tok = corpus_tokenizer(args.data, args.vocab)
        train = load_split(args.data, "rte", "train")
        keep = subsample(len(train), args.train_examples or None, args.seed)
        return (encode(tok, [train[i] for i in keep], cap),
                encode(tok, load_split(args.data, "rte", "valid", limit=n_valid), cap), int(tok.pad_token_id), tok)
    rng = np.random.default_rng(args.seed)
    n = args.train_examples or TASK.train_size

    def rows(k: int) -> Encoded:
        lens = np.clip(rng.lognormal(4.2, 0.45, k).astype(int), 8, cap)    # median ~67, mean ~80 (RTE)
        return Encoded([[SPECIAL["bos_id"], *rng.integers(5, args.vocab, m - 1).tolist()] for m in lens],
                       rng.integers(0, 2, k))
    return rows(n), rows(n_valid), SPECIAL["pad_id"], None


def make_classifier(args, device: torch.device) -> tuple[DecoderClassifier, dict]:
    """A random LLaMA backbone (no LM head) + the pipeline's head; returns it and the backbone's state."""
    seed_everything(args.seed)
    lm = build_model(ModelConfig(**SIZES[args.size], vocab_size=args.vocab), SPECIAL)
    clf = DecoderClassifier(lm.model, TASK.num_labels).to(device)
    return clf, {k: v.detach().clone() for k, v in clf.backbone.state_dict().items()}


def recipe(args, device: torch.device) -> FinetuneConfig:
    """The BabyLM recipe (FinetuneConfig defaults) at this run's epochs, without progress bars."""
    return FinetuneConfig(epochs_override=args.epochs, compile=args.compile, progress=False,
                          device=str(device))


def optimizer(model: nn.Module, cfg: FinetuneConfig, total: int, device: torch.device):
    """What `finetune_run` builds: AdamW on all parameters and the pipeline's cosine schedule."""
    impl = {"fused": True} if device.type == "cuda" else {"foreach": True}
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps,
                            weight_decay=cfg.weight_decay, **impl)
    return opt, get_cosine_with_min_lr_schedule_with_warmup(opt, int(cfg.warmup_proportion * total), total,
                                                            min_lr_rate=cfg.min_factor)


# --------------------------------------------------------------------------- timing
class Stamps:
    """Entry times of training forwards; an evaluation (inference mode) or an epoch end breaks the chain."""

    def __init__(self, device: torch.device):
        self.device, self.events = device, []

    @torch.compiler.disable          # a compiled TrainerModel must still stamp at run time
    def hit(self, ids: torch.Tensor, mask: torch.Tensor) -> None:
        if torch.is_inference_mode_enabled() or not torch.is_grad_enabled():
            if self.events and self.events[-1] is not None:
                self.events.append(None)
            return
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        self.events.append((time.perf_counter(), tuple(ids.shape), int(mask.sum())))

    def brk(self) -> None:
        if self.events and self.events[-1] is not None:
            self.events.append(None)

    def steps(self, warmup: int) -> tuple[list[float], list[tuple], list[int]]:
        """(step times, batch shapes, real tokens) of the timed steps: gaps within an unbroken chain."""
        times, shapes, toks, k = [], [], [], 0
        for a, b in zip(self.events, self.events[1:]):
            if a is None:
                continue
            k += 1
            if b is not None and k > warmup:
                times.append(b[0] - a[0])
                shapes.append(a[1])
                toks.append(a[2])
        return times, shapes, toks

    def shapes(self) -> list[tuple]:
        return [e[1] for e in self.events if e is not None]


class _Stamped(nn.Module):
    """Our forward, stamped (what `finetune_run(forward=...)` calls)."""

    def __init__(self, fwd: Callable, stamps: Stamps):
        super().__init__()
        self.fwd, self.stamps = fwd, stamps

    def forward(self, ids, mask):
        self.stamps.hit(ids, mask)
        return self.fwd(ids, mask)

    def eval(self):       # `predict` toggles modes on whatever it is given
        getattr(self.fwd, "_orig_mod", self.fwd).eval()
        return self

    def train(self, mode: bool = True):
        getattr(self.fwd, "_orig_mod", self.fwd).train(mode)
        return self


class TrainerModel(nn.Module):
    """The classifier as Trainer wants it: a module returning {"loss", "logits"} (fp32 cross-entropy)."""

    def __init__(self, clf: DecoderClassifier, stamps: Stamps):
        super().__init__()
        self.clf, self.stamps = clf, stamps

    def forward(self, input_ids, attention_mask, labels=None):
        self.stamps.hit(input_ids, attention_mask)
        logits = self.clf(input_ids, attention_mask)
        loss = None if labels is None else F.cross_entropy(logits.float(), labels)
        return {"loss": loss, "logits": logits}


def _peak_reset(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(device)


def _peak(device: torch.device) -> float | None:
    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None


def run_ours(clf, state, train: Encoded, valid: Encoded, pad_id: int, args, device) -> dict:
    """One `finetune_run` (selection "valid" on a small valid slice), stamped."""
    cfg = recipe(args, device)
    stamps = Stamps(device)
    fwd = torch.compile(clf, dynamic=True) if cfg.compile else clf
    _peak_reset(device)
    t0 = time.perf_counter()
    res = finetune_run(clf, state, TASK, train, valid, valid, cfg, args.seed, pad_id=pad_id, device=device,
                       forward=_Stamped(fwd, stamps))
    wall = time.perf_counter() - t0
    loss = float(np.mean([h["train_loss"] for h in res.history]))
    return {"stamps": stamps, "wall_s": wall, "train_loss": loss, "peak_mem_gb": _peak(device)}


class _ReplaySampler(torch.utils.data.Sampler):
    """Our epoch batches (`train_batches`, same seed and rng sequence) flattened, for a batch_size loader."""

    def __init__(self, lengths: np.ndarray, batch_size: int, seed: int, cfg: FinetuneConfig):
        self.lengths, self.bs, self.cfg = lengths, batch_size, cfg
        self.rng = np.random.default_rng(seed)
        self.n = n_train_batches(len(lengths), batch_size, cfg.drop_last) * batch_size

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        batches = train_batches(self.lengths, self.bs, self.rng, self.cfg.length_grouping, self.cfg.drop_last)
        return iter(int(i) for b in batches for i in b)


def _pad_collator(pad_id: int, multiple: int):
    """DataCollatorWithPadding's output without a tokenizer (synthetic data): right padding to `multiple`."""
    def collate(features):
        width = -(-max(len(f["input_ids"]) for f in features) // multiple) * multiple
        ids = torch.full((len(features), width), pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, f in enumerate(features):
            ids[i, :len(f["input_ids"])] = torch.as_tensor(f["input_ids"])
            mask[i, :len(f["input_ids"])] = 1
        return {"input_ids": ids, "attention_mask": mask,
                "labels": torch.as_tensor([f["labels"] for f in features], dtype=torch.long)}
    return collate


def run_trainer(clf, state, train: Encoded, pad_id: int, tok, args, device, out: Path) -> dict:
    """The same run under `transformers.Trainer` (no evaluation, no saving, no logging)."""
    from transformers import DataCollatorWithPadding, Trainer, TrainerCallback, TrainingArguments

    cfg = recipe(args, device)
    bs = cfg.batch_size_for(TASK)
    stamps = Stamps(device)

    class EpochBreak(TrainerCallback):
        def on_epoch_end(self, *_, **__):
            stamps.brk()

    class ReplayTrainer(Trainer):
        def _get_train_sampler(self, train_dataset=None):
            return _ReplaySampler(train.lengths, bs, args.seed, cfg)

    seed_everything(args.seed)
    clf.reset(state, args.seed)
    clf.to(device).train()
    total = cfg.epochs_for(TASK) * n_train_batches(len(train), bs, cfg.drop_last)
    opt, sched = optimizer(clf, cfg, total, device)
    rows = [{"input_ids": r, "labels": int(y)} for r, y in zip(train.ids, train.labels)]
    collator = (DataCollatorWithPadding(tok, pad_to_multiple_of=cfg.pad_to_multiple) if tok is not None
                else _pad_collator(pad_id, cfg.pad_to_multiple))
    cuda = device.type == "cuda"
    targs = TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=bs, num_train_epochs=cfg.epochs_for(TASK),
        learning_rate=cfg.lr, weight_decay=cfg.weight_decay, max_grad_norm=0.0, bf16=cuda and
        resolved_precision(cfg.precision, device) == "bf16", dataloader_drop_last=cfg.drop_last,
        logging_strategy="no", save_strategy="no", eval_strategy="no", report_to="none", disable_tqdm=True,
        dataloader_num_workers=0, seed=args.seed, use_cpu=not cuda, remove_unused_columns=False,
        torch_compile=cfg.compile)
    _peak_reset(device)
    t0 = time.perf_counter()
    res = ReplayTrainer(model=TrainerModel(clf, stamps), args=targs, train_dataset=rows, data_collator=collator,
                        optimizers=(opt, sched), callbacks=[EpochBreak()]).train()
    return {"stamps": stamps, "wall_s": time.perf_counter() - t0, "train_loss": float(res.training_loss),
            "peak_mem_gb": _peak(device)}


def _summary(run: dict, bs: int, warmup: int) -> dict:
    times, _, toks = run["stamps"].steps(warmup)
    med = float(np.median(times))
    return {"median_step_s": med, "timed_steps": len(times), "examples_per_s": bs / med,
            "tokens_per_s": bs / med * (np.mean(toks) / bs), "train_loss": run["train_loss"],
            "wall_s": run["wall_s"], "peak_mem_gb": run["peak_mem_gb"]}


# --------------------------------------------------------------------------- driver
def measure(args) -> dict:
    """Interleaved rounds of both loops; the best round of each (by median step time), and their ratio."""
    if min(args.warmup, args.rounds, args.epochs) < 1:
        raise ValueError("--warmup, --rounds and --epochs must be >= 1")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cuda":
        enable_tf32()
    if args.threads:
        torch.set_num_threads(args.threads)
    train, valid, pad_id, tok = load_data(args)
    clf, state = make_classifier(args, device)
    bs = recipe(args, device).batch_size_for(TASK)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench_finetune_") as tmp:
        for r in range(args.rounds):
            ours = run_ours(clf, state, train, valid, pad_id, args, device)
            theirs = run_trainer(clf, state, train, pad_id, tok, args, device, Path(tmp) / f"trainer{r}")
            same = ours["stamps"].shapes() == theirs["stamps"].shapes()
            rounds.append({"ours": _summary(ours, bs, args.warmup), "trainer": _summary(theirs, bs, args.warmup),
                           "same_batches": same})
    best = {side: min((r[side] for r in rounds), key=lambda s: s["median_step_s"]) for side in ("ours", "trainer")}
    lengths = train.lengths
    result = {"device": device_label(), "precision": resolved_precision("auto", device), "size": args.size,
              "params": count_parameters(clf), "data": "synthetic" if tok is None else "rte",
              "n_train": len(train), "mean_tokens": float(lengths.mean()), "batch": bs, "epochs": args.epochs,
              "compile": args.compile, "rounds": rounds, "same_batches": all(r["same_batches"] for r in rounds),
              "ours": best["ours"], "trainer": best["trainer"],
              "ours_examples_per_s": best["ours"]["examples_per_s"],
              "trainer_examples_per_s": best["trainer"]["examples_per_s"],
              "ours_tokens_per_s": best["ours"]["tokens_per_s"],
              "ratio": best["ours"]["examples_per_s"] / best["trainer"]["examples_per_s"],
              "threads": torch.get_num_threads(), "load_average": os.getloadavg()[0],
              "torch": torch.__version__, "transformers": __import__("transformers").__version__,
              "accelerate": __import__("accelerate").__version__}
    return result


def report(res: dict) -> str:
    o, t = res["ours"], res["trainer"]
    mem = "" if o["peak_mem_gb"] is None else f" | peak {o['peak_mem_gb']:.2f} / {t['peak_mem_gb']:.2f} GiB"
    return "\n".join([
        f"\n{res['device']} | {res['precision']} | {res['size']} classifier ({res['params'] / 1e6:.2f}M params) | "
        f"{res['data']} {res['n_train']} examples (mean {res['mean_tokens']:.0f} tokens) | batch {res['batch']} x "
        f"{res['epochs']} epochs | compile {res['compile']} | best of {len(res['rounds'])} rounds | "
        f"{res['threads']} threads, load {res['load_average']:.1f}" + mem,
        f"  classit finetune_run  {o['examples_per_s']:10,.1f} examples/s  {o['tokens_per_s']:10,.0f} tokens/s  "
        f"(median step {1e3 * o['median_step_s']:.1f} ms over {o['timed_steps']} steps, mean loss {o['train_loss']:.4f})",
        f"  transformers.Trainer  {t['examples_per_s']:10,.1f} examples/s  {t['tokens_per_s']:10,.0f} tokens/s  "
        f"(median step {1e3 * t['median_step_s']:.1f} ms over {t['timed_steps']} steps, mean loss {t['train_loss']:.4f})",
        f"  ratio (ours/Trainer)  {res['ratio']:10.2f}   identical batches on both sides: {res['same_batches']}"])


def main(argv=None) -> dict:
    args = parse_args(argv)
    res = measure(args)
    print(report(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    return res


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
