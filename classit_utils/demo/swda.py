"""SwDA: `swda/swda_data/{train,val,test}/NNNN.txt` with `speaker|utterance|DAMSL tag` lines, plus the
`val_set.txt` and `test_set.txt` concatenations that the real release has next to the folders.
"""
from __future__ import annotations

from pathlib import Path

from .common import DemoSpec, rng_for, write_lines
from .dialogue import dialogue


def write_swda(root: Path, spec: DemoSpec, manifest: dict) -> None:
    rng = rng_for(spec, "swda")
    n = spec.swda_dialogues
    ids = sorted(rng.sample(range(2000, 5000), n))
    n_eval = max(1, n // 30)
    held = rng.sample(ids, 2 * n_eval)
    split_of = {i: "train" for i in ids}
    split_of.update({i: "val" for i in held[:n_eval]})
    split_of.update({i: "test" for i in held[n_eval:]})
    concat: dict[str, list[str]] = {"val": [], "test": []}
    for i in ids:
        lines = [f"{s}|{u}|{t}" for s, u, t in dialogue(rng, 30, 90)]
        split = split_of[i]
        write_lines(root, f"swda/swda_data/{split}/{i:04d}.txt", lines, manifest)
        if split in concat:
            concat[split] += lines
    for split, lines in concat.items():
        write_lines(root, f"swda/swda_data/{split}_set.txt", lines, manifest)
