"""Parity of `classit-eval zero-shot` with the official BabyLM 2025 pipeline, item by item, on real data.

    CLASSIT_DATA=../shared/data .venv/bin/python benchmarks/check_official_parity.py \\
        --official /tmp/official --python /tmp/offvenv/bin/python \\
        --models /tmp/models/classit-tiny-base-p0 /tmp/models/gpt2 [--tasks blimp,...] [--limit N] [--out DIR]

- Official side: `babylm/evaluation-pipeline-2025` (a checkout at `--official`, run by `--python`, an
  interpreter with its requirements; same torch/transformers as ours so numbers are comparable), through its
  own entry points (`sentence_zero_shot.run --backend causal --save_predictions`, `reading.run`) with its own
  argument parsing, data reading and model loading. A thin wrapper around its `rank_and_evaluate(_wug)`
  records each item's per-candidate summed log-probs (what it ranks) without changing anything;
  `--no-capture` runs the plain `python -m` entry points instead (to check that the wrapper changes nothing).
- Our side: `classit-eval zero-shot --variant fast` (a subprocess, the CLI as a user runs it); per-candidate
  log-probs from its `items.parquet`.
- Data: `--data` as is (EWoK: `ewok_fast/` is extracted from `ewok.zip` to a temp folder under /tmp for the
  official side only); `--limit N` cuts every data file to its first N lines (the reading CSV: N rows) into a
  temp folder that both sides read. Temp folders are deleted at the end (they may hold EWoK text).
- Compared per predictions.json: the same top-level keys, the same ids in the same order per key, identical
  `pred` strings, numbers (`prob` for WUG, `pred`/`prev_pred` for reading) within `--tol`, NaN where the other
  has NaN; for ranking tasks also the max |delta| of the per-candidate log-probs, and each choice mismatch
  with both sides' margins (a near-tie flipped by float rounding shows as margins of opposite sign near 0).
  The report scores (`best_temperature_report.txt`, `report.txt`) are compared as printed (two decimals).
- Timing: wall seconds of each official run (a process: imports and model loading included) and of our
  tasks (`summary.json` `wall_s`, model loaded once); our reading task is also timed in-process with the
  official rule alone (`get_p2` steps, batched) and with both measures, in items/s.
Prints a table per model and task, writes `<out>/parity.json`, exits 1 on any mismatch.

Two more modes make the test suite's goldens (tests/golden/official/README.md):
- `--make-models DIR`: the two golden models, as tiny fp16-stored HF folders that load as fp32:
  `DIR/project` (the project's trained tiny base, `--project-model`) and `DIR/gpt2` (a seeded random Llama
  with a GPT-2-style byte-level BPE trained here on made-up sentences: no BOS, no prefix space).
- `--golden DIR`: runs both pipelines on the golden selection (`GOLDEN`) instead of `--limit` and writes
  `DIR/<model folder name>/<task>.json`: per official id the official chosen index and numbers.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TOL = 1e-4
EWOK_ZIP, EWOK_PASSWORD = "ewok.zip", b"BabyLM2025"
# our task -> (official --task, fast data folder = the official <dataset>, results folder under causal/)
TASKS = {
    "blimp": ("blimp", "blimp_fast", "blimp/blimp_fast"),
    "supplement": ("blimp", "supplement_fast", "blimp/supplement_fast"),
    "ewok": ("ewok", "ewok_fast", "ewok/ewok_fast"),
    "entity_tracking": ("entity_tracking", "entity_tracking_fast", "entity_tracking/entity_tracking_fast"),
    "wug_adj": ("wug_adj", "wug_adj_nominalization", "wug_adj/wug_adj_nominalization"),
    "reading": (None, "reading", "reading"),
}
READING_CSV = "reading_data.csv"

# The goldens' items: the first `limit` items of each subtask (`limit_per_uid`, the first lines of each
# file for one-subtask files), for the subtasks in `uids` (None: all). Entity tracking's subtasks are its
# numops, so it takes the first 10 items of each numops of `regular.jsonl`.
GOLDEN = {
    "blimp": {"limit": 10, "uids": ["adjunct_island", "anaphor_gender_agreement", "determiner_noun_agreement_2",
                                    "irregular_past_participle_verbs", "wh_questions_subject_gap_long_distance"]},
    "supplement": {"limit": 10, "uids": None},
    "ewok": {"limit": 10, "uids": ["agent-properties", "physical-dynamics", "social-relations", "spatial-relations"]},
    "entity_tracking": {"limit": 10, "uids": None},
    "wug_adj": {"limit": 30, "uids": None},
    "reading": {"limit": 60, "uids": None},
}


# ----------------------------------------------------------------------------------------------- data
def _subtask(task: str, stem: str, rec: dict) -> str:
    """The subtask a record counts under (as `classit_utils.tasks` and the pipeline name it)."""
    return {"blimp": lambda: rec["UID"], "supplement": lambda: stem, "ewok": lambda: rec["Domain"],
            "entity_tracking": lambda: f"{stem}_{rec['numops']}_ops"}.get(task, lambda: task)()


def _cut_lines(task: str, stem: str, lines: list[str], limit: int, uids=None, per_subtask: bool = False) -> list[str]:
    """The first `limit` lines of a file; with `per_subtask` (the golden selection), the first `limit` records
    of each subtask in `uids` (None: every subtask), in file order."""
    if not per_subtask:
        return lines[:limit]
    seen: dict[str, int] = {}
    out = []
    for line in lines:
        uid = _subtask(task, stem, json.loads(line))
        if (uids is None or uid in uids) and seen.get(uid, 0) < limit:
            seen[uid] = seen.get(uid, 0) + 1
            out.append(line)
    return out


def _source_files(data: Path, folder: str) -> list[tuple[str, str]]:
    """(file name, text) of a task's files; EWoK's from inside the password zip, never unpacked here."""
    if folder == "ewok_fast" and (data / EWOK_ZIP).is_file():
        with zipfile.ZipFile(data / EWOK_ZIP) as z:
            names = sorted(n for n in z.namelist() if n.startswith(folder + "/") and n.endswith(".jsonl"))
            return [(Path(n).name, z.open(n, pwd=EWOK_PASSWORD).read().decode("utf-8")) for n in names]
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted((data / folder).glob("*.jsonl"))]


def prepare_data(data: Path, tasks: list[str], tmp: Path, limit: int | None, golden: bool) -> tuple[Path, dict]:
    """(our --data root, official --data_path per task). Without a cut both read `data` (EWoK extracted for
    the official side only); with one, both read the cut copy under `tmp`."""
    cut = limit is not None or golden
    root = tmp / "data" if cut else data
    paths = {}
    for task in tasks:
        folder = TASKS[task][1]
        if task == "reading":
            src = data / folder / READING_CSV
            if cut:
                n = GOLDEN[task]["limit"] if golden else limit
                (root / folder).mkdir(parents=True, exist_ok=True)
                lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
                (root / folder / READING_CSV).write_text("".join(lines[:n + 1]), encoding="utf-8")
            paths[task] = root / folder / READING_CSV
            continue
        if not cut and folder != "ewok_fast":
            paths[task] = data / folder
            continue
        dest = (root if cut else tmp / "official_data") / folder
        dest.mkdir(parents=True, exist_ok=True)
        for name, text in _source_files(data, folder):
            lines = text.splitlines(keepends=True)
            if golden:
                lines = _cut_lines(task, Path(name).stem, lines, GOLDEN[task]["limit"], GOLDEN[task]["uids"], True)
            elif cut:
                lines = _cut_lines(task, Path(name).stem, lines, limit)
            if lines:
                (dest / name).write_text("".join(lines), encoding="utf-8")
        paths[task] = dest
    return root, paths


# ----------------------------------------------------------------------------------------------- runs
# Run by the official interpreter in the checkout: records what `rank_and_evaluate(_wug)` ranks (temperature
# 1, the only one by default), then lets it do its work unchanged.
CAPTURE = r"""
import json, runpy, sys, torch
from evaluation_pipeline.sentence_zero_shot import compute_results as cr
out, seen = [], {}
def wrap(f):
    def inner(args, subset_to_stats, all_log_probs, raw_sentences, labels, metadatas, uids, predictions):
        for temp in subset_to_stats:
            lp = torch.stack(all_log_probs[temp], dim=1)
            for row, idx, uid in zip(lp.tolist(), torch.max(lp, dim=1)[1].tolist(), uids):
                n = seen.get(uid, 0); seen[uid] = n + 1
                out.append({"id": f"{uid}_{n}", "index": idx, "logprobs": row})
            break
        return f(args, subset_to_stats, all_log_probs, raw_sentences, labels, metadatas, uids, predictions)
    return inner
