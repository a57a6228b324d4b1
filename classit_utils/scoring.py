"""Log-probability scoring of (context, continuation) requests with a causal LM: the engine behind every
zero-shot task (lm-evaluation-harness style, see STYLE.md "Scoring core").

A request's score is the sum of the natural-log probabilities of its *continuation tokens*, each given
BOS + everything before it. Which tokens are continuation tokens follows the BabyLM 2025 pipeline's
`causal` phrase mask (`evaluation_pipeline/sentence_zero_shot/dataset.py`,
`CompletionRankingDataset.process_causal_sentences`): the text `context + continuation` is tokenized
*as one string*, and a token is scored iff its character span ends after the last character of the
context. So a token that straddles the boundary belongs to the continuation. That is what makes the
entity-tracking rule exact: `input_prefix` ends with a space, the byte-level BPE glues that space to the
option's first word (`" the"`), and that token is scored, as in the pipeline. EWoK (`Context1` +
`" " + Target`) and COMPS (`prefix + " " + property_phrase`) give the same tokens either way.

BOS policy (`bos=True`, the default and the project's tokenizer policy): the tokenizer's BOS id (EOS if it
has none) is prepended to every request, so the first word of a whole-sentence request (BLiMP, WUG) is
scored given BOS. With `bos=False` nothing is prepended, and the first token of the text has no
prediction, so when the context is empty the continuation's first token is *not scored* (its log-prob is
simply absent from `Score.token_logprobs`).

Engine (the fast path is exact: tested against a one-text-at-a-time loop, to 1e-5):
- encode all requests in one batched tokenizer call; drop duplicate token sequences;
- plain path: sort by length (longest first, so memory errors come early), right-pad, one forward per
  batch with an attention mask; logits only at the scored positions (`logits_to_keep` as a boolean mask
  where transformers supports it), fp32 `log_softmax`, gather, split per request; original order restored;
- shared-prefix path (`share_context=True`): sequences that share a token prefix (`prefix_groups`: a
  context and its candidates, EWoK's two targets, entity tracking's five options with their common
  `" the"`, the common start of a BLiMP pair) run that prefix once with `use_cache=True`, which also
  gives the log-probs of any scored tokens inside it and the distribution after it; its KV cache is
  index-selected over the members, whose remaining tokens run as a second, right-padded batch with
  explicit position ids. Same numbers as the plain path (tested), fewer tokens through the model.
- `model.eval()`, `torch.inference_mode()`; on CUDA optional bf16 autocast (log_softmax stays fp32).
Per-token log-probs are kept, so other reductions (mean, surprisal per token) need no rescoring.
"""
from __future__ import annotations

import inspect
import math
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch
from tqdm.auto import tqdm

__all__ = ["Request", "Score", "Encoded", "encode_requests", "score_requests", "score_texts",
           "resolve_device", "naive_score", "prefix_groups"]


@dataclass(frozen=True)
class Request:
    """Score `continuation` given `context` (empty context: the whole text is scored, given BOS)."""
    context: str
    continuation: str


@dataclass(frozen=True)
class Score:
    """Sum of continuation-token log-probs (nats), with the scored tokens and their log-probs."""
    logprob: float
    token_ids: tuple[int, ...]
    token_logprobs: tuple[float, ...]

    @property
    def n_tokens(self) -> int:
        return len(self.token_ids)

    @property
    def mean_logprob(self) -> float:
        return self.logprob / self.n_tokens if self.token_ids else float("nan")

    @property
    def surprisal_bits(self) -> float:
        return -self.logprob / math.log(2)


@dataclass(frozen=True)
class Encoded:
    """`ids` = [BOS] + tokens of context+continuation; tokens `ids[n_prefix:]` are scored."""
    ids: tuple[int, ...]
    n_prefix: int


# ----------------------------------------------------------------------------------------------- encoding

def _bos_id(tok) -> int:
    for tid in (tok.bos_token_id, tok.eos_token_id):
        if tid is not None:
            return int(tid)
    raise ValueError("scoring: bos=True but the tokenizer has neither a BOS nor an EOS token")


