"""GPU check: one unattended run that measures what the CPU benchmarks cannot, on one GPU in <= 10 minutes.

Driven by `benchmarks/gpu_check.sh` (read its header for the exact command a session with a lent GPU runs),
which calls this file once per step under `timeout`, then `--report`. Each step runs in its own process
(so a hung compile is killed alone and `torch.cuda.max_memory_allocated` is that step's), catches its own
errors, and merges its result into the `--out` JSON at once, so a kill keeps what was measured.

Steps, most important first (the budget may cut the tail):
- env: GPU, driver, versions, and a bf16 matmul's TFLOP/s (what a dense kernel reaches here);
- train-<size>-<compile|eager>: tokens/s and MFU of our loop vs `transformers.Trainer` in bf16, 100m and 140m,
  with `bench_train.py`'s functions (same model, blocks, batch 32 x 512 tokens, optimizer, precision);
- scoring: `scoring.score_texts` items/s on all of BLiMP fast (real data) in fp32 (TF32 off, as the
  evaluation stage runs) and bf16, a random 100m model (or `--scoring-model DIR`), and their agreement;
- finetune[-compile]: `bench_finetune.measure` on RTE, 100m, ours vs Trainer.
Targets (PASS/FAIL in the report): MFU >= 40% for 140m with compile; bf16 picks the same sentence as fp32
on >= 99.9% of BLiMP pairs. A random model's pairs differ by little, so it is a harder test than a trained
model's.

`--report` prints the summary and, outside smoke mode, appends a "GPU check (<GPU>, <date>)" section with a
```json block to benchmarks/RESULTS.md (`paper_cost.py` reads the last such block). `--cpu-smoke` runs every
step at toy sizes on the CPU (compile steps with `torch.compile(backend="eager")`: Dynamo capture without
Inductor code generation) and writes the JSON only.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

RESULTS_MD = HERE / "RESULTS.md"
MFU_TARGET, AGREE_TARGET = 0.40, 0.999
# name -> (time limit on the GPU, in smoke mode) in seconds; the order is the priority
STEPS: dict[str, tuple[int, int]] = {
    "env": (45, 30),
    "train-140m-compile": (200, 60),
    "scoring": (120, 60),
    "finetune": (100, 60),
    "train-140m-eager": (75, 40),
    "train-100m-compile": (170, 60),
    "train-100m-eager": (70, 40),
    "finetune-compile": (120, 60),
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--list", action="store_true", help="print 'step limit_s' lines in priority order")
    g.add_argument("--step", choices=STEPS)
    g.add_argument("--mark", metavar="STEP", help="record STEP as --status with --reason (no torch import)")
    g.add_argument("--report", action="store_true")
    p.add_argument("--status", default="skipped")
    p.add_argument("--reason", default="")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--cpu-smoke", action="store_true")
    p.add_argument("--data", type=Path, default=Path(os.environ.get("CLASSIT_DATA", REPO / "shared/data")))
    p.add_argument("--scoring-model", type=Path, help="a HF model folder to score with (default: random 100m)")
    p.add_argument("--budget", type=float, default=0, help="recorded in the JSON")
    return p.parse_args(argv)


# --------------------------------------------------------------------------- the JSON record
def load(out: Path) -> dict:
    return json.loads(out.read_text()) if out.is_file() else {"steps": {}}


def save(out: Path, rec: dict) -> None:
    """Atomic: a kill mid-write leaves the previous file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(rec, indent=1, default=str) + "\n")
    os.replace(tmp, out)


def record(out: Path, step: str, entry: dict, meta: dict | None = None) -> None:
    rec = load(out)
    rec.setdefault("steps", {})[step] = entry
    if meta:
        rec.setdefault("meta", {}).update(meta)
    save(out, rec)


# --------------------------------------------------------------------------- helpers
def _device():
    import torch
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _sync() -> None:
    import torch
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _peak_reset() -> None:
    import torch
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def _peak() -> float | None:
    import torch
    return torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None


def _eager_compile() -> None:
    """Smoke mode: every torch.compile uses the eager backend (Dynamo capture, no Inductor code generation)."""
    import torch
    orig = torch.compile

    def compile_eager(model=None, **kw):
        kw.update(backend="eager")
        kw.pop("mode", None)
        kw.pop("options", None)
        return orig(model, **kw) if model is not None else orig(**kw)
    torch.compile = compile_eager


