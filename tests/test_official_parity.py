"""Our zero-shot pipeline against the official BabyLM 2025 pipeline's own outputs on real data subsets.

The goldens in tests/golden/official/ (made by `benchmarks/check_official_parity.py --golden`; how, which items
and which official commit: README.md there) hold, per official item id, the candidate index the official
pipeline chose and the summed log-probs it ranked (WUG: also its `prob`; reading: its `pred`/`prev_pred`),
computed with two tiny models stored beside them: `project` (the project's trained base; its tokenizer adds
BOS) and `gpt2` (a random Llama with a GPT-2-style tokenizer: no BOS, no prefix space). The stored weights,
not a random init, make the numbers reproducible. Here the same items are scored by `score_items` and must
give the same choice for every item and the same numbers.
"""
from __future__ import annotations

import functools
import json
import math
from collections import Counter
from pathlib import Path

import pytest

from classit_utils.runtime import load_causal_lm
from classit_utils.zeroshot import load_items, score_items

GOLDEN = Path(__file__).resolve().parent / "golden" / "official"
KINDS = ("project", "gpt2")
TASKS = ("blimp", "supplement", "ewok", "entity_tracking", "wug_adj", "reading")
TOL = 1e-4


def _tol(official: float) -> float:
    """1e-4, or 1e-6 relative for long sentences: the official sums are float32 (one ulp is 6.1e-5 at
    |x| >= 512), so their own rounding reaches 1e-4 there."""
    return max(TOL, 1e-6 * abs(official))


@functools.cache
def _model(kind: str):
    return load_causal_lm(GOLDEN / "models" / kind, "cpu")


def _golden(kind: str, task: str) -> dict:
    return json.loads((GOLDEN / kind / f"{task}.json").read_text())


def _items(task: str, data_root: Path, selection: dict):
    items = load_items(task, data_root, "fast", limit=selection["limit"])
    return [it for it in items if selection["uids"] is None or it.uid in selection["uids"]]


def _ids(items) -> list[str]:
    """The official ids, `<uid>_<n>` with n counting within the subtask in file order."""
    seen: Counter[str] = Counter()
    out = []
    for it in items:
        out.append(f"{it.uid}_{seen[it.uid]}")
        seen[it.uid] += 1
    return out


def test_goldens_cover_both_models_and_every_task():
    for kind in KINDS:
        assert (GOLDEN / "models" / kind / "model.safetensors").is_file()
        for task in TASKS:
            g = _golden(kind, task)
            assert g["task"] == task and g["official"].startswith("babylm/evaluation-pipeline-2025 @ bf55c11")
            assert g["items"]


@pytest.mark.realdata
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("kind", KINDS)
def test_choices_and_numbers_equal_the_official_pipeline(kind, task, data_root):
    golden = _golden(kind, task)
    want = golden["items"]
    items = _items(task, data_root, golden["selection"])
    model, tok = _model(kind)
    res = score_items(model, tok, task, items, "fast", progress=False)
    if task == "reading":
        got = {str(p["id"]): p for p in res.predictions["reading"]["predictions"]}
        assert list(got) == list(want)
        for i, w in want.items():
            for key in ("pred", "prev_pred"):
                if w[key] is None:
                    assert math.isnan(got[i][key]), (i, key)
                else:
                    assert got[i][key] == pytest.approx(w[key], abs=TOL), (i, key)
        return
    ids = _ids(items)
    assert sorted(ids) == sorted(want)
    probs = {p["id"]: p.get("prob") for v in res.predictions.values() for p in v["predictions"]}
    for i, rec in zip(ids, res.records):
        w = want[i]
        assert rec["pred"] == w["index"], (i, rec["logprobs"], w["logprobs"])
        assert len(rec["logprobs"]) == len(w["logprobs"])
        for ours, official in zip(rec["logprobs"], w["logprobs"]):
            assert ours == pytest.approx(official, abs=_tol(official)), i
        if "prob" in w:
            assert probs[i] == pytest.approx(w["prob"], abs=TOL), i
