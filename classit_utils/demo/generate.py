"""`write_demo_data` runs every format writer into one folder, in a fixed order; `main` is its CLI."""
from __future__ import annotations

import argparse
from pathlib import Path

from .aoa import write_aoa
from .blimp import write_blimp, write_supplement
from .class_it import write_class_it
from .common import DemoSpec
from .comps import write_comps
from .corpus import write_babylm
from .entity_tracking import write_entity_tracking
from .ewok import write_ewok
from .glue import write_glue
from .reading import write_reading
from .swda import write_swda
from .wug import write_wug


_WRITERS = (write_babylm, write_swda, write_blimp, write_supplement, write_ewok, write_entity_tracking,
            write_wug, write_reading, write_aoa, write_glue, write_comps, write_class_it)


def write_demo_data(root: str | Path, spec: DemoSpec = DemoSpec()) -> dict:
    """Write the demo data under `root`; return {relative posix path: number of items or lines}."""
    if spec.words_per_source < 1 or spec.swda_dialogues < 3 or spec.items_per_paradigm < 2 \
            or spec.glue_train < 1 or spec.glue_valid < 1:
        raise ValueError(f"DemoSpec sizes must be positive, swda_dialogues >= 3 (train/val/test) and "
                         f"items_per_paradigm >= 2: {spec}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, int] = {}
    for writer in _WRITERS:
        writer(root, spec, manifest)
    return dict(sorted(manifest.items()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m classit_utils.demo",
                                 description="Write deterministic demo data in the real file formats.")
    ap.add_argument("out_dir", help="folder to write into (created if missing)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--words-per-source", type=int, default=DemoSpec.words_per_source)
    args = ap.parse_args(argv)
    manifest = write_demo_data(args.out_dir, DemoSpec(seed=args.seed, words_per_source=args.words_per_source))
    print(f"wrote {len(manifest)} files ({sum(manifest.values())} items/lines) to {args.out_dir}")
    return 0
