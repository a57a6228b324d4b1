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
- prefix sharing (`share_context=True`, the default): each batch of `batch_size` sequences, in lexicographic
  order, is a token trie of the model inputs; `pack_rows` cuts it into right-padded rows at the width that
  costs least (padding, attention, recomputed prefixes), and one forward runs every row with a 4-D
  "ancestors only" attention mask and positions = depth. So every shared prefix - a context before its
  candidates (EWoK, entity tracking's ~180-token prefix before five options), the common start of a BLiMP
  pair, the BOS - runs once, and each (position, next token) log-prob is computed once. A model that
  cannot take such masks (checked on a probe) falls back to the plain path, with a warning;
- plain path: one right-padded row per sequence, longest first (memory errors come early), 2-D mask;
- the output layer runs only at the positions whose next token is scored, in cache-sized chunks, each
  followed by its fp32 `log_softmax` and a gather (`_Forward`); original order restored;
- `model.eval()`, `torch.inference_mode()`; on CUDA optional bf16 autocast (log_softmax stays fp32),
  pinned asynchronous host-to-device copies.
Per-token log-probs are kept, so other reductions (mean, surprisal per token) need no rescoring.
"""
from __future__ import annotations

import math
import warnings
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterable, Sequence

import torch
from tqdm.auto import tqdm

__all__ = ["Request", "Score", "Encoded", "encode_requests", "score_requests", "score_texts",
           "resolve_device", "naive_score", "pack_rows", "PackCosts"]


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

    def states(self, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor | None = None,
               segments: "_Segments | None" = None) -> torch.Tensor:
        kw = dict(input_ids=ids, attention_mask=mask, use_cache=False)
        if positions is not None:
            kw["position_ids"] = positions
        with self.amp, _segment_attention(self.model, segments):
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
    """A flat row of `n` trie nodes made of consecutive segments (one trie each): `index` [S, w] the flat
    positions of each segment's nodes (padded), `valid` [S * w] which of them are real, `mask` [S, 1, w, w]
    each segment's ancestors-only mask (a padding query sees itself only)."""
    n: int
    index: torch.Tensor
    valid: torch.Tensor
    mask: torch.Tensor


_SEGMENTS: ContextVar[_Segments | None] = ContextVar("classit_scoring_segments", default=None)
_TRIES_ATTENTION = "classit_tries"


def _tries_attention(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None, **kw):
    """Attention over a flat row of tries, segment by segment: the segments are gathered into an [S, heads,
    w, dim] batch, attend under their own masks (SDPA) and are scattered back, so the transformer body runs
    on real nodes only (no padding) and attention costs S * w^2, not n^2. Without segments it is SDPA."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    seg = _SEGMENTS.get()
    if seg is None or query.shape[0] != 1 or query.shape[2] != seg.n or key.shape[2] != seg.n:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kw)

    def split(t: torch.Tensor) -> torch.Tensor:   # [1, heads, n, dim] -> [S, heads, w, dim]
        return t[0][:, seg.index].transpose(0, 1)
    out, _ = sdpa_attention_forward(module, split(query), split(key), split(value), seg.mask, dropout=dropout,
                                    scaling=scaling, **kw)                      # [S, w, heads, dim]
    return out.reshape(-1, *out.shape[2:])[seg.valid][None], None


try:
    from transformers import AttentionInterface
    AttentionInterface.register(_TRIES_ATTENTION, _tries_attention)
except ImportError:   # an old transformers: the probe finds no tries attention, and the plain path is used
    pass


@contextmanager
def _segment_attention(model, segments: _Segments | None):
    """While scoring a tries row: the model's attention is `_tries_attention`, which reads `segments`."""
    if segments is None:
        yield
        return
    old = model.config._attn_implementation
    token = _SEGMENTS.set(segments)
    model.config._attn_implementation = _TRIES_ATTENTION
    try:
        yield
    finally:
        model.config._attn_implementation = old
        _SEGMENTS.reset(token)


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

    def shared(self, x: Sequence[int]) -> int:
        """How many leading tokens of `x` the trie already holds."""
        node, k = -1, 0
        while k < len(x) and (node, x[k]) in self.children:
            node = self.children[(node, x[k])]
            k += 1
        return k

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


@dataclass(frozen=True)
class PackCosts:
    """Relative costs that decide how a batch's tries are cut into rows (segments), in units of one node
    through the transformer body: `head` per node (output layer + log_softmax) and `attention` per
    (query, key) pair, paid as rows * widest row^2 (`_tries_attention` pads the segments to one width)."""
    head: float = 1.0
    attention: float = 1e-3

    @classmethod
    def of(cls, model) -> "PackCosts":
        """From the model's shapes (multiply-adds per token; attention counted twice, being less efficient)."""
        cfg = model.config
        d = getattr(cfg, "hidden_size", None)
        if not d:
            return cls()
        f = getattr(cfg, "intermediate_size", None) or 4 * d
        body = max(getattr(cfg, "num_hidden_layers", 1), 1) * (4 * d * d + 3 * d * f)
        return cls(head=d * _vocab_size(model) / body, attention=2 * 2 * d / (4 * d * d + 3 * d * f))


def _lcp(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    k = 0
    while k < n and a[k] == b[k]:
        k += 1
    return k


def pack_rows(encs: Sequence[Encoded], idx: Sequence[int], costs: PackCosts = PackCosts()) -> list[_Row]:
    """Cut the token trie of the sequences `idx` (model inputs `ids[:-1]`) into rows, at the cheapest width.

    In lexicographic order, a sequence adds `len - lcp(previous)` nodes to the row of its predecessor, or
    `len` to a new row (its shared prefix is then recomputed). For each candidate width W, rows are filled
    greedily up to W; the W kept minimises (1 + head) * nodes + attention * rows * widest^2 (`PackCosts`).
    So a context is cut from its candidates only when that is cheaper (never for entity tracking's
    ~180-token prefixes), and rows stay short enough for attention to stay cheap."""
    order = sorted(idx, key=lambda i: encs[i].ids)
    xs = [encs[i].ids[:-1] for i in order]
    lcps = [0] + [_lcp(xs[k - 1], xs[k]) for k in range(1, len(xs))]
    longest, total = max(len(x) for x in xs), sum(len(x) - c for x, c in zip(xs, lcps))

    def greedy(width: int) -> tuple[list[int], int, int]:   # row starts, widest row, nodes
        starts, n, widest, nodes = [], 0, 0, 0
        for k, x in enumerate(xs):
            add = len(x) - lcps[k]
            if not starts or n + add > width:
                starts.append(k)
                n, add = 0, len(x)
            n += add
            nodes += add
            widest = max(widest, n)
        return starts, widest, nodes

    best = None
    for k in range(1, len(xs) + 1):
        width = max(longest, -(-total // k))
        starts, widest, nodes = greedy(width)
        cost = (1 + costs.head) * nodes + costs.attention * len(starts) * widest * widest
        if best is None or cost < best[0]:
            best = (cost, starts)
        if width == longest:
            break
    starts = best[1] + [len(xs)]
    rows = []
    for lo, hi in zip(starts[:-1], starts[1:]):
        row = _Row()
        for k in range(lo, hi):
            row.add(order[k], xs[k])
        rows.append(row)
    return rows


def _single_rows(encs: Sequence[Encoded], idx: Sequence[int]) -> list[_Row]:
    rows = []
    for i in idx:
        r = _Row()
        r.add(i, encs[i].ids[:-1])
        rows.append(r)
    return rows


def _to(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Host-to-device copy; pinned and asynchronous on CUDA."""
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)


def _score_rows(fwd: _Forward, encs: Sequence[Encoded], rows: list[_Row], pad_id: int, tree: bool
                ) -> dict[int, list[float]]:
    """One forward over `rows`; per sequence, the log-probs of its scored tokens.

    `tree`: the rows are the segments of one flat, unpadded row (positions = depth, `_tries_attention`);
    otherwise rows of one sequence each, right-padded, with a plain 2-D mask. Every (position, next token)
    pair is computed once, however many sequences use it."""
    widths = [len(r.tokens) for r in rows]
    width = max(widths)
    segments = positions = None
    if tree:
        offsets = [0]
        for w in widths[:-1]:
            offsets.append(offsets[-1] + w)
        n = offsets[-1] + widths[-1]
        ids = torch.tensor([[t for r in rows for t in r.tokens]], dtype=torch.long)
        positions = _to(torch.tensor([[d for r in rows for d in r.depths]], dtype=torch.long), fwd.device)
        index = torch.zeros((len(rows), width), dtype=torch.long)
        end = torch.arange(1, width + 1).repeat(len(rows), 1)
        for b, r in enumerate(rows):
            index[b, :widths[b]] = torch.arange(offsets[b], offsets[b] + widths[b])
            end[b, :widths[b]] = torch.tensor(r.ends(), dtype=torch.long)
        ar = torch.arange(width)
        allowed = (ar[None, None, :] <= ar[None, :, None]) & (ar[None, :, None] < end[:, None, :])   # [S, q, k]
        valid = (ar[None, :] < torch.tensor(widths)[:, None]).reshape(-1)
        segments = _Segments(n, _to(index, fwd.device), _to(valid, fwd.device), _to(allowed[:, None], fwd.device))
        # Read only by a model that ignores `_tries_attention`: then the probe sees wrong scores and turns trees off.
        mask = torch.ones((1, 1, 1, 1), dtype=torch.bool, device=fwd.device).expand(1, 1, n, n)
    else:
        offsets = [b * width for b in range(len(rows))]
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for b, r in enumerate(rows):
            ids[b, :widths[b]] = torch.tensor(r.tokens, dtype=torch.long)
            mask[b, :widths[b]] = 1
        mask = _to(mask, fwd.device)
    pairs: dict[tuple[int, int], int] = {}
    nodes: dict[int, int] = {}
    wanted: list[tuple[int, list[int]]] = []
    for off, r in zip(offsets, rows):
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


def _tree_works(fwd: _Forward, pad_id: int) -> bool:
    """Probe: three short sequences sharing prefixes, scored through one tree row and as plain rows."""
    v = _vocab_size(fwd.model)
    if v < 12:
        return False
    encs = [Encoded((1, 5, 6, 7), 1), Encoded((1, 5, 8, 9), 1), Encoded((1, 10), 1)]
    try:
        tree = _score_rows(fwd, encs, pack_rows(encs, range(3), PackCosts(head=1.0, attention=0.0)), pad_id,
                           tree=True)
    except Exception as err:   # a model whose attention cannot be swapped for the tries attention
        warnings.warn(f"scoring: prefix sharing is off for this model ({type(err).__name__}: {err})")
        return False
    plain = _score_rows(fwd, encs, _single_rows(encs, range(3)), pad_id, tree=False)
    diff = max(abs(a - b) for i in range(3) for a, b in zip(tree[i], plain[i]))
    if diff > fwd.tol:
        warnings.warn(f"scoring: prefix sharing is off for this model (tree and plain scores differ by {diff:.2e})")
    return diff <= fwd.tol


# ----------------------------------------------------------------------------------------------- engine

def score_requests(model, tok, requests: Sequence[Request], batch_size: int = 64, *, bos: bool = True,
                   share_context: bool = True, bf16: bool = False, progress: bool = True, desc: str = "scoring") -> list[Score]:
    """Score every request (module docstring); results are in the order of `requests`.

    Each forward takes up to `batch_size` sequences. `share_context`: the sequences of a batch (in
    lexicographic order) become token tries cut into rows (`pack_rows`), so a prefix shared inside a row
    runs once; without it, one right-padded row per sequence, longest first. `bf16`: autocast on CUDA only."""
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
    pad_id = _pad_id(tok)
    token_lps: list[list[float]] = [[] for _ in uencs]
    try:
        with torch.inference_mode():
            fwd = _Forward(model, amp)
            tree = share_context and _tree_works(fwd, pad_id)
            costs = PackCosts.of(model)
            if tree:
                order = sorted(scorable, key=lambda i: uencs[i].ids)
            else:
                order = sorted(scorable, key=lambda i: -len(uencs[i].ids))   # long first: memory errors early
            with tqdm(total=len(order), desc=desc, unit="seq", disable=not progress, leave=False) as bar:
                for b in range(0, len(order), batch_size):
                    idx = order[b:b + batch_size]
                    rows = (pack_rows(uencs, idx, costs) if tree
                            else _single_rows(uencs, idx))
                    for i, lp in _score_rows(fwd, uencs, rows, pad_id, tree).items():
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
