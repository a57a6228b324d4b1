"""The training stages (notebooks 01_pretrain and 02_instruction_tuning) as functions.

Layout under the run folder:

    01_pretrain/<size>-p<P>/               train_log.jsonl, ckpt.pt, chck_<N>M/, final/ (HF folder)
    02_instruction_tuning/<size>-<curriculum>-p<P>-s<S>/   the same for each tuned run
    models.json                            the study's models: name, size, condition, seeds, HF folder

P is the pretraining seed (`pretrain.seeds`), S the tuning seed (`tuning.seeds`): every curriculum is tuned
once per S from each pretrained base, and that base is the control of its own tuned runs.

A run folder carries `run_key.json`, the hash of everything its result depends on (data-stage
outputs, model and training params, the base model for tuning). A rerun with the same key resumes
from its checkpoint (or finds it finished); a changed key moves the old folder aside as
`<name>.stale-<key>` (nothing computed is deleted) and starts afresh.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd

from . import results as R
from .config import ModelConfig, StudyConfig
from .datastage import load_curriculum, load_it_sets, stage_dir as data_dir
from .instruct import curriculum_examples, encode_pair
from .modeling import count_parameters
from .records import atomic_write_json
from .results import BASE, pretrain_dir, training_runs, tuning_dir
from .runtime import load_causal_lm
from . import launch
from .train import TrainState, instruction_tune, pretrain, reply_token_loss
from .tokenizer import load_tokenizer


def _hash_files(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def _prepare(out: Path, key: dict) -> None:
    """Keep `out` if it was made with the same key, else move it aside and start empty. Under torchrun the
    stage that spawned the ranks has prepared the folder already, so every rank finds its key here."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    key_file = out / "run_key.json"
    if out.exists():
        old = json.loads(key_file.read_text()).get("digest") if key_file.exists() else "unknown"
        if old == digest:
            return
        shutil.move(str(out), str(out.with_name(f"{out.name}.stale-{old}")))
    out.mkdir(parents=True)
    atomic_write_json(key_file, {"digest": digest, "key": key})


def model_config(cfg: StudyConfig, size: str, vocab_size: int) -> ModelConfig:
    return ModelConfig.for_size(size, cfg.pretrain.model, vocab_size)


def run_pretraining(cfg: StudyConfig, size: str, pretrain_seed: int, stop_at_step: int | None = None):
    """Pretrain one size with one seed on the data stage's shards (resuming where a previous run stopped)."""
    shards = data_dir(cfg) / "shards"
    tok = load_tokenizer(data_dir(cfg) / "tokenizer")
    mcfg = model_config(cfg, size, len(tok))
    tcfg = cfg.pretrain.train_for(pretrain_seed)
    out = pretrain_dir(cfg, size, pretrain_seed)
    _prepare(out, {"data": _hash_files(shards / "meta.json", data_dir(cfg) / "tokenizer" / "tokenizer.json"),
                   "model": mcfg.model_dump(mode="json"), "train": tcfg.model_dump(mode="json")})
    if launch.distributed(cfg):
        return _state(launch.spawn(cfg, ["pretrain", "--size", size, "--pretrain-seed", str(pretrain_seed)], out))
    return pretrain(shards, mcfg, tcfg, out, tokenizer=tok, stop_at_step=stop_at_step)


def pretrain_all(cfg: StudyConfig) -> dict[str, TrainState]:
    """Every pretraining run of the design (size x pretraining seed), by model name."""
    return {r["model"]: run_pretraining(cfg, r["size"], r["pretrain_seed"])
            for r in training_runs(cfg) if r["condition"] == BASE}


def tune_all(cfg: StudyConfig) -> dict[str, TrainState]:
    """Every tuning run of the design (size x pretraining seed x curriculum x tuning seed), by model name."""
    return {r["model"]: run_tuning(cfg, r["size"], r["condition"], r["pretrain_seed"], r["tune_seed"])
            for r in training_runs(cfg) if r["condition"] != BASE}


def _state(d: dict) -> TrainState:
    """A run's final state as rank 0 of a torchrun job recorded it."""
    return TrainState(**{**d, "out_dir": Path(d["out_dir"]),
                         "final_dir": Path(d["final_dir"]) if d.get("final_dir") else None})


