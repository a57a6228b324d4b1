"""export: a trained run as a BabyLM submission repository (main + chck_<N>M branches), its card, its push.

One tiny model (width 64, 2 layers) is pretrained once for the module with three word checkpoints, inside a
study-like layout (registry, models/<name> link, results). Everything git does runs on local folders; the Hub
path is checked with a recording fake HfApi, so nothing here touches the network."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from transformers import AutoModelForCausalLM

from classit_utils import export as E
from classit_utils.errors import DataError
from classit_utils.modeling import ModelConfig, count_parameters
from classit_utils.train import TrainConfig, checkpoint_name, pretrain

from conftest import TINY_TEXT

BLOCK, N_TRAIN = 33, 32
CHECKPOINTS = ["chck_4e-05M", "chck_8e-05M", "chck_0.00012M"]   # 40, 80, 120 words: not in string order
BRANCHES = ["main", *CHECKPOINTS]
MODEL = "classit-tiny-base"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def write_shards(root: Path, tok) -> Path:
    """Blocks of the tiny texts (BOS text EOS ...), 10 words per block for the words-seen count."""
    docs = [tok(t, add_special_tokens=False)["input_ids"] for t in TINY_TEXT[:8]]
    stream, i = [], 0
    while len(stream) < (N_TRAIN + 4) * BLOCK:
        stream += [tok.bos_token_id, *docs[i % len(docs)], tok.eos_token_id]
        i += 1
    arr = np.array(stream[:(N_TRAIN + 4) * BLOCK], dtype=np.uint16).reshape(-1, BLOCK)
    root.mkdir(parents=True)
    arr[:N_TRAIN].tofile(root / "train.bin")
    arr[N_TRAIN:].tofile(root / "val.bin")
    meta = {"block_size": BLOCK, "dtype": "uint16", "n_blocks": {"train": N_TRAIN, "val": 4}, "vocab_size": len(tok),
            "bos_id": tok.bos_token_id, "eos_id": tok.eos_token_id, "pad_id": tok.pad_token_id,
            "n_words": {"train": N_TRAIN * 10, "val": 0}}
    (root / "meta.json").write_text(json.dumps(meta))
    return root


@pytest.fixture(scope="module")
def study(tmp_path_factory, tiny_tok):
    """study/01_pretrain/tiny/{final,chck_*,...}, study/models.json, study/models/<name>, study/results/<name>."""
    root = tmp_path_factory.mktemp("study")
    run = root / "01_pretrain" / "tiny"
    cfg = TrainConfig(lr=3e-3, micro_batch_size=4, warmup_steps=2, seed=0, checkpoint_words=(40, 80, 120))
    pretrain(write_shards(root / "shards", tiny_tok), ModelConfig(size="tiny", vocab_size=len(tiny_tok)), cfg,
             run, tokenizer=tiny_tok)
    (run / "run_key.json").write_text(json.dumps({"digest": "0123456789abcdef", "key": {"model": {"size": "tiny"}}}))
    (root / "models").mkdir()
    os.symlink(os.path.relpath(run / "final", root / "models"), root / "models" / MODEL)
    (root / "models.json").write_text(json.dumps([{"model": MODEL, "size": "tiny", "condition": "base",
                                                   "path": str(root / "models" / MODEL)}]))
    zs = root / "results" / MODEL / "main" / "zero_shot" / "causal"
    zs.mkdir(parents=True)
    (zs / "summary.json").write_text(json.dumps({"variant": "fast", "skipped": {"ewok": "no data"}, "tasks": {
        "blimp": {"dataset": "blimp_fast", "metric": "accuracy", "score": 61.5, "n": 40}}}))
    return root


@pytest.fixture(scope="module")
def exported(study, tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / MODEL
    return E.export_model(study / "models" / MODEL, out, card={"results": study / "results"})


def run_dir(study: Path) -> Path:
    return study / "01_pretrain" / "tiny"


def source_folder(study: Path, branch: str) -> Path:
    return run_dir(study) / ("final" if branch == "main" else branch)


def trees(repo: Path) -> dict[str, tuple[str, str]]:
    return {b: (git(repo, "rev-parse", b), git(repo, "rev-parse", f"{b}^{{tree}}")) for b in BRANCHES}


# --------------------------------------------------------------------------------------------------- layout
def test_checkpoints_are_found_and_sorted_by_words(study):
    src = E.find_model(run_dir(study))
    assert src.final == (run_dir(study) / "final").resolve() and src.run_dir == run_dir(study).resolve()
    assert [b for b, _ in src.checkpoints] == CHECKPOINTS
    assert E.find_model(study / "models" / MODEL) == src               # the registry link finds the same run
    assert [E.checkpoint_words(n) for n in ("chck_1M", "chck_0.1M", "chck_4e-05M", "chck_xM", "final")] == \
        [1_000_000, 100_000, 40, None, None]
    for words in (40, 120, 100_000, 1_000_000, 10_000_000, 1_000_000_000):
        assert E.checkpoint_words(checkpoint_name(words)) == words


def test_branches_hold_exactly_each_folder(study, exported):
    assert git(exported, "for-each-ref", "--format=%(refname:short)", "refs/heads/").splitlines() == sorted(BRANCHES)
    assert E.branches(exported) == BRANCHES
    assert git(exported, "symbolic-ref", "--short", "HEAD") == "main"
    for branch in BRANCHES:
        folder = source_folder(study, branch)
        files = sorted(p.name for p in folder.iterdir())
        assert git(exported, "ls-tree", "--name-only", branch).splitlines() == sorted(files + [".gitattributes",
                                                                                               "README.md"])
        for name in files:       # every blob is the folder's file, byte for byte (no LFS pointer, no filter)
            assert git(exported, "rev-parse", f"{branch}:{name}") == git(exported, "hash-object", "--no-filters",
                                                                          str(folder / name))
    assert "*.safetensors filter=lfs" in git(exported, "show", "main:.gitattributes")
    for suffix in ("bin", "pt"):
        assert f"*.{suffix} filter=lfs diff=lfs merge=lfs -text" in (exported / ".gitattributes").read_text()
    final = source_folder(study, "main")          # the work tree is main
    assert (exported / "model.safetensors").read_bytes() == (final / "model.safetensors").read_bytes()


def test_each_branch_loads_with_the_source_logits(study, exported, tmp_path):
    ids = torch.tensor([[1, 5, 6, 7, 8, 9, 10]])
    logits = {}
    for branch in BRANCHES:
        clone = tmp_path / branch
        subprocess.run(["git", "clone", "-q", "--branch", branch, str(exported), str(clone)], check=True)
        with torch.no_grad():
            got = AutoModelForCausalLM.from_pretrained(clone).eval()(input_ids=ids).logits
            want = AutoModelForCausalLM.from_pretrained(source_folder(study, branch)).eval()(input_ids=ids).logits
        assert torch.equal(got, want), branch
        logits[branch] = got
    assert not torch.equal(logits["main"], logits[CHECKPOINTS[0]])      # the branches are different models


def front_matter(text: str) -> tuple[dict, str]:
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(head), body


def test_card_front_matter_and_body(study, exported):
    meta, body = front_matter(git(exported, "show", "main:README.md"))
    assert meta["library_name"] == "transformers" and meta["license"] == "apache-2.0"
    assert "babylm" in meta["tags"] and meta["datasets"] == []
    assert f"# {MODEL}" in body and "This revision is `main`" in body          # name from the study registry
    model = AutoModelForCausalLM.from_pretrained(source_folder(study, "main"))
    assert f"| parameters | {count_parameters(model):,} |" in body and "| size | tiny |" in body
    for branch in BRANCHES:
        assert f"| {branch} |" in body
    assert 'from_pretrained("path_or_repo", revision="chck_4e-05M")' in body
    assert "| learning rate (peak) | 0.003 |" in body and "run key `0123456789abcdef`" in body
    assert "320 words" in body and "fewer than BabyLM's first checkpoint" in body
    assert "`results/classit-tiny-base/main/zero_shot/causal/summary.json`" in body
    assert "| blimp | blimp_fast | accuracy | 61.5 | 40 |" in body and "ewok (no data)" in body
    assert str(study) not in body                                         # nothing machine-specific
    _, ck_body = front_matter(git(exported, "show", "chck_8e-05M:README.md"))
    assert "This revision is `chck_8e-05M`: the checkpoint after 80 training words." in ck_body
    assert ck_body.replace("`chck_8e-05M`: the checkpoint after 80 training words", "`main`: the final model") == body


def test_reexport_gives_identical_hashes(study, exported, tmp_path):
    again = E.export_model(run_dir(study), tmp_path / "again", card={"results": study / "results"})
    assert trees(again) == trees(exported)
    before = trees(exported)
    E.export_model(study / "models" / MODEL, exported, card={"results": study / "results"}, force=True)
    assert trees(exported) == before
    assert not list(exported.parent.glob(f".{exported.name}.tmp-*"))


def test_no_checkpoints_exports_main_only(study, tmp_path):
    out = E.export_model(run_dir(study), tmp_path / "m", include_checkpoints=False, card={"model": "x"})
    assert E.branches(out) == ["main"]
    _, body = front_matter((out / "README.md").read_text())
    assert "# x" in body and "chck_4e-05M" not in body


# --------------------------------------------------------------------------------------------------- push
def test_push_to_a_bare_repository(exported, tmp_path):
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    assert E.push(exported, remote_url=str(bare)) == BRANCHES
    assert sorted(git(bare, "for-each-ref", "--format=%(refname:short)", "refs/heads/").splitlines()) == \
        sorted(BRANCHES)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--branch", "chck_0.00012M", str(bare), str(clone)], check=True)
    assert "checkpoint after 120 training words" in (clone / "README.md").read_text()
    assert git(clone, "rev-parse", "HEAD^{tree}") == git(exported, "rev-parse", "chck_0.00012M^{tree}")


class FakeApi:
    """Records the HfApi calls `push` makes; upload_folder keeps the folder's files as they were then."""

    def __init__(self):
        self.calls = []

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", repo_id, kw))

    def create_branch(self, repo_id, **kw):
        self.calls.append(("create_branch", repo_id, kw))

    def upload_folder(self, **kw):
        folder = Path(kw.pop("folder_path"))
        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        self.calls.append(("upload_folder", kw.pop("repo_id"), {**kw, "files": files}))