def _pad_id(tok) -> int:
    for tid in (tok.pad_token_id, tok.eos_token_id):
        if tid is not None:
            return int(tid)
    return 0


def encode_requests(tok, requests: Sequence[Request], bos: bool = True, chunk: int = 4096) -> list[Encoded]:
    """Tokenize `context + continuation` jointly and mark the continuation's tokens (module docstring)."""
    bos_id = _bos_id(tok) if bos else None
    out: list[Encoded] = []
    for start in range(0, len(requests), chunk):
        part = requests[start:start + chunk]
        texts = [r.context + r.continuation for r in part]
        if getattr(tok, "is_fast", False):
            enc = tok(texts, add_special_tokens=False, return_offsets_mapping=True)
            all_ids, all_offsets = enc["input_ids"], enc["offset_mapping"]
        else:   # no offsets: context and continuation tokenized apart (exact for whitespace-split BPE)
            all_ids, all_offsets = [], []
            for r in part:
                c = tok(r.context, add_special_tokens=False)["input_ids"] if r.context else []
                k = tok(r.continuation, add_special_tokens=False)["input_ids"]
                all_ids.append(c + k)
                all_offsets.append([(0, 0)] * len(c) + [(len(r.context), len(r.context) + 1)] * len(k))
        for r, ids, offsets in zip(part, all_ids, all_offsets):
            split = len(r.context)
            first = next((i for i, (_, end) in enumerate(offsets) if end > split), len(ids))
            if bos_id is not None:
                ids = [bos_id, *ids]
                first += 1
            out.append(Encoded(tuple(int(i) for i in ids), max(first, 1)))
    return out


# ----------------------------------------------------------------------------------------------- model calls

def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _model_device(model) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


class _Caller:
    """Calls a HF causal LM, asking for logits only where `keep` is True when the model allows it."""

    def __init__(self, model):
        self.model = model
        params = inspect.signature(model.forward).parameters
        try:
            from transformers import modeling_utils
            bool_keep = hasattr(modeling_utils, "slice_logits_to_keep")   # 2-D boolean logits_to_keep
        except ImportError:
            bool_keep = False
        self.keep_ok = bool_keep and "logits_to_keep" in params
        self.cache_kw = "cache" if "cache" in params else "past_key_values"

    def __call__(self, input_ids, attention_mask, keep, position_ids=None, cache=None, use_cache=False):
        kw = dict(input_ids=input_ids, attention_mask=attention_mask, use_cache=use_cache)
        if position_ids is not None:
            kw["position_ids"] = position_ids
        if cache is not None:
            kw[self.cache_kw] = cache
        n_keep = int(keep.sum())
        if self.keep_ok:
            out = self.model(**kw, logits_to_keep=keep)
            logits = out.logits
            if logits.dim() == 3 and logits.shape[:2] == keep.shape:   # model ignored the mask
                logits = logits[keep]
            elif logits.dim() == 3 and logits.shape[0] == 1 and logits.shape[1] == n_keep:
                logits = logits[0]
        else:
            out = self.model(**kw)
            logits = out.logits[keep]
        if logits.shape[0] != n_keep:
            raise RuntimeError(f"scoring: expected {n_keep} logit rows, got {tuple(logits.shape)}")
        new_cache = getattr(out, "cache", None) if use_cache else None
        if use_cache and new_cache is None:
            new_cache = getattr(out, "past_key_values", None)
        return logits, new_cache


