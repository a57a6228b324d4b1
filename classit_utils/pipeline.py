"""`make reproduce`: run the numbered notebooks with papermill as a dependency graph.

A stage is skipped when its key is unchanged. The key hashes what the stage reads: its notebook,
the params sections it uses, the classit_utils modules it calls, the files of its input data and
the keys of the stages before it. A stage writes `DONE.json` (its key, wall time, provenance) last,
so a stage killed midway reruns; stages that checkpoint (training) resume inside the notebook.

    python -m classit_utils.pipeline run --profile demo [--force STAGE] [--only STAGE]
"""
from __future__ import annotations

import argparse
import hashlib
import html
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from .config import REPO_ROOT, ConfigError, StudyConfig, load_config
from .records import atomic_write_json, atomic_write_text, provenance


@dataclass(frozen=True)
class Stage:
    name: str                        # also the notebook's stem and the output folder's name
    sections: tuple[str, ...]        # params sections it reads
    modules: tuple[str, ...]         # classit_utils modules it runs
    after: tuple[str, ...] = ()      # stages whose outputs it reads
    data: tuple[str, ...] = ()       # folders (or files) under data_root it reads

    @property
    def notebook(self) -> Path:
        return REPO_ROOT / "notebooks" / f"{self.name}.ipynb"


