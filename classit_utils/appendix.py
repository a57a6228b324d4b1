"""The rendered appendix: each executed notebook as HTML (parameter and setup cells left out, progress output
collapsed to its last state), and an index page that says per stage what it does and what it found, with
links and wall times, and the provenance in a second, smaller table."""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from .config import StudyConfig
from .records import atomic_write_text, provenance

# cells of these tags stay in the notebooks but not in the HTML: papermill's parameter cells and setup
REMOVED_TAGS = ("parameters", "injected-parameters", "remove_cell")

STAGE_TEXT = {
    "00_data": "Cleans the pretraining corpus, builds the conversational and lecture-QA instruction sets, holds "
               "their text out of pretraining within the word budget, trains the tokenizer and packs the shards.",
    "01_pretrain": "Pretrains one LLaMA-style decoder per size from scratch.",
    "02_instruction_tuning": "Tunes every pretrained size on each curriculum (conv, qa, merged, both sequential "
                             "orders); the untuned base is the control.",
    "03_eval_blimp": "Zero-shot grammatical minimal pairs: BLiMP, its supplement, and COMPS.",
    "04_eval_ewok": "Zero-shot world knowledge (EWoK).",
    "05_eval_entity_tracking": "Zero-shot entity tracking: which object is in which box after a series of operations.",
    "06_eval_wug": "Zero-shot morphological generalization to nonce words, against human preferences (Spearman ρ).",
    "07_eval_reading": "How well surprisal predicts human reading times (eye tracking, self-paced reading).",
    "08_finetune_glue": "Fine-tunes every model on the (Super)GLUE suite, several seeds, two epoch selections.",
    "09_statistics": "Compares the conditions with intervals and Holm's correction, and gives the verdict on each claim.",
}


def render_notebook(notebook: Path, out: Path) -> Path:
    """`notebook` as HTML without its parameter/setup cells; stream outputs coalesced (a progress bar's
    carriage-return updates collapse to its last line)."""
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(REMOVED_TAGS)
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    body, _ = HTMLExporter(config=c).from_notebook_node(nbformat.read(notebook, as_version=4))
    return atomic_write_text(out, body)


def clean_streams(notebook: Path) -> None:
    """Rewrite an executed notebook with its stream outputs coalesced, so the `.ipynb` a reader opens holds a
    progress bar's last state, not every update."""
    import nbformat
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    nb = nbformat.read(notebook, as_version=4)
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    for cell in nb.cells:
        if cell.cell_type == "code":
            for out in cell.outputs:
                if out.output_type == "stream":
                    out.text = last_states(out.text)
            cell.outputs = [o for o in cell.outputs if o.output_type != "stream" or o.text.strip()]
    atomic_write_text(notebook, nbformat.writes(nb))


def last_states(text: str) -> str:
    """Each line's last carriage-return state, blank lines dropped: a finished progress bar keeps its final
    line, one that cleared itself (`leave=False`) leaves nothing."""
    lines = (line.rsplit("\r", 1)[-1].rstrip() if line.rstrip("\r") else "" for line in text.split("\n"))
    kept = [line for line in lines if line.strip()]
    return "\n".join(kept) + ("\n" if kept else "")


# ------------------------------------------------------------------------------------------- headlines
def _best_it(by_condition: Mapping[str, float], lower_is_better: bool = False) -> str:
    its = {c: v for c, v in by_condition.items() if c != "base" and v == v}
    if not its:
        return ""
    c = (min if lower_is_better else max)(its, key=its.get)
    return f"best IT condition {its[c]:.{_dec(its[c])}f} ({c})"


def _dec(x: float) -> int:
    """Percent-like scores (accuracy, GLUE, losses) with one decimal, correlations and small scores with three."""
    return 1 if abs(x) >= 1 else 3


def _by_condition(scores: Mapping[str, Mapping[str, float]], task: str, conditions: Mapping[str, tuple[str, str]]
                  ) -> dict[str, dict[str, float]]:
    """{size: {condition: score}} for one task from {model: {task: score}}: the mean over a condition's runs
    (replicates), NaN scores left out."""
    runs: dict[str, dict[str, list[float]]] = {}
    for model, tasks in scores.items():
        if task in tasks and model in conditions:
            size, cond = conditions[model]
            runs.setdefault(size, {}).setdefault(cond, []).append(tasks[task])
    return {size: {c: (sum(v) / len(v) if (v := [x for x in xs if x == x]) else float("nan"))
                   for c, xs in by.items()} for size, by in runs.items()}


def _compare(task: str, per_size: Mapping[str, Mapping[str, float]], lower_is_better: bool = False) -> list[str]:
    out = []
    for size, by in per_size.items():
        base = by.get("base")
        parts = [f"base {base:.{_dec(base)}f}"] if base is not None and base == base else []
        best = _best_it(by, lower_is_better)
        parts += [best] if best else []
        out.append(f"{task} ({size}): {', '.join(parts)}")
    return out


