"""A trained model as a BabyLM submission: one HF model repository whose `main` branch holds the final model
and whose branches `chck_<N>M` hold the intermediate checkpoints, as `babylm/evaluation-pipeline-2025` expects
(`README.md` "Checkpoints": a branch per checkpoint, e.g. `chck_7M`; the pipeline loads them with
`--revision_name chck_1M` and `evaluation_pipeline/collate_preds.py` checks `STRICT_SMALL_FAST_REVISIONS`, 1M..10M
then 10M..100M, or `OTHER_FAST_REVISIONS`, up to 1000M).

    classit-eval export runs/demo/models/classit-tiny-base out/classit-tiny-base [--push user/classit-tiny-base]

`export_model` makes `OUT_DIR` a git repository (the `git` command; nothing else is needed):

    initial commit                      `.gitattributes` only (as a new Hub repository starts)
    main        <- initial commit       the final model's HF folder + README.md (model card) + .gitattributes
    chck_<N>M   <- initial commit       that checkpoint's HF folder + the same card naming the branch

Each branch's tree is exactly its folder's files plus the card and `.gitattributes`; the work tree shows `main`.
`.gitattributes` marks `*.safetensors`, `*.bin`, `*.pt` (...) as LFS as Hub repositories do, but the files are
committed as ordinary blobs (`hash-object --no-filters`), so git-lfs need not be installed and the commits are
the same on every machine. `push` uploads through `huggingface_hub`, which does the LFS part itself; to push
the branches with plain git to the Hub instead, convert first (`git lfs migrate import --everything
--include="*.safetensors,*.bin,*.pt"`; the Hub refuses non-LFS files over 10 MB). Commits carry a fixed author
and date (`EXPORT_DATE`), so exporting the same folders again gives the same commit and tree hashes.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Sequence

import yaml

from .errors import DataError
from .records import load_jsonl
from .results import BASE, model_name
from .train import CONFIG_NAME, FINAL_NAME, LOG_NAME, babylm_checkpoint_words, checkpoint_name

MAIN = "main"
CARD_NAME = "README.md"
ATTRIBUTES_NAME = ".gitattributes"
RUN_KEY_NAME = "run_key.json"            # trainstage's key of a run folder
LFS_PATTERNS = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.ckpt", "*.h5", "*.msgpack", "*.onnx", "*.pkl",
                "*.model", "*.npy", "*.npz", "*.gguf", "*.zip", "*tfevents*")    # a subset of the Hub's defaults
GITATTRIBUTES = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in LFS_PATTERNS)
EXPORT_DATE = "1735689600 +0000"          # 2025-01-01T00:00:00Z: fixed, so a re-export has the same hashes
AUTHOR = ("classit export", "classit-export@localhost")
CARD_DEFAULTS = {"license": "apache-2.0", "language": ["en"], "datasets": [],
                 "tags": ["babylm", "classit", "causal-lm", "text-generation"]}
_CHECKPOINT = re.compile(r"^chck_(.+)M$")
# git variables that would point the commands at another repository, index or object store
_GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
                      "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_PREFIX")


class GitError(RuntimeError):
    """A git command failed: `git <command>: <git's last line of stderr>`."""


class Source(NamedTuple):
    """A model's final HF folder, its run folder (train_config.json, run_key.json, train_log.jsonl) when it has
    one, and its checkpoints as (branch, folder), fewest words first."""
    final: Path
    run_dir: Path | None
    checkpoints: tuple[tuple[str, Path], ...]


# --------------------------------------------------------------------------------------------------- sources
def checkpoint_words(name: str) -> int | None:
    """Words seen at a checkpoint, from its folder or branch name (`train.checkpoint_name`'s format:
    `chck_4e-05M` -> 40); None if not one."""
    m = _CHECKPOINT.match(name)
    try:
        words = float(m.group(1)) * 1e6 if m else math.nan
    except ValueError:
        return None
    return round(words) if math.isfinite(words) and words > 0 else None


def find_model(model_dir: str | Path) -> Source:
    """The final folder and its `chck_<N>M` siblings, from the HF folder itself or from its run folder.

    Siblings count only beside a folder named `final` (the training layout); any other HF folder is exported
    alone. A `chck_*M` sibling without config.json is an error rather than a silently missing revision."""
    given = Path(model_dir)
    if (given / "config.json").is_file():
        final = given.resolve()
    elif (given / FINAL_NAME / "config.json").is_file():
        final = (given / FINAL_NAME).resolve()
    else:
        raise DataError(f"{given}: no model here (neither {given / 'config.json'} nor "
                        f"{given / FINAL_NAME / 'config.json'} exists)")
    if final.name != FINAL_NAME:
        return Source(final, None, ())
    run_dir = final.parent
    found = []
    for folder in run_dir.glob("chck_*"):
        words = checkpoint_words(folder.name)
        if words is None or not folder.is_dir():
            continue
        if not (folder / "config.json").is_file():
            raise DataError(f"{folder}: checkpoint folder without config.json (an interrupted save? remove it)")
        found.append((words, folder.name, folder))
    has_run_files = any((run_dir / n).is_file() for n in (CONFIG_NAME, RUN_KEY_NAME, LOG_NAME))
    return Source(final, run_dir if has_run_files else None, tuple((n, f) for _, n, f in sorted(found)))


def _folder_files(folder: Path) -> list[tuple[str, Path]]:
    """(path in repo, file) of a HF folder, sorted; hidden names and the folder's own card are left out
    (the export writes its card and `.gitattributes`)."""
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if rel.as_posix() == CARD_NAME:
            continue
        out.append((rel.as_posix(), path))
    return out


# --------------------------------------------------------------------------------------------------- model card
def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except json.JSONDecodeError as e:
        raise DataError(f"{path}:{e.lineno}: not valid JSON ({e.msg})") from None


def _registry_entry(final: Path) -> dict:
    """The study registry's row (`models.json`: model, size, condition) of this final folder, if one lists it."""
    for study in final.parents[1:4]:
        registry = study / "models.json"
        try:
            rows = json.loads(registry.read_text(encoding="utf-8")) if registry.is_file() else []
        except json.JSONDecodeError:
            continue                        # the registry only names the model in the card
        if isinstance(rows, list):
            for row in rows:
                path = Path(row.get("path", ""))
                path = path if path.is_absolute() else study / path
                if path.exists() and path.resolve() == final:
                    return row
    return {}