def tokenizer_dir(args) -> Path:
    """A tokenizer shared by the steps (trained once, saved in the temp folder): bench_scoring's 16k BPE on
    babylm_corpus/, or in smoke mode a 2,000-token BPE on switchboard.train alone (seconds)."""
    import tempfile
    path = Path(tempfile.gettempdir()) / ("gpu_check_tokenizer_smoke" if args.cpu_smoke else "gpu_check_tokenizer")
    if (path / "tokenizer.json").is_file():
        return path
    if args.cpu_smoke:
        from classit_utils.tokenizer import train_tokenizer
        lines = (args.data / "babylm_corpus/train_10M/switchboard.train").read_text().splitlines()
        tok = train_tokenizer([ln.split("\t", 1)[-1] for ln in lines], vocab_size=2000)
    else:
        from bench_finetune import corpus_tokenizer
        tok = corpus_tokenizer(args.data, 16_000)
    tok.save_pretrained(str(path))
    return path


# --------------------------------------------------------------------------- steps
def step_env(args) -> dict:
    import subprocess

    import torch
    import transformers
    dev = _device()
    out: dict[str, Any] = {"device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
                           "torch": torch.__version__, "cuda": torch.version.cuda,
                           "transformers": transformers.__version__, "python": sys.version.split()[0]}
    try:
        import accelerate
        out["accelerate"] = accelerate.__version__
    except ImportError as e:
        out["accelerate"] = f"missing ({e})"
    if dev.type == "cuda":
        props = torch.cuda.get_device_properties(0)
        out.update(memory_gb=props.total_memory / 2**30, sm_count=props.multi_processor_count,
                   capability=f"{props.major}.{props.minor}")
        try:
            out["nvidia_smi"] = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.max.sm", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError) as e:
            out["nvidia_smi"] = f"unavailable ({e})"
    n = 512 if args.cpu_smoke else 8192
    dtype = torch.float32 if dev.type == "cpu" else torch.bfloat16
    a = torch.randn(n, n, device=dev, dtype=dtype)
    for _ in range(2):
        a @ a
    _sync()
    reps = 3 if args.cpu_smoke else 20
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ a
    _sync()
    out["matmul_tflops"] = 2 * n**3 * reps / (time.perf_counter() - t0) / 1e12
    out["matmul"] = f"{n}^3 {str(dtype).removeprefix('torch.')}"
    try:
        from bench_train import device_label
        out["label"] = device_label()
    except Exception as e:        # the label is a nicety; the step still counts
        out["label"] = f"? ({e})"
    return out


def step_train(args, size: str, compile_: bool) -> dict:
    """Ours vs Trainer with bench_train's functions, each side's peak memory apart."""
    import copy
    import tempfile

    import torch
    import bench_train as bt
    from classit_utils.config import ModelConfig
    from classit_utils.modeling import build_model, count_parameters, flops_per_token
    from classit_utils.runtime import seed_everything
    from classit_utils.train import peak_flops

    model_size = "tiny" if args.cpu_smoke else size       # smoke: the step keeps its name, the model is tiny
    if args.cpu_smoke:
        argv = ["--block", "33", "--micro", "2", "--steps", "3", "--warmup", "1"]
    else:
        argv = ["--block", "513", "--micro", "32", "--steps", "30", "--warmup", "5"]
    bargs = bt.parse_args(["--size", model_size, *argv, "--rounds", "1"] + (["--compile"] if compile_ else []))
    cfg = ModelConfig(**bt.SIZES[bargs.size], vocab_size=bargs.vocab)
    seed_everything(bargs.seed)
    base = build_model(cfg, bt.SPECIAL)
    dev = _device()
    peak = peak_flops(dev, "bf16")
    fpt = flops_per_token(cfg, bargs.block - 1)
    out = {"size": size, "model_size": model_size, "compile": compile_, "params": count_parameters(base), "block": bargs.block,
           "micro": bargs.micro, "timed_steps": bargs.steps, "precision": "bf16" if dev.type == "cuda" else "fp32"}
    with tempfile.TemporaryDirectory(prefix="gpu_check_train_") as tmp:
        tmp = Path(tmp)
        shards = bt.write_blocks(tmp, bargs.micro * bargs.accum * (bargs.warmup + bargs.steps), bargs.block,
                                 bargs.vocab, bargs.seed)
        for side, run in (("ours", bt.run_ours), ("trainer", bt.run_trainer)):
            _peak_reset()
            t0 = time.perf_counter()
            try:                 # one side failing (a compile error, say) still leaves the other's figure
                model = copy.deepcopy(base) if side == "ours" else copy.deepcopy(base).to(dev)
                tps = run(model, shards, bargs, tmp / side)      # block tokens (bench_train counts block + 1)
                out[f"{side}_tokens_per_s"] = tps
                out[f"{side}_mfu"] = tps * (bargs.block - 1) / bargs.block * fpt / peak if peak else None
            except Exception as e:
                out[f"{side}_error"] = f"{type(e).__name__}: {e}"[:500]
            out[f"{side}_wall_s"] = time.perf_counter() - t0
            out[f"{side}_peak_mem_gb"] = _peak()
            model = None
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            partial(args, out)
    if "ours_tokens_per_s" not in out and "trainer_tokens_per_s" not in out:
        raise RuntimeError(f"both sides failed: ours {out.get('ours_error')}; Trainer {out.get('trainer_error')}")
    out.setdefault("ours_tokens_per_s", None)
    out.setdefault("trainer_tokens_per_s", None)
    out.setdefault("ours_mfu", None)
    out.setdefault("trainer_mfu", None)
    out["ratio"] = (out["ours_tokens_per_s"] / out["trainer_tokens_per_s"]
                    if out["ours_tokens_per_s"] and out["trainer_tokens_per_s"] else None)
    return out


