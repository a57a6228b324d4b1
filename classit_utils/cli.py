"""Command lines: `classit` (the project's umbrella command) and `classit-eval` (evaluation).

    classit-eval zero-shot --model DIR --data DIR --tasks blimp,ewok --variant fast --out results
    classit-eval finetune --model DIR --data DIR --tasks rte,wsc --seeds 0,1,2 --out results
    classit eval zero-shot ...          (the same command under the umbrella)

Evaluation subcommands are registered in `EVAL_COMMANDS` (name -> (add_arguments, handler)); a `finetune`
subcommand is added there, and `classit` gets new top-level groups in `COMMANDS`. Handlers return an exit
code; data errors print one line (`classit-eval: error: blimp_fast/x.jsonl:3: missing field ...`) and exit 2.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Callable, Sequence

from .errors import ConfigError, DataError
from .tasks import RULES, TASK_NAMES

Handler = Callable[[argparse.Namespace], int]


def _add_zero_shot(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="HF model folder (weights + tokenizer)")
    p.add_argument("--data", default=os.environ.get("CLASSIT_DATA"),
                   help="evaluation data folder (default: $CLASSIT_DATA)")
    p.add_argument("--tasks", default="all",
                   help=f"comma-separated: {','.join(TASK_NAMES)}, or all (default: the rules' tasks)")
    p.add_argument("--variant", choices=("fast", "full"), default="fast")
    p.add_argument("--rules", choices=RULES, default="2025",
                   help="2025: the BabyLM 2025 pipeline (default); 2026: babylm-org/babylm-eval (entity tracking "
                        "without 'nothing' items, Global PIQA, no WUG)")
    p.add_argument("--out", default="results", help="results root (default: results)")
    p.add_argument("--revision", default="main", help="revision name in the results path (default: main)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda, cuda:1, ...")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast on CUDA (log-softmax stays fp32)")
    p.add_argument("--bos", choices=("tokenizer", "always", "never"), default="tokenizer",
                   help="what goes before each text: the tokenizer's own special tokens, as the pipeline (default), "
                        "always BOS, or nothing (a text's first token is then not scored)")
    p.add_argument("--no-share-context", dest="share_context", action="store_false",
                   help="no token tries: every sequence runs in its own padded row")
    p.add_argument("--limit", type=int, default=None, help="at most N items per subtask (smoke runs)")
    p.add_argument("--skip-missing", action="store_true", help="skip tasks whose data folder is absent")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _error(message: object) -> int:
    """The one-line error every command prints; exit status 2."""
    print(f"classit-eval: error: {message}", file=sys.stderr)
    return 2


def _zero_shot(args: argparse.Namespace) -> int:
    from .zeroshot import format_summary, parse_tasks, run_zero_shot
    if not args.data:
        return _error("no data folder (give --data or set CLASSIT_DATA)")
    try:
        tasks = parse_tasks(args.tasks, args.rules)
    except ValueError as e:
        return _error(e)
    if args.quiet:
        from transformers.utils import logging as hf_logging
        hf_logging.disable_progress_bar()
    try:
        summary = run_zero_shot(args.model, args.data, tasks, args.variant, args.out, revision=args.revision,
                                batch_size=args.batch_size, device=args.device,
                                bos={"tokenizer": "tokenizer", "always": True, "never": False}[args.bos],
                                rules=args.rules,
                                share_context=args.share_context, bf16=args.bf16, limit=args.limit,
                                skip_missing=args.skip_missing, progress=not args.quiet)
    except DataError as e:
        return _error(e)
    print(format_summary(summary))
    return 0


def _add_finetune(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="HF model folder (weights + tokenizer), any causal LM")
    p.add_argument("--data", default=os.environ.get("CLASSIT_DATA"),
                   help="data folder holding glue_filtered/ (default: $CLASSIT_DATA)")
    p.add_argument("--tasks", default="all", help="comma-separated: boolq,multirc,rte,wsc,mrpc,qqp,mnli, or all")
    p.add_argument("--seeds", default="0,1,2", help="comma-separated training seeds (default: 0,1,2)")
    p.add_argument("--out", default="results", help="results root (default: results)")
    p.add_argument("--revision", default="main", help="revision name in the results path (default: main)")
    p.add_argument("--model-name", default=None, help="name in the results path and table (default: folder stem)")
    p.add_argument("--condition", default="", help="condition label for the table (base, conv, qa, ...)")
    p.add_argument("--size", default="", help="size label for the table (100m, 140m, ...)")
    p.add_argument("--config", default=None, help="YAML/JSON file of FinetuneConfig keys (flags below override it)")
    p.add_argument("--selections", default=None, help="valid,heldout (default: both)")
    p.add_argument("--epochs", type=int, default=None, help="run every task for this many epochs")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--max-train", type=int, default=None, help="seeded subsample of N train examples")
    p.add_argument("--max-valid", type=int, default=None, help="first N valid examples")
    p.add_argument("--max-length", type=int, default=None)
    p.add_argument("--heldout-fraction", type=float, default=None)
    p.add_argument("--padding-side", choices=("right", "left"), default=None)
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default=None)
    p.add_argument("--device", default=None, help="auto (cuda if available), cpu, cuda, cuda:1, ...")
    p.add_argument("--compile", action="store_true", default=None, help="torch.compile the model once per task")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads for the run (default: unchanged)")
    p.add_argument("--save-weights", action="store_true", default=None,
                   help="write each run's selected-epoch classifier to <run>/model/ (finetune.load_classifier)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _finetune(args: argparse.Namespace) -> int:
    from .config import FinetuneConfig, validate
    from .finetune import format_table, run_finetune
    if not args.data:
        return _error("no data folder (give --data or set CLASSIT_DATA)")
    try:
        raw: dict = {}
        if args.config:
            import yaml
            with open(args.config, encoding="utf-8") as f:
                raw = dict(yaml.safe_load(f) or {})
        flags = {"selections": tuple(s.strip() for s in args.selections.split(",")) if args.selections else None,
                 "epochs_override": args.epochs, "lr": args.lr, "max_train_examples": args.max_train,
                 "max_valid_examples": args.max_valid, "max_length": args.max_length,
                 "heldout_fraction": args.heldout_fraction, "padding_side": args.padding_side,
                 "precision": args.precision, "device": args.device, "compile": args.compile,
                 "cpu_threads": args.threads, "save_weights": args.save_weights}
        raw.update({k: v for k, v in flags.items() if v is not None})
        if args.quiet:
            raw["progress"] = False
        cfg = validate(FinetuneConfig, raw, args.config or "command line", prefix="finetune.")
        table = run_finetune(args.model, args.data, args.tasks, args.seeds, args.out, cfg,
                             model_name=args.model_name, condition=args.condition, size=args.size,
                             revision=args.revision)
    except (ConfigError, DataError, ValueError, OSError) as e:
        return _error(e)
    print(format_table(table))
    return 0


def _lazy(module: str, attr: str) -> Callable:
    """A subcommand's function, imported only when that subcommand runs (the CLI starts fast)."""
    def call(*a, **k):
        import importlib
        return getattr(importlib.import_module(f"classit_utils.{module}"), attr)(*a, **k)
    return call