def parameter_count(config: Mapping[str, Any], folder: Path | None = None) -> int | None:
    """Parameters of a LLaMA config (tied embeddings counted once, as `modeling.count_parameters`); other
    architectures are counted from the safetensors header (no weights are loaded)."""
    c = config
    if c.get("model_type") == "llama":
        d, v, layers = c["hidden_size"], c["vocab_size"], c["num_hidden_layers"]
        hd = c.get("head_dim") or d // c["num_attention_heads"]
        q, kv = c["num_attention_heads"] * hd, c.get("num_key_value_heads", c["num_attention_heads"]) * hd
        attn = 2 * d * q + 2 * d * kv + (q + 2 * kv + d if c.get("attention_bias") else 0)
        mlp = 3 * d * c["intermediate_size"] + (2 * c["intermediate_size"] + d if c.get("mlp_bias") else 0)
        return layers * (attn + mlp + 2 * d) + d + v * d * (1 if c.get("tie_word_embeddings", True) else 2)
    if folder is not None and (folder / "model.safetensors").is_file():
        from safetensors import safe_open
        with safe_open(str(folder / "model.safetensors"), "pt") as f:
            return sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())
    return None


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10_000:
        return f"{v:,}"
    return "-" if v is None else str(v)


def _table(rows: Sequence[Sequence[Any]], head: Sequence[str]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]