def step_scoring(args) -> dict:
    """Items/s of the scorer on BLiMP fast in fp32 and bf16, and how far the two agree."""
    import torch
    from bench_scoring import blimp_texts
    from classit_utils.scoring import encode_requests, Request, score_texts
    from classit_utils.tasks import choose

    dev = _device()
    if args.scoring_model:
        from classit_utils.runtime import load_causal_lm
        model, tok = load_causal_lm(args.scoring_model, dev)
        what = str(args.scoring_model)
    else:
        from transformers import AutoTokenizer
        from classit_utils.config import ModelConfig
        from classit_utils.modeling import build_model
        tok = AutoTokenizer.from_pretrained(str(tokenizer_dir(args)))
        torch.manual_seed(0)
        size = "tiny" if args.cpu_smoke else "100m"
        model = build_model(ModelConfig(size=size, vocab_size=16_000),
                            {"pad_id": tok.pad_token_id, "bos_id": tok.bos_token_id, "eos_id": tok.eos_token_id})
        model.to(dev).eval()
        what = f"random {size}"
    size = None if args.scoring_model else size
    paradigms, items = (3, 10) if args.cpu_smoke else (None, None)
    texts, n_pairs = blimp_texts(args.data, paradigms, items)
    n_tokens = sum(len(e.ids) for e in encode_requests(tok, [Request("", t) for t in texts]))
    bs = 64 if args.cpu_smoke else 128          # paper.yaml evaluation.batch_size
    out: dict[str, Any] = {"model": what, "size": None if args.scoring_model else size,
                           "pairs": n_pairs, "sentences": len(texts), "tokens": n_tokens,
                           "mean_tokens": n_tokens / len(texts), "batch_size": bs}
    scores = {}
    for prec in ("fp32", "bf16"):
        partial(args, out)
        if dev.type == "cuda":      # fp32 means fp32: the evaluation stage never turns TF32 on
            if hasattr(torch.backends.cuda.matmul, "fp32_precision"):
                torch.backends.cuda.matmul.fp32_precision = "ieee"
            else:
                torch.backends.cuda.matmul.allow_tf32 = False
        bf16 = prec == "bf16"
        score_texts(model, tok, texts[:256], bs, bf16=bf16, progress=False)       # warm-up
        _peak_reset()
        _sync()
        t0 = time.perf_counter()
        s = score_texts(model, tok, texts, bs, bf16=bf16, progress=False)
        _sync()
        wall = time.perf_counter() - t0
        scores[prec] = [x.logprob for x in s]
        out[prec] = {"wall_s": wall, "items_per_s": n_pairs / wall, "sentences_per_s": len(texts) / wall,
                     "tokens_per_s": n_tokens / wall, "peak_mem_gb": _peak(),
                     "bf16_active": bf16 and dev.type == "cuda"}
    picks = {p: [choose(v[i:i + 2]) for i in range(0, len(v), 2)] for p, v in scores.items()}
    same = sum(a == b for a, b in zip(picks["fp32"], picks["bf16"]))
    out["agreement"] = same / n_pairs
    out["differing_pairs"] = n_pairs - same
    out["max_abs_diff"] = max(abs(a - b) for a, b in zip(scores["fp32"], scores["bf16"]))
    out["fp32_accuracy"] = sum(p == 0 for p in picks["fp32"]) / n_pairs
    return out


