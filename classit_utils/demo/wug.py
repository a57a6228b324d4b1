"""Wug tests: `wug_adj_nominalization/wug_adj_nominalization.jsonl` (nonce adjectives, -ity vs -ness)
and `wug_past_tense/wug_past_tense.jsonl` (nonce verbs, regular vs irregular past), each pair with a
simulated human `ratio` for its first form.

Assumption, as the real past-tense file is not available here (shared/data/README.md, "Not found"): it
has the shape of the adjective file, `sentences` (the regular form's sentence, a TAB, the irregular
one's, e.g. "Yesterday she splinged the ball.\\tYesterday she splang the ball.") and `ratio`.
"""
from __future__ import annotations

import random
from pathlib import Path

from .common import DemoSpec, rng_for, write_jsonl
from .grammar import NAMES, unique_nonce


_WUG_ADJ = {  # suffix: (-ity form of the suffix, mean human preference for -ity)
    "able": ("ability", 0.6), "ive": ("ivity", 0.45), "ous": ("osity", 0.35), "ish": ("ishity", 0.1),
    "al": ("ality", 0.55), "ic": ("icity", 0.7)}
_PAST_REAL = {"sling", "cling", "fling", "spring", "string", "swing", "bring", "sting", "thing", "sing", "ring",
              "wing", "king", "blink", "drink", "shrink", "stink", "slink", "clink", "brink", "plink", "think",
              "kink", "wink", "creep", "sleep", "sweep", "steep", "sheep", "cheep", "bleep", "keep", "deep",
              "jeep", "peep", "weep", "seep", "beep", "sprink", "trink", "glink"}
_PAST_ONSETS = ["spl", "gl", "kr", "zw", "sn", "bl", "fr", "sk", "tw", "pl", "gr", "shm", "dr", "thw", "spr",
                "kl", "fl", "br", "tr", "gw", "skr", "v", "z"]
_PAST_FRAMES = ["Yesterday she {} the ball.", "Last night the children {} in the garden.",
                "Last week my brother {} all morning.", "This morning the farmer {} the goat.",
                "Yesterday {name} {} again.", "After lunch we {} for an hour."]


def _proportion(rng: random.Random, p: float) -> float:
    n = rng.randint(10, 14)
    k = sum(rng.random() < p for _ in range(n))
    return k / n


def write_wug(root: Path, spec: DemoSpec, manifest: dict) -> None:
    rng = rng_for(spec, "wug/adj")
    seen: set[str] = set()
    rows = []
    for _ in range(2 * spec.items_per_paradigm):
        suffix = rng.choice(sorted(_WUG_ADJ))
        ity, p = _WUG_ADJ[suffix]
        stem = unique_nonce(rng, seen, rng.choice([1, 2])).rstrip("aeiou")
        adj = stem + suffix
        head = f"Create a noun out of the following adjective: {adj}."
        p = min(1.0, max(0.0, p + rng.uniform(-0.2, 0.2)))
        rows.append({"sentences": f"{head} {stem}{ity}\t{head} {adj}ness", "ratio": _proportion(rng, p)})
    write_jsonl(root, "wug_adj_nominalization/wug_adj_nominalization.jsonl", rows, manifest)

    rng = rng_for(spec, "wug/past")
    pats = {"ing": ("ang", 0.4), "ink": ("ank", 0.5), "eep": ("ept", 0.6)}
    seen_v: set[str] = set()
    rows = []
    while len(rows) < max(10, spec.items_per_paradigm):
        rhyme = rng.choice(sorted(pats))
        verb = rng.choice(_PAST_ONSETS) + rhyme
        if verb in _PAST_REAL or verb in seen_v:
            continue
        seen_v.add(verb)
        irr = verb[: -len(rhyme)] + pats[rhyme][0]
        reg = verb + "ed"
        frame = rng.choice(_PAST_FRAMES).replace("{name}", rng.choice(NAMES))
        s1, s2 = frame.format(reg), frame.format(irr)
        p = min(1.0, max(0.0, pats[rhyme][1] + rng.uniform(-0.2, 0.2)))
        rows.append({"sentences": f"{s1}\t{s2}", "ratio": _proportion(rng, p)})
    write_jsonl(root, "wug_past_tense/wug_past_tense.jsonl", rows, manifest)
