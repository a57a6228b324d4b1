"""Fine-tuning evaluation: the (Super)GLUE suite of BabyLM 2025 (BoolQ, MultiRC, RTE, WSC, MRPC, QQP, MNLI)
for any HF causal LM, with several seeds and a selection-bias-free variant.

The recipe follows `babylm/evaluation-pipeline-2025`: `eval_finetuning.sh` @ bf55c11 and `README.md` @ 02cb80e
from the official repository, whose stored snapshot lacks `evaluation_pipeline/finetune/`; that folder was read
in forks that keep it unchanged in the parts used here: `biancaganescu/evaluation-pipeline-2025` @ a330d55
(`dataset.py`, `run.py`, `trainer.py`, `utils.py`) and `luciendgolden/evaluation-pipeline-2025` @ 7f5b236
(`classifier_model.py`, `README.md`; the first fork's head file was rewritten for its own model). See also
`classit_utils.glue` for the inputs and metrics.
- `eval_finetuning.sh`: LR 3e-5, batch 32 (16 for BoolQ and MultiRC), 10 epochs (30 for WSC), max length 512,
  keep the best epoch on the valid file (accuracy; F1 for MRPC and QQP), which is also the predict file.
- `finetune/run.py`: AdamW (0.9, 0.999, eps 1e-8) with weight decay 0.01 on *all* parameters, full fine-tuning;
  total steps = epochs x batches per epoch, `int(0.06 x total)` warmup steps; the train loader shuffles and
  drops the last partial batch; eval batch 64; `results.txt` (`key: value` lines, no final newline) and
  `predictions.json` (`{task: {"predictions": [{"id": "<task>_<i>", "pred": <int>}]}}`) in
  `results/<model>/<revision>/finetune/<task>/`, `<model>` being the model path's stem.
- `finetune/utils.py` (`cosine_schedule_with_warmup`): factor `step / warmup` during warmup, then
  `max(min, min + (1 - min) x 0.5 (1 + cos(pi x progress)))` with `min_factor` 0.1.
- `finetune/classifier_model.py`: the head `LayerNorm -> Linear(h, h) -> GELU -> LayerNorm -> Dropout(0.1) ->
  Linear(h, labels)`, both LayerNorms without affine weights (eps 1e-5). The pipeline pools the first token
  or, with `--take_final`, a final position; for a decoder only the *last real token* has seen the whole
  input, so `DecoderClassifier` reads it: under right padding by gathering index `last_token_index(mask)`,
  under left padding that index is the last column (the same formula covers both), with position ids that
  restart at the first real token, so padding never changes a sequence's output.
- `finetune/trainer.py`: per epoch, evaluate on valid and keep the model whose `metric_for_valid` is strictly
  greater than the best so far (the first best epoch wins ties); the reported valid metrics and predictions
  are that model's.

Selection bias: the official recipe picks the epoch on the same valid set it reports. Every (task, seed) is
therefore run twice (`cfg.selections`):
- `valid`: the official recipe (train on all of train, pick the epoch on valid, report valid);
- `heldout`: train on train minus a stratified held-out slice (`heldout_fraction`, 10%, drawn with
  `data_seed`, the same slice for every training seed and model), pick the epoch on that slice, report valid
  for the model of that epoch (its weights are kept; valid is evaluated once, at the end).

Outputs of `run_finetune` (layout of the pipeline, extended for seeds and selections):

    <out>/<model>/<revision>/finetune/
        <task>/results.txt, predictions.json       official layout: the first seed, selection "valid"
        <task>/seed<S>/<selection>/results.txt, predictions.json, history.json (epochs: loss, lr, metrics)
        <task>/seed<S>/<selection>/model/           with `save_weights`: the selected epoch's classifier
                                                    (`save_classifier` / `load_classifier`)
        <task>/seed<S>/rows.csv, info.json          that (task, seed)'s tidy rows and facts (merged below)
        finetune_results.csv                        tidy table (all tasks run so far, one row per metric)
        glue_score.csv                              the GLUE macro-average per seed and selection
        summary.json                                config, tasks run/skipped (reason), provenance, wall times

The tidy table has the columns `TABLE_COLUMNS`: model, condition, size, task, seed, selection, metric, value,
unit (accuracy and F1 in percent, MCC x 100: `results.UNITS`; the official `results.txt` keeps the pipeline's
fractions), headline (the task's score metric: F1 for MRPC and QQP, else accuracy), then status ("ok" /
"skipped"), reason, best_epoch, epochs, n_train, n_select, n_eval, wall_s. A task whose files are absent
(BoolQ and MultiRC have no train file in `$CLASSIT_DATA`) gets status "skipped" with the reason, one row per
seed and selection, value NaN. `glue.glue_score` turns the table into the README's GLUE score (percent),
flagging a score that lacks a task (`complete` False). `<model>` is the model folder's stem, as in the
pipeline.
"""
from __future__ import annotations

import inspect
import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm
from transformers import get_cosine_with_min_lr_schedule_with_warmup
from tqdm.contrib.logging import logging_redirect_tqdm

from . import records
from .config import GLUE_TASK_NAMES, SELECTIONS, FinetuneConfig, StudyConfig
from .results import finetune_root, finetune_table, read_registry, results_dir, unit
from .glue import (Example, GlueTask, MissingData, compute_metrics, get_glue_task,
                   glue_score, load_split, parse_glue_tasks)
