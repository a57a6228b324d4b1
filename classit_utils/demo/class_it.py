"""CLASS_IT-shaped instruction data: `class_it/switchboard.jsonl` (consecutive turns of demo dialogues)
and `class_it/simple_wiki.jsonl` (questions about demo articles, answered by their sentences).

Assumption, as `colinglab/CLASS_IT` cannot be downloaded here (shared/data/SOURCES-it.md): the shape of
the released set, fields `prompt` and `reply`.
"""
from __future__ import annotations

from pathlib import Path

from .articles import make_article, make_countries
from .common import DemoSpec, rng_for, write_jsonl
from .dialogue import dialogue


def write_class_it(root: Path, spec: DemoSpec, manifest: dict) -> None:
    n = max(24, spec.items_per_paradigm)
    rng = rng_for(spec, "class_it/switchboard")
    rows: list[dict] = []
    while len(rows) < n:
        turns: list[tuple[str, str]] = []
        for spk, utt, _ in dialogue(rng, 16, 30):
            if turns and turns[-1][0] == spk:
                turns[-1] = (spk, f"{turns[-1][1]} {utt}")
            else:
                turns.append((spk, utt))
        for (_, p), (_, r) in zip(turns, turns[1:]):
            if len(r.split()) >= 3 and len(rows) < n:
                rows.append({"prompt": p, "reply": r})
    write_jsonl(root, "class_it/switchboard.jsonl", rows, manifest)

    rng = rng_for(spec, "class_it/simple_wiki")
    seen: set[str] = set()
    countries = make_countries(rng)
    rows = []
    while len(rows) < n:
        art = make_article(rng, seen, countries)
        for f in art.facts[:3]:
            if len(rows) < n:
                rows.append({"prompt": f.question, "reply": f.sentence})
    write_jsonl(root, "class_it/simple_wiki.jsonl", rows, manifest)