def step_finetune(args, compile_: bool) -> dict:
    import bench_finetune as bf
    if args.cpu_smoke:
        argv = ["--size", "tiny", "--train-examples", "128", "--epochs", "1", "--rounds", "1", "--warmup", "1"]
    else:
        argv = ["--size", "100m", "--train-examples", "0", "--epochs", "2", "--rounds", "2", "--warmup", "5"]
    res = bf.measure(bf.parse_args([*argv, "--data", str(args.data), "--tokenizer", str(tokenizer_dir(args))]
                                   + (["--compile"] if compile_ else [])))
    res.pop("rounds", None)
    res["ours_peak_mem_gb"], res["trainer_peak_mem_gb"] = res["ours"]["peak_mem_gb"], res["trainer"]["peak_mem_gb"]
    return res


def run_step(args) -> None:
    fns: dict[str, Callable[[], dict]] = {
        "env": lambda: step_env(args),
        "scoring": lambda: step_scoring(args),
        "finetune": lambda: step_finetune(args, False),
        "finetune-compile": lambda: step_finetune(args, True),
    }
    for size in ("100m", "140m"):
        for mode in ("compile", "eager"):
            fns[f"train-{size}-{mode}"] = (lambda s=size, m=mode: step_train(args, s, m == "compile"))
    record(args.out, args.step, {"status": "running", "started": _now()},
           {"mode": "cpu-smoke" if args.cpu_smoke else "gpu", "data": str(args.data)})
    t0 = time.perf_counter()
    try:
        if args.cpu_smoke:
            _eager_compile()
        res = fns[args.step]()
        entry = {"status": "ok", "result": res}
    except BaseException as e:            # record and move on; the shell runs the next step
        entry = {"status": "error", "error": f"{type(e).__name__}: {e}",
                 "traceback": traceback.format_exc()[-3000:]}
    entry["elapsed_s"] = round(time.perf_counter() - t0, 1)
    record(args.out, args.step, entry)
    print(f"gpu_check {args.step}: {entry['status']} in {entry['elapsed_s']} s"
          + (f" ({entry['error']})" if entry["status"] == "error" else ""), flush=True)


def partial(args, out: dict) -> None:
    """What a step has measured so far, recorded (status "running") so that a kill keeps it."""
    record(args.out, args.step, {"status": "running", "result": dict(out)})


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- the report
def machine_block(rec: dict) -> dict:
    """What paper_cost.py reads (`measured_gpu`): the schema of the ```json block in RESULTS.md."""
    steps = rec.get("steps", {})
    ok = {k: v["result"] for k, v in steps.items() if v.get("result")}     # a killed step's partial result too
    env = ok.get("env", {})
    block: dict[str, Any] = {"gpu_check": 1, "device": env.get("device"), "date": rec.get("meta", {}).get("date"),
                             "versions": {k: env.get(k) for k in ("torch", "cuda", "transformers", "accelerate")},
                             "train": {}}
    for name, r in ok.items():
        if name.startswith("train-"):
            block["train"].setdefault(r["size"], {})["compile" if r["compile"] else "eager"] = {
                "status": steps[name].get("status"), **{k: r.get(k) for k in ("model_size", "precision", "ours_tokens_per_s", "ours_mfu", "trainer_tokens_per_s", "trainer_mfu", "ratio",
                                      "ours_peak_mem_gb", "trainer_peak_mem_gb", "block", "micro",
                                      "ours_error", "trainer_error")}}
    if "agreement" in ok.get("scoring", {}):
        s = ok["scoring"]
        block["scoring"] = {"size": s["size"], "mean_tokens": s["mean_tokens"], "pairs": s["pairs"],
                            "agreement": s["agreement"], "max_abs_diff": s["max_abs_diff"],
                            **{p: {k: s[p][k] for k in ("items_per_s", "tokens_per_s", "peak_mem_gb")}
                               for p in ("fp32", "bf16")}}
    for name in ("finetune", "finetune-compile"):
        if "ratio" in ok.get(name, {}):
            f = ok[name]
            block[name.replace("-", "_")] = {k: f.get(k) for k in (
                "size", "mean_tokens", "ours_examples_per_s", "trainer_examples_per_s", "ours_tokens_per_s", "ratio",
                "ours_peak_mem_gb", "trainer_peak_mem_gb", "same_batches", "compile")}
    return block


