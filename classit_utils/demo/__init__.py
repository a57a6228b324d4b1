"""Deterministic demo data in the real file formats of the study's data.

`write_demo_data(root, DemoSpec(...))` writes a small, self-made stand-in for `$CLASSIT_DATA` (the
`shared/data` folder described in its README.md and SOURCES-it.md). Every file mirrors the layout, file
names, field names, field types, line endings and quirks of the real file it stands in for, so the
`demo` profile runs the very loaders that the real data goes through. None of the text comes from the
real data, and the output is byte-identical for the same `DemoSpec`.

Modules (imports flow downwards: shared helpers, then one module per file format, then `generate`):
- `common`: `DemoSpec`, one seeded RNG per generator, the line/jsonl writers.
- `grammar`: the built-in vocabulary, a tiny agreement-aware English grammar, nonce words.
- `dialogue`: Switchboard-like dialogues with DAMSL tags; `articles`: encyclopedia articles with Q/A facts.
- `corpus` (BabyLM `*.train`), `swda`, `blimp` (BLiMP and its supplement), `ewok` (`ewok.zip`),
  `entity_tracking`, `wug`, `reading`, `aoa` (CDI proportions and CHILDES transcripts), `glue`, `comps`,
  `class_it`: one writer each.
- `generate`: `write_demo_data` and the CLI, `python -m classit_utils.demo OUT_DIR [--seed N]`.
"""
from .blimp import BLIMP_UIDS, SUPPLEMENT_FILES
from .common import DemoSpec
from .corpus import BABYLM_SOURCES
from .ewok import EWOK_DOMAINS, EWOK_PASSWORD
from .generate import main, write_demo_data
from .glue import GLUE_TASKS
from .reading import READING_COLUMNS

__all__ = ["DemoSpec", "write_demo_data", "main", "BABYLM_SOURCES", "BLIMP_UIDS", "SUPPLEMENT_FILES",
           "EWOK_DOMAINS", "EWOK_PASSWORD", "GLUE_TASKS", "READING_COLUMNS"]
