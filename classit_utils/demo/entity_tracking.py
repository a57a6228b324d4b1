"""Entity tracking: `entity_tracking/{regular,ambiref,move_contents}.jsonl`, boxes and operations on them
whose first option is the queried box's true final content, `numops` counting the operations that touch
it; `entity_tracking_fast/regular.jsonl` is a byte copy of the regular file, as in the real data.
"""
from __future__ import annotations

import random
from pathlib import Path

from .common import DemoSpec, rng_for, write_jsonl


_ET_OBJECTS = ["apple", "bag", "ball", "bell", "book", "bottle", "bowl", "brush", "cake", "candle", "card",
               "chair", "clock", "coat", "coin", "cup", "doll", "drum", "egg", "fork", "glove", "hat", "key",
               "kite", "lamp", "leaf", "letter", "map", "mug", "pen", "plate", "ring", "rope", "shell", "shoe",
               "sock", "spoon", "stone", "toy", "watch"]
_ET_ADJS = ["big", "small", "red", "blue", "green", "yellow"]
_N_BOXES = 7


def _et_desc(item: tuple[str, str]) -> str:
    adj, noun = item
    return f"{adj} {noun}" if adj else noun


def _et_render(items: list[tuple[str, str]]) -> str:
    """Box contents as in the real files: 'nothing' or 'the x and the y' (sorted by noun, then adjective)."""
    if not items:
        return "nothing"
    return " and ".join(f"the {_et_desc(it)}" for it in sorted(items, key=lambda it: (it[1], it[0])))


def _et_ref(box: list[tuple[str, str]], item: tuple[str, str]) -> str:
    """How an operation names an item of `box`: bare noun when unique there, else with its adjective."""
    return item[1] if sum(1 for it in box if it[1] == item[1]) == 1 else _et_desc(item)


def _et_example(rng: random.Random, mode: str, target: int) -> tuple[str, list[str]]:
    ambi = mode == "ambiref"
    while True:
        used: set[tuple[str, str]] = set()

        def fresh() -> tuple[str, str] | None:
            for _ in range(50):
                it = (rng.choice(_ET_ADJS) if ambi else "", rng.choice(_ET_OBJECTS))
                if it not in used and (ambi or all(u[1] != it[1] for u in used)):
                    used.add(it)
                    return it
            return None

        boxes: list[list[tuple[str, str]]] = []
        for _ in range(_N_BOXES):
            k = rng.choices([0, 1, 2, 3], [2, 3, 3, 3])[0]
            boxes.append([it for it in (fresh() for _ in range(k)) if it])
        init = ", ".join(f"Box {i} contains {_et_render(b)}" for i, b in enumerate(boxes)) + "."
        q = rng.randrange(_N_BOXES)
        n_total = target + rng.randint(0, 4 if target < 5 else 2)
        touch = set(rng.sample(range(n_total), target))
        ops: list[str] = []
        ok = True
        for j in range(n_total):
            must = j in touch
            allowed = [q] if must else [i for i in range(_N_BOXES) if i != q]
            kinds = ["move", "remove", "put"] + (["contents"] if mode == "move_contents" else [])
            rng.shuffle(kinds)
            done = False
            for kind in kinds:
                if kind in ("move", "contents"):
                    # one of src/dst must be q when `must`, neither when not
                    srcs = [i for i in range(_N_BOXES) if boxes[i] and (must or i != q)]
                    if not srcs:
                        continue
                    src = rng.choice(srcs)
                    if must and src != q:
                        dst = q
                    else:
                        dsts = [i for i in range(_N_BOXES) if i != src and i != q]
                        if not dsts:
                            continue
                        dst = rng.choice(dsts)
                    if kind == "contents":
                        ops.append(f"Move the contents of Box {src} to Box {dst}")
                        boxes[dst] += boxes[src]
                        boxes[src] = []
                    else:
                        moved = rng.sample(boxes[src], rng.randint(1, min(2, len(boxes[src]))))
                        moved.sort(key=lambda it: (it[1], it[0]))
                        refs = [_et_ref(boxes[src], it) for it in moved]
                        ops.append(f"Move {' and '.join('the ' + r for r in refs)} from Box {src} to Box {dst}")
                        for it in moved:
                            boxes[src].remove(it)
                        boxes[dst] += moved
                elif kind == "remove":
                    cands = [i for i in allowed if boxes[i]]
                    if not cands:
                        continue
                    b = rng.choice(cands)
                    gone = rng.sample(boxes[b], rng.randint(1, min(2, len(boxes[b]))))
                    gone.sort(key=lambda it: (it[1], it[0]))
                    refs = [_et_ref(boxes[b], it) for it in gone]
                    ops.append(f"Remove {' and '.join('the ' + r for r in refs)} from Box {b}")
                    for it in gone:
                        boxes[b].remove(it)
                else:
                    b = rng.choice(allowed)
                    new = [it for it in (fresh() for _ in range(rng.randint(1, 2))) if it]
                    if not new:
                        continue
                    ops.append(f"Put {' and '.join('the ' + _et_desc(it) for it in new)} into Box {b}")
                    boxes[b] += new
                done = True
                break
            if not done:
                ok = False
                break
        if not ok:
            continue
        prefix = init + "".join(f" {op}." for op in ops) + f" Box {q} contains "
        answer = _et_render(boxes[q]) + "."
        options = [answer]
        cands = [_et_render(b) + "." for i, b in enumerate(boxes) if i != q]
        rng.shuffle(cands)
        all_items = sorted({it for b in boxes for it in b} | used)
        for _ in range(200):
            if len(options) >= 5:
                break
            r = rng.random()
            if r < 0.35 and cands:
                c = cands.pop()
            elif boxes[q] and r < 0.8:
                alt = list(boxes[q])
                pool = [it for it in all_items if it not in alt]
                if not pool:
                    continue
                alt[rng.randrange(len(alt))] = rng.choice(pool)
                c = _et_render(alt) + "."
            else:
                c = _et_render(rng.sample(all_items, rng.randint(1, 2))) + "."
            if c not in options:
                options.append(c)
        if len(options) == 5:
            return prefix, options


def write_entity_tracking(root: Path, spec: DemoSpec, manifest: dict) -> None:
    per_numops = max(1, spec.items_per_paradigm // 2)
    for mode in ("regular", "ambiref", "move_contents"):
        rng = rng_for(spec, f"entity_tracking/{mode}")
        n = 6 * per_numops
        sample_ids = rng.sample(range(3 * n), n)
        rows = []
        for numops in range(6):
            for _ in range(per_numops):
                prefix, options = _et_example(rng, mode, numops)
                rows.append({"sample_id": sample_ids[len(rows)], "numops": numops, "input_prefix": prefix,
                             "options": options, "example_id": len(rows)})
        write_jsonl(root, f"entity_tracking/{mode}.jsonl", rows, manifest)
        if mode == "regular":  # the real fast file is byte-identical to the full one
            write_jsonl(root, "entity_tracking_fast/regular.jsonl", rows, manifest)