def _logprobs(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """fp32 log_softmax over the vocabulary, then the targets' entries."""
    return torch.log_softmax(logits.float(), dim=-1).gather(-1, targets[:, None]).squeeze(-1)


def _pad(rows: Sequence[Sequence[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max((len(r) for r in rows), default=0)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
            mask[i, :len(r)] = 1
    return ids.to(device), mask.to(device)


def _cache_kv(cache) -> list[tuple[torch.Tensor, torch.Tensor]] | None:
    """The per-layer (keys, values) of a plain dynamic cache; None for caches we cannot index-select."""
    if cache is None:
        return None
    if hasattr(cache, "layers"):
        if any(type(layer).__name__ != "DynamicLayer" for layer in cache.layers):
            return None
        return [(layer.keys, layer.values) for layer in cache.layers]
    if hasattr(cache, "key_cache"):
        return list(zip(cache.key_cache, cache.value_cache))
    if isinstance(cache, (tuple, list)):
        return [(k, v) for k, v, *_ in cache]
    return None


def _select_cache(kv, index: torch.Tensor):
    from transformers import DynamicCache
    return DynamicCache([(k.index_select(0, index), v.index_select(0, index)) for k, v in kv])


# ----------------------------------------------------------------------------------------------- engine

def _score_plain(call, encs: list[Encoded], batch_size: int, pad_id: int, device, amp, bar) -> list[list[float]]:
    """Full-sequence forwards, longest first; returns per-token log-probs in the order of `encs`."""
    order = sorted(range(len(encs)), key=lambda i: -len(encs[i].ids))
    out: list[list[float]] = [[] for _ in encs]
    for b in range(0, len(order), batch_size):
        idx = order[b:b + batch_size]
        rows = [encs[i].ids[:-1] for i in idx]
        ids, mask = _pad(rows, pad_id, "cpu")
        keep = torch.zeros_like(mask, dtype=torch.bool)   # built on the CPU, moved once
        targets = []
        for r, i in enumerate(idx):
            e = encs[i]
            keep[r, e.n_prefix - 1:len(e.ids) - 1] = True
            targets.extend(e.ids[e.n_prefix:])
        if targets:
            with amp:
                logits, _ = call(ids.to(device), mask.to(device), keep.to(device))
            lp = _logprobs(logits, torch.tensor(targets, device=logits.device)).cpu().tolist()
            pos = 0
            for i in idx:
                n = len(encs[i].ids) - encs[i].n_prefix
                out[i] = lp[pos:pos + n]
                pos += n
        bar.update(len(idx))
    return out


def _lcp(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    k = 0
    while k < n and a[k] == b[k]:
        k += 1
    return k


def prefix_groups(encs: Sequence[Encoded], idx: Sequence[int], min_shared: int
                  ) -> tuple[list[tuple[list[int], int]], list[int]]:
    """Group sequences that share a token prefix: (members, shared length) groups and the singletons.

    Greedy over the sequences in lexicographic order: the next sequence joins the current group while the
    group's common prefix stays >= `min_shared` tokens and the tokens saved, (members - 1) * prefix, do not
    decrease. Candidates of one item (EWoK's targets after their context, entity tracking's options, a
    BLiMP pair's common start) end up together; unrelated sequences rarely share `min_shared` tokens."""
    order = sorted(idx, key=lambda i: encs[i].ids)
    groups: list[tuple[list[int], int]] = []
    singles: list[int] = []
    k = 0
    while k < len(order):
        members, shared = [order[k]], len(encs[order[k]].ids)
        j = k + 1
        while j < len(order):
            s2 = min(shared, _lcp(encs[order[j - 1]].ids, encs[order[j]].ids))
            if s2 < min_shared or len(members) * s2 < (len(members) - 1) * shared:
                break
            members.append(order[j])
            shared = s2
            j += 1
        if len(members) > 1:
            groups.append((members, shared))
        else:
            singles.append(order[k])
        k = j
    return groups, singles


def _score_shared(call, encs: list[Encoded], groups: list[tuple[list[int], int]], batch_size: int, pad_id: int,
                  device, amp, bar) -> list[list[float]] | None:
    """Shared-prefix path. Per batch of groups, one forward over the shared prefixes (use_cache=True) gives
    the log-probs of the scored tokens inside each prefix and the distribution after it; the KV cache,
    index-selected per member, then runs the members' remaining tokens as a right-padded batch with explicit
    position ids. Returns per-token log-probs for the groups' members (others left empty), or None when
    the model's cache cannot be index-selected (the caller then scores them the plain way)."""
    out: list[list[float]] = [[] for _ in encs]
    groups = sorted(groups, key=lambda g: -max(len(encs[i].ids) for i in g[0]))
    for b in range(0, len(groups), batch_size):
        gb = groups[b:b + batch_size]
        prefixes = [encs[m[0]].ids[:L] for m, L in gb]
        # Positions whose logits are needed: from the first scored token inside the prefix to its end.
        starts = [min(min(encs[i].n_prefix for i in m), L) - 1 for m, L in gb]
        p_ids, p_mask = _pad(prefixes, pad_id, "cpu")
        keep = torch.zeros_like(p_mask, dtype=torch.bool)
        for r, ((_, L), st) in enumerate(zip(gb, starts)):
            keep[r, st:L] = True
        p_ids, p_mask, keep = p_ids.to(device), p_mask.to(device), keep.to(device)
        with amp:
            logits, cache = call(p_ids, p_mask, keep, use_cache=True)
        kv = _cache_kv(cache)
        if kv is None:
            return None
        lp = torch.log_softmax(logits.float(), dim=-1)                      # rows: groups' kept positions
        row0 = [0]
        for (_, L), st in zip(gb, starts):
            row0.append(row0[-1] + L - st)
        last_rows = torch.tensor([row0[r + 1] - 1 for r in range(len(gb))], device=lp.device)
        inner_rows = [row0[r] + t - 1 - st for r, ((_, L), st) in enumerate(zip(gb, starts))
                      for t in range(st + 1, L)]
        inner_tok = [prefixes[r][t] for r, ((_, L), st) in enumerate(zip(gb, starts)) for t in range(st + 1, L)]
        inner = (lp[torch.tensor(inner_rows, dtype=torch.long, device=lp.device),
                    torch.tensor(inner_tok, dtype=torch.long, device=lp.device)].cpu().tolist() if inner_rows else [])
        shared_lp: list[dict[int, float]] = []   # per group: token position -> log-prob
        pos = 0
        for (_, L), st in zip(gb, starts):
            shared_lp.append({t: inner[pos + t - st - 1] for t in range(st + 1, L)})
            pos += L - st - 1
        p_len = p_mask.sum(1)
        members = [(gi, i) for gi, (m, _) in enumerate(gb) for i in m]
        members.sort(key=lambda x: -(len(encs[x[1]].ids) - gb[x[0]][1]))
        for c in range(0, len(members), batch_size):
            chunk = members[c:c + batch_size]
            gidx = torch.tensor([gi for gi, _ in chunk], device=device)
            firsts = [(r, gi, encs[i].ids[gb[gi][1]]) for r, (gi, i) in enumerate(chunk)
                      if len(encs[i].ids) > gb[gi][1] and encs[i].n_prefix <= gb[gi][1]]
            first = {}
            if firsts:
                vals = lp[last_rows[torch.tensor([f[1] for f in firsts], device=lp.device)],
                          torch.tensor([f[2] for f in firsts], device=lp.device)].cpu().tolist()
                first = {f[0]: v for f, v in zip(firsts, vals)}
            suffixes = [encs[i].ids[gb[gi][1]:-1] for gi, i in chunk]
            rest: list[list[float]] = [[] for _ in chunk]
            if any(suffixes):
                s_ids, s_mask = _pad(suffixes, pad_id, "cpu")
                s_keep = torch.zeros_like(s_mask, dtype=torch.bool)
                targets = []
                for r, (gi, i) in enumerate(chunk):
                    e, L = encs[i], gb[gi][1]
                    lo = max(e.n_prefix - L - 1, 0)          # input j predicts token L + 1 + j
                    s_keep[r, lo:len(e.ids) - L - 1] = True
                    targets.extend(e.ids[L + 1 + lo:])
                s_ids, s_mask, s_keep = s_ids.to(device), s_mask.to(device), s_keep.to(device)
                mask = torch.cat([p_mask.index_select(0, gidx), s_mask], dim=1)
                positions = p_len.index_select(0, gidx)[:, None] + torch.arange(s_ids.shape[1], device=device)[None]
                if targets:
                    with amp:
                        logits_b, _ = call(s_ids, mask, s_keep, position_ids=positions,
                                           cache=_select_cache(kv, gidx))
                    vals = _logprobs(logits_b, torch.tensor(targets, device=logits_b.device)).cpu().tolist()
                    q = 0
                    for r, (gi, i) in enumerate(chunk):
                        e, L = encs[i], gb[gi][1]
                        n = len(e.ids) - max(e.n_prefix, L + 1)
                        rest[r] = vals[q:q + n]
                        q += n
            for r, (gi, i) in enumerate(chunk):
                e, L = encs[i], gb[gi][1]
                inside = [shared_lp[gi][t] for t in range(e.n_prefix, min(L, len(e.ids)))]
                out[i] = inside + ([first[r]] if r in first else []) + rest[r]
            bar.update(len(chunk))
    return out


def score_requests(model, tok, requests: Sequence[Request], batch_size: int = 64, *, bos: bool = True,
                   share_context: bool = True, min_shared_prefix: int = 4, bf16: bool = False,
                   progress: bool = True, desc: str = "scoring") -> list[Score]:
    """Score every request (module docstring); results are in the order of `requests`.

    `share_context`: sequences sharing a token prefix of at least `min_shared_prefix` tokens (BOS
    included; `prefix_groups`) run it once and reuse its KV cache. `bf16`: autocast on CUDA only."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1 (got {batch_size})")
    requests = list(requests)
    if not requests:
        return []
    was_training = model.training
    model.eval()
    device = _model_device(model)
    amp = (torch.autocast("cuda", dtype=torch.bfloat16) if bf16 and device.type == "cuda" else nullcontext())
    encs = encode_requests(tok, requests, bos=bos)

    # Identical token sequences are scored once.
    unique: dict[Encoded, int] = {}
    back = [unique.setdefault(e, len(unique)) for e in encs]
    uencs = list(unique)
    scorable = [i for i, e in enumerate(uencs) if e.n_prefix < len(e.ids)]

    groups: list[tuple[list[int], int]] = []
    plain = scorable
    if share_context:
        groups, plain = prefix_groups(uencs, scorable, min_shared_prefix)
    grouped = [i for m, _ in groups for i in m]

    call = _Caller(model)
    pad_id = _pad_id(tok)
    token_lps: list[list[float]] = [[] for _ in uencs]
    try:
        with torch.inference_mode(), tqdm(total=len(scorable), desc=desc, unit="seq", disable=not progress,
                                          leave=False) as bar:
            if groups:
                res = _score_shared(call, uencs, groups, batch_size, pad_id, device, amp, bar)
                if res is None:   # cache not index-selectable: score those requests the plain way
                    plain = scorable
                else:
                    for i in grouped:
                        token_lps[i] = res[i]
            if plain:
                sub = [uencs[i] for i in plain]
                res = _score_plain(call, sub, batch_size, pad_id, device, amp, bar)
                for i, lp in zip(plain, res):
                    token_lps[i] = lp
    finally:
        if was_training:
            model.train()

    scores_u = [Score(float(math.fsum(lp)), e.ids[e.n_prefix:], tuple(lp)) for e, lp in zip(uencs, token_lps)]
    return [scores_u[j] for j in back]


def score_texts(model, tok, texts: Iterable[str], batch_size: int = 64, **kw) -> list[Score]:
    """Whole-text scores (empty context), as BLiMP and WUG use them."""
    return score_requests(model, tok, [Request("", t) for t in texts], batch_size, **kw)


def naive_score(model, tok, request: Request, bos: bool = True) -> Score:
    """Reference implementation: one request, one plain forward, no padding, no cache. For tests."""
    e = encode_requests(tok, [request], bos=bos)[0]
    model.eval()
    device = _model_device(model)
    with torch.inference_mode():
        ids = torch.tensor([e.ids], device=device)
        logits = model(input_ids=ids).logits[0].float()
        lp = torch.log_softmax(logits, dim=-1)
        toks = [lp[t - 1, e.ids[t]].item() for t in range(e.n_prefix, len(e.ids))]
    return Score(float(math.fsum(toks)), e.ids[e.n_prefix:], tuple(toks))