def targets(rec: dict) -> list[tuple[str, str, str]]:
    """(target, verdict, detail): PASS / FAIL / NOT MEASURED."""
    steps = rec.get("steps", {})
    out = []
    t = steps.get("train-140m-compile", {})
    r = t.get("result") or {}
    mfu = r.get("ours_mfu")
    if mfu is None:
        why = r.get("ours_error") or t.get("error") or t.get("reason") or t.get("status") or "not run"
        out.append(("training MFU >= 40% (140m, compile)", "NOT MEASURED",
                    "no MFU on CPU" if t.get("status") == "ok" and "ours_tokens_per_s" in r else why))
    else:
        peer = "" if r.get("trainer_mfu") is None else f"; Trainer {100 * r['trainer_mfu']:.1f}%"
        out.append(("training MFU >= 40% (140m, compile)", "PASS" if mfu >= MFU_TARGET else "FAIL",
                    f"{100 * mfu:.1f}%{peer}" + ("" if t.get("status") == "ok" else f" (step {t.get('status')})")))
    s = steps.get("scoring", {})
    if s.get("status") != "ok":
        out.append(("bf16 = fp32 choice on >= 99.9% of BLiMP pairs", "NOT MEASURED", s.get("error") or s.get("status", "not run")))
    else:
        r = s["result"]
        note = "" if any(r[p]["bf16_active"] for p in ("bf16",)) else " (bf16 inactive on CPU: equal by construction)"
        out.append(("bf16 = fp32 choice on >= 99.9% of BLiMP pairs", "PASS" if r["agreement"] >= AGREE_TARGET else "FAIL",
                    f"{100 * r['agreement']:.2f}% ({r['differing_pairs']} of {r['pairs']} differ; max |Δ| "
                    f"{r['max_abs_diff']:.2e} nats){note}"))
    return out


def _g(v: Any, fmt: str = "{:,.0f}") -> str:
    return "-" if v is None else fmt.format(v)


