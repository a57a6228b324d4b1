"""Cost of the paper profile, stage by stage: the work (tokens, FLOPs) from the real data sizes and
`params/paper.yaml`, and the GPU-hours and wall-clock time on 1, 8 and 32 GPUs.

Every input carries a label saying where it comes from, printed under the table:
[config] params/paper.yaml; [data] counted in the real files ($CLASSIT_DATA); [run] a run folder's
metrics; [cited] a published figure; [measured] the latest "GPU check" block of benchmarks/RESULTS.md
(`gpu_check.sh` writes it); [assumed] a guess, to be replaced by a measurement.

- Pretraining: (budget words - IT words) x tokens/word x epochs, per size; FLOPs `flops_per_token`.
- Instruction tuning: IT words per curriculum phase x tokens/word x epochs (chat-template tokens and padding
  not counted).
- Zero-shot: items (`tasks.OFFICIAL_SIZES`) x tokens per item (counted in the files: distinct contexts once,
  as the trie scorer runs them, plus every continuation) x models, forward only.
- Fine-tuning: per (model, task, seed) job, each selection of `finetune.config.selections` trains separately
  (`finetune.run_finetune`): train examples x epochs forward+backward, plus the selection split forward
  every epoch; tokens per example counted in the files (backbone FLOPs: no LM head).
- Time: measured throughput where RESULTS.md has a GPU check, else an assumed MFU. Training runs are
  data-parallel over the GPUs (assumed scaling efficiency); evaluation and fine-tuning jobs are independent,
  packed longest first (LPT) on the GPUs, which is ceil(jobs / GPUs) x job time for equal jobs.

    .venv/bin/python benchmarks/paper_cost.py [--json cost.json] [--data DIR] [--tokens-per-word 1.3]
"""
from __future__ import annotations

import argparse
import heapq
import json
import os
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classit_utils.config import REPO_ROOT, ModelConfig, StudyConfig, load_config  # noqa: E402
from classit_utils.errors import DataError, MissingData  # noqa: E402
from classit_utils.glue import GLUE_TASKS, load_split  # noqa: E402
from classit_utils.modeling import flops_per_token  # noqa: E402
from classit_utils.results import BASE  # noqa: E402
from classit_utils.train import PEAK_FLOPS  # noqa: E402

RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"
GPU_HEADING = re.compile(r"^#+\s*GPU check \((?P<what>[^)]*)\)", re.M)   # "## GPU check (<GPU>, <date>)"
GPU_COUNTS = (1, 8, 32)

PAPER_IT_WORDS = 8_700_000             # the paper's IT sets (notebooks/00_data: ~91M + 8.7M within 100M)
# Train sizes absent from GLUE_TASKS (no train file in $CLASSIT_DATA): SuperGLUE (Wang et al. 2019), BoolQ
# 9,427 (Table 1); MultiRC 27,243 answer-option rows of the `super_glue` release (5,100 questions in Table 1).
CITED_TRAIN = {"boolq": 9_427, "multirc": 27_243}
CITED_TRAIN_BYTES = {"boolq": 6_541_468, "multirc": 48_751_935}   # official file sizes (data README)
ASSUMED = {
    "gpu": "H200",                      # the kind this workplace lends; peaks from train.PEAK_FLOPS
    "fp32_peak": 67e12,                 # H100/H200 SXM FP32 (no tensor cores; NVIDIA datasheet)
    "mfu_train": 0.35,                  # pretraining and IT, bf16 (bench_train target: 40% with compile)
    "mfu_finetune": 0.20,               # batch 32 x ~100 tokens, an evaluation every epoch
    "mfu_score_fp32": 0.30,             # of the FP32 peak (evaluation.bf16 false: exact fp32 scores)
    "mfu_score_bf16": 0.15,             # of the bf16 peak
    "dp_efficiency": {1: 1.0, 8: 0.90, 32: 0.70},   # 8: one NVLink node; 32: 4 nodes, 4 sequences per GPU
    "conv_share": 0.5,                  # conv words / IT words (only the per-curriculum rows depend on it)
    "words_per_item": 20,               # zero-shot tasks whose files are absent (COMPS, WUG past tense)
    "pad_tokens": 3.5,                  # fine-tuning: mean padding to a multiple of 8
}