# name -> (add_arguments, handler, help)
EVAL_COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Handler, str]] = {
    "zero-shot": (_add_zero_shot, _zero_shot, "BabyLM zero-shot tasks on one model (2025 or 2026 rules)"),
    "finetune": (_add_finetune, _finetune, "BabyLM 2025 (Super)GLUE fine-tuning on one model, several seeds"),
    "collate": (_lazy("collate", "add_cli_arguments"), _lazy("collate", "cli_main"),
                "the leaderboard's submission file of one model, as the official collate_preds.py writes it"),
    "aoa": (_lazy("tasks.aoa", "add_cli_arguments"), _lazy("tasks.aoa", "cli_main"),
            "age of acquisition over a model's chck_<N>M checkpoints (the BabyLM 2025 definition)"),
    "export": (_lazy("export", "add_cli_arguments"), _lazy("export", "cli_main"),
               "a model as the BabyLM submission layout: a git repo, main = final, chck_<N>M branches"),
}


def add_eval_commands(sub: argparse._SubParsersAction) -> None:
    for name, (add, handler, help_) in EVAL_COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        add(p)
        p.set_defaults(handler=handler)


def _eval_group(p: argparse.ArgumentParser) -> None:
    add_eval_commands(p.add_subparsers(dest="command", metavar="COMMAND", required=True))


# classit top-level groups: name -> (builder, help)
COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], str]] = {
    "eval": (_eval_group, "evaluate a model (zero-shot, ...)"),
}


def _run(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return args.handler(args)


def eval_main(argv: Sequence[str] | None = None) -> int:
    """`classit-eval COMMAND ...`"""
    parser = argparse.ArgumentParser(prog="classit-eval", description="Evaluate a model (BabyLM 2025 rules).")
    add_eval_commands(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    return _run(parser, argv)


def main(argv: Sequence[str] | None = None) -> int:
    """`classit GROUP COMMAND ...`"""
    parser = argparse.ArgumentParser(prog="classit", description="classit: instruction tuning for BabyLM-scale LMs.")
    sub = parser.add_subparsers(dest="group", metavar="GROUP", required=True)
    for name, (build, help_) in COMMANDS.items():
        build(sub.add_parser(name, help=help_, description=help_))
    return _run(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