from .runtime import (autocast, enable_tf32, load_backbone, pad_id as _pad_id, resolve_device,
                      resolved_precision, seed_everything, to_device)

log = logging.getLogger(__name__)

__all__ = ["FinetuneConfig", "SELECTIONS", "TABLE_COLUMNS", "ClassifierHead", "DecoderClassifier",
           "last_token_index", "pool_last", "Encoded", "encode", "collate", "train_batches", "eval_batches",
           "BestEpoch", "choose_epoch", "heldout_split", "subsample", "load_backbone",
           "RunResult", "finetune_run", "predict", "run_finetune", "parse_seeds", "format_table",
           "task_dir", "official_results_text", "official_predictions", "save_classifier", "load_classifier",
           "merge_outputs", "run_job", "finetune_jobs", "run_all"]

TABLE_COLUMNS = ("model", "condition", "size", "task", "seed", "selection", "metric", "value", "unit", "headline",
                 "status", "reason",
                 "best_epoch", "epochs", "n_train", "n_select", "n_eval", "wall_s")
RESULTS_CSV, GLUE_CSV, SUMMARY_JSON = "finetune_results.csv", "glue_score.csv", "summary.json"


# --------------------------------------------------------------------------------------------------- model
class ClassifierHead(nn.Module):
    """The pipeline's head (`finetune/classifier_model.py`): LayerNorm, Linear, GELU, LayerNorm, Dropout,
    Linear; the LayerNorms have no affine weights."""

    def __init__(self, hidden_size: int, num_labels: int, dropout: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.spec = {"num_labels": num_labels, "dropout": dropout, "eps": eps}   # rebuilds it (load_classifier)
        self.nonlinearity = nn.Sequential(
            nn.LayerNorm(hidden_size, eps, elementwise_affine=False),
            nn.Linear(hidden_size, hidden_size),
            nn.GELU(),
            nn.LayerNorm(hidden_size, eps, elementwise_affine=False),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, num_labels),
        )

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.nonlinearity(pooled)


def last_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Per row, the position of the last real (mask 1) token: `len - 1` under right padding, the last column
    under left padding; any contiguous or gapped mask works (the largest position with a 1)."""
    width = attention_mask.size(-1)
    pos = torch.arange(1, width + 1, device=attention_mask.device)
    return (attention_mask.long() * pos).argmax(-1)


def pool_last(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """(B, S, D) -> (B, D): each row's hidden state at its last real token."""
    idx = last_token_index(attention_mask)
    return hidden[torch.arange(hidden.size(0), device=hidden.device), idx]


def _accepts(module: nn.Module, name: str) -> bool:
    try:
        params = inspect.signature(module.forward).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


class DecoderClassifier(nn.Module):
    """A decoder backbone (`AutoModel`: hidden states) + the pipeline's head on the last real token.

    Position ids restart at each row's first real token (`cumsum(mask) - 1`), so left padding gives the same
    outputs as no padding for absolute-position models too (RoPE models are shift-invariant anyway)."""

    def __init__(self, backbone: nn.Module, num_labels: int, dropout: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.backbone = backbone
        hidden = getattr(backbone.config, "hidden_size", None) or getattr(backbone.config, "n_embd")
        self.head = ClassifierHead(int(hidden), num_labels, dropout, eps)
        self._positions = _accepts(backbone, "position_ids")
        self._no_cache = _accepts(backbone, "use_cache")

    def hidden_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        kw: dict[str, Any] = {}
        if self._positions:
            kw["position_ids"] = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
        if self._no_cache:
            kw["use_cache"] = False
        out = self.backbone(input_ids=input_ids, attention_mask=attention_mask, **kw)
        hidden = getattr(out, "last_hidden_state", None)
        if hidden is None:
            hidden = out[0]
        return hidden

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(pool_last(self.hidden_states(input_ids, attention_mask), attention_mask))

    def reset(self, backbone_state: Mapping[str, torch.Tensor] | None, seed: int) -> None:
        """Restore the pretrained backbone weights and draw a fresh head from `seed` (PyTorch default init,
        as the pipeline's freshly built head)."""
        if backbone_state is not None:
            self.backbone.load_state_dict(backbone_state)
        g = torch.random.fork_rng(devices=[])
        with g:
            torch.manual_seed(seed)
            for m in self.head.modules():
                if isinstance(m, (nn.Linear, nn.LayerNorm)):
                    m.reset_parameters()


# --------------------------------------------------------------------------------------------------- data
@dataclass
class Encoded:
    """Token ids (unpadded, BOS/separator added by the tokenizer, truncated) and labels of one split."""
    ids: list[list[int]]
    labels: np.ndarray
    sources: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(r) for r in self.ids), dtype=np.int64, count=len(self.ids))

    def take(self, index: Sequence[int]) -> "Encoded":
        return Encoded([self.ids[i] for i in index], self.labels[np.asarray(index, dtype=np.int64)],
                       [self.sources[i] for i in index] if self.sources else [])


