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
            keys[stage.name] = P.stage_key(P.key_parts(cfg, stage, keys))
    return keys


def _mark_done(cfg) -> None:
    """DONE.json for every stage as `run_stage` writes it (key and parts), without running anything."""
    keys = {}
    for stage in P.STAGES:
        parts = P.key_parts(cfg, stage, keys)
        keys[stage.name] = P.stage_key(parts)
        (cfg.run_dir / stage.name).mkdir(parents=True, exist_ok=True)
        (cfg.run_dir / stage.name / "DONE.json").write_text(json.dumps({"key": keys[stage.name], "parts": parts}))


@pytest.fixture
def repo_copy(tmp_path, monkeypatch):
    """The package and notebooks copied to a temp tree the stage keys read, so a test can edit a module."""
    import shutil
    root = tmp_path / "repo"
    shutil.copytree(REPO / "classit_utils", root / "classit_utils", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    from classit_utils import codekey
    monkeypatch.setattr(P, "REPO_ROOT", root)
    monkeypatch.setattr(codekey, "REPO_ROOT", root)
    monkeypatch.setattr(codekey, "PACKAGE_DIR", root / "classit_utils")
    raw = {**copy.deepcopy(DEMO), "run_root": str(tmp_path / "run")}
    return root, parse_config(raw, check_paths=False)


def _states(cfg):
    return {name: (state, why) for name, state, why in P.status(cfg)}


def test_code_keys_follow_the_import_closure_not_a_hand_list():
    closure = {st.name: {p.relative_to(REPO).as_posix() for p in P.code_closure(st.notebook)} for st in P.STAGES}
    # reading scores through tokenizer.continuation: every zero-shot stage reads tokenizer.py, through
    # zeroshot -> tasks -> tasks/reading.py (the task registry imports its modules by name)
    for stage in ("03_eval_blimp", "07_eval_reading"):
        assert {"classit_utils/tokenizer.py", "classit_utils/tasks/reading.py", "classit_utils/scoring.py",
                "classit_utils/runtime.py"} <= closure[stage]
    # fine-tuning runs the training helpers, the model code and the typed config
    assert {"classit_utils/finetune.py", "classit_utils/runtime.py", "classit_utils/config.py",
            "classit_utils/glue.py"} <= closure["08_finetune_glue"]
    assert "classit_utils/tasks/reading.py" not in closure["08_finetune_glue"]
    assert "classit_utils/train.py" not in closure["00_data"] and "classit_utils/scoring.py" not in closure["01_pretrain"]
    assert "classit_utils/pipeline.py" not in set().union(*closure.values())   # running the graph is not a result


def test_an_indirect_module_edit_makes_exactly_its_stages_stale(repo_copy):
    root, cfg = repo_copy
    assert {s for s, _ in _states(cfg).values()} == {"missing"}
    _mark_done(cfg)
    assert {s for s, _ in _states(cfg).values()} == {"done"}
    with open(root / "classit_utils" / "tasks" / "reading.py", "a") as f:
        f.write("# an edit\n")
    states = _states(cfg)
    stale = [n for n, (s, _) in states.items() if s == "stale"]
    assert stale == ["03_eval_blimp", "04_eval_ewok", "05_eval_entity_tracking", "06_eval_wug", "07_eval_reading",
                     "09_statistics"]
    assert states["07_eval_reading"][1] == ["module classit_utils/tasks/reading.py"]
    assert states["09_statistics"][1] == [f"upstream {s}" for s in stale[:-1]]
    assert all(states[n][0] == "done" for n in ("00_data", "01_pretrain", "02_instruction_tuning", "08_finetune_glue"))


def test_a_library_version_change_makes_every_stage_stale(repo_copy, monkeypatch):
    _, cfg = repo_copy
    _mark_done(cfg)
    real = P.library_versions()
    monkeypatch.setattr(P, "library_versions", lambda: {**real, "transformers": "9.9.9"})
    states = _states(cfg)
    assert {s for s, _ in states.values()} == {"stale"}
    assert f"library transformers {real['transformers']} -> 9.9.9" in states["00_data"][1]


def test_status_never_writes_under_runs(repo_copy, capsys):
    _, cfg = repo_copy
    assert not cfg.run_dir.exists()
    P.status(cfg)
    assert not cfg.run_dir.exists()                      # not even the run folder is made
    _mark_done(cfg)
    before = {p: p.stat().st_mtime_ns for p in cfg.run_dir.rglob("*")}
    params = cfg.run_dir.parent / "p.yaml"
    params.write_text(yaml.safe_dump({**copy.deepcopy(DEMO), "run_root": str(cfg.run_dir)}))
    assert P.main(["status", "--params", str(params)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[:2] for ln in lines] == [[s.name, "done"] for s in P.STAGES]
    assert {p: p.stat().st_mtime_ns for p in cfg.run_dir.rglob("*")} == before


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
    later_only["pretrain"]["train"]["lr"] = 1e-3
    k2 = _keys(later_only)
    assert k2["00_data"] == base["00_data"]
    assert all(k2[k] != base[k] for k in base if k != "00_data")
    tuning_only = copy.deepcopy(DEMO)
    tuning_only["tuning"]["train"]["lr"] = 1e-4
    k3 = _keys(tuning_only)
    order = list(base)
    assert [k for k in order if k3[k] != base[k]] == order[order.index("02_instruction_tuning"):]
    ft_only = copy.deepcopy(DEMO)
    ft_only["finetune"]["seeds"] = [3]
    k4 = _keys(ft_only)
    assert [k for k in order if k4[k] != base[k]] == ["08_finetune_glue", "09_statistics"]


def tiny_params(tmp_path: Path) -> Path:
    raw = copy.deepcopy(DEMO)
    raw["profile"] = "smoke"
    raw["data_root"] = str(tmp_path / "data")
    raw["run_root"] = str(tmp_path / "run")
    raw["figures_root"] = str(tmp_path / "figures")
    raw["demo"] = {"seed": 0, "words_per_source": 4000, "swda_dialogues": 12}
    raw["corpus"]["budget_words"] = 30_000
    raw["tokenizer"].update(vocab_size=500, block_size=32)
    raw["pretrain"]["train"].update(epochs=1, max_steps=6, micro_batch_size=8, warmup_steps=2,
                                    eval_interval=3, checkpoint_interval=3, log_interval=1,
                                    checkpoint_words=[500])
    raw["tuning"]["train"].update(epochs=1, micro_batch_size=8, warmup_steps=1, eval_interval=0,
                                  checkpoint_interval=0, log_interval=1)
    raw["tuning"]["curricula"] = ["conv", "seq_qa_conv"]
    raw["instruct"]["conv"]["max_pairs"] = 24
    raw["instruct"]["qa"]["max_pairs"] = 16
    raw["evaluation"] = {"variant": "fast", "batch_size": 32, "limit": 30}
    raw["finetune"] = {"tasks": ["rte", "boolq"], "seeds": [0, 1],
                       "config": {"lr": 3e-4, "epochs_override": 1, "max_train_examples": 24,
                                  "max_valid_examples": 12, "batch_size": 8, "progress": False}}
    raw["statistics"] = {"n_boot": 100}
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.smoke
def test_notebook_chain_runs_and_second_run_skips(tmp_path):
    params = tiny_params(tmp_path)
    git_before = _git_status()
    first = P.run("smoke", params)
    assert [r["status"] for r in first] == ["ran"] * len(first)
    m = json.loads((tmp_path / "run" / "00_data" / "metrics.json").read_text())
    assert m["stage"] == "00_data" and m["provenance"]["git"]
    # the resolved config, defaults filled in (the params file sets no grad_clip nor finetune.config.wsc_epochs)
    assert m["config"]["pretrain"]["train"]["grad_clip"] == 1.0 and m["config"]["finetune"]["config"]["wsc_epochs"] == 30
    mm = m["metrics"]
    assert 0 < mm["pretraining_words"] and mm["pretraining_words"] + mm["it_words"] <= 30_000
    assert mm["vocab_size"] == 500 and mm["shards"]["n_blocks"]["train"] > 0
    assert mm["it_pairs"]["conv/train"] > 0 and mm["it_pairs"]["qa/train"] > 0
    assert set(mm["curricula"]) == {"conv", "qa", "merged", "seq_conv_qa", "seq_qa_conv"}
    assert mm["curricula"]["merged"] == [mm["curricula"]["conv"][0] + mm["curricula"]["qa"][0]]
    pre = json.loads((tmp_path / "run" / "01_pretrain" / "metrics.json").read_text())["metrics"]
    assert [(m["size"], m["steps"]) for m in pre["models"]] == [("tiny", 6)]
    assert pre["models"][0]["val_loss"] > 0 and pre["models"][0]["parameters"] > 0
    from classit_utils.train import checkpoint_name
    assert (tmp_path / "run" / "01_pretrain" / "tiny-p0" / checkpoint_name(500) / "config.json").exists()
    it = json.loads((tmp_path / "run" / "02_instruction_tuning" / "metrics.json").read_text())["metrics"]
    # the demo's two tuning seeds: every curriculum tuned twice from the one base, names carrying the replicate
    assert it["models"] == ["classit-tiny-base-p0", "classit-tiny-conv-p0-s0", "classit-tiny-conv-p0-s1",
                            "classit-tiny-seq_qa_conv-p0-s0", "classit-tiny-seq_qa_conv-p0-s1"]
    losses = it["reply_loss"]
    # tuning on conversational pairs lowers the reply loss on held-out conversational pairs, in both replicates,
    # and the replicates differ (the seed draws the IT data order)
    for s in (0, 1):
        assert losses[f"classit-tiny-conv-p0-s{s}/conv"] < losses["classit-tiny-base-p0/conv"]
    assert losses["classit-tiny-conv-p0-s0/conv"] != losses["classit-tiny-conv-p0-s1/conv"]
    blimp = json.loads((tmp_path / "run" / "03_eval_blimp" / "metrics.json").read_text())["metrics"]
    assert set(blimp["scores"]) == set(it["models"]) and 0 <= blimp["scores"]["classit-tiny-base-p0"]["blimp"] <= 100
    for stage, task in [("04_eval_ewok", "ewok"), ("05_eval_entity_tracking", "entity_tracking"),
                        ("06_eval_wug", "wug_adj"), ("07_eval_reading", "reading")]:
        m = json.loads((tmp_path / "run" / stage / "metrics.json").read_text())["metrics"]
        assert task in m["scores"]["classit-tiny-conv-p0-s1"], stage
    from classit_utils import results
    from classit_utils.config import load_config
    items = results.zero_shot_items(load_config(params))
    by_task = items.groupby("task")["subtask"].unique()
    assert set(by_task.index) == {"blimp", "supplement", "comps", "ewok", "entity_tracking"}
    runs = items[["model", "condition", "pretrain_seed", "tune_seed"]].drop_duplicates().sort_values("model")
    assert runs.values.tolist() == [["classit-tiny-base-p0", "base", 0, -1], ["classit-tiny-conv-p0-s0", "conv", 0, 0],
                                    ["classit-tiny-conv-p0-s1", "conv", 0, 1],
                                    ["classit-tiny-seq_qa_conv-p0-s0", "seq_qa_conv", 0, 0],
                                    ["classit-tiny-seq_qa_conv-p0-s1", "seq_qa_conv", 0, 1]]
    assert "turn_taking" in set(by_task["supplement"]) and "turn_taking" not in set(by_task["blimp"])
    ft = json.loads((tmp_path / "run" / "08_finetune_glue" / "metrics.json").read_text())["metrics"]
    assert set(ft["valid"]) == set(it["models"]) and "rte" in ft["valid"]["classit-tiny-base-p0"]
    st = json.loads((tmp_path / "run" / "09_statistics" / "metrics.json").read_text())["metrics"]
    assert {c["claim"] for c in st["claims"]} >= {"ft_it", "zs_it"}
    assert all(c["verdict"] in ("supported", "not supported", "inconclusive") for c in st["claims"])
    # two tuning seeds per curriculum: the claims rest on run-level intervals over 2 runs per condition
    assert st["runs_per_condition"] == {"tiny/conv": 2, "tiny/seq_qa_conv": 2}
    assert all(c["n_runs"] == 2 for c in st["claims"]) and len(st["claims_item_level"]) == len(st["claims"])
    assert {p.name for p in (tmp_path / "figures").glob("*.png")} >= {"zscores.png", "effects_finetune.png", "loss_curves.png", "run_spread.png"}
    assert (tmp_path / "run" / "notebooks" / "00_data.ipynb").exists()
    assert (tmp_path / "run" / "appendix" / "00_data.html").stat().st_size > 10_000
    assert "00_data" in (tmp_path / "run" / "appendix" / "index.html").read_text()
    second = P.run("smoke", params)
    assert [r["status"] for r in second] == ["skipped (unchanged)"] * len(second)
    _check_appendix(tmp_path / "run")
    assert _git_status() == git_before                        # a run leaves the working tree as it was


def _git_status() -> str:
    import subprocess
    return subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout


def _check_appendix(run: Path) -> None:
    """What a reader of the rendered appendix needs: every plot cell shows its figure as a PNG (no
    `<Figure size ...>` text), no parameter cells, no widget state, and an index that says what each stage found."""
    import nbformat
    for nb_path in sorted((run / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and "plots.plot_" in cell.source and "if len(" not in cell.source \
                    and "if deltas" not in cell.source:
                assert any("image/png" in o.get("data", {}) for o in cell.outputs), (nb_path.name, cell.source[:60])
        assert "application/vnd.jupyter.widget-view+json" not in nb_path.read_text(), nb_path.name
        page = (run / "appendix" / f"{nb_path.stem}.html").read_text()
        assert "&lt;Figure size" not in page and "<Figure size" not in page, nb_path.stem
        assert "params_file = " not in page and "stage_setup(" not in page, nb_path.stem
        if any("plots.plot_" in c.source for c in nb.cells if c.cell_type == "code"):
            assert "data:image/png;base64" in page, nb_path.stem
    index = (run / "appendix" / "index.html").read_text()
    assert "what it found" in index and "validation loss" in index and "blimp (tiny): base" in index


@pytest.mark.smoke
def test_papermill_by_hand_with_p_and_f_and_an_unknown_key(tmp_path):
    """What the README tells users: papermill on one notebook, from the repository root (`-f`) or anywhere
    (`-p params_file` relative to the repository root, `-y overrides`); an unknown injected key stops the run
    with one line naming it."""
    import subprocess
    import sys
    (tmp_path / "f").mkdir()
    raw = yaml.safe_load(tiny_params(tmp_path / "f").read_text())
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(raw))
    pm = [sys.executable, "-m", "papermill", "--no-progress-bar"]
    nb = str(REPO / "notebooks" / "00_data.ipynb")
    done = subprocess.run([*pm, nb, str(tmp_path / "a.ipynb"), "-f", str(tmp_path / "tiny.yaml")], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    m = json.loads((tmp_path / "f" / "run" / "00_data" / "metrics.json").read_text())
    assert m["params"] == "notebook parameters (papermill -f)" and m["config"]["profile"] == "smoke"
    over = {k: raw[k] for k in ("run_root", "data_root", "demo", "corpus", "tokenizer", "instruct")}
    over["run_root"] = str(tmp_path / "p" / "run")
    done = subprocess.run([*pm, nb, str(tmp_path / "b.ipynb"), "-p", "params_file", "params/demo.yaml",
                           "-y", yaml.safe_dump({"overrides": over})], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    m = json.loads((tmp_path / "p" / "run" / "00_data" / "metrics.json").read_text())
    assert m["params"] == "params/demo.yaml + overrides" and m["config"]["tokenizer"]["vocab_size"] == 500
    done = subprocess.run([*pm, str(REPO / "notebooks" / "09_statistics.ipynb"), str(tmp_path / "c.ipynb"),
                           "-p", "tokeniser", "1"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode != 0
    assert "ConfigError: notebook parameters: tokeniser: unknown key" in done.stdout + done.stderr