cr.rank_and_evaluate, cr.rank_and_evaluate_wug = wrap(cr.rank_and_evaluate), wrap(cr.rank_and_evaluate_wug)
capture = sys.argv.pop(1)
sys.argv[0] = "run.py"
runpy.run_module("evaluation_pipeline.sentence_zero_shot.run", run_name="__main__", alter_sys=True)
json.dump(out, open(capture, "w"))
"""


def run_official(py: str, checkout: Path, model: Path, task: str, data_path: Path, out: Path,
                 capture: bool) -> dict:
    """One official run in its checkout (its relative paths and imports resolve there); wall seconds."""
    official_task = TASKS[task][0]
    env = {**os.environ, "PYTHONPATH": str(checkout), "WANDB_MODE": "disabled", "TOKENIZERS_PARALLELISM": "false"}
    if task == "reading":
        cmd = [py, "-m", "evaluation_pipeline.reading.run", "--data_path", str(data_path),
               "--model_path_or_name", str(model), "--backend", "causal", "--output_dir", str(out)]
    else:
        flags = ["--data_path", str(data_path), "--task", official_task, "--model_path_or_name", str(model),
                 "--backend", "causal", "--output_dir", str(out), "--save_predictions"]
        cmd = ([py, "-c", CAPTURE, str(_capture_path(out, model, task))] if capture else
               [py, "-m", "evaluation_pipeline.sentence_zero_shot.run"]) + flags
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=checkout, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:   # e.g. a Spearman rho of NaN on a tiny cut: its best-temperature search finds none
        last = [ln for ln in proc.stderr.splitlines() if ln.strip()][-1:] or ["(no message)"]
        return {"wall_s": wall, "error": f"exit {proc.returncode}: {last[0]}"}
    return {"wall_s": wall}


def _capture_path(out: Path, model: Path, task: str) -> Path:
    return out / model.name / f"official_logprobs_{task}.json"


def run_ours(model: Path, data: Path, tasks: list[str], out: Path) -> dict:
    """`classit-eval zero-shot` as a user runs it (all tasks in one process: one model load)."""
    exe = Path(sys.executable).with_name("classit-eval")
    main = "from classit_utils.cli import eval_main; raise SystemExit(eval_main())"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", main]
    cmd += ["zero-shot", "--model", str(model), "--data", str(data), "--tasks", ",".join(tasks), "--variant", "fast",
            "--out", str(out), "--device", "cpu", "--quiet"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"classit-eval failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    summary = json.loads((out / model.name / "main/zero_shot/causal/summary.json").read_text())
    return {"wall_s": wall, "task_wall_s": {t: summary["tasks"][t]["wall_s"] for t in tasks}}


def time_reading(model: Path, data: Path, repeats: int = 3) -> dict:
    """Our reading task in-process: the official rule alone (all rows' `get_p2` steps in one batched call)
    and the task's full scoring (official + spaced measures); best of `repeats`, the two interleaved."""
    from classit_utils.runtime import load_causal_lm
    from classit_utils.scoring import score_encoded
    from classit_utils.tasks import get_task
    from classit_utils.tasks.reading import get_p2_steps
    from classit_utils.zeroshot import load_items
    lm, tok = load_causal_lm(model, "cpu")
    items = load_items("reading", data, "fast")
    n_steps = 0

    def official_rule():
        nonlocal n_steps
        steps = []
        for it in items:
            steps += get_p2_steps(tok, it.meta["official_item"], it.meta["official_word"])
            if it.meta["official_has_prev"]:
                steps += get_p2_steps(tok, it.meta["official_prev_item"], it.meta["official_prev_word"])
        n_steps = len(steps)
        score_encoded(lm, tok, steps, progress=False)

    best = {"official_rule": math.inf, "both_measures": math.inf}
    for _ in range(repeats):
        for name, fn in (("official_rule", official_rule),
                         ("both_measures", lambda: get_task("reading").score(lm, tok, items, progress=False))):
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return {"rows": len(items), "steps": n_steps, "official_rule_s": best["official_rule"],
            "official_rule_items_per_s": len(items) / best["official_rule"], "both_measures_s": best["both_measures"],
            "both_measures_items_per_s": len(items) / best["both_measures"]}


# ----------------------------------------------------------------------------------------------- compare
def _num_close(a, b, tol: float) -> tuple[bool, float]:
    """(equal within tol or both NaN, |a - b| or 0)."""
    fa = float("nan") if a is None else float(a)
    fb = float("nan") if b is None else float(b)
    if math.isnan(fa) or math.isnan(fb):
        return math.isnan(fa) and math.isnan(fb), 0.0
    return abs(fa - fb) <= tol, abs(fa - fb)


def lp_tol(official: float, tol: float = TOL) -> float:
    """Tolerance for a summed log-prob: `tol`, or 1e-6 relative where that is larger. The official sums are
    float32 (`torch.sum` of float32 log-probs): one ulp is 3.1e-5 at |x| >= 256 and 6.1e-5 at |x| >= 512, and
    a sum of tens of terms carries several, so a long sentence's official value alone can be 1e-4 off."""
    return max(tol, 1e-6 * abs(official))


def parse_report(text: str) -> dict[str, dict[str, float]]:
    """Report sections as {section: {key: value}}; reading's two lines go under "SCORE"."""
    out: dict[str, dict[str, float]] = {}
    section = None
    for line in text.splitlines():
        if m := re.fullmatch(r"(EYE TRACKING|SELF-PACED READING) SCORE: (\S+)", line):
            out.setdefault("SCORE", {})[m[1]] = float(m[2])
        elif line.startswith("### "):
            section = line[4:]
        elif section and line.strip():
            key, _, val = line.rpartition(": ")
            out.setdefault(section, {})[key or "value"] = float(val)
    return out


def report_score(sections: dict[str, dict[str, float]]) -> str:
    if "SCORE" in sections:
        return " / ".join(f"{v:.2f}" for v in sections["SCORE"].values())
    avg = next((v for k, v in sections.items() if k.startswith("AVERAGE")), {})
    return f"{avg.get('value', float('nan')):.2f}"


def our_logprobs(parquet: Path) -> dict[str, list[float]]:
    """Per official-style id (`<uid>_<n>` in item order), our candidates' summed log-probs."""
    import pandas as pd
    df = pd.read_parquet(parquet, columns=["uid", "logprobs"])
    seen: dict[str, int] = {}
    out = {}
    for uid, lps in zip(df["uid"], df["logprobs"]):
        n = seen.get(uid, 0)
        seen[uid] = n + 1
        out[f"{uid}_{n}"] = [float(x) for x in lps]
    return out


def compare_task(task: str, off_dir: Path, our_dir: Path, capture: Path | None, tol: float) -> dict:
    """Every item of one task's predictions.json, both sides; see the module docstring."""
    off = json.loads((off_dir / "predictions.json").read_text())
    ours = json.loads((our_dir / "predictions.json").read_text())
    problems: list[str] = []
    if set(off) != set(ours):
        problems.append(f"top-level keys differ: official only {sorted(set(off) - set(ours))}, "
                        f"ours only {sorted(set(ours) - set(off))}")
    n = mism = 0
    max_num = 0.0
    mismatches = []
    off_lp = {r["id"]: r for r in json.loads(capture.read_text())} if capture and capture.is_file() else {}
    our_lp = our_logprobs(our_dir / "items.parquet") if task != "reading" else {}
    for key in sorted(set(off) & set(ours)):
        a, b = off[key]["predictions"], ours[key]["predictions"]
        if [p["id"] for p in a] != [p["id"] for p in b]:
            problems.append(f"{key}: ids differ (official {len(a)}, ours {len(b)} items)")
            continue
        for pa, pb in zip(a, b):
            n += 1
            if task == "reading":
                for k in ("pred", "prev_pred"):
                    ok, d = _num_close(pa[k], pb[k], tol)
                    max_num = max(max_num, d)
                    if not ok:
                        mism += 1
                        mismatches.append({"id": pa["id"], "field": k, "official": pa[k], "ours": pb[k]})
                continue
            if task == "wug_adj":
                ok, d = _num_close(pa["prob"], pb["prob"], tol)
                max_num = max(max_num, d)
                if not ok:
                    problems.append(f"{pa['id']}: prob {pa['prob']} vs {pb['prob']}")
            if pa["pred"] != pb["pred"]:
                mism += 1
                o, u = off_lp.get(pa["id"], {}).get("logprobs"), our_lp.get(pa["id"])
                mismatches.append({"id": pa["id"], "official_logprobs": o, "our_logprobs": u,
                                   "official_index": off_lp.get(pa["id"], {}).get("index"),
                                   "official_margin": (o[0] - max(o[1:])) if o else None,
                                   "our_margin": (u[0] - max(u[1:])) if u else None})
    max_lp = None
    if off_lp and our_lp:
        common = set(off_lp) & set(our_lp)
        if len(common) != len(off_lp) or len(common) != len(our_lp):
            problems.append(f"log-prob ids differ ({len(off_lp)} official, {len(our_lp)} ours)")
        pairs = [(x, y) for i in common for x, y in zip(off_lp[i]["logprobs"], our_lp[i])]
        max_lp = max((abs(x - y) for x, y in pairs), default=0.0)
        worst = max(pairs, key=lambda p: abs(p[0] - p[1]) - lp_tol(p[0], tol), default=None)
        if worst and abs(worst[0] - worst[1]) > lp_tol(worst[0], tol):
            problems.append(f"candidate log-probs differ beyond float32 rounding: {worst[0]} vs {worst[1]}")
    report = "report.txt" if task == "reading" else "best_temperature_report.txt"
    off_rep, our_rep = (parse_report((d / report).read_text()) for d in (off_dir, our_dir))
    rep_diff = [f"{s}/{k}: {v} vs {our_rep.get(s, {}).get(k)}" for s, kv in off_rep.items() for k, v in kv.items()
                if our_rep.get(s, {}).get(k) != v]
    rep_diff += [f"{s}/{k}: only ours" for s, kv in our_rep.items() for k in kv if k not in off_rep.get(s, {})]
    return {"task": task, "items": n, "choice_mismatches": mism if task != "reading" else None,
            "number_mismatches": mism if task == "reading" else None,
            "max_abs_delta_numbers": max_num if task in ("reading", "wug_adj") else None,
            "max_abs_delta_logprobs": max_lp, "official_score": report_score(off_rep),
            "our_score": report_score(our_rep), "report_differences": rep_diff,
            "key_order_equal": list(off) == list(ours), "problems": problems, "mismatches": mismatches,
            "ok": not problems and not mism and not rep_diff}


# ----------------------------------------------------------------------------------------------- goldens
def write_goldens(golden_dir: Path, model: Path, tasks: list[str], off_root: Path, commit: str) -> None:
    """Per task, the official chosen index and numbers for every item of the golden selection (no text)."""
    dest = golden_dir / model.name
    dest.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        base = off_root / model.name / "main/zero_shot/causal" / TASKS[task][2]
        preds = json.loads((base / "predictions.json").read_text())
        items: dict[str, dict] = {}
        if task == "reading":
            for p in preds["reading"]["predictions"]:
                items[str(p["id"])] = {k: (None if math.isnan(p[k]) else p[k]) for k in ("pred", "prev_pred")}
        else:
            cap = {r["id"]: r for r in json.loads(_capture_path(off_root, model, task).read_text())}
            for key in preds:
                for p in preds[key]["predictions"]:
                    c = cap[p["id"]]
                    items[p["id"]] = {"index": c["index"], "logprobs": c["logprobs"],
                                      **({"prob": p["prob"]} if "prob" in p else {})}
        doc = {"official": f"babylm/evaluation-pipeline-2025 @ {commit}", "task": task, "dataset": TASKS[task][1],
               "selection": GOLDEN[task], "items": items}
        (dest / f"{task}.json").write_text(json.dumps(doc, indent=1) + "\n")


# Made-up sentences for the GPT-2-style tokenizer (the style of tests/conftest.py TINY_TEXT; no data text).
_SUBJECTS = ["the cat", "a dog", "the small bird", "my sister", "the old man", "a little girl", "the farmer",
             "our teacher", "the baby", "a brown horse", "the children", "my friend", "the tall boy", "a green frog",
             "the sleepy fox", "grandma", "the happy clown", "a busy bee", "the red hen", "her brother", "Tom", "Anna",
             "uncle Peter", "the doctor", "a hungry bear", "the baker", "little Sam", "the puppy", "a clever mouse",
             "the pilot", "aunt Rosa", "the sailor", "a quiet owl", "the twins", "Max", "Lily", "the policeman",
             "a funny monkey", "the gardener", "my cousin"]
_VERBS = ["sees", "finds", "likes", "carries", "paints", "holds", "wants", "throws", "drops", "washes", "builds",
          "draws", "reads", "hides", "kicks", "pulls", "pushes", "opens", "closes", "brings", "catches", "cleans",
          "fixes", "counts", "borrows", "chooses", "touches", "watches", "follows", "remembers", "forgets", "shares",
          "sells", "buys", "wraps", "cuts", "fills", "empties", "lifts", "keeps"]
_ADJECTIVES = ["red", "blue", "yellow", "green", "purple", "orange", "shiny", "wooden", "heavy", "light", "tiny",
               "huge", "soft", "warm", "cold", "round", "square", "striped", "dirty", "clean", "broken", "new",
               "old", "funny", "strange", "pretty", "noisy", "quiet", "sticky", "golden", "silver", "muddy", "fluffy",
               "spotted", "crooked", "bright", "gentle", "smooth", "wrinkled", "plastic"]
_NOUNS = ["ball", "book", "cup", "blanket", "box", "kite", "apple", "coin", "hat", "boat", "rope", "gate", "stone",
          "picture", "shoe", "window", "cake", "chair", "basket", "spoon", "pencil", "bottle", "ladder", "drum",
          "banana", "bucket", "sweater", "umbrella", "teapot", "puzzle", "feather", "carrot", "lamp", "mirror",
          "jacket", "whistle", "sandwich", "pillow", "wagon", "balloon", "envelope", "hammer", "necklace", "scarf",
          "crayon", "rabbit", "turtle", "penguin", "tractor", "bicycle", "helmet", "marble", "candle", "compass",
          "lantern", "pumpkin", "ribbon", "saucer", "trumpet", "violin", "zipper", "cushion", "kettle", "biscuit"]
_PLACES = ["in the park", "under the bed", "near the river", "on the table", "at school", "by the door",
           "in the kitchen", "behind the tree", "on the hill", "at the market", "in the garden", "under the bridge",
           "next to the barn", "inside the tent", "on the beach", "in the forest", "at the zoo", "near the lake",
           "in the library", "on the roof"]
_TIMES = ["in the morning", "after lunch", "every day", "at night", "on sunday", "before dinner", "in winter",
          "during the storm", "yesterday", "tomorrow", "on monday", "in the afternoon"]


def gpt2_sentences(n: int = 600, seed: int = 0) -> list[str]:
    """`n` seeded template sentences: statements, questions, short dialogues and box contents, punctuated."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        s, v = rng.choice(_SUBJECTS), rng.choice(_VERBS)
        o = f"{rng.choice(['the', 'a', 'my', 'her', 'his', 'our'])} {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
        p, t = rng.choice(_PLACES), rng.choice(_TIMES)
        form = i % 6
        if form == 0:
            out.append(f"{s.capitalize()} {v} {o} {p}.")
        elif form == 1:
            out.append(f"{t.capitalize()}, {s} {v} {o}.")
        elif form == 2:
            out.append(f"Where is {o}? It is {p}.")
        elif form == 3:
            out.append(f"Does {s} see {o}? Yes, {s} {v} it {t}!")
        elif form == 4:
            out.append(f"Box {rng.randint(0, 9)} contains the {rng.choice(_NOUNS)} and the {rng.choice(_NOUNS)}.")
        else:
            out.append(f"{s.capitalize()} said that {rng.choice(_SUBJECTS)} {v} {o} {p} {t}.")
    return out


def make_gpt2(dest: Path, vocab: int = 1000, seed: int = 0) -> None:
    """A random 2-layer, 64-wide Llama (seed `seed`, weights ~N(0, 0.08): log-probs that differ clearly between
    candidates) with a GPT-2-style tokenizer: byte-level BPE, no BOS added, no prefix space, offsets kept
    untrimmed (GPT-2's post-processor), BOS = EOS = <|endoftext|>, no pad token (the pipeline sets pad = EOS)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    eot = "<|endoftext|>"
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    t.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=[eot], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    t.train_from_iterator(gpt2_sentences(), trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=t, bos_token=eot, eos_token=eot, model_max_length=1024,
                                  clean_up_tokenization_spaces=False)
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=1024,
                      tie_word_embeddings=True, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                      pad_token_id=None)
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0, 0.08)
    save_small(model, tok, dest)


