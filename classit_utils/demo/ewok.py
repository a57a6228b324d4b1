"""EWoK: `ewok.zip` with `ewok_filtered/<domain>.jsonl` (each item followed by its copy with Context1/2
and Target1/2 swapped, as the official filter script writes them) and `ewok_fast/<domain>.jsonl`.

Members get a fixed timestamp so the zip is byte-stable. They are not encrypted (`zipfile` cannot
write ZipCrypto); the loader passes the real zip's password (`EWOK_PASSWORD`) all the same, which
`zipfile` ignores for unencrypted members, so the demo and the real zip go through one code path.
"""
from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

from .common import DemoSpec, distinct, jsonl_text, rng_for
from .grammar import NAMES, PLACES, THINGS


EWOK_DOMAINS = ("agent-properties", "physical-relations", "social-relations", "spatial-relations")
EWOK_PASSWORD = b"BabyLM2025"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _ewok_item(rng: random.Random, domain: str) -> dict:
    a, b = rng.sample(NAMES, 2)
    t1, t2 = rng.sample([t[0] for t in THINGS], 2)
    place = rng.choice(PLACES)[4:]
    k = rng.randrange(2)
    if domain == "agent-properties":
        if k == 0:
            ca, cb, ctype, cdiff, tdiff = "believe", "doubt", "direct", "antonym", "concept swap"
            c1 = f"{a} is in the {place}. {a} sees the {t1} inside."
            c2 = f"{a} is in the {place}. {a} sees the {t1} outside."
            g1, g2 = f"{a} believes that the {t1} is in the {place}.", f"{a} doubts that the {t1} is in the {place}."
        else:
            food = rng.choice(["apples", "cake", "soup", "rice", "carrots", "cookies"])
            ca, cb, ctype, cdiff, tdiff = "like", "dislike", "indirect", "antonym", "concept swap"
            c1, c2 = f"{a} always smiles when eating {food}.", f"{a} always frowns when eating {food}."
            g1, g2 = f"{a} likes {food}.", f"{a} dislikes {food}."
    elif domain == "physical-relations":
        if k == 0:
            ca, cb, ctype, cdiff, tdiff = "above", "below", "indirect", "antonym", "concept swap"
            c1, c2 = f"The {t1} is on top of the {t2}.", f"The {t1} is under the {t2}."
            g1, g2 = f"The {t1} is above the {t2}.", f"The {t1} is below the {t2}."
        else:
            ca, cb, ctype, cdiff, tdiff = "inside", "outside", "indirect", "antonym", "concept swap"
            c1, c2 = f"{a} put the {t1} into the box.", f"{a} put the {t1} next to the box."
            g1, g2 = f"The {t1} is inside the box.", f"The {t1} is outside the box."
    elif domain == "social-relations":
        if k == 0:
            ca, cb, ctype, cdiff, tdiff = "parent", "child", "indirect", "variable swap", "concept swap"
            c1, c2 = f"{a} takes care of {b}, who is still a baby.", f"{b} takes care of {a}, who is still a baby."
            g1, g2 = f"{a} is the parent of {b}.", f"{a} is the child of {b}."
        else:
            ca, cb, ctype, cdiff, tdiff = "teacher", "student", "indirect", "variable swap", "concept swap"
            c1, c2 = f"{a} explains the lesson to {b} every morning.", f"{b} explains the lesson to {a} every morning."
            g1, g2 = f"{a} is the teacher of {b}.", f"{a} is the student of {b}."
    elif domain == "spatial-relations":
        if k == 0:
            ca, cb, ctype, cdiff, tdiff = "left", "right", "direct", "antonym", "variable swap"
            c1, c2 = f"The {t1} is to the left of the {t2}.", f"The {t1} is to the right of the {t2}."
            g1, g2 = f"The {t2} is to the right of the {t1}.", f"The {t1} is to the right of the {t2}."
        else:
            ca, cb, ctype, cdiff, tdiff = "near", "far", "direct", "antonym", "concept swap"
            c1 = f"{a} can touch the {t1} without standing up."
            c2 = f"{a} has to walk for an hour to reach the {t1}."
            g1, g2 = f"The {t1} is near {a}.", f"The {t1} is far from {a}."
    else:
        raise ValueError(domain)
    return {"Domain": domain, "ConceptA": ca, "ConceptB": cb, "ContextType": ctype, "ContextDiff": cdiff,
            "TargetDiff": tdiff, "Context1": c1, "Context2": c2, "Target1": g1, "Target2": g2}


def _swap(item: dict) -> dict:
    out = dict(item)
    out["Context1"], out["Context2"] = item["Context2"], item["Context1"]
    out["Target1"], out["Target2"] = item["Target2"], item["Target1"]
    return out


def _zip_add(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    if name.endswith("/"):
        info.external_attr = (0o40755 << 16) | 0x10
        zf.writestr(info, b"")
        return
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def write_ewok(root: Path, spec: DemoSpec, manifest: dict) -> None:
    members: dict[str, list[dict]] = {}
    for domain in EWOK_DOMAINS:
        rng = rng_for(spec, f"ewok/{domain}")
        items = distinct(rng, lambda r: _ewok_item(r, domain), spec.items_per_paradigm,
                         key=lambda d: (d["Context1"], d["Target1"]))
        members[f"ewok_filtered/{domain}.jsonl"] = [x for it in items for x in (it, _swap(it))]
        members[f"ewok_fast/{domain}.jsonl"] = rng.sample(items, max(1, spec.items_per_paradigm // 2))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for folder in ("ewok_filtered/", "ewok_fast/"):
            _zip_add(zf, folder, b"")
            for name, rows in members.items():
                if name.startswith(folder):
                    _zip_add(zf, name, jsonl_text(rows).encode("utf-8"))
    (root / "ewok.zip").write_bytes(buf.getvalue())
    manifest["ewok.zip"] = sum(len(r) for r in members.values())
