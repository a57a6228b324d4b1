"""Independent jobs of the evaluation stages (a model's zero-shot task family, a (model, GLUE task, seed)
fine-tuning run), run one after another (`serial`) or fanned out with Ray (`ray`), never with a scheduler of
our own.

A job is a function named by `module:function` (so Ray workers import it) and its keyword arguments. It
writes its results into its own folders atomically and, last, `DONE.json` in its job folder with its key:
the hash of what its result depends on (the code it runs, library versions, its arguments, the model's
and data's fingerprints). A job whose marker holds the same key is skipped, so a killed stage resumes; a
changed input reruns exactly the jobs it touches. Each job's log (`job.log`) is kept beside its marker.
Results are merged after all jobs, in a fixed order, so the engine and the order of completion change
nothing.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from tqdm.auto import tqdm

from .codekey import code_hashes, library_versions
from .config import FanoutConfig
from .records import atomic_write_json, provenance

log = logging.getLogger(__name__)
DONE, LOG = "DONE.json", "job.log"


@dataclass(frozen=True)
class Job:
    name: str                         # unique and readable: "classit-tiny-base/finetune/rte/seed0"
    folder: Path                      # its DONE.json and job.log
    fn: str                           # "classit_utils.finetune:run_job"
    kwargs: dict[str, Any]            # JSON-able keyword arguments of `fn`
    inputs: dict[str, Any] = field(default_factory=dict)   # fingerprints of what it reads (model, data)

    def parts(self) -> dict[str, Any]:
        module = self.fn.split(":")[0].removeprefix("classit_utils.")
        return {"fn": self.fn, "kwargs": self.kwargs, "inputs": self.inputs, "code": code_hashes({module}),
                "libraries": library_versions()}

    @property
    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.parts(), sort_keys=True, default=str).encode()).hexdigest()


def fingerprint(*paths: Path | str) -> str:
    """Sizes and modification times of the files under `paths` (what a model folder or data folder is)."""
    h = hashlib.sha256()
    for root in map(Path, paths):
        root = root.resolve()
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
        for p in files:
            st = p.stat()
            h.update(f"{p.relative_to(root) if p != root else p.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def is_done(job: Job, key: str | None = None) -> bool:
    path = job.folder / DONE
    if not path.is_file():
        return False
    try:
        return json.loads(path.read_text()).get("key") == (key or job.key)
    except json.JSONDecodeError:
        return False


def execute(job: Job) -> dict[str, Any]:
    """Run one job here: its output and logging go to `job.log`, `DONE.json` is written last."""
    key = job.key
    job.folder.mkdir(parents=True, exist_ok=True)
    (job.folder / DONE).unlink(missing_ok=True)
    module, name = job.fn.split(":")
    fn = getattr(importlib.import_module(module), name)      # codekey: caller
    t0 = time.time()
    root = logging.getLogger()
    with open(job.folder / LOG, "w", encoding="utf-8") as f:
        handler = logging.StreamHandler(f)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        old_level = root.level
        root.setLevel(min(old_level or logging.INFO, logging.INFO))
        try:
            with contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
                result = fn(**job.kwargs)
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
    record = {"job": job.name, "key": key, "parts": job.parts(), "wall_s": round(time.time() - t0, 2),
              "result": result, **provenance()}
    atomic_write_json(job.folder / DONE, record)
    return record


def _tail(job: Job, n: int = 15) -> str:
    path = job.folder / LOG
    return "".join(path.read_text(errors="replace").splitlines(keepends=True)[-n:]) if path.exists() else ""


class JobFailed(RuntimeError):
    """A job raised; the message names it and ends with its log's last lines."""


def run_jobs(jobs: Sequence[Job], cfg: FanoutConfig, desc: str = "jobs", progress: bool = True) -> list[dict]:
    """Run the jobs not already done with `cfg.engine`; returns their DONE records (skipped ones included),
    in the order of `jobs`."""
    names = [j.name for j in jobs]
    if len(set(names)) != len(names):
        raise ValueError(f"{desc}: job names must be unique")
    keys = {j.name: j.key for j in jobs}
    todo = [j for j in jobs if not is_done(j, keys[j.name])]
    if len(todo) < len(jobs):
        print(f"{desc}: {len(jobs) - len(todo)} of {len(jobs)} jobs already done, skipped")
    if todo:
        (_run_ray if cfg.engine == "ray" else _run_serial)(todo, cfg, desc, progress)
    return [json.loads((j.folder / DONE).read_text()) for j in jobs]


def _run_serial(jobs: Sequence[Job], cfg: FanoutConfig, desc: str, progress: bool) -> None:
    for job in tqdm(jobs, desc=desc, unit="job", disable=not progress):
        try:
            execute(job)
        except Exception as err:
            raise JobFailed(f"{job.name}: {type(err).__name__}: {err}\n--- {job.folder / LOG}:\n{_tail(job)}") from err


def _ray_execute(job: Job) -> dict[str, Any]:
    """The Ray task: the job with `cpus_per_job` torch threads (Ray sets OMP_NUM_THREADS to the CPUs it gave)."""
    return execute(job)


def _run_ray(jobs: Sequence[Job], cfg: FanoutConfig, desc: str, progress: bool) -> None:
    try:
        import ray
    except ImportError:
        raise RuntimeError("fanout.engine: ray needs Ray (pip install -e '.[cluster]'), or use engine: serial") from None
    import torch
    started = not ray.is_initialized()
    if started:
        kw = {"address": cfg.address} if cfg.address else {"num_cpus": cfg.num_cpus}
        ray.init(include_dashboard=False, ignore_reinit_error=True, log_to_driver=False, logging_level="ERROR",
                 **kw)
    gpus = cfg.gpus_per_job if torch.cuda.is_available() or cfg.address else 0
    task = ray.remote(num_cpus=cfg.cpus_per_job, num_gpus=gpus, max_retries=cfg.max_retries)(_ray_execute)
    try:
        pending = {task.remote(j): j for j in jobs}
        with tqdm(total=len(jobs), desc=f"{desc} (ray)", unit="job", disable=not progress) as bar:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                job = pending.pop(ready[0])
                try:
                    ray.get(ready[0])
                except Exception as err:
                    for ref in pending:
                        ray.cancel(ref)
                    cause = getattr(err, "cause", err)
                    raise JobFailed(f"{job.name}: {type(cause).__name__}: {cause}\n--- {job.folder / LOG}:\n"
                                    f"{_tail(job)}") from None
                bar.update(1)
    finally:
        if started:
            ray.shutdown()