def save_small(model, tok, dest: Path) -> None:
    """Weights stored in fp16 (half the bytes) with `dtype: float32` in the config, so every loader (ours, the
    pipeline's plain `from_pretrained`) computes in fp32 on the fp16-rounded weights."""
    import torch
    dest.mkdir(parents=True, exist_ok=True)
    model.to(torch.float16).save_pretrained(dest)
    cfg = json.loads((dest / "config.json").read_text())
    cfg["dtype"] = "float32"
    (dest / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    tok.save_pretrained(dest)
    model.to(torch.float32)


def make_models(dest: Path, project_model: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer
    save_small(AutoModelForCausalLM.from_pretrained(project_model), AutoTokenizer.from_pretrained(project_model),
               dest / "project")
    make_gpt2(dest / "gpt2")
    for d in ("project", "gpt2"):
        size = sum(f.stat().st_size for f in (dest / d).iterdir())
        print(f"{dest / d}: {size / 1024:.0f} KB")


# ----------------------------------------------------------------------------------------------- main
def _fmt(x, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def print_table(model: str, rows: list[dict], timings: dict) -> None:
    print(f"\n## {model}")
    print("| task | items | choice mismatches | number mismatches | max abs d numbers | max abs d log-probs "
          "| official score | our score | official s | ours s | ok |\n|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        t = timings[r["task"]]
        print(f"| {r['task']} | {r['items']} | {_fmt(r['choice_mismatches'], 'd')} | "
              f"{_fmt(r['number_mismatches'], 'd')} | {_fmt(r['max_abs_delta_numbers'], '.1e')} | "
              f"{_fmt(r['max_abs_delta_logprobs'], '.1e')} | {r['official_score']} | {r['our_score']} | "
              f"{t['official_s']:.1f} | {t['ours_s']:.1f} | {'yes' if r['ok'] else 'NO'} |")
    for r in rows:
        for p in r["problems"] + r["report_differences"]:
            print(f"  {r['task']}: {p}")
        for m in r["mismatches"][:20]:
            print(f"  {r['task']}: mismatch {json.dumps(m)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--official", type=Path, help="checkout of babylm/evaluation-pipeline-2025")
    ap.add_argument("--python", default=None, help="interpreter with the official requirements")
    ap.add_argument("--data", type=Path, default=os.environ.get("CLASSIT_DATA", "../shared/data"))
    ap.add_argument("--models", type=Path, nargs="+", default=[], help="HF model folders")
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--limit", type=int, default=None, help="cut every data file to its first N lines")
    ap.add_argument("--out", type=Path, default=Path("/tmp/classit-parity"))
    ap.add_argument("--tol", type=float, default=TOL)
    ap.add_argument("--no-capture", dest="capture", action="store_false",
                    help="plain official entry points (no per-candidate log-probs)")
    ap.add_argument("--no-reading-timing", dest="reading_timing", action="store_false")
    ap.add_argument("--golden", type=Path, default=None, help="write goldens for the golden selection here")
    ap.add_argument("--make-models", type=Path, default=None, help="write the two golden models here and exit")
    ap.add_argument("--project-model", type=Path, default=REPO / "runs/demo/models/classit-tiny-base-p0")
    args = ap.parse_args()
    if args.make_models:
        make_models(args.make_models, args.project_model)
        return 0
    if not (args.official and args.python and args.models):
        ap.error("--official, --python and --models are required")
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        ap.error(f"unknown task(s) {unknown} (known: {', '.join(TASKS)})")
    if args.golden and args.limit is not None:
        ap.error("--golden uses its own selection; drop --limit")
    commit = subprocess.run(["git", "-C", str(args.official), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=False).stdout.strip() or "unknown"
    args.out.mkdir(parents=True, exist_ok=True)
    result = {"official_commit": commit, "data": str(args.data), "limit": args.limit,
              "golden": str(args.golden) if args.golden else None, "tasks": tasks, "models": {}}
    ok = True
    with tempfile.TemporaryDirectory(prefix="classit-parity-", dir="/tmp") as tmp:
        our_data, off_paths = prepare_data(args.data, tasks, Path(tmp), args.limit, args.golden is not None)
        for model in (m.resolve() for m in args.models):
            off_root, our_root = args.out / "official", args.out / "ours"
            for root in (off_root, our_root):
                shutil.rmtree(root / model.name, ignore_errors=True)
                (root / model.name).mkdir(parents=True)
            timings = {t: {} for t in tasks}
            errors = {}
            for task in tasks:
                run = run_official(args.python, args.official, model, task, off_paths[task], off_root, args.capture)
                timings[task]["official_s"] = run["wall_s"]
                if "error" in run:
                    errors[task] = run["error"]
                print(f"{model.name}/{task}: official {run['wall_s']:.1f} s {run.get('error', '')}", flush=True)
            ours = run_ours(model, our_data, tasks, our_root)
            for task in tasks:
                timings[task]["ours_s"] = ours["task_wall_s"][task]
            rows = []
            for task in tasks:
                sub = f"main/zero_shot/causal/{TASKS[task][2]}"
                cap = _capture_path(off_root, model, task) if args.capture else None
                if task in errors:
                    rows.append({"task": task, "items": 0, "choice_mismatches": None, "number_mismatches": None,
                                 "max_abs_delta_numbers": None, "max_abs_delta_logprobs": None, "official_score": "-",
                                 "our_score": "-", "report_differences": [], "mismatches": [], "ok": False,
                                 "problems": [f"the official run failed: {errors[task]}"]})
                    continue
                rows.append(compare_task(task, off_root / model.name / sub, our_root / model.name / sub, cap, args.tol))
            entry = {"rows": rows, "timings": timings, "ours_process_wall_s": ours["wall_s"]}
            if "reading" in tasks and args.reading_timing:
                entry["reading_timing"] = time_reading(model, our_data)
            print_table(model.name, rows, timings)
            print(f"ours: one classit-eval process {ours['wall_s']:.1f} s (model load and imports included)")
            if "reading_timing" in entry:
                rt = entry["reading_timing"]
                print(f"our reading, in-process: official rule {rt['official_rule_s']:.2f} s "
                      f"({rt['official_rule_items_per_s']:.0f} rows/s, {rt['steps']} get_p2 steps); both measures "
                      f"{rt['both_measures_s']:.2f} s ({rt['both_measures_items_per_s']:.0f} rows/s)")
            result["models"][model.name] = entry
            ok &= all(r["ok"] for r in rows)
            if args.golden:
                write_goldens(args.golden, model, tasks, off_root, commit)
    result["ok"] = ok
    (args.out / "parity.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"\n{'all equal' if ok else 'MISMATCHES'}; written {args.out / 'parity.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