def _training_section(src: Source, info: Mapping[str, Any]) -> list[str]:
    """Stage, data and parameters of the run, from the run folder's train_config.json, run_key.json and log."""
    if src.run_dir is None:
        return ["No run folder (train_config.json, run_key.json) was found beside the model."]
    tc, key = _read_json(src.run_dir / CONFIG_NAME), _read_json(src.run_dir / RUN_KEY_NAME)
    log = load_jsonl(src.run_dir / LOG_NAME)
    tuned = "base" in key.get("key", {}) or src.run_dir.parent.name == "02_instruction_tuning"
    lines = [f"- stage: {'instruction tuning of the pretrained base model' if tuned else 'pretraining'}"]
    phases = list(dict.fromkeys(r.get("phase_name") for r in log if r.get("phase_name")))
    if tuned and info.get("base_model"):
        lines.append(f"- base model: `{info['base_model']}` (the pretrained model of the same size)")
    if tuned and phases:
        lines.append(f"- curriculum phases, in order: {', '.join(phases)}")
    if log:
        last = log[-1]
        val = next((r["val_loss"] for r in reversed(log) if r.get("val_loss") is not None), None)
        seen = [f"{_fmt(last.get('step'))} steps", f"{_fmt(last.get('tokens_seen'))} tokens"]
        if last.get("words_seen") is not None:
            seen.append(f"{_fmt(round(last['words_seen']))} words")
        lines.append(f"- seen: {', '.join(seen)}; last train loss {_fmt(last.get('loss'))}, "
                     f"last validation loss {_fmt(val)}")
    study = info.get("study_data") or {}
    corpus = study.get("corpus") or {}
    if corpus and not tuned:
        where = corpus.get("hf_id") or corpus.get("path")
        lines.append(f"- corpus: {where} ({corpus.get('loader')} loader), budget {_fmt(corpus.get('budget_words'))}"
                     f" words, {_fmt(study.get('pretraining_words'))} pretraining words after held-out IT text")
    if tuned and study.get("phases"):
        lines.append("- IT pairs per phase: " + ", ".join(f"{n} {_fmt(p)}" for n, p in study["phases"]))
    if key.get("digest"):
        lines.append(f"- run key `{key['digest']}` (`run_key.json`: hash of the data, model and training "
                     "parameters; a rerun with the same key resumes instead of retraining)")
    train = tc.get("train") or key.get("key", {}).get("train") or {}
    if train:
        batch = train.get("micro_batch_size", 1) * train.get("grad_accum_steps", 1) * tc.get("world_size", 1)
        rows = [("learning rate (peak)", train.get("lr")),
                ("epochs per phase" if tuned else "epochs", train.get("epochs")),
                ("batch (sequences per step)", batch), ("total steps", tc.get("total_steps")),
                ("warmup steps", train.get("warmup_steps") or train.get("warmup_fraction")),
                ("min LR ratio (cosine)", train.get("min_lr_ratio")), ("weight decay", train.get("weight_decay")),
                ("betas", ", ".join(map(str, train.get("betas", [])))), ("grad clip", train.get("grad_clip")),
                ("precision", train.get("precision")), ("seed", train.get("seed"))]
        if tuned:
            k = key.get("key", {})
            rows += [("loss on", "reply tokens only" if k.get("reply_only_loss") else "all tokens"),
                     ("max length", k.get("max_length"))]
        lines += ["", *_table([r for r in rows if r[1] not in (None, "")], ["parameter", "value"])]
    return lines


def _study_data(src: Source, condition: str | None) -> dict:
    """Corpus and curriculum facts from the study's data stage (`00_data/metrics.json`), when the run is in one."""
    if src.run_dir is None or src.run_dir.parent.name not in ("01_pretrain", "02_instruction_tuning"):
        return {}
    data = src.run_dir.parents[1] / "00_data"
    m = _read_json(data / "metrics.json")
    out = {"corpus": m.get("config", {}).get("corpus"),
           "pretraining_words": m.get("metrics", {}).get("pretraining_words")}
    curriculum = _read_json(data / "curricula" / f"{condition}.json") if condition else {}
    out["phases"] = [(p.get("name"), p.get("pairs")) for p in curriculum.get("phases", [])]
    return out


def _results_section(results: Path, model: str) -> list[str]:
    """Scores of the final model from the pipeline's results layout (`<results>/<model>/<revision>/...`)."""
    results = results.resolve()
    root = results / model if (results / model).is_dir() else results
    shown = f"{results.name}/{model}" if root != results else results.name
    if not root.is_dir():
        return [f"No results under `{shown}/` yet."]
    revisions = sorted(p.name for p in root.iterdir() if p.is_dir())
    lines = [(f"Results (BabyLM pipeline layout) are in `{shown}/<revision>/` for: "
              f"{', '.join(f'`{r}`' for r in revisions) or 'none'}.")]
    zs = _read_json(root / MAIN / "zero_shot" / "causal" / "summary.json")
    if zs.get("tasks"):
        rows = [(t, v.get("dataset"), v.get("metric"), v.get("score"), v.get("n")) for t, v in zs["tasks"].items()]
        lines += ["", f"Zero-shot, `{shown}/main/zero_shot/causal/summary.json` (variant {zs.get('variant', '?')}):",
                  "", *_table(rows, ["task", "dataset", "metric", "score", "n"])]
        if zs.get("skipped"):
            lines += ["", "Skipped: " + "; ".join(f"{t} ({why})" for t, why in zs["skipped"].items())]
    glue = root / MAIN / "finetune" / "glue_score.csv"
    if glue.is_file():
        import pandas as pd
        df = pd.read_csv(glue)
        rows = [(sel, g["value"].mean(), len(g), bool(g["complete"].all())) for sel, g in df.groupby("selection")]
        lines += ["", f"Fine-tuning, `{shown}/main/finetune/glue_score.csv` (GLUE macro-average, %):", "",
                  *_table(rows, ["epoch selection", "mean over seeds", "seeds", "all tasks"])]
    return lines


