"""Scale-out on CPU: the training stages under torchrun (2 gloo ranks) give the weights of one process on the
same global batch; evaluation and fine-tuning jobs fanned out with Ray (2 workers) give exactly the serial
engine's results, and done jobs are skipped."""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from classit_utils import fanout, pipeline as P, results, trainstage
from classit_utils.config import parse_config

REPO = Path(__file__).resolve().parent.parent


def _raw(tmp: Path, name: str) -> dict:
    from test_pipeline import tiny_params
    (tmp / name).mkdir(parents=True, exist_ok=True)
    raw = yaml.safe_load(tiny_params(tmp / name).read_text())
    raw["tuning"]["curricula"] = ["conv"]
    raw["pretrain"]["train"].update(max_steps=8, epochs=1, micro_batch_size=8, checkpoint_interval=0,
                                    eval_interval=0, checkpoint_words=[])   # 8 steps, as tests/test_train.py's DDP test
    raw["tuning"]["train"].update(micro_batch_size=8)
    return raw


@pytest.fixture(scope="module")
def data_stage(tmp_path_factory):
    """The data stage of a tiny profile, run once through its notebook."""
    tmp = tmp_path_factory.mktemp("scale")
    raw = _raw(tmp, "one")
    params = tmp / "one.yaml"
    params.write_text(yaml.safe_dump(raw))
    P.run("smoke", params, only=("00_data",))
    return tmp, raw


def _cfg(raw: dict, run_root: Path, **launch):
    raw = copy.deepcopy(raw)
    raw["run_root"] = str(run_root)
    raw["launch"] = launch
    return parse_config(raw, check_paths=False)


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file
    return load_file(str(folder / "model.safetensors"))


def test_training_stages_under_torchrun_equal_one_process(data_stage, monkeypatch):
    tmp, raw = data_stage
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    one = _cfg(raw, tmp / "one" / "run", nproc_per_node=1)
    two_raw = copy.deepcopy(raw)
    for section in ("pretrain", "tuning"):          # 2 ranks x 4 = the global batch of 1 process x 8
        two_raw[section]["train"]["micro_batch_size"] = 4
    two = _cfg(two_raw, tmp / "two", nproc_per_node=2)
    two.run_dir.mkdir(parents=True, exist_ok=True)
    (two.run_dir / "00_data").symlink_to(one.run_dir / "00_data")
    a = trainstage.run_pretraining(one, "tiny", 0)
    b = trainstage.run_pretraining(two, "tiny", 0)          # torchrun, 2 gloo ranks
    assert a.step == b.step > 0 and a.tokens_seen == b.tokens_seen
    assert json.loads((b.out_dir / "train_config.json").read_text())["world_size"] == 2
    assert (b.out_dir / "launch_config.json").is_file() and list((b.out_dir / "torchrun_logs").rglob("stderr.log"))
    wa, wb = _weights(a.final_dir), _weights(b.final_dir)
    assert max((wa[k] - wb[k]).abs().max().item() for k in wa) < 1e-5
    ta = trainstage.run_tuning(one, "tiny", "conv", 0, 0)
    tb = trainstage.run_tuning(two, "tiny", "conv", 0, 0)
    assert ta.step == tb.step > 0
    wa, wb = _weights(ta.final_dir), _weights(tb.final_dir)
    assert max((wa[k] - wb[k]).abs().max().item() for k in wa) < 1e-5
    # a finished run is found again, with no new torchrun job
    assert trainstage.run_pretraining(two, "tiny", 0).final_dir == b.final_dir


def test_a_failing_rank_fails_the_stage_with_its_last_lines(data_stage, monkeypatch):
    tmp, raw = data_stage
    bad = copy.deepcopy(raw)
    bad["pretrain"]["train"]["micro_batch_size"] = 4096      # more than the shards hold: every rank raises
    cfg = _cfg(bad, tmp / "bad", nproc_per_node=2)
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    (cfg.run_dir / "00_data").symlink_to(tmp / "one" / "run" / "00_data")
    with pytest.raises(RuntimeError, match=r"(?s)torchrun pretrain --size tiny --pretrain-seed 0 failed.*fewer than one global batch"):
        trainstage.run_pretraining(cfg, "tiny", 0)


@pytest.fixture(scope="module")
def trained(data_stage):
    """The tiny study trained to its registry (base + conv), once."""
    tmp, raw = data_stage
    cfg = _cfg(raw, tmp / "one" / "run", nproc_per_node=1)
    trainstage.run_pretraining(cfg, "tiny", 0)
    trainstage.run_tuning(cfg, "tiny", "conv", 0, 0)
    trainstage.write_registry(cfg)
    return cfg


def _copy_study(cfg, dest: Path, engine: str):
    """The same trained study under another run root (results apart), with a fan-out engine."""
    if not dest.exists():
        shutil.copytree(cfg.run_dir, dest, symlinks=True, ignore=shutil.ignore_patterns("results"))
    raw = cfg.model_dump(mode="json")
    raw.update(run_root=str(dest), fanout={"engine": engine, "num_cpus": 2, "cpus_per_job": 1})
    new = parse_config(raw, check_paths=False)
    trainstage.write_registry(new)          # links point into the copy
    return new


def test_ray_fan_out_gives_the_serial_results_and_skips_done_jobs(trained, tmp_path, monkeypatch):
    pytest.importorskip("ray")
    from classit_utils import finetune, zeroshot
    serial = _copy_study(trained, tmp_path / "serial", "serial")
    ray_cfg = _copy_study(trained, tmp_path / "ray", "ray")
    tables = {}
    for name, cfg in (("serial", serial), ("ray", ray_cfg)):
        zs = zeroshot.run_all(cfg, "blimp")
        ft = finetune.run_all(cfg)
        tables[name] = (zs, ft, results.zero_shot_items(cfg))
    (zs_s, ft_s, it_s), (zs_r, ft_r, it_r) = tables["serial"], tables["ray"]
    pd.testing.assert_frame_equal(zs_s, zs_r)
    drop = ["wall_s"]
    pd.testing.assert_frame_equal(ft_s.drop(columns=drop), ft_r.drop(columns=drop))
    pd.testing.assert_frame_equal(it_s, it_r)
    for model in ("classit-tiny-base-p0", "classit-tiny-conv-p0-s0"):
        for sub in ("blimp/blimp_fast/predictions.json", "blimp/supplement_fast/predictions.json"):
            a = results.zero_shot_root(results.results_dir(serial), model) / sub
            b = results.zero_shot_root(results.results_dir(ray_cfg), model) / sub
            assert a.read_text() == b.read_text()
        log = results.zero_shot_root(results.results_dir(ray_cfg), model) / ".jobs" / "blimp" / fanout.LOG
        assert log.is_file()
    # a rerun finds every job done and runs none
    ran, real = [], fanout.execute
    monkeypatch.setattr(fanout, "execute", lambda job: (ran.append(job.name), real(job))[1])
    zeroshot.run_all(serial, "blimp")
    finetune.run_all(serial)
    assert ran == []
    # a changed input reruns exactly the jobs it touches
    stale = serial.model_dump(mode="json")
    stale["finetune"]["seeds"] = [0, 1, 7]
    finetune.run_all(parse_config(stale, check_paths=False))
    assert sorted(ran) == sorted(f"{m}/finetune/{t}/seed7" for m in ("classit-tiny-base-p0", "classit-tiny-conv-p0-s0")
                                 for t in serial.finetune.tasks)