def section(rec: dict) -> str:
    """The RESULTS.md section: a readable table, the targets, and the machine-readable block."""
    block = machine_block(rec)
    steps = rec.get("steps", {})
    env = (steps.get("env", {}).get("result") or {})
    meta = rec.get("meta", {})
    lines = [f"## GPU check ({block['device'] or '?'}, {meta.get('date', '?')[:10]})", "",
             f"`bash benchmarks/gpu_check.sh` ({meta.get('mode')}, budget {meta.get('budget_s')} s): "
             f"{env.get('nvidia_smi') or env.get('label', '')}; torch {env.get('torch')} (CUDA {env.get('cuda')}), "
             f"transformers {env.get('transformers')}, accelerate {env.get('accelerate')}; dense {env.get('matmul')} matmul "
             f"{_g(env.get('matmul_tflops'), '{:.3g}')} TFLOP/s. Ratios are ours / peer in the same process and run.", "",
             "| measurement | ours | peer | ratio | MFU ours / peer | peak GiB ours / peer |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for size in ("100m", "140m"):
        for mode in ("eager", "compile"):
            r = block["train"].get(size, {}).get(mode)
            st = steps.get(f"train-{size}-{mode}", {})
            if r is None:
                lines.append(f"| train {size}, {mode}, tokens/s | {st.get('status', 'not run')}: "
                             f"{(st.get('error') or st.get('reason') or '')[:80]} | | | | |")
                continue
            mfu = "-" if r["ours_mfu"] is None and r["trainer_mfu"] is None else \
                f"{_g(r['ours_mfu'], '{:.1%}')} / {_g(r['trainer_mfu'], '{:.1%}')}"
            model = "" if r.get("model_size") in (None, size) else f" ({r['model_size']} model)"
            note = "".join(f"; {side} failed: {r[side + '_error'][:60]}" for side in ("ours", "trainer")
                           if r.get(side + "_error"))
            note += "" if r["status"] == "ok" else f"; step {r['status']}, partial"
            lines.append(f"| train {size}{model}, {mode}, {r['precision']}, {r['micro']}x{r['block'] - 1} tokens/s "
                         f"(Trainer){note} | {_g(r['ours_tokens_per_s'])} | {_g(r['trainer_tokens_per_s'])} | "
                         f"{_g(r['ratio'], '{:.2f}')} | {mfu} | "
                         f"{_g(r['ours_peak_mem_gb'], '{:.1f}')} / {_g(r['trainer_peak_mem_gb'], '{:.1f}')} |")
    s = block.get("scoring")
    if s:
        lines.append(f"| scoring BLiMP fast ({s['pairs']:,} pairs, {s['size']}), items/s: bf16 (fp32) | "
                     f"{_g(s['bf16']['items_per_s'])} | {_g(s['fp32']['items_per_s'])} | "
                     f"{s['bf16']['items_per_s'] / s['fp32']['items_per_s']:.2f} | | "
                     f"{_g(s['bf16']['peak_mem_gb'], '{:.1f}')} / {_g(s['fp32']['peak_mem_gb'], '{:.1f}')} |")
    else:
        lines.append(f"| scoring | {steps.get('scoring', {}).get('status', 'not run')}: "
                     f"{(steps.get('scoring', {}).get('error') or '')[:80]} | | | | |")
    for name in ("finetune", "finetune_compile"):
        f = block.get(name)
        st = steps.get(name.replace("_", "-"), {})
        if f:
            lines.append(f"| fine-tune RTE {f['size']}{', compile' if f['compile'] else ''}, examples/s (Trainer) | "
                         f"{_g(f['ours_examples_per_s'], '{:,.1f}')} | {_g(f['trainer_examples_per_s'], '{:,.1f}')} | "
                         f"{f['ratio']:.2f} | | {_g(f['ours_peak_mem_gb'], '{:.1f}')} / "
                         f"{_g(f['trainer_peak_mem_gb'], '{:.1f}')} |")
        elif st:
            lines.append(f"| fine-tune{' compile' if 'compile' in name else ''} | {st.get('status')}: "
                         f"{(st.get('error') or st.get('reason') or '')[:80]} | | | | |")
    lines += ["", "Targets:"] + [f"- **{v}** {t}: {d}" for t, v, d in targets(rec)]
    lines += ["", "Machine-readable (read by `benchmarks/paper_cost.py`):", "", "```json",
              json.dumps(block, default=str), "```", ""]
    return "\n".join(lines)


def report(args) -> None:
    rec = load(args.out)
    rec.setdefault("meta", {}).setdefault("date", _now())
    if args.budget:
        rec["meta"]["budget_s"] = args.budget
    rec["meta"]["mode"] = "cpu-smoke" if args.cpu_smoke else "gpu"
    rec["machine_block"] = machine_block(rec)
    rec["targets"] = [{"target": t, "verdict": v, "detail": d} for t, v, d in targets(rec)]
    save(args.out, rec)
    print("\n".join(f"  {k:<20} {v.get('status'):<8} {v.get('elapsed_s', '')!s:>6} s  "
                    f"{(v.get('error') or v.get('reason') or '')[:100]}" for k, v in rec["steps"].items()))
    text = section(rec)
    print("\n" + text)
    if args.cpu_smoke:
        print(f"(cpu-smoke: RESULTS.md left alone; JSON in {args.out})")
        return
    with open(RESULTS_MD, "a") as fh:
        fh.write("\n" + text)
    print(f"appended to {RESULTS_MD}")


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.list:
        for name, (gpu, smoke) in STEPS.items():
            print(name, smoke if args.cpu_smoke else gpu)
    elif args.mark:           # keep what the step recorded before it was killed
        prev = load(args.out).get("steps", {}).get(args.mark, {})
        entry = {"status": args.status, "reason": args.reason}
        if prev.get("result"):
            entry["result"] = prev["result"]
        record(args.out, args.mark, entry)
    elif args.step:
        run_step(args)
    else:
        report(args)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
