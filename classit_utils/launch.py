"""The training stages under `torchrun`: with more than one process (`launch.nproc_per_node` > 1, or `auto`
on a multi-GPU node), a stage writes its resolved config to the run folder and runs

    torchrun [--standalone | --nnodes N --node_rank R --rdzv_backend B --rdzv_endpoint E]
             --nproc_per_node P -m classit_utils.launch {pretrain,tune} --config <run>/launch_config.json ...

as a subprocess, streams rank 0's output (and the evaluation records of its JSON-lines log) into the
notebook, and fails with the failing rank's last lines. One process keeps the in-process path. Every rank
runs the same `classit_utils.trainstage` function, which joins DDP from the torchrun environment
(`train.setup_distributed`), so resuming a killed multi-rank run works as for one process.

Multi-node on SLURM: `srun torchrun ... -m classit_utils.launch pretrain --params params/paper.yaml --size
100m` on every node (`scripts/slurm_train.sbatch`); the notebook, run afterwards, finds the finished run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from .config import LaunchConfig, StudyConfig, load_config, parse_config
from .records import atomic_write_json, load_jsonl

STATE = "state.json"


def nproc_per_node(launch: LaunchConfig) -> int:
    """`auto`: the visible GPUs (1 without CUDA)."""
    if launch.nproc_per_node != "auto":
        return int(launch.nproc_per_node)
    import torch
    return max(torch.cuda.device_count(), 1) if torch.cuda.is_available() else 1


def in_torchrun() -> bool:
    return "WORLD_SIZE" in os.environ and "LOCAL_RANK" in os.environ


def distributed(cfg: StudyConfig) -> bool:
    """Whether a training stage must start torchrun (more than one process, and not already inside it)."""
    return not in_torchrun() and (nproc_per_node(cfg.launch) > 1 or cfg.launch.nnodes > 1)


def torchrun_command(launch: LaunchConfig, log_dir: Path, entry: Sequence[str]) -> list[str]:
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc_per_node(launch)}",
           f"--log_dir={log_dir}", "--tee=3", "--local_ranks_filter=0"]
    if launch.nnodes == 1 and not launch.rdzv_endpoint:
        cmd.append("--standalone")
    else:
        cmd += [f"--nnodes={launch.nnodes}", f"--node_rank={launch.node_rank}",
                f"--rdzv_backend={launch.rdzv_backend}", f"--rdzv_endpoint={launch.rdzv_endpoint}"]
    return [*cmd, "-m", "classit_utils.launch", *entry]


def _failing_rank_tail(log_dir: Path, n: int = 25) -> str:
    """The last lines of the rank that failed first: one whose traceback is its own error, not the
    "connection closed by peer" its partners report when it dies (else any rank with a traceback)."""
    tails = []
    for path in sorted(log_dir.rglob("stderr.log")):
        text = path.read_text(errors="replace")
        if "Traceback" in text:
            tails.append((path, text.splitlines(keepends=True)[-n:]))
    for path, lines in tails:
        if not any("Connection closed by peer" in line or "Connection reset" in line for line in lines[-3:]):
            return f"--- {path}:\n" + "".join(lines)
    return "".join(f"--- {p}:\n" + "".join(lines) for p, lines in tails[:1])


def _print_new_evals(log: Path, seen: int) -> int:
    rows = load_jsonl(log) if log.exists() else []
    for r in rows[seen:]:
        if r.get("val_loss") is not None:
            print(json.dumps({k: r.get(k) for k in ("step", "phase_name", "loss", "val_loss", "tokens_per_s", "mfu")}),
                  flush=True)
    return len(rows)


def spawn(cfg: StudyConfig, entry: Sequence[str], out_dir: Path) -> dict[str, Any]:
    """Run one training entry (`pretrain --size S` / `tune --size S --curriculum C`) under torchrun with the
    resolved config written to `out_dir`; returns the run's final state (`state.json`, written by rank 0)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    done = out_dir / STATE
    if done.is_file() and (out_dir / "final" / "config.json").is_file():     # finished before: no new job
        state = json.loads(done.read_text())
        if state.get("step") is not None and state["step"] >= state.get("total_steps", 0):
            return state
    config = out_dir / "launch_config.json"
    atomic_write_json(config, cfg.model_dump(mode="json"))
    (out_dir / STATE).unlink(missing_ok=True)
    log_dir = out_dir / "torchrun_logs" / time.strftime("%Y%m%dT%H%M%S")
    cmd = torchrun_command(cfg.launch, log_dir, [*entry, "--config", str(config)])
    print("[classit] " + " ".join(cmd[1:]), flush=True)
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR",
                                                              "MASTER_PORT")}
    if not _has_cuda():                                  # gloo ranks on one CPU machine share its cores
        env.setdefault("OMP_NUM_THREADS", "1")
        if cfg.launch.nnodes == 1:
            env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, bufsize=1)
    seen = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        seen = _print_new_evals(out_dir / "train_log.jsonl", seen)
    code = proc.wait()
    if code != 0:
        raise RuntimeError(f"torchrun {' '.join(entry)} failed (exit {code}); {_failing_rank_tail(log_dir)}")
    return json.loads((out_dir / STATE).read_text())


def _has_cuda() -> bool:
    import torch
    return torch.cuda.is_available()


def write_state(out_dir: Path, state: Any) -> None:
    """Rank 0's record of where a run ended (`train.TrainState`), read back by the stage that spawned it."""
    d = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(state).items()}
    atomic_write_json(Path(out_dir) / STATE, d)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m classit_utils.launch", description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("pretrain", "tune"))
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", type=Path, help="a resolved config (launch_config.json, written by the stage)")
    src.add_argument("--params", type=Path, help="a params YAML (multi-node runs started by srun)")
    ap.add_argument("--size", required=True)
    ap.add_argument("--curriculum")
    ap.add_argument("--pretrain-seed", type=int, help="default: the first of pretrain.seeds")
    ap.add_argument("--tune-seed", type=int, help="default: the first of tuning.seeds")
    args = ap.parse_args(argv)
    if args.config:
        cfg = parse_config(json.loads(args.config.read_text()), where=str(args.config))
    else:
        cfg = load_config(args.params)
    from . import trainstage
    p = cfg.pretrain.run_seeds[0] if args.pretrain_seed is None else args.pretrain_seed
    if args.what == "pretrain":
        state = trainstage.run_pretraining(cfg, args.size, p)
    else:
        if not args.curriculum:
            ap.error("tune needs --curriculum")
        s = cfg.tuning.run_seeds[0] if args.tune_seed is None else args.tune_seed
        state = trainstage.run_tuning(cfg, args.size, args.curriculum, p, s)
    if int(os.environ.get("RANK", "0")) == 0:
        write_state(state.out_dir, state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