def test_push_to_the_hub_through_an_injected_api(study, exported):
    api = FakeApi()
    assert E.push(exported, "me/classit-tiny", token="t0k", private=True, api=api) == BRANCHES
    assert api.calls[0] == ("create_repo", "me/classit-tiny", {"token": "t0k", "private": True, "exist_ok": True})
    branched = [kw["branch"] for name, _, kw in api.calls if name == "create_branch"]
    assert branched == CHECKPOINTS
    assert all(kw["exist_ok"] and kw["token"] == "t0k" for name, _, kw in api.calls if name == "create_branch")
    uploads = [(repo, kw) for name, repo, kw in api.calls if name == "upload_folder"]
    assert [kw["revision"] for _, kw in uploads] == BRANCHES and {r for r, _ in uploads} == {"me/classit-tiny"}
    for _, kw in uploads:
        folder = source_folder(study, kw["revision"])
        want = {p.name: p.read_bytes() for p in folder.iterdir()}
        assert {k: v for k, v in kw["files"].items() if k not in ("README.md", ".gitattributes")} == want
        assert f"This revision is `{kw['revision']}`".encode() in kw["files"]["README.md"]
        assert kw["delete_patterns"] == "*" and kw["token"] == "t0k"
    # each branch is created before its upload
    order = [(n, kw.get("branch") or kw.get("revision")) for n, _, kw in api.calls[1:]]
    assert order.index(("create_branch", "chck_4e-05M")) < order.index(("upload_folder", "chck_4e-05M"))


