"""COMPS: `comps/comps_base.jsonl`, a concept that has a property against one that has not.

Assumption, as the real file is not available here (shared/data/README.md, "Not found"): the COMPS
(Misra et al. 2023) fields `acceptable_concept, unacceptable_concept, prefix_acceptable,
prefix_unacceptable, property_phrase` (e.g. "robin" / "table" / "A robin" / "A table" / "can fly.").
"""
from __future__ import annotations

import random
from pathlib import Path

from .common import DemoSpec, distinct, rng_for, write_jsonl
from .grammar import a_or_an, cap


_COMPS = {  # property phrase: concepts that have it
    "can fly.": ["robin", "sparrow", "eagle", "owl", "crow", "bee", "duck"],
    "can swim.": ["fish", "duck", "frog", "salmon", "otter", "whale"],
    "has fur.": ["cat", "dog", "rabbit", "bear", "fox", "mouse", "otter"],
    "has wheels.": ["car", "bus", "bike", "truck", "wagon", "train"],
    "lays eggs.": ["chicken", "duck", "robin", "snake", "turtle", "frog", "owl"],
    "can be eaten.": ["apple", "bread", "carrot", "cake", "egg", "banana", "fish"],
    "grows in the ground.": ["carrot", "potato", "tree", "grass", "flower", "onion"],
    "is used for cutting.": ["knife", "saw", "axe"],
    "has leaves.": ["tree", "flower", "grass", "onion"],
    "is made of wood.": ["chair", "table", "door", "spoon", "wagon"],
}
_COMPS_ALL = sorted({c for cs in _COMPS.values() for c in cs} | {"rock", "shoe", "cup", "lamp", "sock", "coin"})


def write_comps(root: Path, spec: DemoSpec, manifest: dict) -> None:
    rng = rng_for(spec, "comps")

    def make(r: random.Random) -> dict:
        prop = r.choice(sorted(_COMPS))
        good = r.choice(_COMPS[prop])
        bad = r.choice([c for c in _COMPS_ALL if c not in _COMPS[prop]])
        return {"acceptable_concept": good, "unacceptable_concept": bad,
                "prefix_acceptable": f"{cap(a_or_an(good))} {good}",
                "prefix_unacceptable": f"{cap(a_or_an(bad))} {bad}", "property_phrase": prop}
    rows = distinct(rng, make, 2 * spec.items_per_paradigm,
                    key=lambda d: (d["acceptable_concept"], d["unacceptable_concept"], d["property_phrase"]))
    write_jsonl(root, "comps/comps_base.jsonl", rows, manifest)
