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


@pytest.mark.parametrize("mutate, expected", [
    (lambda r: r["pretrain"]["train"].update(lr=-1.0), "params/demo.yaml: pretrain.train.lr: Input should be greater than 0 (got -1.0)"),
    (lambda r: r["pretrain"]["train"].update(batch=8), "params/demo.yaml: pretrain.train.batch: unknown key"),
    (lambda r: r["pretrain"]["train"].update(checkpoint_words=[5, 3]), "params/demo.yaml: pretrain.train.checkpoint_words: must be increasing positive integers (got [5, 3])"),
    (lambda r: r["pretrain"]["model"].update(n_heads=3), "params/demo.yaml: pretrain.model.n_heads: 3 does not divide hidden_size 64"),
    (lambda r: r["pretrain"].update(sizes=["1b"]), "params/demo.yaml: pretrain.sizes: unknown size '1b' (known: tiny, small, 100m, 140m)"),
    (lambda r: r["tuning"]["train"].update(betas=[0.9, 1.5]), "params/demo.yaml: tuning.train.betas: must be two values in [0, 1) (got [0.9, 1.5])"),
    (lambda r: r["tuning"]["train"].update(precision="fp16"), "params/demo.yaml: tuning.train.precision: Input should be 'auto', 'bf16' or 'fp32' (got 'fp16')"),
    (lambda r: r["finetune"]["config"].update(epoch=3), "params/demo.yaml: finetune.config.epoch: unknown key"),
    (lambda r: r["finetune"]["config"].update(selections=["valid", "valid"]), "params/demo.yaml: finetune.config.selections: must be distinct values of valid, heldout"),
    (lambda r: r["finetune"].update(tasks=["rte", "cola"]), "params/demo.yaml: finetune.tasks: unknown task 'cola'"),
    (lambda r: r["finetune"].update(seeds=[0, 0]), "params/demo.yaml: finetune.seeds: need distinct integers >= 0 (got [0, 0])"),
    (lambda r: r["tuning"].update(seeds=[1, 1]), "params/demo.yaml: tuning.seeds: must be distinct non-negative integers, at least one (got [1, 1])"),
    (lambda r: r["pretrain"].update(seeds=[]), "params/demo.yaml: pretrain.seeds: must be distinct non-negative integers, at least one (got [])"),
])
def test_nested_training_model_and_finetune_sections_are_typed(mutate, expected):
    assert _err(mutate).startswith(expected)


def test_resolved_config_fills_defaults_and_training_seeds():
    raw = copy.deepcopy(DEMO)
    raw["seed"] = 5
    raw["tuning"]["train"]["seed"] = 9
    cfg = parse_config(raw, check_paths=False)
    assert cfg.pretrain.train.seed == 5 and cfg.tuning.train.seed == 9      # the study's seed unless set
    dumped = cfg.model_dump(mode="json")
    assert dumped["pretrain"]["train"]["grad_clip"] == 1.0                  # a default, filled in
    assert dumped["finetune"]["config"]["lr"] == 3.0e-4 and dumped["finetune"]["config"]["epochs"] == 10
    assert parse_config(dumped, check_paths=False) == cfg                   # the resolved form round-trips


def test_config_is_the_bottom_of_the_package():
    """config imports nothing from classit_utils but the error classes (which import nothing)."""
    import ast
    for name, allowed in (("config", {"errors"}), ("errors", set())):
        tree = ast.parse((REPO / "classit_utils" / f"{name}.py").read_text())
        local = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level > 0}
        local |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
                  if a.name.startswith("classit_utils")}
        assert local == allowed, name


# ----------------------------------------------------------------------------------------- notebook parameters
def _ns(injected: dict, **cell) -> dict:
    """A kernel namespace after papermill injected `injected` (its cell is in the input history `In`)."""
    source = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in injected.items())
    return {"In": ["", "params_file = None\noverrides = {}", source], **injected, **cell}


def test_stage_config_reads_the_file_and_applies_injected_values_and_overrides():
    from classit_utils.stage import stage_config
    cfg, where = stage_config("params/demo.yaml", {"tokenizer": {"vocab_size": 500}}, _ns({"seed": 7}))
    assert cfg.seed == 7 and cfg.tokenizer.vocab_size == 500 and cfg.tokenizer.block_size == 64
    assert where == "params/demo.yaml + overrides"
    cfg, _ = stage_config(None, {}, {})                                       # JupyterLab: the demo profile
    assert cfg.profile == "demo"


def test_stage_config_takes_papermill_f_values_as_the_whole_params(monkeypatch, tmp_path):
    from classit_utils.stage import stage_config
    monkeypatch.setenv("CLASSIT_DATA", str(tmp_path))
    paper = yaml.safe_load((REPO / "params" / "paper.yaml").read_text())
    cfg, where = stage_config(None, {}, _ns(paper))
    assert cfg.profile == "paper" and cfg.demo is None and where == "notebook parameters (papermill -f)"


def test_stage_config_rejects_an_unknown_injected_name_in_one_line():
    from classit_utils.stage import stage_config
    with pytest.raises(ConfigError) as err:
        stage_config("params/demo.yaml", {}, _ns({"profile": "demo", "tokeniser": {"vocab_size": 500}}))
    assert str(err.value).startswith("notebook parameters: tokeniser: unknown key") and "\n" not in str(err.value)
    with pytest.raises(ConfigError, match=r"^params/demo.yaml \+ overrides: tokenizer.vocab_sise: unknown key"):
        stage_config("params/demo.yaml", {"tokenizer": {"vocab_sise": 500}}, {})


def test_names_a_notebook_defines_itself_are_not_parameters():
    """Only the injected cell's names count: a rerun setup cell in JupyterLab sees `cfg`, `out`, ... too."""
    from classit_utils.stage import injected_names
    ns = _ns({"seed": 3}, cfg=object(), summary=None)
    assert injected_names(ns) == ["seed"]
    assert injected_names({"seed": 3}) == []                     # no input history: nothing was injected


def test_relative_params_paths_resolve_from_the_repository_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config("params/demo.yaml", check_paths=False).profile == "demo"


def test_replicate_seeds_name_every_run_of_the_design():
    from classit_utils import results as R
    raw = copy.deepcopy(DEMO)
    raw["seed"] = 3
    raw["tuning"].pop("seeds")
    cfg = parse_config(raw, check_paths=False)
    assert cfg.pretrain.run_seeds == (3,) and cfg.tuning.run_seeds == (3,)     # default: one run, the study seed
    raw["pretrain"]["seeds"], raw["tuning"]["seeds"], raw["tuning"]["curricula"] = [0, 4], [1, 2], ["conv", "qa"]
    cfg = parse_config(raw, check_paths=False)
    assert cfg.pretrain.train_for(4).seed == 4 and cfg.tuning.train_for(2).seed == 2
    assert cfg.pretrain.train_for(4).lr == cfg.pretrain.train.lr
    runs = R.training_runs(cfg)
    assert [r["model"] for r in runs[:5]] == ["classit-tiny-base-p0", "classit-tiny-conv-p0-s1", "classit-tiny-conv-p0-s2",
                                              "classit-tiny-qa-p0-s1", "classit-tiny-qa-p0-s2"]
    assert len(runs) == 2 * (1 + 2 * 2) and runs[5]["model"] == "classit-tiny-base-p4"
    assert runs[6]["dir"] == cfg.run_dir / "02_instruction_tuning" / "tiny-conv-p4-s1"
    assert {(r["pretrain_seed"], r["tune_seed"]) for r in runs if r["condition"] == "base"} == {(0, -1), (4, -1)}
