import copy
from pathlib import Path

import pytest
import yaml

from classit_utils.config import ConfigError, load_config, parse_config

REPO = Path(__file__).resolve().parent.parent
DEMO = yaml.safe_load((REPO / "params" / "demo.yaml").read_text())


def _err(mutate) -> str:
    raw = copy.deepcopy(DEMO)
    mutate(raw)
    with pytest.raises(ConfigError) as e:
        parse_config(raw, "params/demo.yaml")
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_demo_profile_validates_into_frozen_config():
    cfg = load_config(REPO / "params" / "demo.yaml")
    assert cfg.profile == "demo" and cfg.tokenizer.vocab_size == 2000
    assert cfg.run_dir == REPO / "runs" / "demo"
    assert cfg.curricula.names == ("conv", "qa", "merged", "seq_conv_qa", "seq_qa_conv")
    with pytest.raises(Exception):
        cfg.tokenizer.vocab_size = 5


def test_paper_profile_validates_and_expands_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("CLASSIT_DATA", str(tmp_path))
    cfg = load_config(REPO / "params" / "paper.yaml")
    assert cfg.data_dir == tmp_path
    assert cfg.corpus.budget_words == 100_000_000 and cfg.tokenizer.vocab_size == 16_000


def test_small_profile_validates(data_root):
    cfg = load_config(REPO / "params" / "small.yaml")
    assert cfg.data_dir == data_root.resolve() or cfg.data_dir == data_root


@pytest.mark.parametrize("mutate, expected", [
    (lambda r: r["tokenizer"].update(vocab_size=10), "params/demo.yaml: tokenizer.vocab_size: Input should be greater than or equal to 300 (got 10)"),
    (lambda r: r["tokenizer"].update(vocab_sise=10), "params/demo.yaml: tokenizer.vocab_sise: unknown key"),
    (lambda r: r.update(bogus=1), "params/demo.yaml: bogus: unknown key"),
    (lambda r: r["tokenizer"].update(block_size="64"), "params/demo.yaml: tokenizer.block_size: Input should be a valid integer (got '64')"),
    (lambda r: r["curricula"].update(names=["conv", "bogus"]), "params/demo.yaml: curricula.names: unknown curriculum 'bogus'"),
    (lambda r: r["instruct"]["conv"].update(context_turns=-1), "params/demo.yaml: instruct.conv.context_turns: Input should be greater than or equal to 1"),
    (lambda r: r["instruct"]["conv"].update(loader="csv"), "params/demo.yaml: instruct.conv.loader: Input should be 'swda' or 'babylm_switchboard'"),
    (lambda r: r.pop("profile"), "params/demo.yaml: profile: required key is missing"),
    (lambda r: (r.pop("demo"), r.update(data_root="/nonexistent/data")), "params/demo.yaml: data_root: directory /nonexistent/data does not exist"),
    (lambda r: r.update(data_root="${CLASSIT_NOPE_VAR}/x"), "params/demo.yaml: data_root: environment variable $CLASSIT_NOPE_VAR is not set"),
])
def test_bad_params_fail_with_one_line_naming_file_and_key(mutate, expected):
    assert _err(mutate).startswith(expected)


def test_yaml_syntax_error_names_the_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("profile: demo\ncorpus:\n  path: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: line \d+ invalid YAML"):
        load_config(p)


def test_missing_params_file(tmp_path):
    with pytest.raises(ConfigError, match="params file not found"):
        load_config(tmp_path / "nope.yaml")


def test_notebook_overrides_take_precedence(tmp_path):
    from classit_utils.config import notebook_config
    cfg = notebook_config(REPO / "params" / "demo.yaml", {"seed": 7, "tokenizer": {**DEMO["tokenizer"], "vocab_size": 500}})
    assert cfg.seed == 7 and cfg.tokenizer.vocab_size == 500
