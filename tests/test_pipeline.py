"""The stage graph (keys, skipping) and one papermill smoke run of the notebook chain on tiny params."""
import copy
import json
from pathlib import Path

import pytest
import yaml

from classit_utils import pipeline as P
from classit_utils.config import parse_config

REPO = Path(__file__).resolve().parent.parent
DEMO = yaml.safe_load((REPO / "params" / "demo.yaml").read_text())


def _keys(raw):
    cfg = parse_config(copy.deepcopy(raw), check_paths=False)
    keys = {}
    for stage in P.STAGES:
        if stage.notebook.exists():
            keys[stage.name] = P.stage_key(cfg, raw, stage, keys)
    return keys


def test_a_params_change_reruns_exactly_the_stages_that_read_it():
    base = _keys(DEMO)
    assert "00_data" in base
    same = _keys(copy.deepcopy(DEMO))
    assert same == base
    changed = copy.deepcopy(DEMO)
    changed["tokenizer"]["vocab_size"] = 1000
    after = _keys(changed)
    assert all(after[k] != base[k] for k in base)           # every stage reads the data stage's output
    later_only = copy.deepcopy(DEMO)
    later_only["pretrain"] = {"note": "changed"}
    k2 = _keys(later_only)
    assert k2["00_data"] == base["00_data"]
    assert all(k2[k] != base[k] for k in base if k != "00_data")


def tiny_params(tmp_path: Path) -> Path:
    raw = copy.deepcopy(DEMO)
    raw["profile"] = "smoke"
    raw["data_root"] = str(tmp_path / "data")
    raw["run_root"] = str(tmp_path / "run")
    raw["demo"] = {"seed": 0, "words_per_source": 4000, "swda_dialogues": 12}
    raw["corpus"]["budget_words"] = 30_000
    raw["tokenizer"].update(vocab_size=500, block_size=32)
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.smoke
def test_notebook_chain_runs_and_second_run_skips(tmp_path):
    params = tiny_params(tmp_path)
    first = P.run("smoke", params)
    assert [r["status"] for r in first] == ["ran"] * len(first)
    m = json.loads((tmp_path / "run" / "00_data" / "metrics.json").read_text())
    assert m["stage"] == "00_data" and m["provenance"]["git"]
    mm = m["metrics"]
    assert 0 < mm["pretraining_words"] and mm["pretraining_words"] + mm["it_words"] <= 30_000
    assert mm["vocab_size"] == 500 and mm["shards"]["n_blocks"]["train"] > 0
    assert mm["it_pairs"]["conv/train"] > 0 and mm["it_pairs"]["qa/train"] > 0
    assert set(mm["curricula"]) == {"conv", "qa", "merged", "seq_conv_qa", "seq_qa_conv"}
    assert mm["curricula"]["merged"] == [mm["curricula"]["conv"][0] + mm["curricula"]["qa"][0]]
    assert (tmp_path / "run" / "notebooks" / "00_data.ipynb").exists()
    assert (tmp_path / "run" / "appendix" / "00_data.html").stat().st_size > 10_000
    assert "00_data" in (tmp_path / "run" / "appendix" / "index.html").read_text()
    second = P.run("smoke", params)
    assert [r["status"] for r in second] == ["skipped (unchanged)"] * len(second)