def headline(stage: str, metrics: Mapping[str, Any], conditions: Mapping[str, tuple[str, str]]) -> str:
    """One or two sentences of what a stage found, from its metrics.json; `conditions`: model -> (size,
    condition) from the registry."""
    m = metrics
    if stage == "00_data":
        pairs = m.get("it_pairs", {})
        return (f"Pretraining {m['pretraining_words']:,} + IT {m['it_words']:,} words within the "
                f"{m['budget_words']:,}-word budget; {pairs.get('conv/train', 0):,} conversational and "
                f"{pairs.get('qa/train', 0):,} QA training pairs; vocabulary {m['vocab_size']:,}.")
    if stage == "01_pretrain":
        return " ".join(f"{r['size']} ({r['parameters'] / 1e6:.1f}M parameters): {r['steps']:,} steps, validation "
                        f"loss {r['val_loss']:.3f} (perplexity {r['val_perplexity']:.1f})." for r in m["models"])
    if stage == "02_instruction_tuning":
        held_sets: dict[str, dict[str, dict[str, float]]] = {}
        for key, loss in m.get("reply_loss", {}).items():
            model, held = key.rsplit("/", 1)
            held_sets.setdefault(f"{held} pairs", {})[model] = {"loss": loss}
        parts = [s for held, by in held_sets.items()
                 for s in _compare(held, _by_condition(by, "loss", conditions), lower_is_better=True)]
        return f"{len(m.get('models', []))} models. Held-out reply loss (nats per token, lower is better): " \
               + "; ".join(parts) + "."
    if stage in ("03_eval_blimp", "04_eval_ewok", "05_eval_entity_tracking", "06_eval_wug", "07_eval_reading"):
        scores = m.get("scores", {})
        tasks = list(dict.fromkeys(t for s in scores.values() for t in s))
        parts = [s for t in tasks for s in _compare(t, _by_condition(scores, t, conditions))]
        skipped = m.get("skipped", {})
        return "; ".join(parts) + "." + (f" Skipped (no data): {', '.join(skipped)}." if skipped else "")
    if stage == "08_finetune_glue":
        sel = "heldout" if "heldout" in m else next((k for k in m if k != "skipped"), None)
        if sel is None:
            return ""
        means: dict[str, float] = {}
        table = m[sel]
        for model in table:
            vals = list(table[model].values())
            means[model] = sum(vals) / len(vals) if vals else float("nan")
        per = _by_condition({mod: {"mean": v} for mod, v in means.items()}, "mean", conditions)
        return (f"Mean over tasks of the headline metric ({sel} selection, %): "
                + "; ".join(s.replace("mean ", "") for s in _compare("GLUE", per)) + "."
                + (f" Skipped (no data): {', '.join(m.get('skipped', {}))}." if m.get("skipped") else ""))
    if stage == "09_statistics":
        return " ".join(f"{c['size']}: {c.get('hypothesis', c['claim'])}: {c['verdict']}."
                        for c in m.get("claims", []))
    return ""


def write_index(cfg: StudyConfig, params_file: Path, records: Sequence[Mapping[str, Any]],
                conditions: Mapping[str, tuple[str, str]]) -> Path:
    """The appendix's index page (module docstring)."""
    rows, prov = [], []
    for r in records:
        name = r["stage"]
        mpath = cfg.run_dir / name / "metrics.json"
        metrics = json.loads(mpath.read_text()).get("metrics", {}) if mpath.exists() else {}
        try:
            found = headline(name, metrics, conditions) if metrics else ""
        except (KeyError, TypeError, ValueError, ZeroDivisionError):   # an older metrics.json: say nothing
            found = ""
        rows.append(f"<tr><td><a href='{name}.html'>{name}</a></td><td>{html.escape(STAGE_TEXT.get(name, ''))}</td>"
                    f"<td>{html.escape(found)}</td><td class=n>{r.get('wall_s', '')}</td>"
                    f"<td>{html.escape(str(r.get('status', '')))}</td></tr>")
        prov.append(f"<tr><td>{name}</td><td><code>{html.escape(str(r.get('git', '')))}</code></td>"
                    f"<td>{html.escape(str(r.get('device', '')))}</td><td>{html.escape(str(r.get('time', '')))}</td></tr>")
    vers = ", ".join(f"{k} {v}" for k, v in provenance()["versions"].items())
    page = f"""<!doctype html><meta charset="utf-8"><title>classit appendix: {cfg.profile}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:72em;margin:2em auto;padding:0 1em;line-height:1.4}}
table{{border-collapse:collapse;margin:.5em 0 1.5em}} td,th{{padding:.35em .7em;text-align:left;vertical-align:top;
border-bottom:1px solid #ddd}} th{{background:#f4f4f4}} td.n{{text-align:right}}
table.small{{font-size:85%;color:#444}} code{{font-size:95%}}
</style>
<h1>classit: does instruction tuning help BabyLM-scale language models?</h1>
<p>The appendix of the <code>{cfg.profile}</code> profile: each stage is a notebook run by papermill with
<code>{html.escape(str(params_file.name))}</code>; its page shows the tables and figures with a reading guide.
Start with <a href="09_statistics.html">09_statistics</a> for the answer to each claim.</p>
<table><tr><th>stage</th><th>what it does</th><th>what it found</th><th>wall&nbsp;time&nbsp;(s)</th><th>this run</th></tr>
{chr(10).join(rows)}</table>
<h2>Provenance</h2>
<table class=small><tr><th>stage</th><th>git commit</th><th>device</th><th>finished</th></tr>
{chr(10).join(prov)}</table>
<p class=small>Versions: {html.escape(vers)}.</p>
<h2>Params (<code>{html.escape(str(params_file))}</code>)</h2><pre class=small>{html.escape(params_file.read_text())}</pre>"""
    return atomic_write_text(cfg.run_dir / "appendix" / "index.html", page)
