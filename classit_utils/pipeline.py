"""`make reproduce`: the numbered notebooks run by papermill as a dependency graph, skipped when nothing
they depend on changed, and `make status`: which stages are done, stale (and why) or missing.

A stage's key hashes what its result depends on:
- `notebook`: the notebook file;
- `params`: the resolved params sections it reads (defaults filled in);
- `code`: every `classit_utils` module in the import closure of the notebook's imports, found by walking
  the imports with `ast` (a module that imports by name at run time, `importlib.import_module`, counts as
  importing its whole package); no hand-kept lists;
- `libraries`: the versions of the libraries that change numbers (`records.KEY_LIBS`);
- `data`: sizes and modification times of the input files it reads;
- `upstream`: the keys of the stages whose outputs it reads.
`DONE.json` (the key, its parts, wall time, provenance) is written last, so a stage killed midway reruns;
training stages resume from their checkpoints inside the notebook.

    python -m classit_utils.pipeline run --profile demo [--force STAGE ...] [--only STAGE ...]
    python -m classit_utils.pipeline status --profile demo
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import appendix, codekey
from .codekey import code_closure, library_versions, notebook_imports, sha  # noqa: F401 (code_closure: API)
from .config import REPO_ROOT, StudyConfig, load_config
from .errors import ConfigError, DataError
from .records import atomic_write_json, provenance

HEADLESS_ENV = {"CLASSIT_HEADLESS": "1", "TQDM_MININTERVAL": "5", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}


@dataclass(frozen=True)
class Stage:
    name: str                        # also the notebook's stem and the output folder's name
    sections: tuple[str, ...]        # params keys it reads
    after: tuple[str, ...] = ()      # stages whose outputs it reads
    data: tuple[str, ...] = ()       # folders (or files) under data_root it reads

    @property
    def notebook(self) -> Path:
        return REPO_ROOT / "notebooks" / f"{self.name}.ipynb"


_RUN = ("profile", "seed", "run_root", "figures_root")
_ZS = _RUN + ("evaluation",)
_TUNED = ("02_instruction_tuning",)
STAGES = (
    Stage("00_data", _RUN + ("data_root", "demo", "corpus", "tokenizer", "instruct", "curricula")),
    Stage("01_pretrain", _RUN + ("pretrain", "launch"), ("00_data",)),
    Stage("02_instruction_tuning", _RUN + ("pretrain", "tuning", "launch"), ("01_pretrain",)),
    Stage("03_eval_blimp", _ZS, _TUNED,
          ("blimp_fast", "blimp_filtered", "supplement_fast", "supplement_filtered", "comps")),
    Stage("04_eval_ewok", _ZS, _TUNED, ("ewok.zip",)),
    Stage("05_eval_entity_tracking", _ZS, _TUNED, ("entity_tracking", "entity_tracking_fast")),
    Stage("06_eval_wug", _ZS, _TUNED, ("wug_adj_nominalization", "wug_past_tense")),
    Stage("07_eval_reading", _ZS, _TUNED, ("reading", "aoa_substitute", "aochildes_transcripts")),
    Stage("08_finetune_glue", _RUN + ("finetune",), _TUNED, ("glue_filtered",)),
    Stage("09_statistics", _RUN + ("statistics",),
          ("03_eval_blimp", "04_eval_ewok", "05_eval_entity_tracking", "06_eval_wug", "07_eval_reading",
           "08_finetune_glue")),
)


# ------------------------------------------------------------------------------------------- keys
def data_fingerprint(cfg: StudyConfig, stage: Stage) -> str:
    """Sizes and mtimes of the data files a stage reads (generated demo data counts as code)."""
    if cfg.demo is not None:
        return ""
    if stage.name == "00_data":
        roots = {cfg.data_path(p) for p in (cfg.corpus.path, *cfg.corpus.extra_paths, cfg.instruct.conv.path)}
        if cfg.instruct.class_it and cfg.data_path(cfg.instruct.class_it).exists():
            roots.add(cfg.data_path(cfg.instruct.class_it))
    else:
        roots = {cfg.data_path(p) for p in stage.data}
    h = hashlib.sha256()
    for root in sorted(r for r in roots if r.exists()):
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for p in files:
            st = p.stat()
            h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def key_parts(cfg: StudyConfig, stage: Stage, upstream: dict[str, str]) -> dict[str, Any]:
    """What a stage's key hashes (module docstring), each part readable, so `status` can say what changed."""
    return {
        "notebook": sha(stage.notebook.read_bytes()),
        "params": {s: sha(json.dumps(cfg.section(s), sort_keys=True, default=str).encode())
                   for s in stage.sections},
        "code": codekey.code_hashes(notebook_imports(stage.notebook)),
        "libraries": library_versions(),
        "data": data_fingerprint(cfg, stage),
        "upstream": {a: upstream.get(a, "") for a in stage.after},
    }


