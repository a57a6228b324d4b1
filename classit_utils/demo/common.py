"""What every format module shares: the sizes (`DemoSpec`), one RNG per generator, and the file writers.

Each generator draws from its own `random.Random` seeded with `"<seed>:<name>"` (`rng_for`), so the output
is byte-identical for the same `DemoSpec`, and changing one generator does not shift the others.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class DemoSpec:
    """How much to write; a profile's `demo:` block sets the first three. The same spec, the same bytes."""
    seed: int = 0
    words_per_source: int = 40_000   # pretraining text per BabyLM source file
    swda_dialogues: int = 60
    items_per_paradigm: int = 40      # BLiMP-style files (fast; filtered has twice as many)
    glue_train: int = 200             # train items per GLUE task
    glue_valid: int = 60


def rng_for(spec: DemoSpec, name: str) -> random.Random:
    return random.Random(f"{spec.seed}:{name}")


def write_lines(root: Path, rel: str, lines: list[str], manifest: dict) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(line + "\n" for line in lines).encode("utf-8"))
    manifest[rel] = len(lines)


def jsonl_text(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def write_jsonl(root: Path, rel: str, rows: list[dict], manifest: dict) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jsonl_text(rows).encode("utf-8"))
    manifest[rel] = len(rows)


def distinct(rng: random.Random, make: Callable[[random.Random], tuple], n: int, key=lambda x: x) -> list:
    """n items from `make`, distinct by key (gives up on distinctness after many tries)."""
    out, seen, tries = [], set(), 0
    while len(out) < n:
        item = make(rng)
        tries += 1
        if key(item) in seen and tries < 50 * n:
            continue
        seen.add(key(item))
        out.append(item)
    return out