def model_card(src: Source, branch: str, branches: Sequence[str], card: Mapping[str, Any] | None = None) -> str:
    """The README.md of one branch: Hub model-card front matter, then the model, its training, its results
    (`card["results"]`: a results root or the model's results folder), its revisions and how to load one.

    `card` may also give `model` (name), `repo_id` (for the loading example), `description`, and front-matter
    keys (`license`, `language`, `datasets`, `tags`; see `CARD_DEFAULTS`). Nothing machine-specific (absolute
    paths, dates) goes in, so the card and hence the commit are the same on every export."""
    card = dict(card or {})
    reg = _registry_entry(src.final)
    config = _read_json(src.final / "config.json")
    key_model = _read_json(src.run_dir / RUN_KEY_NAME).get("key", {}).get("model", {}) if src.run_dir else {}
    name = card.get("model") or reg.get("model") or (src.run_dir or src.final).name
    size = reg.get("size") or key_model.get("size")
    condition = reg.get("condition")
    front = {"library_name": "transformers", "pipeline_tag": "text-generation"}
    for k, default in CARD_DEFAULTS.items():
        front[k] = list(card[k]) if isinstance(card.get(k), (list, tuple)) else card.get(k, default)
    ckpts = [b for b in branches if b != MAIN]
    example = ckpts[0] if ckpts else "chck_1M"
    target = card.get("repo_id") or "path_or_repo"
    if branch == MAIN:
        this = "`main`: the final model."
    else:
        this = f"`{branch}`: the checkpoint after {_fmt(checkpoint_words(branch))} training words."
    lines = ["---", yaml.safe_dump(front, sort_keys=False).strip(), "---", "", f"# {name}", "",
             f"This revision is {this}", "",
             card.get("description") or "A LLaMA-style causal language model of the classit study (does "
             "instruction tuning help BabyLM-scale language models?), exported with `classit-eval export`.",
             "", "## Model", ""]
    n_params = parameter_count(config, src.final)
    rows = [("size", size), ("condition", condition), ("parameters", n_params),
            ("architecture", ", ".join(config.get("architectures") or []) or config.get("model_type")),
            ("hidden size", config.get("hidden_size")), ("layers", config.get("num_hidden_layers")),
            ("attention heads", config.get("num_attention_heads")),
            ("key/value heads", config.get("num_key_value_heads")), ("FFN size", config.get("intermediate_size")),
            ("vocabulary", config.get("vocab_size")), ("context length", config.get("max_position_embeddings")),
            ("tied embeddings", config.get("tie_word_embeddings")), ("weights dtype", config.get("dtype"))]
    lines += _table([r for r in rows if r[1] is not None], ["property", "value"])
    lines += ["", "## Training", "",
              *_training_section(src, {"study_data": _study_data(src, condition),
                                       "base_model": (model_name(size, BASE, int(reg.get("pretrain_seed", 0)))
                                                      if size and condition else None)})]
    lines += ["", "## Results", ""]
    lines += (_results_section(Path(card["results"]), name) if card.get("results")
              else ["Not included in this export (give `--results DIR` to summarize them here)."])
    lines += ["", "## Revisions", "", ("Each revision is a branch of this repository (BabyLM's layout: the "
                                       "evaluation pipeline loads a checkpoint with `--revision_name chck_1M`)."), ""]
    lines += _table([(b, "final model" if b == MAIN else checkpoint_words(b)) for b in branches],
                    ["branch", "training words"])
    lines += ["", *_babylm_note(src, ckpts)]
    lines += ["", "## Usage", "", "```python", "from transformers import AutoModelForCausalLM, AutoTokenizer", "",
              f'model = AutoModelForCausalLM.from_pretrained("{target}", revision="{example}")',
              f'tokenizer = AutoTokenizer.from_pretrained("{target}", revision="{example}")', "```", "",
              ("`revision=` selects a branch on the Hub. A local clone has one branch checked out: "
               f"`git checkout {example}`, then `from_pretrained(\"path/to/clone\")`. `.gitattributes` marks the "
               "weights as LFS files, as Hub repositories do; a local export stores them as plain git blobs "
               "(`classit-eval export --push` uploads them through `huggingface_hub`)."), ""]
    return "\n".join(lines)