def stage_key(parts: dict[str, Any]) -> str:
    return sha(json.dumps(parts, sort_keys=True).encode())


def stale_reasons(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between two key records, in words: `notebook`, `params <section>`, `module <file>`,
    `library <name> <old> -> <new>`, `data`, `upstream <stage>`."""
    if not old:
        return ["no key record (made by an older version)"]
    why = []
    if old.get("notebook") != new["notebook"]:
        why.append("notebook")
    for kind, label in (("params", "params"), ("code", "module"), ("upstream", "upstream")):
        a, b = old.get(kind, {}), new[kind]
        why += [f"{label} {k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    a, b = old.get("libraries", {}), new["libraries"]
    why += [f"library {k} {a.get(k)} -> {b.get(k)}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    if old.get("data") != new["data"]:
        why.append("data")
    return why


def _done_path(cfg: StudyConfig, stage: Stage) -> Path:
    return cfg.run_dir / stage.name / "DONE.json"


def _read_done(cfg: StudyConfig, stage: Stage) -> dict[str, Any]:
    path = _done_path(cfg, stage)
    return json.loads(path.read_text()) if path.exists() else {}


def _stages(only: tuple[str, ...] = ()) -> list[Stage]:
    unknown = [s for s in only if s not in {st.name for st in STAGES}]
    if unknown:
        raise ConfigError(f"unknown stage(s) {', '.join(unknown)} (known: {', '.join(s.name for s in STAGES)})")
    return [s for s in STAGES if s.notebook.exists() and (not only or s.name in only)]


# ------------------------------------------------------------------------------------------- status
def status(cfg: StudyConfig) -> list[tuple[str, str, list[str]]]:
    """(stage, `done` | `stale` | `missing`, reasons) per stage, in order. Reads only: writes nothing."""
    keys: dict[str, str] = {}
    out = []
    for stage in _stages():
        parts = key_parts(cfg, stage, keys)
        keys[stage.name] = stage_key(parts)
        done = _read_done(cfg, stage)
        if not done:
            out.append((stage.name, "missing", []))
        elif done.get("key") == keys[stage.name]:
            out.append((stage.name, "done", []))
        else:
            out.append((stage.name, "stale", stale_reasons(done.get("parts", {}), parts)))
    return out


# ------------------------------------------------------------------------------------------- running
def run_stage(cfg: StudyConfig, params_file: Path, stage: Stage, parts: dict[str, Any]) -> dict:
    import papermill as pm

    out_nb = cfg.run_dir / "notebooks" / stage.notebook.name
    out_nb.parent.mkdir(parents=True, exist_ok=True)
    _done_path(cfg, stage).unlink(missing_ok=True)
    t0 = time.time()
    # the kernel inherits these: plain-text progress bars, few updates, no hub/transformers bars
    os.environ.update(HEADLESS_ENV)
    pm.execute_notebook(str(stage.notebook), str(out_nb), parameters={"params_file": str(params_file.resolve())},
                        cwd=str(REPO_ROOT), log_output=True, progress_bar=True, kernel_name="python3")
    wall = time.time() - t0
    appendix.clean_streams(out_nb)
    appendix.render_notebook(out_nb, cfg.run_dir / "appendix" / f"{stage.name}.html")
    record = {"stage": stage.name, "key": stage_key(parts), "parts": parts, "wall_s": round(wall, 1),
              **provenance()}
    atomic_write_json(_done_path(cfg, stage), record)
    return record


def _conditions(cfg: StudyConfig) -> dict[str, tuple[str, str]]:
    """model -> (size, condition) from the registry, for the index's headlines ({} before training)."""
    from .results import read_registry
    try:
        return {m.model: (m.size, m.condition) for m in read_registry(cfg).itertuples()}
    except FileNotFoundError:
        return {}


def params_path(profile: str, params_file: Path | None = None) -> Path:
    return Path(params_file) if params_file else REPO_ROOT / "params" / f"{profile}.yaml"


def run(profile: str, params_file: Path | None = None, force: tuple[str, ...] = (),
        only: tuple[str, ...] = ()) -> list[dict]:
    params_file = params_path(profile, params_file)
    cfg = load_config(params_file)          # every params error surfaces here, before any work
    stages = _stages(only)
    from .datastage import preflight
    default = params_file.resolve() == (REPO_ROOT / "params" / f"{profile}.yaml").resolve()
    preflight(cfg, where=str(params_file), stages=stages, fetch_as=profile if default else str(params_file))
    keys: dict[str, str] = {}
    records = []
    for stage in stages:
        parts = key_parts(cfg, stage, keys)
        keys[stage.name] = stage_key(parts)
        done = _read_done(cfg, stage)
        if done.get("key") == keys[stage.name] and stage.name not in force:
            rec = {**done, "status": "skipped (unchanged)"}
            print(f"[classit] {stage.name}: unchanged, skipped", flush=True)
        else:
            why = "forced" if stage.name in force else ", ".join(stale_reasons(done.get("parts", {}), parts)
                                                                   if done else ["not run yet"])
            print(f"[classit] {stage.name}: running {stage.notebook.relative_to(REPO_ROOT)} ({why})", flush=True)
            rec = {**run_stage(cfg, params_file, stage, parts), "status": "ran"}
            print(f"[classit] {stage.name}: done in {rec['wall_s']} s", flush=True)
        records.append(rec)
    appendix.write_index(cfg, params_file, records, _conditions(cfg))
    print(f"[classit] appendix: {cfg.run_dir / 'appendix' / 'index.html'}", flush=True)
    return records


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="classit-pipeline", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run the stages of a profile")
    s = sub.add_parser("status", help="say which stages are done, stale (and why) or missing; runs nothing")
    for p in (r, s):
        p.add_argument("--profile", default="demo")
        p.add_argument("--params", type=Path, help="params YAML (default params/<profile>.yaml)")
    r.add_argument("--force", nargs="*", default=(), help="stages to rerun even if unchanged")
    r.add_argument("--only", nargs="*", default=(), help="run only these stages")
    args = ap.parse_args(argv)
    from papermill.exceptions import PapermillExecutionError
    try:
        if args.cmd == "status":
            cfg = load_config(params_path(args.profile, args.params))
            for name, state, why in status(cfg):
                print(f"{name} {state}" + (f" {'; '.join(why)}" if why else ""))
            return 0
        import logging
        logging.basicConfig(level=logging.INFO, format="%(message)s")   # papermill streams cell output here
        for noisy in ("traitlets", "asyncio", "blib2to3", "filelock", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        run(args.profile, args.params, tuple(args.force), tuple(args.only))
    except (ConfigError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except PapermillExecutionError as err:
        print(f"error: a notebook failed: {err.ename}: {err.evalue}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