def heldout_examples(cfg: StudyConfig, tok) -> dict[str, list]:
    """Tokenized held-out pairs of each IT set, for reply-token loss before and after tuning."""
    out = {}
    for name, df in load_it_sets(data_dir(cfg)).items():
        held = df[df.split == "heldout"]
        if len(held):
            out[name] = [encode_pair(tok, p, r) for p, r in zip(held.prompt, held.reply)]
    return out


def run_tuning(cfg: StudyConfig, size: str, curriculum: str, pretrain_seed: int, tune_seed: int,
               stop_at_step: int | None = None):
    """Tune the pretrained `size` model of `pretrain_seed` on one curriculum (its phases in order), with
    `tune_seed` for the IT data order and dropout."""
    base = pretrain_dir(cfg, size, pretrain_seed) / "final"
    if not (base / "config.json").exists():
        raise FileNotFoundError(f"{base}: no pretrained model; run 01_pretrain first")
    tok = load_tokenizer(base)
    manifest = load_curriculum(data_dir(cfg), curriculum)
    sets = load_it_sets(data_dir(cfg))
    phases = curriculum_examples(manifest, sets, tok)
    val = [ex for exs in heldout_examples(cfg, tok).values() for ex in exs] or None
    t = cfg.tuning
    tcfg = t.train_for(tune_seed)
    out = tuning_dir(cfg, size, curriculum, pretrain_seed, tune_seed)
    manifest_hash = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()
    _prepare(out, {"base": _hash_files(base / "model.safetensors"), "manifest": manifest_hash,
                   "train": tcfg.model_dump(mode="json"), "reply_only_loss": t.reply_only_loss, "max_length": t.max_length,
                   "group_by_length": t.group_by_length})
    if launch.distributed(cfg):
        return _state(launch.spawn(cfg, ["tune", "--size", size, "--curriculum", curriculum,
                                         "--pretrain-seed", str(pretrain_seed), "--tune-seed", str(tune_seed)], out))
    return instruction_tune(base, phases, tcfg, out, tokenizer=tok, reply_only_loss=t.reply_only_loss,
                            phase_names=[p["name"] for p in manifest["phases"]], val_examples=val,
                            max_length=t.max_length, group_by_length=t.group_by_length,
                            stop_at_step=stop_at_step)


def models(cfg: StudyConfig) -> pd.DataFrame:
    """Every model of the study that exists (`results.REGISTRY_COLUMNS`): per size and pretraining seed the
    base, then each curriculum x tuning seed."""
    rows = [{**{k: v for k, v in r.items() if k != "dir"}, "path": str(r["dir"] / "final")}
            for r in training_runs(cfg) if (r["dir"] / "final" / "config.json").exists()]
    return pd.DataFrame(rows, columns=R.REGISTRY_COLUMNS)


def write_registry(cfg: StudyConfig) -> Path:
    """The registry of every model trained so far (`results.write_registry`)."""
    return R.write_registry(cfg, models(cfg))


def reply_losses(cfg: StudyConfig) -> pd.DataFrame:
    """Reply-token loss on the held-out conversational and QA pairs for every model."""
    rows = []
    for m in models(cfg).itertuples():
        model, tok = load_causal_lm(m.path)
        for name, exs in heldout_examples(cfg, tok).items():
            rows.append({"model": m.model, "size": m.size, "condition": m.condition, "pretrain_seed": m.pretrain_seed,
                         "tune_seed": m.tune_seed, "heldout": name,
                         "pairs": len(exs), "reply_loss": reply_token_loss(model, exs, cfg.tuning.eval_batch_size)})
    return pd.DataFrame(rows)


def parameter_table(cfg: StudyConfig) -> pd.DataFrame:
    rows = []
    for size in cfg.pretrain.sizes:
        path = pretrain_dir(cfg, size, cfg.pretrain.run_seeds[0]) / "final"
        if (path / "config.json").exists():
            rows.append({"size": size, "parameters": count_parameters(load_causal_lm(path)[0])})
    return pd.DataFrame(rows)