# --------------------------------------------------------------------------------------------------- errors
def test_one_line_errors(study, exported, tmp_path):
    with pytest.raises(DataError, match=rf"^{tmp_path / 'nothing'}: no model here") as e:
        E.export_model(tmp_path / "nothing", tmp_path / "o")
    assert "\n" not in str(e.value)
    with pytest.raises(DataError, match=rf"^{exported}: exists and is not empty \(give force=True") as e:
        E.export_model(run_dir(study), exported)
    assert "\n" not in str(e.value)
    with pytest.raises(DataError, match="overlaps the model's own folder"):
        E.export_model(run_dir(study), run_dir(study) / "export", force=True)
    bad = tmp_path / "run"
    (bad / "final").mkdir(parents=True)
    (bad / "final" / "config.json").write_text("{}")
    (bad / "chck_1M").mkdir()
    with pytest.raises(DataError, match=rf"^{bad / 'chck_1M'}: checkpoint folder without config.json"):
        E.export_model(bad, tmp_path / "o")
    with pytest.raises(DataError, match=rf"^{tmp_path}: not an exported repository"):
        E.push(tmp_path, remote_url=str(tmp_path / "x.git"))
    with pytest.raises(ValueError, match="give repo_id"):
        E.push(exported)
    assert not (tmp_path / "o").exists()


def cli(argv):
    p = argparse.ArgumentParser(prog="classit-eval export")
    E.add_cli_arguments(p)
    return E.cli_main(p.parse_args(argv))


def test_cli(study, tmp_path, capsys):
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    assert cli([str(run_dir(study)), str(tmp_path / "o"), "--remote-url", str(bare), "--dataset", "me/corpus",
                "--results", str(study / "results")]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'o'}: git repository, 4 branches" in out and "pushed 4 branches" in out
    assert "chck_0.00012M" in out
    meta, _ = front_matter((tmp_path / "o" / "README.md").read_text())
    assert meta["datasets"] == ["me/corpus"]
    assert cli([str(run_dir(study)), str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("classit-eval: error: ") and err.count("\n") == 1 and "--force" in err
    assert cli([str(run_dir(study)), str(tmp_path / "o"), "--force", "--no-checkpoints"]) == 0
    assert E.branches(tmp_path / "o") == ["main"]
    capsys.readouterr()
    assert cli([str(run_dir(study)), str(tmp_path / "o"), "--force", "--remote-url", str(tmp_path / "no.git")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"classit-eval: error: push to {tmp_path / 'no.git'}: git push") and err.count("\n") == 1
