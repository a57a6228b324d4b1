"""The one setup call of every stage notebook, and the record it leaves.

    stage = stage_setup("03_eval_blimp", params_file, overrides, globals())
    cfg, out = stage.cfg, stage.out
    ...
    stage.finish(metrics)          # metrics.json: numbers, resolved config, provenance, wall time

The config comes from, in order: the params file (`params_file`; relative paths from the repository
root), the names papermill injected (`papermill ... -p key value` or `-f params/<profile>.yaml`, which
injects every top-level key of that file), and the nested `overrides` mapping. An injected name that is
not a params key fails at once, naming it. With no `params_file` and keys injected by `-f`, the injected
keys are the whole params; with neither, `params/demo.yaml` is used (JupyterLab).
"""
from __future__ import annotations

import ast
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .config import SECTIONS, ConfigError, StudyConfig, merge, parse_config, read_params, repo_path
from .records import write_metrics

DEFAULT_PARAMS = "params/demo.yaml"
NOTEBOOK_PARAMETERS = ("params_file", "overrides")
_INJECTED_HEADER = "# Parameters"      # papermill's injected cell starts with this line


def injected_names(namespace: Mapping[str, Any]) -> list[str]:
    """Names assigned by papermill's injected-parameters cell: the last cell in the kernel's input history
    (`In`) whose first line is `# Parameters`. Empty outside IPython or when nothing was injected."""
    history = namespace.get("In")
    if not isinstance(history, list):
        return []
    for source in reversed(history):
        if isinstance(source, str) and source.lstrip().startswith(_INJECTED_HEADER):
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return []
            return [t.id for node in tree.body if isinstance(node, ast.Assign)
                    for t in node.targets if isinstance(t, ast.Name)]
    return []


@dataclass
class StageRun:
    """A stage notebook's run: its name, resolved config and output folder; `finish` records it."""
    name: str
    cfg: StudyConfig
    out: Path
    source: str                        # where the config came from, for the record
    t0: float = field(default_factory=time.time)

    def finish(self, metrics: Mapping[str, Any]) -> None:
        """Write `<out>/metrics.json`: the numbers, the resolved config (defaults filled in), the params
        source, provenance and wall time (one line says where; the numbers are in the tables above)."""
        path = write_metrics(self.out, self.name, dict(metrics), self.cfg.model_dump(mode="json"),
                             wall_s=round(time.time() - self.t0, 1), source=self.source)
        print(f"{self.name}: metrics written to {path}")


def stage_config(params_file: str | Path | None, overrides: Mapping[str, Any] | None,
                 namespace: Mapping[str, Any]) -> tuple[StudyConfig, str]:
    """The validated config of a notebook run and a description of its source (module docstring)."""
    names = [n for n in injected_names(namespace) if n not in NOTEBOOK_PARAMETERS]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise ConfigError(f"notebook parameters: {unknown[0]}: unknown key (injected by papermill; "
                          f"known: {', '.join(NOTEBOOK_PARAMETERS)} and the params keys {', '.join(SECTIONS)})")
    injected = {n: namespace[n] for n in names}
    if params_file is None and injected:
        raw, where = injected, "notebook parameters (papermill -f)"
    else:
        where = str(params_file or DEFAULT_PARAMS)
        raw = merge(read_params(repo_path(where)), injected)
    if overrides:
        if not isinstance(overrides, Mapping):
            raise ConfigError(f"notebook parameters: overrides: must be a mapping of params keys "
                              f"(got {type(overrides).__name__})")
        raw = merge(raw, overrides)
        where += " + overrides"
    return parse_config(raw, where=where), where


def _display_settings() -> None:
    """Tables show their full text (hypotheses, reasons); headless runs (`make reproduce` sets
    CLASSIT_HEADLESS) get plain-text progress bars, not widget state a rendered page cannot show."""
    import pandas as pd
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.width", 160)
    if os.environ.get("CLASSIT_HEADLESS"):
        import tqdm.auto
        import tqdm.std
        tqdm.auto.tqdm, tqdm.auto.trange = tqdm.std.tqdm, tqdm.std.trange   # before any module binds it


def stage_setup(name: str, params_file: str | Path | None = None, overrides: Mapping[str, Any] | None = None,
                namespace: Mapping[str, Any] | None = None) -> StageRun:
    """Validate the notebook's parameters into the study config (before any work) and make the stage's
    output folder `<run_dir>/<name>/`."""
    _display_settings()
    cfg, where = stage_config(params_file, overrides, namespace or {})
    out = cfg.run_dir / name
    out.mkdir(parents=True, exist_ok=True)
    print(f"{name}: profile {cfg.profile}, params {where}, output {out}")
    return StageRun(name, cfg, out, where)