_DATA = ("config", "records", "corpus", "tokenizer", "shards", "instruct", "datastage", "demo")
_TRAIN = _DATA + ("modeling", "train", "checkpoint", "trainstage")
_ZS = ("config", "records", "trainstage", "evalstage", "scoring", "tasks", "zeroshot")
_RUN = ("profile", "seed", "figures_root")
STAGES = (
    Stage("00_data", _RUN + ("data_root", "demo", "corpus", "tokenizer", "instruct", "curricula"), _DATA),
    Stage("01_pretrain", _RUN + ("pretrain",), _TRAIN, ("00_data",)),
    Stage("02_instruction_tuning", _RUN + ("pretrain", "tuning"), _TRAIN, ("01_pretrain",)),
    Stage("03_eval_blimp", _RUN + ("evaluation",), _ZS, ("02_instruction_tuning",),
          ("blimp_fast", "blimp_filtered", "supplement_fast", "supplement_filtered", "comps")),
    Stage("04_eval_ewok", _RUN + ("evaluation",), _ZS, ("02_instruction_tuning",), ("ewok.zip",)),
    Stage("05_eval_entity_tracking", _RUN + ("evaluation",), _ZS, ("02_instruction_tuning",),
          ("entity_tracking", "entity_tracking_fast")),
    Stage("06_eval_wug", _RUN + ("evaluation",), _ZS, ("02_instruction_tuning",),
          ("wug_adj_nominalization", "wug_past_tense")),
    Stage("07_eval_reading", _RUN + ("evaluation",), _ZS, ("02_instruction_tuning",), ("reading",)),
    Stage("08_finetune_glue", _RUN + ("finetune",), ("config", "records", "trainstage", "evalstage", "glue",
                                                     "finetune"), ("02_instruction_tuning",), ("glue_filtered",)),
    Stage("09_statistics", _RUN + ("statistics",), ("config", "records", "trainstage", "evalstage", "stats", "plots"),
          ("03_eval_blimp", "04_eval_ewok", "05_eval_entity_tracking", "06_eval_wug", "07_eval_reading",
           "08_finetune_glue")),
)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _module_hash(modules: tuple[str, ...]) -> str:
    h = hashlib.sha256()
    for m in modules:
        for path in sorted((REPO_ROOT / "classit_utils").glob(f"{m}.py")) + \
                sorted((REPO_ROOT / "classit_utils" / m).glob("**/*.py")):
            h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def data_fingerprint(cfg: StudyConfig, stage: Stage) -> str:
    """Sizes and mtimes of the data files a stage reads (generated demo data counts as code)."""
    if cfg.demo is not None:
        return ""
    if stage.name == "00_data":
        roots = {cfg.data_path(p) for p in (cfg.corpus.path, *cfg.corpus.extra_paths, cfg.instruct.conv.path)}
        if cfg.instruct.class_it and cfg.data_path(cfg.instruct.class_it).exists():
            roots.add(cfg.data_path(cfg.instruct.class_it))
    else:
        roots = {cfg.data_path(p) for p in stage.data if cfg.data_path(p).exists()}
    h = hashlib.sha256()
    for root in sorted(roots):
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for p in files:
            st = p.stat()
            h.update(f"{p}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def stage_key(cfg: StudyConfig, raw: dict, stage: Stage, upstream: dict[str, str]) -> str:
    parts = {
        "notebook": _sha(stage.notebook.read_bytes()),
        "params": {s: raw.get(s) for s in stage.sections},
        "code": _module_hash(stage.modules),
        "data": data_fingerprint(cfg, stage),
        "after": {a: upstream.get(a, "") for a in stage.after},
    }
    return _sha(json.dumps(parts, sort_keys=True, default=str).encode())


def _done(cfg: StudyConfig, stage: Stage) -> Path:
    return cfg.run_dir / stage.name / "DONE.json"


def run_stage(cfg: StudyConfig, raw: dict, params_file: Path, stage: Stage, key: str) -> dict:
    import papermill as pm

    out_nb = cfg.run_dir / "notebooks" / stage.notebook.name
    out_nb.parent.mkdir(parents=True, exist_ok=True)
    _done(cfg, stage).unlink(missing_ok=True)
    params = {**raw, "params_file": str(params_file.resolve())}
    t0 = time.time()
    pm.execute_notebook(str(stage.notebook), str(out_nb), parameters=params, cwd=str(REPO_ROOT / "notebooks"),
                        log_output=True, progress_bar=True, kernel_name="python3")
    wall = time.time() - t0
    render_html(out_nb, cfg.run_dir / "appendix" / f"{stage.name}.html")
    record = {"stage": stage.name, "key": key, "wall_s": round(wall, 1), **provenance()}
    atomic_write_json(_done(cfg, stage), record)
    return record


def render_html(notebook: Path, out: Path) -> Path:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    return atomic_write_text(out, body)


def write_index(cfg: StudyConfig, params_file: Path, records: list[dict]) -> Path:
    """The appendix's index page: stages with wall time, params, versions, git hash and device."""
    rows = "\n".join(
        f"<tr><td><a href='{r['stage']}.html'>{r['stage']}</a></td><td>{r.get('status', '')}</td>"
        f"<td>{r.get('wall_s', '')}</td><td>{html.escape(str(r.get('git', '')))}</td>"
        f"<td>{html.escape(str(r.get('device', '')))}</td><td>{r.get('time', '')}</td></tr>" for r in records)
    versions = html.escape(json.dumps(provenance()["versions"]))
    page = f"""<!doctype html><meta charset="utf-8"><title>classit appendix: {cfg.profile}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td,th{{padding:.2em .8em;text-align:left}}</style>
<h1>classit: rendered notebooks, profile <code>{cfg.profile}</code></h1>
<table><tr><th>stage</th><th>status</th><th>wall s</th><th>git</th><th>device</th><th>finished</th></tr>
{rows}</table>
<h2>Params (<code>{html.escape(str(params_file))}</code>)</h2><pre>{html.escape(params_file.read_text())}</pre>
<h2>Versions</h2><pre>{versions}</pre>"""
    return atomic_write_text(cfg.run_dir / "appendix" / "index.html", page)


def run(profile: str, params_file: Path | None = None, force: tuple[str, ...] = (),
        only: tuple[str, ...] = ()) -> list[dict]:
    params_file = params_file or REPO_ROOT / "params" / f"{profile}.yaml"
    cfg = load_config(params_file)          # every params error surfaces here, before any work
    raw = yaml.safe_load(params_file.read_text())
    stages = [s for s in STAGES if s.notebook.exists() and (not only or s.name in only)]
    from .datastage import preflight
    preflight(cfg, where=str(params_file))
    keys: dict[str, str] = {}
    records = []
    for stage in stages:
        key = keys[stage.name] = stage_key(cfg, raw, stage, keys)
        done = json.loads(_done(cfg, stage).read_text()) if _done(cfg, stage).exists() else {}
        if done.get("key") == key and stage.name not in force:
            rec = {**done, "status": "skipped (unchanged)"}
            print(f"[classit] {stage.name}: unchanged, skipped", flush=True)
        else:
            print(f"[classit] {stage.name}: running {stage.notebook.relative_to(REPO_ROOT)}", flush=True)
            rec = {**run_stage(cfg, raw, params_file, stage, key), "status": "ran"}
            print(f"[classit] {stage.name}: done in {rec['wall_s']} s", flush=True)
        records.append(rec)
    write_index(cfg, params_file, records)
    print(f"[classit] appendix: {cfg.run_dir / 'appendix' / 'index.html'}", flush=True)
    return records


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="classit-pipeline", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run the stages of a profile")
    r.add_argument("--profile", default="demo")
    r.add_argument("--params", type=Path, help="params YAML (default params/<profile>.yaml)")
    r.add_argument("--force", nargs="*", default=(), help="stages to rerun even if unchanged")
    r.add_argument("--only", nargs="*", default=(), help="run only these stages")
    args = ap.parse_args(argv)
    import logging
    logging.basicConfig(level=logging.INFO, format="%(message)s")   # papermill streams cell output here
    for noisy in ("traitlets", "asyncio", "blib2to3", "filelock", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from papermill.exceptions import PapermillExecutionError
    from .corpus import DataError
    try:
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
