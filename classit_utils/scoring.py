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

BOS policy. `bos="tokenizer"` (the default, the official pipeline's rule): a request starts with whatever
special tokens the tokenizer itself puts in front of a text (`tokenizer(text)` with its special tokens, as
the pipeline calls it): this project's tokenizer adds BOS, a GPT-2-style one adds nothing. `bos=True`: the
tokenizer's BOS id (EOS if it has none) is always prepended. `bos=False`: nothing is prepended. Without a
leading token the first token of the text has no prediction, so when the context is empty the continuation's
first token is *not scored* (its log-prob is simply absent from `Score.token_logprobs`), as in the pipeline.

Engine (the fast path is exact: tested against a one-text-at-a-time loop, to 1e-5):
- encode all requests in one batched tokenizer call; drop duplicate token sequences;
- prefix sharing (`share_context=True`, the default): each batch of `batch_size` sequences, in lexicographic
  order, is one token trie of the model inputs (`build_trie`), run unpadded, once per node, positions =
  depth, through a registered attention (`_tries_attention`) that lets each node see exactly its ancestors,
  in segments of `segment_nodes` nodes. So every shared prefix - a context before its candidates (EWoK,
  entity tracking's ~180-token prefix before five options), the common start of a BLiMP pair, the BOS -
  runs once, and each (position, next token) log-prob is computed once. A model whose attention cannot be
  swapped (checked on a probe) falls back to the plain path, with a warning;
- plain path: one right-padded row per sequence, longest first (memory errors come early), 2-D mask;
- the output layer runs only at the positions whose next token is scored, in cache-sized chunks, each
  followed by its fp32 `log_softmax` and a gather (`_Forward`); original order restored;
- `model.eval()`, `torch.inference_mode()`; on CUDA optional bf16 autocast (log_softmax stays fp32),
  pinned asynchronous host-to-device copies.
Per-token log-probs are kept, so other reductions (mean, surprisal per token) need no rescoring.
"""
from __future__ import annotations

import functools
import math
import warnings
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch
from tqdm.auto import tqdm

from .runtime import bos_id as _bos_id, model_device as _model_device, pad_id as _pad_id, to_device as _to

__all__ = ["Request", "Score", "Encoded", "encode_requests", "score_requests", "score_encoded", "score_texts",
           "naive_score", "build_trie", "leading_ids"]


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

Bos = bool | str     # True, False or "tokenizer"


def leading_ids(tok, bos: Bos) -> tuple[int, ...]:
    """The ids put before every request under the BOS policy `bos` (module docstring)."""
    if bos == "tokenizer":
        probe = "a"
        full = list(tok(probe)["input_ids"])
        bare = list(tok(probe, add_special_tokens=False)["input_ids"])
        n = len(full) - len(bare)
        if n < 0 or full[n:n + len(bare)] != bare:
            raise ValueError("scoring: cannot tell which special tokens the tokenizer puts before a text")
        return tuple(int(i) for i in full[:n])
    if bos is True:
        try:
            return (_bos_id(tok),)
        except ValueError as err:
            raise ValueError(f"scoring: bos=True but {err}") from None
    if bos is False:
        return ()
    raise ValueError(f"scoring: bos must be True, False or 'tokenizer' (got {bos!r})")


def encode_requests(tok, requests: Sequence[Request], bos: Bos = "tokenizer", chunk: int = 4096) -> list[Encoded]:
    """Tokenize `context + continuation` jointly and mark the continuation's tokens (module docstring)."""
    lead = leading_ids(tok, bos)
    backend = getattr(tok, "backend_tokenizer", None) if getattr(tok, "is_fast", False) else None
    if backend is not None and (backend.truncation is not None or backend.padding is not None):
        backend = None   # settings a direct call would apply: let the wrapper switch them off
    out: list[Encoded] = []
    for start in range(0, len(requests), chunk):
        part = requests[start:start + chunk]
        texts = [r.context + r.continuation for r in part]
        if backend is not None:   # what the wrapper calls, without converting every encoding to a dict
            encodings = backend.encode_batch(texts, add_special_tokens=False)
            all_ids = [e.ids for e in encodings]
            all_offsets = [e.offsets if r.context else () for e, r in zip(encodings, part)]   # only to split
        elif getattr(tok, "is_fast", False):
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
            first = next((i for i, (_, end) in enumerate(offsets) if end > split), len(ids)) if split else 0
            if lead:
                ids = [*lead, *ids]
                first += len(lead)
            out.append(Encoded(tuple(map(int, ids)), max(first, 1)))
    return out


# ----------------------------------------------------------------------------------------------- model calls

class _Forward:
    """The two model calls of the engine: per-position states of a batch, and the log-probs of chosen tokens
    at chosen positions.

    When the model's logits are `output_embeddings(final hidden state)` (checked once on a probe, so
    soft-capped or scaled heads are caught), `states` are hidden states and the output layer runs only at
    the positions whose next token is scored, `chunk` rows at a time, each chunk's fp32 log_softmax right
    after its matmul: the [rows, vocabulary] logits never exist all at once and stay in cache, which halves
    the head's cost on a CPU (benchmarks/RESULTS.md). Otherwise `states` are the model's logits."""

    def __init__(self, model, amp, chunk: int | None = None):
        self.model, self.amp = model, amp
        self.device = _model_device(model)
        self.chunk = chunk or (128 if self.device.type == "cpu" else 2048)
        self.dtype = next(model.parameters()).dtype
        self.tol = 1e-4 if self.dtype == torch.float32 else 5e-2
        base, head = getattr(model, "base_model", None), model.get_output_embeddings()
        self.base, self.head = (base, head) if base is not None and base is not model and head is not None \
            else (None, None)
        if self.base is not None:
            probe = torch.tensor([[0, 1, 2]], device=self.device) % _vocab_size(model)
            a = model(input_ids=probe, use_cache=False).logits.float()
            b = self.head(self.base(input_ids=probe, use_cache=False).last_hidden_state).float()
            if a.shape != b.shape or not torch.allclose(a, b, atol=self.tol, rtol=self.tol):
                self.base = self.head = None
        # A bias-free fp32 linear head without autocast writes into two reused buffers (no page-fresh
        # [chunk, vocabulary] tensors per chunk).
        self.buffers: tuple[torch.Tensor, torch.Tensor] | None = None
        if (isinstance(self.head, torch.nn.Linear) and self.head.bias is None and self.dtype == torch.float32
                and isinstance(amp, nullcontext)):
            self.buffers = tuple(torch.empty((self.chunk, self.head.out_features), device=self.device)
                                 for _ in range(2))

    def states(self, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor | None = None,
               segments: "_Segments | None" = None) -> torch.Tensor:
        kw = dict(input_ids=ids, attention_mask=mask, use_cache=False)
        if positions is not None:
            kw["position_ids"] = positions
        with self.amp, _segment_attention(segments):
            if self.base is not None:
                return self.base(**kw).last_hidden_state
            return self.model(**kw).logits

    def logprobs(self, states: torch.Tensor, rows: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """log P(tokens[k] | position rows[k]) for states [N, *]; fp32, in the order of `rows`."""
        order = torch.argsort(rows, stable=True)
        rows_s, toks_s = rows[order], tokens[order]
        bounds = torch.searchsorted(rows_s, torch.arange(0, states.shape[0] + self.chunk, self.chunk,
                                                         device=rows.device)).tolist()
        got = torch.empty(rows.shape[0], dtype=torch.float32, device=states.device)   # in sorted order
        for c, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            if lo == hi:
                continue
            x = states[c * self.chunk:(c + 1) * self.chunk]
            if self.buffers is not None:
                logits = torch.mm(x, self.head.weight.t(), out=self.buffers[0][:len(x)])
                lsm = torch.log_softmax(logits, dim=-1, out=self.buffers[1][:len(x)])
            else:
                with self.amp:
                    logits = self.head(x) if self.head is not None else x
                lsm = torch.log_softmax(logits.float(), dim=-1)
            got[lo:hi] = lsm[rows_s[lo:hi] - c * self.chunk, toks_s[lo:hi]]
        out = torch.empty_like(got)
        out[order] = got
        return out


def _vocab_size(model) -> int:
    emb = model.get_input_embeddings()
    return int(emb.num_embeddings if hasattr(emb, "num_embeddings") else emb.weight.shape[0])


# ----------------------------------------------------------------------------------------------- tries attention

@dataclass(frozen=True)
class _Segments:
    """A trie of `n` nodes (pre-order) cut into segments of consecutive nodes, for `_tries_attention`.
    `queries` [S, wq]: each segment's nodes (padded); `keys` [S, wk]: the ancestors of its first node, then
    its nodes (padded); `valid` [S * wq]: which query slots are real; `mask` [S, 1, wq, wk]: key j may be
    seen from query i iff j is i or an ancestor of i (a padding query sees one real key)."""
    n: int
    queries: torch.Tensor
    keys: torch.Tensor
    valid: torch.Tensor
    mask: torch.Tensor


_SEGMENTS: ContextVar[_Segments | None] = ContextVar("classit_scoring_segments", default=None)
_TRIES_ATTENTION = "classit_tries"


def _tries_attention(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None, **kw):
    """Attention over one trie row, segment by segment: each segment's queries attend to its own nodes and
    to the ancestors it shares with earlier segments (gathered into an [S, heads, w, dim] batch, SDPA under
    the segments' masks, scattered back). So a trie of any size runs its body once per node, unpadded, and
    attention costs about S * w * (w + depth) instead of n^2. Without segments it is plain SDPA."""
    sdpa_attention_forward, seg = _sdpa(), _SEGMENTS.get()
    if seg is None or query.shape[0] != 1 or query.shape[2] != seg.n or key.shape[2] != seg.n:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kw)

    def gather(t: torch.Tensor, index: torch.Tensor) -> torch.Tensor:   # [1, heads, n, dim] -> [S, heads, w, dim]
        return t[0].index_select(1, index.reshape(-1)).unflatten(1, index.shape).transpose(0, 1)
    out, _ = sdpa_attention_forward(module, gather(query, seg.queries), gather(key, seg.keys),
                                    gather(value, seg.keys), seg.mask, dropout=dropout, scaling=scaling,
                                    **kw)                                              # [S, wq, heads, dim]
    return out.reshape(-1, *out.shape[2:])[seg.valid][None], None


@functools.cache
def _sdpa():
    """transformers' SDPA attention, with `_tries_attention` registered beside it (once, on first use, so that
    importing this module stays light). ImportError on a transformers without `AttentionInterface`."""
    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    AttentionInterface.register(_TRIES_ATTENTION, _tries_attention)
    return sdpa_attention_forward


@contextmanager
def _segment_attention(segments: _Segments | None):
    """While scoring a trie: `_tries_attention` reads `segments` (plain SDPA without them)."""
    if segments is None:
        yield
        return
    token = _SEGMENTS.set(segments)
    try:
        yield
    finally:
        _SEGMENTS.reset(token)


@contextmanager
def _attention(model, name: str):
    """The model's attention switched to the registered `name` through transformers' public
    `set_attn_implementation`, and back afterwards. (transformers has no public getter; reading
    `config._attn_implementation` is what its docs show.)"""
    old = model.config._attn_implementation
    if old == name:
        yield
        return
    model.set_attn_implementation(name)
    if model.config._attn_implementation != name:
        raise RuntimeError(f"{type(model).__name__} does not switch its attention implementation")
    try:
        yield
    finally:
        model.set_attn_implementation(old)


# ----------------------------------------------------------------------------------------------- rows

class _Row:
    """One input row: the token trie of the model inputs (`ids[:-1]`) of one or more sequences.

    Sequences are added in lexicographic order, so nodes are numbered in pre-order and the subtree of node
    j is the range [j, end[j]): node i may attend to node j iff j <= i < end[j], i.e. j is i itself or an
    ancestor - exactly the tokens before i in each of its sequences, at position = depth. A row of a single
    sequence is that sequence."""

    __slots__ = ("tokens", "parents", "depths", "children", "paths")

    def __init__(self):
        self.tokens: list[int] = []
        self.parents: list[int] = []
        self.depths: list[int] = []
        self.children: dict[tuple[int, int], int] = {}
        self.paths: list[tuple[int, list[int]]] = []   # (sequence index, node of each input position)

    def add(self, seq: int, x: Sequence[int]) -> None:
        node, path = -1, []
        for depth, t in enumerate(x):
            nxt = self.children.get((node, t))
            if nxt is None:
                nxt = self.children[(node, t)] = len(self.tokens)
                self.tokens.append(t)
                self.parents.append(node)
                self.depths.append(depth)
            node = nxt
            path.append(nxt)
        self.paths.append((seq, path))

    def ends(self) -> list[int]:
        end = list(range(1, len(self.tokens) + 1))
        for j in range(len(self.tokens) - 1, -1, -1):
            p = self.parents[j]
            if p >= 0 and end[j] > end[p]:
                end[p] = end[j]
        return end

    def ancestors(self, i: int) -> list[int]:
        """The ancestors of node i, root first (i excluded)."""
        out = []
        while self.parents[i] >= 0:
            i = self.parents[i]
            out.append(i)
        return out[::-1]

    def segments(self, width: int) -> tuple[list[int], list[list[int]]]:
        """Cut the nodes into runs of `width`; per run, its keys: the ancestors of its first node (in pre-order
        every ancestor outside a run of consecutive nodes is one of those), then the run's nodes."""
        starts = list(range(0, len(self.tokens), width))
        keys = [self.ancestors(a) + list(range(a, min(a + width, len(self.tokens)))) for a in starts]
        return starts, keys


def build_trie(encs: Sequence[Encoded], idx: Sequence[int]) -> _Row:
    """The token trie of the model inputs of the sequences `idx`, in lexicographic (pre-)order."""
    row = _Row()
    for i in sorted(idx, key=lambda i: encs[i].ids):
        row.add(i, encs[i].ids[:-1])
    return row


def _single_rows(encs: Sequence[Encoded], idx: Sequence[int]) -> list[_Row]:
    """One row per sequence (the plain path): each a trie of one sequence."""
    return [build_trie(encs, [i]) for i in idx]


def _segments_of(row: _Row, width: int, device: torch.device) -> _Segments:
    n = len(row.tokens)
    starts, keys = row.segments(width)
    wq, wk = min(width, n), max(len(k) for k in keys)
    queries = torch.zeros((len(starts), wq), dtype=torch.long)
    key_idx = torch.zeros((len(starts), wk), dtype=torch.long)
    key_ok = torch.zeros((len(starts), wk), dtype=torch.bool)
    for s, (a, k) in enumerate(zip(starts, keys)):
        queries[s, :min(width, n - a)] = torch.arange(a, min(a + width, n))
        key_idx[s, :len(k)] = torch.tensor(k, dtype=torch.long)
        key_ok[s, :len(k)] = True
    valid = (torch.arange(wq)[None, :] < (n - torch.tensor(starts)).clamp(max=width)[:, None])
    end = torch.tensor(row.ends(), dtype=torch.long)
    q, k = queries[:, :, None], key_idx[:, None, :]
    mask = (k <= q) & (q < end[k]) & key_ok[:, None, :] & valid[:, :, None]
    mask[:, :, 0] |= ~valid                                   # padding queries: one real key, no NaN
    return _Segments(n, _to(queries, device), _to(key_idx, device), _to(valid.reshape(-1), device),
                     _to(mask[:, None], device))


def _score_rows(fwd: _Forward, encs: Sequence[Encoded], rows: list[_Row], pad_id: int,
                segment_nodes: int | None) -> dict[int, list[float]]:
    """One forward over `rows`; per sequence, the log-probs of its scored tokens.

    `segment_nodes`: `rows` is one trie, run unpadded with positions = depth through `_tries_attention` in
    segments of that many nodes; None: rows of one sequence each, right-padded, with a plain 2-D mask.
    Every (position, next token) pair is computed once, however many sequences use it."""
    widths = [len(r.tokens) for r in rows]
    width = max(widths)
    segments = positions = None
    if segment_nodes is not None:
        (row,) = rows
        ids = torch.tensor([row.tokens], dtype=torch.long)
        positions = _to(torch.tensor([row.depths], dtype=torch.long), fwd.device)
        segments = _segments_of(row, segment_nodes, fwd.device)
        # Read only by a model that ignores `_tries_attention`: then the probe sees wrong scores and turns tries off.
        mask = torch.ones((1, 1, 1, 1), dtype=torch.bool, device=fwd.device).expand(1, 1, width, width)
    else:
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for b, r in enumerate(rows):
            ids[b, :widths[b]] = torch.tensor(r.tokens, dtype=torch.long)
            mask[b, :widths[b]] = 1
        mask = _to(mask, fwd.device)
    pairs: dict[tuple[int, int], int] = {}
    nodes: dict[int, int] = {}
    wanted: list[tuple[int, list[int]]] = []
    for b, r in enumerate(rows):
        off = b * width
        for seq, path in r.paths:
            e = encs[seq]
            got = []
            for t in range(e.n_prefix, len(e.ids)):
                got.append(pairs.setdefault((nodes.setdefault(off + path[t - 1], len(nodes)), e.ids[t]), len(pairs)))
            wanted.append((seq, got))
    states = fwd.states(_to(ids, fwd.device), mask, positions, segments)
    states = states.reshape(-1, states.shape[-1]).index_select(0, _to(torch.tensor(list(nodes)), fwd.device))
    keys = torch.tensor(list(pairs), dtype=torch.long)
    lp = fwd.logprobs(states, _to(keys[:, 0], fwd.device), _to(keys[:, 1], fwd.device)).cpu().tolist()
    return {seq: [lp[k] for k in got] for seq, got in wanted}


def _tries_work(fwd: _Forward, pad_id: int) -> bool:
    """Probe: four short sequences sharing prefixes, scored as plain rows under the model's own attention
    (the reference) and as one trie in segments of 2 nodes (so keys come from earlier segments too) under
    the tries attention; tries are used only if both agree."""
    v = _vocab_size(fwd.model)
    if v < 12:
        return False
    encs = [Encoded((1, 5, 6, 7), 1), Encoded((1, 5, 8, 9, 3), 1), Encoded((1, 10), 1), Encoded((1, 5, 6, 11), 1)]
    plain = _score_rows(fwd, encs, _single_rows(encs, range(4)), pad_id, segment_nodes=None)
    try:
        _sdpa()
        with _attention(fwd.model, _TRIES_ATTENTION):
            tree = _score_rows(fwd, encs, [build_trie(encs, range(4))], pad_id, segment_nodes=2)
    except Exception as err:   # a model whose attention cannot be swapped for the tries attention
        warnings.warn(f"scoring: prefix sharing is off for this model ({type(err).__name__}: {err})")
        return False
    diff = max(abs(a - b) for i in range(4) for a, b in zip(tree[i], plain[i]))
    if diff > fwd.tol:
        warnings.warn(f"scoring: prefix sharing is off for this model (trie and plain scores differ by {diff:.2e})")
    return diff <= fwd.tol


# ----------------------------------------------------------------------------------------------- engine

def score_requests(model, tok, requests: Sequence[Request], batch_size: int = 64, *, bos: Bos = "tokenizer",
                   share_context: bool = True, segment_nodes: int = 64, bf16: bool = False,
                   progress: bool = True, desc: str = "scoring") -> list[Score]:
    """Score every request (module docstring); results are in the order of `requests`.

    Each forward takes up to `batch_size` sequences. `share_context`: the sequences of a batch (in
    lexicographic order) form one token trie, run once per node in attention segments of `segment_nodes`
    nodes; without it, one right-padded row per sequence, longest first. `bf16`: autocast on CUDA only."""
    if batch_size < 1 or segment_nodes < 1:
        raise ValueError(f"batch_size and segment_nodes must be >= 1 (got {batch_size}, {segment_nodes})")
    requests = list(requests)
    if not requests:
        return []
    return score_encoded(model, tok, encode_requests(tok, requests, bos=bos), batch_size,
                         share_context=share_context, segment_nodes=segment_nodes, bf16=bf16, progress=progress,
                         desc=desc)


def score_encoded(model, tok, encs: Sequence[Encoded], batch_size: int = 64, *, share_context: bool = True,
                  segment_nodes: int = 64, bf16: bool = False, progress: bool = True,
                  desc: str = "scoring") -> list[Score]:
    """The engine of `score_requests` on already tokenized sequences: tokens `ids[n_prefix:]` of each are
    scored. Rules that tokenize in their own way (the reading task's official step-by-step rule) use it
    directly; `tok` only gives the pad id."""
    if batch_size < 1 or segment_nodes < 1:
        raise ValueError(f"batch_size and segment_nodes must be >= 1 (got {batch_size}, {segment_nodes})")
    if not encs:
        return []
    was_training = model.training
    model.eval()
    device = _model_device(model)
    amp = (torch.autocast("cuda", dtype=torch.bfloat16) if bf16 and device.type == "cuda" else nullcontext())

    # Identical token sequences are scored once.
    unique: dict[Encoded, int] = {}
    back = [unique.setdefault(e, len(unique)) for e in encs]
    uencs = list(unique)
    scorable = [i for i, e in enumerate(uencs) if e.n_prefix < len(e.ids)]
    pad_id = _pad_id(tok)
    token_lps: list[list[float]] = [[] for _ in uencs]
    try:
        with torch.inference_mode():
            fwd = _Forward(model, amp)
            tries = share_context and _tries_work(fwd, pad_id)
            if tries:
                order = sorted(scorable, key=lambda i: uencs[i].ids)
            else:
                order = sorted(scorable, key=lambda i: -len(uencs[i].ids))   # long first: memory errors early
            with (_attention(model, _TRIES_ATTENTION) if tries else nullcontext()), \
                    tqdm(total=len(order), desc=desc, unit="seq", disable=not progress, leave=False) as bar:
                for b in range(0, len(order), batch_size):
                    idx = order[b:b + batch_size]
                    if tries:
                        res = _score_rows(fwd, uencs, [build_trie(uencs, idx)], pad_id, segment_nodes)
                    else:
                        res = _score_rows(fwd, uencs, _single_rows(uencs, idx), pad_id, None)
                    for i, lp in res.items():
                        token_lps[i] = lp
                    bar.update(len(idx))
    finally:
        if was_training:
            model.train()

    scores_u = [Score(float(math.fsum(lp)), e.ids[e.n_prefix:], tuple(lp)) for e, lp in zip(uencs, token_lps)]
    return [scores_u[j] for j in back]


def score_texts(model, tok, texts: Iterable[str], batch_size: int = 64, **kw) -> list[Score]:
    """Whole-text scores (empty context), as BLiMP and WUG use them."""
    return score_requests(model, tok, [Request("", t) for t in texts], batch_size, **kw)


def naive_score(model, tok, request: Request, bos: Bos = "tokenizer") -> Score:
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
