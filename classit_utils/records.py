"""Provenance and atomic writes: every result carries the git hash, library versions and device."""
from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
import tempfile
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO, Iterator

REPO_ROOT = Path(__file__).resolve().parent.parent
# the libraries whose versions every result records; KEY_LIBS change numbers, so they key the stages too
KEY_LIBS = ("torch", "transformers", "tokenizers", "datasets", "numpy", "pandas", "scipy", "statsmodels")
_LIBS = KEY_LIBS + ("papermill", "pydantic")


def git_hash() -> str:
    """The commit of the code that produced a result, with `-dirty` when the tree has changes."""
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def versions(libs: tuple[str, ...] = _LIBS) -> dict[str, str]:
    """Installed versions (read from package metadata, nothing imported); `absent` when not installed."""
    out = {"python": platform.python_version()}
    for lib in libs:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = "absent"
    return out


def device_name() -> str:
    try:
        import torch
        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def provenance() -> dict[str, Any]:
    return {"git": git_hash(), "versions": versions(), "device": device_name(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


@contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file that appears at `path` only when the block ends without error: written to a temp
    file in the same folder, fsynced, then renamed, so readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)      # mkstemp makes 0600; results are meant to be read by others
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_writer(path) as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def read_json_or_empty(path: str | Path) -> dict[str, Any]:
    """An existing JSON summary to merge into, or {} when it is absent or unreadable (a crash mid-write
    of an older, non-atomic version): results are then rebuilt rather than lost to an exception."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        logging.getLogger(__name__).warning("%s: unreadable, starting a new summary", path)
        return {}


def append_jsonl(path: str | Path, record: dict[str, Any]) -> None:
    """One JSON line appended (training logs: a crash loses at most the line being written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def load_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines file ([] when it is absent)."""
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_metrics(out_dir: str | Path, stage: str, metrics: dict[str, Any], config: dict[str, Any],
                  wall_s: float | None = None, source: str | None = None) -> Path:
    """The stage's `metrics.json`: its numbers, the resolved config, where it came from and the provenance."""
    record = {"stage": stage, "metrics": metrics, "config": config, "params": source, "provenance": provenance(),
              "wall_s": wall_s}
    return atomic_write_json(Path(out_dir) / "metrics.json", record)