def _babylm_note(src: Source, ckpts: Sequence[str]) -> list[str]:
    """Which of the checkpoints BabyLM asks for (1M..10M, 10M..100M, 100M..1000M, up to the words trained)
    this export has."""
    log = load_jsonl(src.run_dir / LOG_NAME) if src.run_dir else []
    words = next((r["words_seen"] for r in reversed(log) if r.get("words_seen") is not None), None)
    if words is None:
        return [("Training words are unknown (no `words_seen` in the training log), so BabyLM's required "
                 "checkpoints cannot be checked.")]
    wanted = [checkpoint_name(w) for w in babylm_checkpoint_words(int(words))]
    if not wanted:
        return [f"The model saw {_fmt(round(words))} words, fewer than BabyLM's first checkpoint (`chck_1M`)."]
    missing = [w for w in wanted if w not in ckpts]
    return [f"BabyLM asks for {len(wanted)} checkpoints up to the {_fmt(round(words))} words trained "
            f"(`{wanted[0]}` ... `{wanted[-1]}`); " +
            (f"missing here: {', '.join(f'`{m}`' for m in missing)}." if missing else "all are here.")]


# --------------------------------------------------------------------------------------------------- git
def _git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
    env.update(GIT_AUTHOR_NAME=AUTHOR[0], GIT_AUTHOR_EMAIL=AUTHOR[1], GIT_COMMITTER_NAME=AUTHOR[0],
               GIT_COMMITTER_EMAIL=AUTHOR[1], GIT_AUTHOR_DATE=EXPORT_DATE, GIT_COMMITTER_DATE=EXPORT_DATE)
    env.update(extra or {})
    return env


def _git(repo: Path, *args: str, input: bytes | str | None = None, env: Mapping[str, str] | None = None,
         stdout: Any = None) -> str:
    """Run `git -C repo args`; its stdout (stripped), or a one-line GitError with git's own reason."""
    data = input.encode() if isinstance(input, str) else input
    try:
        r = subprocess.run(["git", "-C", str(repo), *args], check=False, input=data, env=_git_env(env),
                           stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise GitError("git: command not found (classit-eval export needs git on PATH)") from None
    if r.returncode:
        lines = r.stderr.decode(errors="replace").strip().splitlines() or [f"exit status {r.returncode}"]
        reason = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[-1])
        raise GitError(f"git {args[0]} in {repo}: {reason}")
    return "" if r.stdout is None else r.stdout.decode(errors="replace").strip()


def _hash_text(repo: Path, text: str) -> str:
    return _git(repo, "hash-object", "-w", "--no-filters", "--stdin", input=text)


def _write_tree(repo: Path, entries: Sequence[tuple[str, str]]) -> str:
    """A tree of (path, blob) entries, all mode 100644 (through a private index: the repo's is untouched)."""
    index = repo.absolute() / ".git" / "classit-export.index"
    index.unlink(missing_ok=True)
    try:
        env = {"GIT_INDEX_FILE": str(index)}
        _git(repo, "update-index", "-z", "--add", "--index-info",
             input="".join(f"100644 {sha}\t{path}\0" for path, sha in sorted(entries)), env=env)
        return _git(repo, "write-tree", env=env)
    finally:
        index.unlink(missing_ok=True)


def _commit(repo: Path, tree: str, message: str, parent: str | None = None) -> str:
    return _git(repo, "commit-tree", "--no-gpg-sign", tree, *(["-p", parent] if parent else []), "-m", message)


def _sort_key(branch: str) -> tuple[int, float, str]:
    words = checkpoint_words(branch)
    return (0 if branch == MAIN else 1 if words is not None else 2, words or 0, branch)


def branches(repo_dir: str | Path) -> list[str]:
    """The repository's branches: `main`, then the checkpoints by words seen, then any others by name."""
    repo = _check_repo(Path(repo_dir))
    names = _git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/").splitlines()
    return sorted(names, key=_sort_key)