class Labels:
    """The sources of the numbers, printed under the table (one line per input)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, str]] = []

    def add(self, label: str, what: str, value: Any) -> Any:
        self.lines.append((label, what, value if isinstance(value, str) else _fmt(value)))
        return value


def _fmt(v: Any) -> str:
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.4g}"
    if isinstance(v, (int, float)):
        return f"{int(v):,}"
    return str(v)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--params", default="params/paper.yaml")
    p.add_argument("--data", type=Path, default=Path(os.environ.get("CLASSIT_DATA", REPO_ROOT.parent / "shared/data")))
    p.add_argument("--results", type=Path, default=RESULTS_MD, help="where to look for a GPU check block")
    p.add_argument("--tokens-per-word", type=float, help="override the measured/assumed fertility")
    p.add_argument("--json", type=Path, help="also write everything here")
    return p.parse_args(argv)


# --------------------------------------------------------------------------- inputs
def tokens_per_word(labels: Labels, override: float | None) -> float:
    """Tokens per pretraining word as packed (BOS/EOS included), from a run's 00_data metrics: the small
    profile's (real BabyLM samples) before the demo's (generated text)."""
    if override:
        return labels.add("[given]", "tokens per word (--tokens-per-word)", override)
    for profile in ("small", "demo", *sorted(p.name for p in (REPO_ROOT / "runs").glob("*"))):
        path = REPO_ROOT / "runs" / profile / "00_data" / "metrics.json"
        if not path.is_file():
            continue
        rec = json.loads(path.read_text())
        m = rec.get("metrics", {})
        tokens = sum(m.get("shards", {}).get("n_tokens", {}).values())
        words = m.get("pretraining_words")
        if tokens and words:
            vocab = m.get("vocab_size")
            note = "" if vocab == 16_000 else f"; its vocabulary is {vocab:,}, so for 16k tokens this overestimates"
            return labels.add("[run]", f"tokens per word, runs/{profile}/00_data/metrics.json (shard tokens / "
                              f"pretraining words{note})", round(tokens / words, 4))
    return labels.add("[assumed]", "tokens per word (no run metrics found)", 1.3)


def measured_gpu(path: Path) -> dict | None:
    """The JSON block under the last "GPU check (...)" heading of RESULTS.md (None: not measured)."""
    if not path.is_file():
        return None
    text = path.read_text()
    found = None
    for m in GPU_HEADING.finditer(text):
        nxt = GPU_HEADING.search(text, m.end())
        body = text[m.end(): nxt.start() if nxt else len(text)]
        block = re.search(r"```json\n(.*?)\n```", body, re.S)
        if block:
            try:
                rec = json.loads(block.group(1))
            except json.JSONDecodeError:
                continue
            if rec.get("gpu_check"):
                found = rec
    return found


def model_cfg(cfg: StudyConfig, size: str) -> ModelConfig:
    return ModelConfig.for_size(size, cfg.pretrain.model, cfg.tokenizer.vocab_size)


def fwd_flops(mc: ModelConfig, seq: float, lm_head: bool = True) -> float:
    """Forward FLOPs per token: a third of `flops_per_token`; without the LM head for the classifiers."""
    f = flops_per_token(mc, max(1, round(seq))) / 3
    return f - (0 if lm_head else 2.0 * mc.padded_vocab_size * mc.hidden_size)


def zero_shot_items(cfg: StudyConfig, data: Path, tpw: float, labels: Labels) -> dict[str, dict]:
    """Per task of the evaluation rules: official items and tokens per item (counted, or assumed if absent)."""
    from classit_utils.tasks import OFFICIAL_SIZES, RULE_TASKS, get_task
    variant, out = cfg.evaluation.variant, {}
    for name in RULE_TASKS[cfg.evaluation.rules]:
        sizes = OFFICIAL_SIZES[name][variant]
        n = sum(sizes.values()) if isinstance(sizes, dict) else int(sizes)
        try:
            items = get_task(name).load(data, variant)
            words = sum(sum(len(c.split()) for c in set(it.contexts)) + sum(len(k.split()) for k in it.continuations)
                        for it in items)
            seqs = sum(len(set(it.contexts)) for it in items)
            per_item = (words * tpw + seqs) / len(items)          # + one BOS per distinct context
            src = "[data]"
        except (MissingData, DataError, OSError) as e:            # absent folder (COMPS, WUG past tense here)
            per_item = ASSUMED["words_per_item"] * tpw + 2
            src = "[assumed]"
            labels.add("[assumed]", f"zero-shot {name}: {ASSUMED['words_per_item']} words per item "
                       f"({type(e).__name__}: {str(e)[:60]})", per_item)
        out[name] = {"items": n, "tokens_per_item": per_item, "source": src}
    other = "fast" if variant == "full" else "full"
    n_other = sum(sum(s.values()) if isinstance(s, dict) else int(s)
                  for s in (OFFICIAL_SIZES[name][other] for name in RULE_TASKS[cfg.evaluation.rules]))
    labels.add("[data]", f"zero-shot items: tasks.OFFICIAL_SIZES ({variant}; the {other} variant has {n_other:,}); "
               f"tokens per item counted in {data} (distinct contexts once)", sum(t["items"] for t in out.values()))
    return out


def finetune_tasks(cfg: StudyConfig, data: Path, tpw: float, labels: Labels) -> dict[str, dict]:
    """Per task: train/valid sizes and mean tokens per example (words x tpw + 3 specials + padding, cut at
    max_length), counted in the files; BoolQ and MultiRC train from the cited sizes and their valid texts."""
    ft, out = cfg.finetune.config, {}
    cap = min(ft.max_length, cfg.pretrain.model.max_position_embeddings)

    def mean_tokens(split: str, name: str) -> float:
        ex = load_split(data, name, split)
        toks = [min(cap, len((e.text_a + " " + (e.text_b or "")).split()) * tpw + 3) for e in ex]
        return sum(toks) / len(toks) + ASSUMED["pad_tokens"]

    for name in cfg.finetune.tasks:
        t = GLUE_TASKS[name]
        valid_tok = mean_tokens("valid", name)
        if t.train_size is not None:
            n_train, train_tok = t.train_size, mean_tokens("train", name)
        else:
            n_train, train_tok = CITED_TRAIN[name], valid_tok
            per_rec = (data / "glue_filtered" / f"{name}.valid.jsonl").stat().st_size / t.valid_size
            labels.add("[cited]", f"{name} train examples: SuperGLUE (Wang et al. 2019); the official file "
                       f"({CITED_TRAIN_BYTES[name]:,} B) at the valid file's {per_rec:,.0f} B per record holds "
                       f"~{CITED_TRAIN_BYTES[name] / per_rec:,.0f}; tokens per example from valid", n_train)
        out[name] = {"train": n_train, "valid": t.valid_size, "epochs": ft.epochs_for(t),
                     "train_tokens": train_tok, "valid_tokens": valid_tok}
    labels.add("[data]", "fine-tuning train/valid sizes: glue.GLUE_TASKS (the files' counts); tokens per example "
               f"counted (+{ASSUMED['pad_tokens']} [assumed] padding)", sum(v["train"] for v in out.values()))
    return out


# --------------------------------------------------------------------------- rates
class Rates:
    """Per-GPU throughput of each kind of work, from the GPU check when there is one, else assumed MFU."""

    def __init__(self, cfg: StudyConfig, gpu: dict | None, labels: Labels):
        self.cfg, self.gpu, self.labels = cfg, gpu, labels
        self.peak = next(p for frag, prec, p in PEAK_FLOPS if frag == ASSUMED["gpu"] and prec == "bf16")
        self.basis: dict[str, str] = {}

    def train(self, size: str, compile_: bool, stage: str) -> float:
        """Training tokens/s at the pretraining block length."""
        mode = "compile" if compile_ else "eager"
        rec = ((self.gpu or {}).get("train", {}).get(size, {}) or {}).get(mode) or {}
        if rec.get("ours_tokens_per_s"):
            self.basis[stage] = f"measured ({self.gpu.get('device')}, {mode})"
            return self.labels.add("[measured]", f"{stage} {size}: training tokens/s ({mode}, GPU check)",
                                   float(rec["ours_tokens_per_s"]))
        mc = model_cfg(self.cfg, size)
        self.basis[stage] = f"assumed MFU {ASSUMED['mfu_train']:.0%}"
        return ASSUMED["mfu_train"] * self.peak / flops_per_token(mc, self.cfg.tokenizer.block_size)

    def score_flops(self) -> float:
        """Achieved forward FLOP/s of the scorer (measured at 100m, the same FLOP/s taken for 140m)."""
        prec = "bf16" if self.cfg.evaluation.bf16 else "fp32"
        rec = ((self.gpu or {}).get("scoring") or {}).get(prec) or {}
        if rec.get("tokens_per_s"):
            sc = self.gpu["scoring"]
            mc = model_cfg(self.cfg, sc.get("size") or "100m")
            self.basis["zero-shot"] = f"measured ({self.gpu.get('device')}, {prec}, BLiMP fast)"
            fs = float(rec["tokens_per_s"]) * fwd_flops(mc, sc.get("mean_tokens", 24))
            self.labels.add("[measured]", f"zero-shot: scorer TFLOP/s ({prec}, GPU check: BLiMP tokens/s x forward "
                            "FLOPs; the same FLOP/s taken for every size and task)", round(fs / 1e12, 1))
            return fs
        mfu = ASSUMED[f"mfu_score_{prec}"]
        peak = ASSUMED["fp32_peak"] if prec == "fp32" else self.peak
        self.basis["zero-shot"] = f"assumed {mfu:.0%} of the {prec} peak"
        return mfu * peak

    def finetune_flops(self) -> float:
        """Achieved fine-tuning FLOP/s (training; the evaluations taken at the same FLOP/s)."""
        gpu = self.gpu or {}
        key = "finetune_compile" if self.cfg.finetune.config.compile and gpu.get("finetune_compile") else "finetune"
        rec = gpu.get(key) or {}
        if rec.get("ours_tokens_per_s"):
            mc = model_cfg(self.cfg, rec.get("size") or "100m")
            mode = "compile" if rec.get("compile") else "eager"
            self.basis["fine-tuning"] = f"measured ({gpu.get('device')}, RTE, {mode})"
            fs = float(rec["ours_tokens_per_s"]) * 3 * fwd_flops(mc, rec.get("mean_tokens", 80), lm_head=False)
            self.labels.add("[measured]", f"fine-tuning TFLOP/s (GPU check, {mode}: RTE tokens/s x 3 x forward "
                            "FLOPs; evaluations and every task and size taken at the same FLOP/s)", round(fs / 1e12, 1))
            return fs
        self.basis["fine-tuning"] = f"assumed MFU {ASSUMED['mfu_finetune']:.0%}"
        return ASSUMED["mfu_finetune"] * self.peak


def lpt_makespan(durations: list[float], gpus: int) -> float:
    """Longest-processing-time-first list scheduling of independent jobs on `gpus` GPUs."""
    loads = [0.0] * min(gpus, max(1, len(durations)))
    for d in sorted(durations, reverse=True):
        heapq.heapreplace(loads, loads[0] + d)
    return max(loads)


# --------------------------------------------------------------------------- the stages
def cost(args) -> dict:
    os.environ.setdefault("CLASSIT_DATA", str(args.data))
    cfg = load_config(args.params, check_paths=False)
    labels = Labels()
    tpw = tokens_per_word(labels, args.tokens_per_word)
    gpu = measured_gpu(args.results)
    rates = Rates(cfg, gpu, labels)
    sizes = list(cfg.pretrain.sizes)
    n_pre, n_tune = len(cfg.pretrain.run_seeds), len(cfg.tuning.run_seeds)
    models = [(s, c) for s in sizes for _p in range(n_pre)
              for c in (BASE, *(c for c in cfg.tuning.curricula for _t in range(n_tune)))]
    eff = ASSUMED["dp_efficiency"]
    labels.add("[config]", f"models: {len(sizes)} sizes x {n_pre} pretraining seeds x (base + "
               f"{len(cfg.tuning.curricula)} curricula x {n_tune} tuning seeds)", len(models))
    stages: list[dict] = []

    # pretraining
    it_words = labels.add("[paper]", "IT words (the paper's IT sets; notebooks/00_data: ~91M + 8.7M within 100M)",
                          PAPER_IT_WORDS)
    pt_words = labels.add("[config]", "pretraining words = corpus.budget_words - IT words",
                          cfg.corpus.budget_words - it_words)
    tr = cfg.pretrain.train
    block = cfg.tokenizer.block_size
    per_step = tr.micro_batch_size * tr.grad_accum_steps * block
    tok, flops, secs = 0.0, 0.0, 0.0
    for s in sizes:
        t = pt_words * tpw * tr.epochs * n_pre
        tok, flops = tok + t, flops + t * flops_per_token(model_cfg(cfg, s), block)
        secs += t / rates.train(s, tr.compile, "pretraining")
    stages.append({"stage": "pretraining", "jobs": len(sizes) * n_pre, "tokens": tok, "flops": flops, "gpu_s": secs,
                   "kind": "data-parallel", "detail": f"{pt_words * tpw / 1e6:.0f}M tokens/epoch x {tr.epochs} epochs "
                   f"x {len(sizes)} sizes x {n_pre} seeds; {pt_words * tpw / per_step:,.0f} steps/epoch of "
                   f"{per_step:,} tokens"})

    # instruction tuning
    conv = it_words * ASSUMED["conv_share"]
    labels.add("[assumed]", f"IT split: conv {ASSUMED['conv_share']:.0%} of the IT words (the sum over the "
               "5 curricula, 4x the IT words, does not depend on it)", conv)
    phases = {"conv": [conv], "qa": [it_words - conv], "merged": [it_words],
              "seq_conv_qa": [conv, it_words - conv], "seq_qa_conv": [it_words - conv, conv]}
    tt = cfg.tuning.train
    tok = flops = secs = 0.0
    per_curriculum = {}
    for s in sizes:
        mc = model_cfg(cfg, s)
        rate = rates.train(s, tt.compile, "instruction tuning")
        for c in cfg.tuning.curricula:
            t = sum(phases[c]) * tpw * tt.epochs
            per_curriculum[f"{s}-{c}"] = t
            t *= n_pre * n_tune
            tok, flops, secs = tok + t, flops + t * flops_per_token(mc, cfg.tuning.max_length or block), secs + t / rate
    stages.append({"stage": "instruction tuning", "jobs": len(sizes) * len(cfg.tuning.curricula) * n_pre * n_tune,
                   "tokens": tok, "flops": flops, "gpu_s": secs, "kind": "data-parallel",
                   "detail": f"{len(cfg.tuning.curricula)} curricula x {n_tune} seeds x {tt.epochs} epochs per phase x "
                   f"{len(sizes)} sizes x {n_pre} bases (template tokens, padding not counted)",
                   "per_run_tokens": per_curriculum})

    # zero-shot evaluation
    zs = zero_shot_items(cfg, args.data, tpw, labels)
    score_fs = rates.score_flops()
    jobs, tok, flops = [], 0.0, 0.0
    for s, _ in models:
        mc = model_cfg(cfg, s)
        for name, t in zs.items():
            n = t["items"] * t["tokens_per_item"]
            f = n * fwd_flops(mc, t["tokens_per_item"])
            tok, flops = tok + n, flops + f
            jobs.append(f / score_fs)
    stages.append({"stage": "zero-shot", "jobs": len(jobs), "tokens": tok, "flops": flops, "gpu_s": sum(jobs),
                   "kind": "jobs", "durations": jobs, "detail": f"{len(zs)} tasks ({cfg.evaluation.rules} rules, "
                   f"{cfg.evaluation.variant}) x {len(models)} models, forward only",
                   "per_task": {k: {**v, "tokens_per_model": v["items"] * v["tokens_per_item"]} for k, v in zs.items()}})

    # fine-tuning
    ft = cfg.finetune.config
    fts = finetune_tasks(cfg, args.data, tpw, labels)
    ft_fs = rates.finetune_flops()
    jobs, tok, flops = [], 0.0, 0.0
    per_task = Counter()
    for s, _ in models:
        mc = model_cfg(cfg, s)
        for name, t in fts.items():
            fb = 3 * fwd_flops(mc, t["train_tokens"], lm_head=False)      # forward + backward per token
            fw = fwd_flops(mc, t["valid_tokens"], lm_head=False)
            job_tok = job_f = 0.0
            for sel in ft.selections:
                fit = t["train"] * (1 - ft.heldout_fraction) if sel == "heldout" else t["train"]
                train_tok = fit * t["epochs"] * t["train_tokens"]
                eval_tok = (t["train"] - fit) * t["epochs"] * t["train_tokens"] + t["valid"] * t["valid_tokens"] \
                    if sel == "heldout" else t["valid"] * t["epochs"] * t["valid_tokens"]
                job_tok += train_tok + eval_tok
                job_f += train_tok * fb + eval_tok * fw
            for _seed in cfg.finetune.seeds:
                jobs.append(job_f / ft_fs)
                tok, flops = tok + job_tok, flops + job_f
                per_task[name] += job_f
    stages.append({"stage": "fine-tuning", "jobs": len(jobs), "tokens": tok, "flops": flops, "gpu_s": sum(jobs),
                   "kind": "jobs", "durations": jobs,
                   "detail": f"{len(models)} models x {len(fts)} tasks x {len(cfg.finetune.seeds)} seeds, "
                   f"{len(ft.selections)} trainings per job ({', '.join(ft.selections)})",
                   "per_task": {k: {**fts[k], "flops_share": per_task[k] / flops} for k in fts}})

    for st in stages:
        if st["kind"] == "jobs":
            st["detail"] += f"; longest job {max(st['durations']) / 60:,.1f} GPU-min"
        if st["kind"] == "data-parallel":
            st["wall_s"] = {n: st["gpu_s"] / (n * eff[n]) for n in GPU_COUNTS}
        else:
            st["wall_s"] = {n: lpt_makespan(st["durations"], n) for n in GPU_COUNTS}
        st["basis"] = rates.basis.get(st["stage"], "")
    labels.add("[assumed]", f"GPU {ASSUMED['gpu']}: bf16 peak {rates.peak / 1e12:.0f} TFLOP/s (train.PEAK_FLOPS), "
               f"FP32 {ASSUMED['fp32_peak'] / 1e12:.0f} TFLOP/s; MFU train {ASSUMED['mfu_train']:.0%}, fine-tuning "
               f"{ASSUMED['mfu_finetune']:.0%}, scoring {ASSUMED['mfu_score_fp32']:.0%} of FP32 / "
               f"{ASSUMED['mfu_score_bf16']:.0%} of bf16 (used where not measured)", "")
    labels.add("[assumed]", "data-parallel scaling efficiency at " + ", ".join(f"{n} GPUs {e:.0%}" for n, e in eff.items()),
               "")
    total = {"stage": "total", "tokens": sum(s["tokens"] for s in stages), "flops": sum(s["flops"] for s in stages),
             "gpu_s": sum(s["gpu_s"] for s in stages),
             "wall_s": {n: sum(s["wall_s"][n] for s in stages) for n in GPU_COUNTS}}
    return {"params": args.params, "measured_gpu": gpu, "tokens_per_word": tpw, "assumed": ASSUMED,
            "stages": [{k: v for k, v in s.items() if k != "durations"} for s in stages], "total": total,
            "labels": [{"label": a, "what": b, "value": c} for a, b, c in labels.lines]}


def _h(s: float) -> str:
    h = s / 3600
    return f"{h:,.1f}" if h >= 1 else f"{h:.2f}"


def table(res: dict) -> str:
    est = "measured throughput" if res["measured_gpu"] else "ESTIMATE (no GPU figure yet: assumed MFU)"
    lines = [f"Paper profile cost ({res['params']}), {est}", "",
             "| stage | jobs | tokens | PFLOP | throughput basis | GPU-h | wall h, 1 GPU | 8 GPUs | 32 GPUs |",
             "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |"]
    for s in [*res["stages"], res["total"]]:
        w = s["wall_s"]
        lines.append(f"| {s['stage']} | {s.get('jobs', '')} | {s['tokens'] / 1e9:,.2f}B | {s['flops'] / 1e15:,.0f} | "
                     f"{s.get('basis', '')} | {_h(s['gpu_s'])} | {_h(w[1])} | {_h(w[8])} | {_h(w[32])} |")
    lines += ["", "Work per stage:"] + [f"- {s['stage']}: {s['detail']}" for s in res["stages"]]
    ft = next(s for s in res["stages"] if s["stage"] == "fine-tuning")
    lines.append("- fine-tuning FLOPs by task: " + ", ".join(
        f"{k} {v['flops_share']:.0%}" for k, v in sorted(ft["per_task"].items(), key=lambda kv: -kv[1]["flops_share"])))
    zs = next(s for s in res["stages"] if s["stage"] == "zero-shot")
    lines.append("- zero-shot tokens per model: " + ", ".join(
        f"{k} {v['tokens_per_model'] / 1e6:.2f}M{'*' if v['source'] == '[assumed]' else ''}"
        for k, v in zs["per_task"].items()) + " (* assumed tokens per item)")
    lines += ["", "Inputs:"] + [f"- {r['label']} {r['what']}" + (f": {r['value']}" if r["value"] else "")
                                for r in res["labels"]]
    return "\n".join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    res = cost(args)
    print(table(res))
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str) + "\n")
    return res


if __name__ == "__main__":
    main()