def encode(tok, examples: Sequence[Example], max_length: int, chunk: int = 2048) -> Encoded:
    """Tokenize text pairs as the pipeline does (`tok(A, B, truncation=True, max_length=...)`): with this
    project's tokenizer `<s> A </s> B`."""
    ids: list[list[int]] = []
    for s in range(0, len(examples), chunk):
        part = examples[s:s + chunk]
        a = [e.text_a for e in part]
        b = [e.text_b for e in part]
        if any(x is None for x in b):
            if not all(x is None for x in b):
                raise ValueError("encode: mixed single texts and pairs in one split")
            enc = tok(a, truncation=True, max_length=max_length)
        else:
            enc = tok(a, b, truncation=True, max_length=max_length)
        ids.extend(list(map(int, r)) for r in enc["input_ids"])
    if any(len(r) == 0 for r in ids):
        raise ValueError("encode: an example has no tokens")
    return Encoded(ids, np.asarray([e.label for e in examples], dtype=np.int64), [e.source for e in examples])


def collate(rows: Sequence[Sequence[int]], pad_id: int, side: str = "right", multiple: int = 1,
            device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Dynamic padding: (ids, mask) of width max(len) rounded up to `multiple`, padded on `side`."""
    width = max(len(r) for r in rows)
    width = -(-width // multiple) * multiple
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r)
        sl = slice(width - n, width) if side == "left" else slice(0, n)
        ids[i, sl] = torch.as_tensor(r, dtype=torch.long)
        mask[i, sl] = 1
    device = torch.device(device)
    return to_device(ids, device), to_device(mask, device)


def train_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator, group: bool = True,
                  drop_last: bool = True, chunk_batches: int = 50) -> list[np.ndarray]:
    """One epoch's batches of indices: a random permutation; with `group`, sorted by length within chunks of
    `chunk_batches` batches (similar lengths share a batch, little padding), batch order shuffled and the
    batch holding the longest example first (memory errors show early). With `drop_last` the last partial
    batch is dropped (as the pipeline's loader), unless it would be the only one."""
    n = len(lengths)
    perm = rng.permutation(n)
    if group:
        size = batch_size * chunk_batches
        perm = np.concatenate([c[np.argsort(-lengths[c], kind="stable")]
                               for c in (perm[i:i + size] for i in range(0, n, size))])
    batches = [perm[i:i + batch_size] for i in range(0, n, batch_size)]
    if drop_last and len(batches) > 1 and len(batches[-1]) < batch_size:
        batches.pop()
    if group and len(batches) > 1:
        batches = [batches[i] for i in rng.permutation(len(batches))]
        top = int(np.argmax([lengths[b].max() for b in batches]))
        batches[0], batches[top] = batches[top], batches[0]
    return batches


def n_train_batches(n: int, batch_size: int, drop_last: bool) -> int:
    full, rest = divmod(n, batch_size)
    return full + (1 if rest and (not drop_last or full == 0) else 0)


def eval_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Longest first (memory errors early, little padding); predictions are put back in file order."""
    order = np.argsort(-lengths, kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def subsample(n: int, m: int | None, seed: int) -> np.ndarray:
    """`m` of `n` indices drawn with `seed`, in file order (all when `m` is None or >= n)."""
    if m is None or m >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, 0]).choice(n, size=m, replace=False))


def heldout_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit, heldout) indices, stratified by label: round(fraction x n_class) of each class held out (at least
    one example overall, never all of train), drawn with `seed`; both sorted (file order)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng([seed, 1])
    held: list[int] = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        held.extend(idx[:int(round(fraction * len(idx)))].tolist())
    if not held:
        held = [int(rng.integers(len(labels)))]
    held_arr = np.sort(np.asarray(held, dtype=np.int64))
    fit = np.setdiff1d(np.arange(len(labels)), held_arr)
    if len(fit) == 0:
        raise ValueError(f"heldout_split: {len(labels)} examples leave nothing to train on")
    return fit, held_arr


# --------------------------------------------------------------------------------------------------- training
class BestEpoch:
    """The pipeline's keep-best rule (`trainer.py` `_compare_scores`, higher is better): an epoch becomes the
    best when its score is strictly greater than the best so far, so the first best epoch wins ties."""

    def __init__(self) -> None:
        self.best: float | None = None
        self.epoch: int | None = None

    def update(self, epoch: int, score: float) -> bool:
        if self.best is None or score > self.best:
            self.best, self.epoch = score, epoch
            return True
        return False


def choose_epoch(history: Sequence[Mapping[str, Mapping[str, float]]], by: str, metric: str) -> int:
    """The selected epoch (index into `history`) of a sequence of per-epoch metrics
    (`history[e][split][metric]`), selecting on split `by` with `BestEpoch`."""
    sel = BestEpoch()
    for e, rec in enumerate(history):
        sel.update(e, float(rec[by][metric]))
    if sel.epoch is None:
        raise ValueError("choose_epoch: empty history")
    return sel.epoch


@torch.inference_mode()
def predict(model: nn.Module, enc: Encoded, batch_size: int, pad_id: int, side: str = "right", multiple: int = 1,
            device: torch.device | str = "cpu", amp=None, desc: str | None = None, progress: bool = False
            ) -> np.ndarray:
    """Argmax predictions (file order) of `model` on `enc`; eval mode, inference mode, longest batches first."""
    from contextlib import nullcontext
    amp = amp if amp is not None else nullcontext()
    core = getattr(model, "_orig_mod", model)
    was_training = core.training
    model.eval()
    preds = np.empty(len(enc), dtype=np.int64)
    for idx in tqdm(eval_batches(enc.lengths, batch_size), desc=desc, leave=False, disable=not progress):
        ids, mask = collate([enc.ids[i] for i in idx], pad_id, side, multiple, device)
        with amp:
            logits = model(ids, mask)
        preds[idx] = logits.float().argmax(-1).cpu().numpy()
    model.train(was_training)
    return preds


@dataclass
class RunResult:
    """One fine-tuning run: per-epoch history, the selected epoch (1-based) and its valid metrics/predictions."""
    task: str
    seed: int
    selection: str
    best_epoch: int
    metrics: dict[str, float]
    predictions: list[int]
    history: list[dict[str, Any]]
    n_train: int
    n_select: int
    n_eval: int
    epochs: int
    wall_s: float

    def history_record(self) -> dict[str, Any]:
        return {"task": self.task, "seed": self.seed, "selection": self.selection, "best_epoch": self.best_epoch,
                "metrics": self.metrics, "epochs": self.epochs, "n_train": self.n_train,
                "n_select": self.n_select, "n_eval": self.n_eval, "wall_s": self.wall_s, "history": self.history}


def finetune_run(model: DecoderClassifier, backbone_state: Mapping[str, torch.Tensor] | None, task: GlueTask,
                 train: Encoded, select: Encoded, valid: Encoded, cfg: FinetuneConfig, seed: int, *,
                 selection: str = "valid", pad_id: int = 0, device: torch.device | str = "cpu",
                 forward: Callable | None = None, desc: str = "") -> RunResult:
    """Fine-tune `model` (reset to `backbone_state` + a head drawn from `seed`) on `train`; after each epoch,
    evaluate `select` and keep the best epoch (`BestEpoch` on the task's `metric_for_valid`). With
    `select is valid` (the official recipe) the best epoch's valid predictions are the result; otherwise the
    best epoch's weights are kept and valid is predicted once at the end. The model leaves with the
    selected epoch's weights when `cfg.save_weights` or the selection is not valid (else the last epoch's)."""
    t0 = time.perf_counter()
    device = torch.device(device)
    fwd = forward if forward is not None else model
    seed_everything(seed)
    model.reset(backbone_state, seed)
    model.to(device).train()
    rng = np.random.default_rng(seed)
    epochs = cfg.epochs_for(task)
    bs = cfg.batch_size_for(task)
    steps_per_epoch = n_train_batches(len(train), bs, cfg.drop_last)
    total = epochs * steps_per_epoch
    impl = {"fused": True} if device.type == "cuda" else {"foreach": True}
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps,
                            weight_decay=cfg.weight_decay, **impl)
    # the pipeline's cosine_schedule_with_warmup (finetune/utils.py) is transformers' schedule with a floor
    sched = get_cosine_with_min_lr_schedule_with_warmup(opt, int(cfg.warmup_proportion * total), total,
                                                        min_lr_rate=cfg.min_factor)
    amp = autocast(cfg.precision, device)
    same = select is valid
    keep = cfg.save_weights or not same       # a copy of the best epoch's weights is needed
    metric = task.metric_for_valid
    best = BestEpoch()
    best_state: dict[str, torch.Tensor] | None = None
    best_valid: tuple[dict[str, float], np.ndarray] | None = None
    history: list[dict[str, Any]] = []
    train_labels = torch.as_tensor(train.labels)
    ev = dict(batch_size=cfg.valid_batch_size, pad_id=pad_id, side=cfg.padding_side, multiple=cfg.pad_to_multiple,
              device=device, amp=amp, progress=cfg.progress)
    for epoch in range(1, epochs + 1):
        model.train()
        batches = train_batches(train.lengths, bs, rng, cfg.length_grouping, cfg.drop_last)
        loss_sum = torch.zeros((), device=device)
        seen = 0
        bar = tqdm(batches, desc=f"{desc} epoch {epoch}/{epochs}", leave=False, disable=not cfg.progress)
        for idx in bar:
            ids, mask = collate([train.ids[i] for i in idx], pad_id, cfg.padding_side, cfg.pad_to_multiple, device)
            labels = train_labels[idx].to(device, non_blocking=True)
            with amp:
                logits = fwd(ids, mask)
            loss = F.cross_entropy(logits.float(), labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            sched.step()
            loss_sum += loss.detach() * len(idx)
            seen += len(idx)
        preds = predict(fwd, select, desc=f"{desc} eval {selection}", **ev)
        scores = compute_metrics(select.labels, preds, task.metrics)
        history.append({"epoch": epoch, "train_loss": float(loss_sum) / max(seen, 1),
                        "lr_end": float(sched.get_last_lr()[0]), "steps": len(batches), selection: scores})
        if best.update(epoch, scores[metric]):
            if same:
                best_valid = (scores, preds)
            if keep:
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    assert best.epoch is not None
    if same:
        assert best_valid is not None
        metrics, preds = best_valid
        if keep:
            assert best_state is not None
            model.load_state_dict(best_state)
    else:
        assert best_state is not None
        model.load_state_dict(best_state)
        preds = predict(fwd, valid, desc=f"{desc} eval valid", **ev)
        metrics = compute_metrics(valid.labels, preds, task.metrics)
    return RunResult(task.name, seed, selection, best.epoch, metrics, [int(p) for p in preds], history,
                     len(train), len(select), len(valid), epochs, round(time.perf_counter() - t0, 3))


# --------------------------------------------------------------------------------------------------- outputs
def task_dir(out_dir: Path | str, model_name: str, revision: str, task: str) -> Path:
    """`<out>/<model>/<revision>/finetune/<task>/`, the pipeline's results path."""
    return finetune_root(out_dir, model_name, revision) / task


def official_results_text(task: GlueTask, metrics: Mapping[str, float]) -> str:
    """`results.txt` as the pipeline's `run.py` writes it: `key: value` lines of `--metrics`, no final newline."""
    return "\n".join(f"{k}: {metrics[k]}" for k in task.official_metrics)


def official_predictions(task: str, preds: Iterable[int]) -> dict[str, Any]:
    """`predictions.json` as the pipeline writes it (ids `<task>_<i>` in valid-file order)."""
    return {task: {"predictions": [{"id": f"{task}_{i}", "pred": int(p)} for i, p in enumerate(preds)]}}


def _write_run(base: Path, task: GlueTask, res: RunResult) -> None:
    run = base / f"seed{res.seed}" / res.selection
    records.atomic_write_text(run / "results.txt", official_results_text(task, res.metrics))
    records.atomic_write_text(run / "predictions.json", json.dumps(official_predictions(task.name, res.predictions)))
    records.atomic_write_json(run / "history.json", res.history_record())


ROWS_CSV, INFO_JSON = "rows.csv", "info.json"


def _write_seed(seed_dir: Path, rows: list[dict[str, Any]], info: Mapping[str, Any]) -> None:
    """A (task, seed)'s tidy rows and facts, written last: what `merge_outputs` reads back."""
    records.atomic_write_json(seed_dir / INFO_JSON, dict(info))
    records.atomic_write_text(seed_dir / ROWS_CSV, _table(rows).to_csv(index=False))


def _read_rows(path: Path) -> pd.DataFrame:
    return _table(pd.read_csv(path, keep_default_na=False, dtype={c: str for c in _STR_COLUMNS},
                              na_values={c: [""] for c in (*_INT_COLUMNS, "value", "wall_s")}).to_dict("records"))


HEAD_WEIGHTS, HEAD_CONFIG = "classifier_head.safetensors", "classifier.json"


def save_classifier(clf: DecoderClassifier, tokenizer: Any, out_dir: Path | str, task: GlueTask) -> Path:
    """The fine-tuned classifier as one folder: the backbone and tokenizer as a HF model (`AutoModel` loads
    it), plus the head's weights and shape (`HEAD_WEIGHTS`, `HEAD_CONFIG`); `load_classifier` reads it back.
    Written whole or not at all (`save_hf`)."""
    from safetensors.torch import save_file
    from .modeling import save_hf
    spec = {"task": task.name, **clf.head.spec}

    def head_files(folder: Path) -> None:
        save_file({k: v.detach().cpu().contiguous() for k, v in clf.head.state_dict().items()},
                  str(folder / HEAD_WEIGHTS))
        (folder / HEAD_CONFIG).write_text(json.dumps(spec, indent=1))
    return save_hf(clf.backbone, tokenizer, out_dir, extra=head_files)


def load_classifier(model_dir: Path | str) -> tuple[DecoderClassifier, Any]:
    """(classifier in fp32 on CPU, eval mode; tokenizer) from a `save_classifier` folder."""
    from safetensors.torch import load_file
    model_dir = Path(model_dir)
    try:
        spec = json.loads((model_dir / HEAD_CONFIG).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{model_dir / HEAD_CONFIG}: not a saved classifier (finetune.save_weights "
                                "writes one per run)") from None
    backbone, tok = load_backbone(model_dir)
    clf = DecoderClassifier(backbone, int(spec["num_labels"]), float(spec["dropout"]), float(spec["eps"]))
    clf.head.load_state_dict(load_file(str(model_dir / HEAD_WEIGHTS)))
    return clf.eval(), tok


def _rows(meta: Mapping[str, Any], task: GlueTask, res: RunResult) -> list[dict[str, Any]]:
    """Tidy rows of one run: each metric x 100 (percent; MCC x 100), as the leaderboard reports them."""
    return [{**meta, "task": task.name, "seed": res.seed, "selection": res.selection, "metric": m,
             "value": 100.0 * v, "unit": unit(m), "headline": m == task.score_metric, "status": "ok", "reason": "", "best_epoch": res.best_epoch, "epochs": res.epochs,
             "n_train": res.n_train, "n_select": res.n_select, "n_eval": res.n_eval, "wall_s": res.wall_s}
            for m, v in res.metrics.items()]


def _skipped_rows(meta: Mapping[str, Any], task: GlueTask, seeds: Sequence[int], selections: Sequence[str],
                  reason: str) -> list[dict[str, Any]]:
    return [{**meta, "task": task.name, "seed": s, "selection": sel, "metric": task.score_metric,
             "value": math.nan, "unit": unit(task.score_metric), "headline": True, "status": "skipped", "reason": reason, "best_epoch": math.nan, "epochs": math.nan,
             "n_train": math.nan, "n_select": math.nan, "n_eval": math.nan, "wall_s": math.nan}
            for s in seeds for sel in selections]


_INT_COLUMNS = ("seed", "best_epoch", "epochs", "n_train", "n_select", "n_eval")
_STR_COLUMNS = ("model", "condition", "size", "task", "selection", "metric", "unit", "status", "reason")


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    for col in _STR_COLUMNS:
        df[col] = df[col].fillna("").astype(str)
    for col in _INT_COLUMNS:
        df[col] = df[col].astype("Int64")
    df["value"] = df["value"].astype(float)
    df["headline"] = df["headline"].astype(bool)
    return df


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def parse_seeds(seeds: int | str | Iterable[int]) -> list[int]:
    """`"0,1,2"`, an int, or a list: distinct non-negative integers."""
    if isinstance(seeds, str):
        try:
            out = [int(s) for s in seeds.split(",") if s.strip()]
        except ValueError:
            raise ValueError(f"seeds: expected comma-separated integers (got {seeds!r})") from None
    elif _is_int(seeds):
        out = [int(seeds)]
    else:
        out = list(seeds)
    if not out or any(not _is_int(s) or s < 0 for s in out) or len(set(out)) != len(out):
        raise ValueError(f"seeds: need distinct integers >= 0 (got {seeds!r})")
    return out


# --------------------------------------------------------------------------------------------------- driver
def _load_task_data(data_dir: Path | str, name: str, cfg: FinetuneConfig) -> tuple[list[Example], list[Example]]:
    train = load_split(data_dir, name, "train")
    valid = load_split(data_dir, name, "valid", limit=cfg.max_valid_examples)
    keep = subsample(len(train), cfg.max_train_examples, cfg.data_seed)
    return [train[i] for i in keep], valid


def run_finetune(model_dir: Path | str, data_dir: Path | str, tasks: str | Sequence[str] = "all",
                 seeds: int | str | Iterable[int] = (0,), out_dir: Path | str = "results",
                 cfg: FinetuneConfig | None = None, *, model_name: str | None = None, condition: str = "",
                 size: str = "", revision: str = "main", model: nn.Module | None = None, tokenizer=None,
                 merge: bool = True) -> pd.DataFrame:
    """Fine-tune the model in `model_dir` on each task, once per seed and selection, and write the outputs
    (module docstring). Returns the tidy table of this call (`TABLE_COLUMNS`).

    `model`/`tokenizer`: use these instead of loading `model_dir` (which then only names the model); a causal
    LM's base model is fine-tuned and its original weights are restored at the end. `condition`, `size`: labels
    for the tidy table (e.g. "conv", "100m"). Absent files skip the task (status "skipped" with the reason)
    unless `cfg.skip_missing` is False; malformed files raise `DataError` naming file and line. Each (task, seed)
    folder gets its tidy rows (`rows.csv`) and facts (`info.json`); `merge=True` then rebuilds the model-level
    files from every (task, seed) folder on disk (`merge_outputs`); fan-out jobs merge after all jobs."""
    cfg = cfg or FinetuneConfig()
    names = parse_glue_tasks(tasks)
    seed_list = parse_seeds(seeds)
    device = resolve_device(cfg.device)
    model_name = model_name or Path(model_dir).stem
    meta = {"model": model_name, "condition": condition, "size": size}

    data: dict[str, tuple[list[Example], list[Example]]] = {}
    skipped: dict[str, str] = {}
    for name in names:                                # read (and check) every file before loading the model
        try:
            data[name] = _load_task_data(data_dir, name, cfg)
        except MissingData as e:
            if not cfg.skip_missing:
                raise
            skipped[name] = str(e)
            log.warning("finetune: skipping %s: %s", name, e)

    if model is None or tokenizer is None:
        backbone, tokenizer = load_backbone(model_dir)
    else:
        backbone = getattr(model, "base_model", model)
    pristine = {k: v.detach().to("cpu", copy=True) for k, v in backbone.state_dict().items()}
    home = next(backbone.parameters()).device
    pad_id = _pad_id(tokenizer)
    max_pos = getattr(backbone.config, "max_position_embeddings", None)
    max_length = min(cfg.max_length, int(max_pos)) if _is_int(max_pos) else cfg.max_length
    if max_length < cfg.max_length:
        log.warning("finetune: max_length %d capped at the model's max_position_embeddings %d",
                    cfg.max_length, max_length)
    if device.type == "cuda":
        enable_tf32()

    threads = torch.get_num_threads()
    if cfg.cpu_threads is not None and device.type == "cpu":
        torch.set_num_threads(cfg.cpu_threads)   # small models on a shared CPU: fewer threads, no oversubscription
    out_base = finetune_root(out_dir, model_name, revision)
    rows: list[dict[str, Any]] = []
    official_sel = "valid" if "valid" in cfg.selections else cfg.selections[0]
    try:
        with logging_redirect_tqdm():
            for name in names:
                spec = get_glue_task(name)
                if name in skipped:
                    for seed in seed_list:
                        seed_rows = _skipped_rows(meta, spec, [seed], cfg.selections, skipped[name])
                        _write_seed(out_base / name / f"seed{seed}", seed_rows, {"skipped": skipped[name]})
                        rows += seed_rows
                    continue
                t0 = time.perf_counter()
                train_ex, valid_ex = data[name]
                train_all = encode(tokenizer, train_ex, max_length)
                valid = encode(tokenizer, valid_ex, max_length)
                splits: dict[str, tuple[Encoded, Encoded]] = {}
                if "valid" in cfg.selections:
                    splits["valid"] = (train_all, valid)
                if "heldout" in cfg.selections:
                    fit, held = heldout_split(train_all.labels, cfg.heldout_fraction, cfg.data_seed)
                    splits["heldout"] = (train_all.take(fit), train_all.take(held))
                clf = DecoderClassifier(backbone, spec.num_labels, cfg.classifier_dropout,
                                        cfg.classifier_layer_norm_eps).to(device)
                fwd = torch.compile(clf, dynamic=True) if cfg.compile else clf
                runs = [(s, sel) for s in seed_list for sel in cfg.selections]
                bar = tqdm(runs, desc=f"finetune {name}", disable=not cfg.progress)
                seed_rows: list[dict[str, Any]] = []
                for seed, sel in bar:
                    train, select = splits[sel]
                    res = finetune_run(clf, pristine, spec, train, valid if sel == "valid" else select, valid,
                                       cfg, seed, selection=sel, pad_id=pad_id, device=device, forward=fwd,
                                       desc=f"{name} s{seed} {sel}")
                    _write_run(out_base / name, spec, res)
                    if cfg.save_weights:
                        save_classifier(clf, tokenizer, out_base / name / f"seed{seed}" / sel / "model", spec)
                    seed_rows += _rows(meta, spec, res)
                    bar.set_postfix_str(f"{spec.score_metric}={res.metrics[spec.score_metric]:.3f}")
                    log.info("%s seed %d %s: epoch %d, %s", name, seed, sel, res.best_epoch,
                             ", ".join(f"{k}={v:.4f}" for k, v in res.metrics.items()))
                    if sel == cfg.selections[-1]:
                        info = {"wall_s": round(time.perf_counter() - t0, 3), "n_train": len(train_all),
                                "n_valid": len(valid), "epochs": cfg.epochs_for(spec),
                                "batch_size": cfg.batch_size_for(spec), "path": str(out_base / name),
                                "truncated": int(sum(len(r) >= max_length for r in train_all.ids + valid.ids)),
                                "max_length_effective": max_length, "device": str(device),
                                "precision": resolved_precision(cfg.precision, device),
                                "config": cfg.model_dump(mode="json"), "model_dir": str(model_dir)}
                        _write_seed(out_base / name / f"seed{seed}", seed_rows, info)
                        rows += seed_rows
                        seed_rows = []
    finally:
        backbone.load_state_dict(pristine)            # a caller's model leaves as it came
        backbone.to(home)
        torch.set_num_threads(threads)
    table = _table(rows)
    if merge:
        runs = records.read_json_or_empty(out_base / RUNS_JSON)
        runs.update({name: seed_list for name in names})          # a task run again: these seeds replace its old
        write_runs(out_base, runs)
        merge_outputs(out_base, official_seed=seed_list[0], official_selection=official_sel, meta=meta,
                      revision=revision)
    return table


RUNS_JSON = "runs.json"


def write_runs(out_base: Path | str, runs: Mapping[str, Sequence[int]]) -> None:
    """Which seeds of which task the model-level files are made of (`merge_outputs` reads it): a seed folder
    left from an earlier configuration never enters them."""
    records.atomic_write_json(Path(out_base) / RUNS_JSON, {t: list(map(int, s)) for t, s in runs.items()})


def merge_outputs(out_base: Path | str, *, official_seed: int, official_selection: str = "valid",
                  meta: Mapping[str, Any] | None = None, revision: str = "main") -> pd.DataFrame:
    """Everything model-level from the (task, seed) folders on disk, in a fixed order (tasks as the
    pipeline lists them, seeds ascending), so runs done apart merge in any order: the tidy table, the GLUE
    scores, `summary.json`, and the official `<task>/results.txt` / `predictions.json`, those of
    `official_seed` (else the smallest seed run) under `official_selection`. Only the seeds `runs.json` lists
    for a task enter (all found when there is no such file). Returns the tidy table."""
    out_base = Path(out_base)
    runs = records.read_json_or_empty(out_base / RUNS_JSON)
    frames, tasks_info, skipped, seeds_seen = [], {}, {}, set()
    for name in GLUE_TASK_NAMES:
        wanted = set(runs.get(name, ())) if runs else None
        seed_dirs = sorted((p for p in (out_base / name).glob("seed*") if (p / ROWS_CSV).is_file()
                            and (wanted is None or int(p.name.removeprefix("seed")) in wanted)),
                           key=lambda p: int(p.name.removeprefix("seed")))
        if not seed_dirs:
            continue
        for d in seed_dirs:
            frames.append(_read_rows(d / ROWS_CSV))
            seeds_seen.add(int(d.name.removeprefix("seed")))
        info = json.loads((seed_dirs[0] / INFO_JSON).read_text())
        if "skipped" in info:
            skipped[name] = info["skipped"]
            continue
        tasks_info[name] = info
        seeds = [int(d.name.removeprefix("seed")) for d in seed_dirs]
        first = official_seed if official_seed in seeds else seeds[0]
        run = out_base / name / f"seed{first}" / official_selection
        if (run / "results.txt").is_file():
            records.atomic_write_text(out_base / name / "results.txt", (run / "results.txt").read_text())
            records.atomic_write_text(out_base / name / "predictions.json", (run / "predictions.json").read_text())
    table = _table(pd.concat(frames, ignore_index=True).to_dict("records")) if frames else _table([])
    records.atomic_write_text(out_base / RESULTS_CSV, table.to_csv(index=False))
    records.atomic_write_text(out_base / GLUE_CSV, glue_score(table).to_csv(index=False))
    first_info = next(iter(tasks_info.values()), {})
    summary = {"tasks": {k: {f: v[f] for f in ("wall_s", "n_train", "n_valid", "epochs", "batch_size", "path",
                                                "truncated")} for k, v in tasks_info.items()},
               "skipped": skipped, **(meta or {}), "revision": revision, "seeds": sorted(seeds_seen),
               **{k: first_info[k] for k in ("model_dir", "config", "max_length_effective", "device", "precision")
                  if k in first_info},
               "wall_s": round(sum(v["wall_s"] for v in tasks_info.values()), 3),
               "provenance": records.provenance()}
    records.atomic_write_json(out_base / SUMMARY_JSON, summary)
    return table


def format_table(table: pd.DataFrame) -> str:
    """A short text summary: per task and selection, mean (sd) over seeds of each metric; skipped tasks with
    their reason; the GLUE score per selection."""
    lines = [f"{'task':<8} {'selection':<9} {'metric':<9} {'mean %':>7} {'sd':>7} {'seeds':>5}"]
    ok = table[table["status"] == "ok"]
    for (task, sel, metric), g in ok.groupby(["task", "selection", "metric"], sort=False):
        v = g["value"].astype(float)
        sd = v.std(ddof=1) if len(v) > 1 else float("nan")
        lines.append(f"{task:<8} {sel:<9} {metric:<9} {v.mean():>7.2f} {sd:>7.2f} {len(v):>5}")
    for task, g in table[table["status"] == "skipped"].groupby("task", sort=False):
        lines.append(f"{task:<8} skipped: {g['reason'].iloc[0]}")
    if not ok.empty:
        gs = glue_score(table)
        for sel, g in gs.groupby("selection", sort=False):
            note = "" if g["complete"].all() else f" (over {g['tasks'].iloc[0]}; missing {g['missing'].iloc[0]})"
            lines.append(f"GLUE score, selection {sel}: {g['value'].mean():.2f}{note}")
    return "\n".join(lines)


def run_job(model_dir: str, data_dir: str, task: str, seed: int, out_dir: str, config: dict[str, Any],
            model_name: str, condition: str, size: str) -> dict[str, Any]:
    """One fan-out job (`classit_utils.fanout`): one (model, task, seed), no merge (done after the jobs)."""
    cfg = FinetuneConfig.model_validate({**config, "progress": False})
    table = run_finetune(model_dir, data_dir, [task], [seed], out_dir, cfg, model_name=model_name,
                         condition=condition, size=size, merge=False)
    return {"model": model_name, "task": task, "seed": seed, "rows": len(table)}


def finetune_jobs(cfg: StudyConfig) -> list:
    """One fan-out job per (model, task, seed) of the study."""
    from .fanout import Job, fingerprint
    f = cfg.finetune
    config = f.config.model_dump(mode="json")
    jobs = []
    for m in read_registry(cfg).itertuples():
        for task in f.tasks:
            for seed in f.seeds:
                base = finetune_root(results_dir(cfg), m.model) / task / f"seed{seed}"
                jobs.append(Job(f"{m.model}/finetune/{task}/seed{seed}", base / ".job", "classit_utils.finetune:run_job",
                                {"model_dir": str(m.path), "data_dir": str(cfg.data_dir), "task": task, "seed": seed,
                                 "out_dir": str(results_dir(cfg)), "config": config, "model_name": m.model,
                                 "condition": m.condition, "size": m.size},
                                {"model": fingerprint(Path(m.path).resolve()),
                                 "data": fingerprint(*(cfg.data_dir / "glue_filtered").glob(f"{task}.*.jsonl"))}))
    return jobs


def run_all(cfg: StudyConfig) -> pd.DataFrame:
    """Fine-tune every model of the study's registry on the configured tasks and seeds (notebook 08): one job
    per (model, task, seed) through `cfg.fanout` (serial or Ray; done jobs are skipped), then each model's
    files merged; returns the study's whole fine-tuning table (`results.finetune_table`)."""
    from .fanout import run_jobs
    f = cfg.finetune
    run_jobs(finetune_jobs(cfg), cfg.fanout, desc="fine-tuning")
    official_sel = "valid" if "valid" in f.config.selections else f.config.selections[0]
    for m in read_registry(cfg).itertuples():
        write_runs(finetune_root(results_dir(cfg), m.model), {t: f.seeds for t in f.tasks})
        merge_outputs(finetune_root(results_dir(cfg), m.model), official_seed=f.seeds[0],
                      official_selection=official_sel,
                      meta={"model": m.model, "condition": m.condition, "size": m.size})
    return finetune_table(cfg)