def branch_files(repo_dir: str | Path, branch: str) -> list[str]:
    """The file paths of one branch's tree."""
    out = _git(Path(repo_dir), "ls-tree", "-r", "-z", "--name-only", branch)
    return [p for p in out.split("\0") if p]


def _check_repo(repo: Path) -> Path:
    if not (repo / ".git").is_dir():
        raise DataError(f"{repo}: not an exported repository (no .git folder; run classit-eval export first)")
    return repo


def _materialize(repo: Path, branch: str, dest: Path) -> None:
    """Write one branch's files into `dest` (a checkout that leaves the repository's index and work tree alone)."""
    out = _git(repo, "ls-tree", "-r", "-z", branch)
    for entry in filter(None, out.split("\0")):
        meta, path = entry.split("\t", 1)
        _mode, kind, sha = meta.split()
        if kind != "blob":
            continue
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as f:
            _git(repo, "cat-file", "blob", sha, stdout=f)


# --------------------------------------------------------------------------------------------------- export
def _check_out_dir(out: Path, src: Source, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder")
    protected = [src.final, *(f for _, f in src.checkpoints), *([src.run_dir] if src.run_dir else [])]
    o = out.resolve()
    for p in protected:
        if o == p or o in p.parents or p in o.parents:
            raise DataError(f"{out}: overlaps the model's own folder {p}; choose an output folder outside it")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise DataError(f"{out}: exists and is not empty (give force=True / --force to recreate it)")


def export_model(model_dir: str | Path, out_dir: str | Path, *, card: Mapping[str, Any] | None = None,
                 include_checkpoints: bool = True, force: bool = False) -> Path:
    """Write the model (and, with `include_checkpoints`, each `chck_<N>M` checkpoint) as a git repository in
    `out_dir`, one branch per revision (module docstring); returns `out_dir`.

    Built in a temp folder beside `out_dir` and renamed, so a failed export leaves no half repository and
    `force` replaces an old export only once the new one is complete."""
    src = find_model(model_dir)
    out = Path(out_dir)
    _check_out_dir(out, src, force)
    revisions = [(MAIN, src.final), *(src.checkpoints if include_checkpoints else ())]
    names = [b for b, _ in revisions]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.absolute().with_name(f".{out.name}.tmp-{os.getpid()}")    # absolute: git runs in it (-C)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        _git(tmp, "init", "-q", "--object-format=sha1")
        _git(tmp, "symbolic-ref", "HEAD", f"refs/heads/{MAIN}")
        for k, v in (("user.name", AUTHOR[0]), ("user.email", AUTHOR[1]), ("commit.gpgsign", "false"),
                     ("core.autocrlf", "false"), ("core.looseCompression", "1")):
            _git(tmp, "config", k, v)
        attributes = _hash_text(tmp, GITATTRIBUTES)
        root = _commit(tmp, _write_tree(tmp, [(ATTRIBUTES_NAME, attributes)]), "initial commit")
        for branch, folder in revisions:
            files = _folder_files(folder)
            blobs = _git(tmp, "hash-object", "-w", "--no-filters", "--stdin-paths",
                         input="".join(f"{p}\n" for _, p in files)).splitlines() if files else []
            entries = [(rel, sha) for (rel, _), sha in zip(files, blobs)]
            entries += [(ATTRIBUTES_NAME, attributes), (CARD_NAME, _hash_text(tmp, model_card(src, branch, names,
                                                                                           card)))]
            what = "final model" if branch == MAIN else f"checkpoint {branch}"
            commit = _commit(tmp, _write_tree(tmp, entries), f"classit export: {what}", parent=root)
            _git(tmp, "update-ref", f"refs/heads/{branch}", commit)
        _git(tmp, "reset", "-q", "--hard", MAIN)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return out


# --------------------------------------------------------------------------------------------------- push
def push(out_dir: str | Path, repo_id: str | None = None, *, token: str | None = None, private: bool = True,
         endpoint: str | None = None, remote_url: str | None = None, api: Any = None,
         force: bool = False) -> list[str]:
    """Publish every branch of an export; returns the branches in the order pushed.

    To the Hub (`repo_id`): `create_repo(exist_ok=True)`, then for each branch (`main` first) a checkout of it
    in a temp folder, `create_branch` (not for main) and `upload_folder(revision=branch, delete_patterns="*")`,
    so each remote branch ends up exactly as exported. `api` replaces `huggingface_hub.HfApi(endpoint, token)`
    (tests pass a recorder). With `remote_url`, the branches go to that git remote instead (`git push --all`,
    `--force` with `force`), e.g. a bare repository or a Hub repo's git URL after `git lfs migrate`."""
    repo = _check_repo(Path(out_dir))
    names = branches(repo)
    if remote_url is not None:
        if Path(remote_url).exists():        # a local path is meant from here, not from inside the repository
            remote_url = str(Path(remote_url).absolute())
        _git(repo, "push", "-q", "--all", *(["--force"] if force else []), remote_url)
        return names
    if not repo_id:
        raise ValueError("push: give repo_id (a Hub repository) or remote_url (a git remote)")
    if api is None:
        from huggingface_hub import HfApi
        api = HfApi(endpoint=endpoint, token=token)
    api.create_repo(repo_id, token=token, private=private, exist_ok=True)
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"classit-export-{name}-") as tmp:
            _materialize(repo, name, Path(tmp))
            if name != MAIN:
                api.create_branch(repo_id, branch=name, token=token, exist_ok=True)
            what = "final model" if name == MAIN else f"checkpoint {name}"
            api.upload_folder(repo_id=repo_id, folder_path=tmp, revision=name, token=token,
                              commit_message=f"classit export: {what}", delete_patterns="*")
    return names


# --------------------------------------------------------------------------------------------------- CLI
def add_cli_arguments(p: argparse.ArgumentParser) -> None:
    """`classit-eval export MODEL_DIR OUT_DIR [--push REPO_ID | --remote-url URL] ...`"""
    p.add_argument("model_dir", metavar="MODEL_DIR", help="the model's HF folder (final/) or its run folder")
    p.add_argument("out_dir", metavar="OUT_DIR", help="the git repository to write (absent or empty)")
    p.add_argument("--push", metavar="REPO_ID", default=None, help="upload every branch to this Hub repository")
    p.add_argument("--remote-url", metavar="URL", default=None,
                   help="push the branches to this git remote instead of the Hub (e.g. a bare repository)")
    p.add_argument("--no-checkpoints", dest="checkpoints", action="store_false",
                   help="main only: leave out the chck_<N>M branches")
    p.add_argument("--force", action="store_true", help="recreate OUT_DIR if it exists and is not empty")
    p.add_argument("--results", metavar="DIR", default=None,
                   help="results root (results/<model>/...) to summarize in the model card")
    p.add_argument("--name", default=None, help="model name in the card (default: the study registry's name)")
    p.add_argument("--license", default=None, help=f"card license (default: {CARD_DEFAULTS['license']})")
    p.add_argument("--dataset", action="append", default=None, metavar="ID",
                   help="a training dataset id for the card's front matter (repeatable)")
    p.add_argument("--public", action="store_true", help="create the Hub repository public (default: private)")
    p.add_argument("--endpoint", default=None, help="Hub endpoint (default: huggingface_hub's, or $HF_ENDPOINT)")


def cli_main(args: argparse.Namespace) -> int:
    """Export (and push); prints each branch written. Errors print one line and return 2."""
    card = {k: v for k, v in {"results": args.results, "model": args.name, "license": args.license,
                              "datasets": args.dataset, "repo_id": args.push}.items() if v}
    try:
        out = export_model(args.model_dir, args.out_dir, card=card, include_checkpoints=args.checkpoints,
                           force=args.force)
        names = branches(out)
        print(f"wrote {out}: git repository, {len(names)} branch{'es' if len(names) != 1 else ''}")
        for name in names:
            print(f"  {name:<16} {len(branch_files(out, name))} files")
    except (DataError, GitError, ValueError, OSError) as e:
        print(f"classit-eval: error: {e}", file=sys.stderr)
        return 2
    if args.push or args.remote_url:
        where = args.remote_url or args.push
        try:
            pushed = push(out, args.push, private=not args.public, endpoint=args.endpoint,
                          remote_url=args.remote_url)
        except Exception as e:         # network, auth, remote refusals: the export itself is done and kept
            reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
            print(f"classit-eval: error: push to {where}: {reason} (the export in {out} is complete; rerun "
                  "with --force to push again)", file=sys.stderr)
            return 2
        print(f"pushed {len(pushed)} branches to {where}")
    return 0
