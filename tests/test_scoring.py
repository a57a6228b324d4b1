"""The scoring engine against a naive one-text-at-a-time loop: golden sums, span masks, BOS policy,
batch-size / order / composition invariance, shared-context path, ties."""
from __future__ import annotations

import math
import random

import pytest
import torch
from conftest import tiny_llama_config
from transformers import LlamaForCausalLM

from classit_utils.scoring import (Request, Score, build_trie, encode_requests, naive_score, score_requests,
                                   score_texts)
from classit_utils.tasks import Item, TaskSpec, choose, evaluate_ranking

TOL = 1e-5
# A silent fall-back from tries to the plain path would leave the tries untested: make it an error here.
pytestmark = pytest.mark.filterwarnings("error:scoring")

SENTENCES = [
    "The cat sat on the mat.", "The cat sat on the mats.", "A dog ran to the park.",
    "Where is the red ball?", "She reads a book about birds.", "They sing songs in the morning.",
    "We eat bread and drink milk.", "The small bird flies over the tall tree.",
]
# (context, continuation): EWoK-like (context, " " + target), entity-tracking-like (prefix ending in a space).
PAIRS = [
    ("The ball is under the bed.", " Where is the red ball?"),
    ("The ball is under the bed.", " The cat sat on the mat."),
    ("Box 1 contains the cat, Box 2 contains the ball. Box 2 contains ", "the ball."),
    ("Box 1 contains the cat, Box 2 contains the ball. Box 2 contains ", "the cat."),
    ("Box 1 contains the cat, Box 2 contains the ball. Box 2 contains ", "the red bird and the tree."),
    ("She reads", " a book about birds."),
]


@pytest.fixture(scope="module")
def model(tiny_tok):
    torch.manual_seed(0)
    m = LlamaForCausalLM(tiny_llama_config(len(tiny_tok)))
    # Larger weights than the default init, so log-probs differ clearly between texts.
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() == 2:
                p.normal_(0, 0.05)
    return m.eval()


def full_text_logprob(model, ids: list[int]) -> float:
    """Naive: one plain forward on one token sequence, sum of log P(ids[t] | ids[:t]) for t >= 1."""
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0].double()
    lp = torch.log_softmax(logits, -1)
    return float(sum(lp[t - 1, ids[t]] for t in range(1, len(ids))))


def bos_ids(tok, text: str) -> list[int]:
    return tok(text)["input_ids"]   # the project tokenizer prepends BOS itself


def test_golden_whole_sentences_match_naive(model, tiny_tok):
    scores = score_texts(model, tiny_tok, SENTENCES, batch_size=3, progress=False)
    for s, text in zip(scores, SENTENCES):
        ids = bos_ids(tiny_tok, text)
        assert ids[0] == tiny_tok.bos_token_id == 1
        assert s.logprob == pytest.approx(full_text_logprob(model, ids), abs=TOL)
        assert s.token_ids == tuple(ids[1:])            # every token of the sentence, the first one too
        assert math.fsum(s.token_logprobs) == pytest.approx(s.logprob, abs=1e-9)
        assert s.logprob < 0


def test_span_mask_is_context_plus_continuation_minus_context(model, tiny_tok):
    """Only continuation tokens count: score = naive(BOS+context+continuation) - naive(BOS+context)."""
    scores = score_requests(model, tiny_tok, [Request(c, k) for c, k in PAIRS], batch_size=4, progress=False)
    for s, (ctx, cont) in zip(scores, PAIRS):
        # A prefix ending in a space: its space travels with the option's first word (" the").
        base = ctx.rstrip(" ")
        full_ids = bos_ids(tiny_tok, ctx + cont)
        ctx_ids = bos_ids(tiny_tok, base)
        assert full_ids[:len(ctx_ids)] == ctx_ids          # the context's tokens are a prefix
        expected = full_text_logprob(model, full_ids) - full_text_logprob(model, ctx_ids)
        assert s.logprob == pytest.approx(expected, abs=TOL)
        assert s.token_ids == tuple(full_ids[len(ctx_ids):])
        assert tiny_tok.decode(list(s.token_ids)) == ctx[len(base):] + cont


def test_entity_tracking_option_tokens_start_with_the_spaced_word(tiny_tok):
    enc = encode_requests(tiny_tok, [Request("Box 2 contains ", "the ball.")])[0]
    scored = tiny_tok.convert_ids_to_tokens(list(enc.ids[enc.n_prefix:]))
    assert scored[0] == "\u0120the"                      # byte-level "Ġthe": the prefix's space + "the"
    assert tiny_tok.decode(list(enc.ids[enc.n_prefix:])) == " the ball."


def test_encoding_ignores_padding_and_truncation_left_on_the_backend(tiny_tok):
    """The fast path calls the backend tokenizer directly; a backend saved with padding or truncation on goes
    through the wrapper instead, which switches them off - same ids either way."""
    import copy
    reqs = [Request(c, k) for c, k in PAIRS] + [Request("", s) for s in SENTENCES]
    ref = encode_requests(tiny_tok, reqs)
    assert [e.ids for e in ref] == [tuple(tiny_tok(r.context + r.continuation)["input_ids"]) for r in reqs]
    padded = copy.deepcopy(tiny_tok)
    padded.backend_tokenizer.enable_padding(length=64, pad_id=0)
    padded.backend_tokenizer.enable_truncation(max_length=3)
    assert encode_requests(padded, reqs) == ref


def test_bos_off_drops_first_token_of_a_whole_sentence(model, tiny_tok):
    text = SENTENCES[0]
    on = score_texts(model, tiny_tok, [text], progress=False, bos=True)[0]
    off = score_texts(model, tiny_tok, [text], progress=False, bos=False)[0]
    ids = tiny_tok(text, add_special_tokens=False)["input_ids"]
    assert on.n_tokens == len(ids) and off.n_tokens == len(ids) - 1
    assert off.token_ids == tuple(ids[1:])
    assert off.logprob == pytest.approx(full_text_logprob(model, ids), abs=TOL)   # no BOS anywhere
    assert on.logprob == pytest.approx(full_text_logprob(model, [1, *ids]), abs=TOL)
    # With a context, every continuation token is scored either way.
    ctx, cont = PAIRS[0]
    off_c = score_requests(model, tiny_tok, [Request(ctx, cont)], bos=False, progress=False)[0]
    full = tiny_tok(ctx + cont, add_special_tokens=False)["input_ids"]
    c_ids = tiny_tok(ctx, add_special_tokens=False)["input_ids"]
    assert off_c.n_tokens == len(full) - len(c_ids)
    assert off_c.logprob == pytest.approx(full_text_logprob(model, full) - full_text_logprob(model, c_ids), abs=TOL)


def test_naive_helper_agrees(model, tiny_tok):
    for ctx, cont in PAIRS[:3]:
        fast = score_requests(model, tiny_tok, [Request(ctx, cont)], progress=False)[0]
        assert naive_score(model, tiny_tok, Request(ctx, cont)).logprob == pytest.approx(fast.logprob, abs=TOL)


def _all_requests() -> list[Request]:
    reqs = [Request("", s) for s in SENTENCES] + [Request(c, k) for c, k in PAIRS]
    reqs += [Request(a, " " + b) for a in SENTENCES[:4] for b in SENTENCES[4:7]]   # shared contexts, 3 each
    return reqs


@pytest.mark.parametrize("share_context", [True, False])
def test_invariant_to_batch_size_order_and_composition(model, tiny_tok, share_context):
    reqs = _all_requests()
    ref = [naive_score(model, tiny_tok, r).logprob for r in reqs]
    for bs in (1, 2, 5, 64):
        got = score_requests(model, tiny_tok, reqs, batch_size=bs, share_context=share_context, progress=False)
        assert max(abs(g.logprob - r) for g, r in zip(got, ref)) < TOL, bs
    rng = random.Random(0)
    perm = list(range(len(reqs)))
    rng.shuffle(perm)
    shuffled = score_requests(model, tiny_tok, [reqs[i] for i in perm], batch_size=4,
                              share_context=share_context, progress=False)
    for j, i in enumerate(perm):
        assert abs(shuffled[j].logprob - ref[i]) < TOL
    # Composition: a request scored among unrelated long ones gives the same score as alone.
    mixed = score_requests(model, tiny_tok, [reqs[0], Request("", " ".join(SENTENCES))] * 3, batch_size=6,
                           share_context=share_context, progress=False)
    assert abs(mixed[0].logprob - ref[0]) < TOL and abs(mixed[4].logprob - ref[0]) < TOL


EDGE = [Request("", "The cat sat."), Request("", "The cat sat on the mat."), Request("The cat", " sat on the mat."),
        Request("The cat sat on the mat. The dog", " ran."), Request("The cat sat on the mat. The cat", " ran."),
        Request("The cat sat on the mat.", " The dog ran to the park.")]


@pytest.mark.parametrize("bos", [True, False])
def test_shared_prefix_edge_cases(model, tiny_tok, bos):
    """Tries whose sequences score tokens inside the shared prefix, start scoring after it, are a prefix of
    another sequence, or have the same tokens with different contexts."""
    shared = score_requests(model, tiny_tok, EDGE, batch_size=2, bos=bos, progress=False)
    # Segments of 1 and 3 nodes: every key but the query itself comes from another segment.
    whole = score_requests(model, tiny_tok, EDGE, batch_size=64, bos=bos, segment_nodes=1, progress=False)
    three = score_requests(model, tiny_tok, EDGE, batch_size=64, bos=bos, segment_nodes=3, progress=False)
    plain = score_requests(model, tiny_tok, EDGE, batch_size=2, bos=bos, share_context=False, progress=False)
    for r, a, b, c, d in zip(EDGE, shared, plain, whole, three):
        assert a.token_ids == b.token_ids == c.token_ids == d.token_ids
        for other in (a, c, d):
            assert max(abs(x - y) for x, y in zip(other.token_logprobs, b.token_logprobs)) < TOL
        assert abs(a.logprob - naive_score(model, tiny_tok, r, bos=bos).logprob) < TOL
    if bos:   # whole sentence = "The" + " cat" (as scored in another sequence) + the continuation
        assert shared[1].logprob == pytest.approx(shared[2].logprob + sum(shared[0].token_logprobs[:2]), abs=TOL)


def test_trie_is_preorder_and_segments_see_exactly_the_ancestors(tiny_tok):
    encs = encode_requests(tiny_tok, EDGE + [Request("", s) for s in SENTENCES])
    row = build_trie(encs, range(len(encs)))
    assert sorted(seq for seq, _ in row.paths) == list(range(len(encs)))
    assert len(row.tokens) == len({e.ids[:n] for e in encs for n in range(1, len(e.ids))})   # each prefix once
    for seq, path in row.paths:
        x = encs[seq].ids[:-1]
        assert [row.tokens[n] for n in path] == list(x) and [row.depths[n] for n in path] == list(range(len(x)))
        assert all(row.parents[path[k]] == (path[k - 1] if k else -1) for k in range(len(path)))
    end = row.ends()
    for i in range(len(row.tokens)):   # pre-order: j may be seen from i iff j is i or one of its ancestors
        assert {j for j in range(len(row.tokens)) if j <= i < end[j]} == {i, *row.ancestors(i)}
    for width in (1, 3, 7, 1000):
        starts, keys = row.segments(width)
        assert [n for a in starts for n in range(a, min(a + width, len(row.tokens)))] == list(range(len(row.tokens)))
        for a, k in zip(starts, keys):
            for i in range(a, min(a + width, len(row.tokens))):
                assert {i, *row.ancestors(i)} <= set(k)       # every node a query needs is among its keys


def test_tries_attention_runs_segments_and_grouped_query_heads(tiny_tok):
    """Tries rows go through `_tries_attention` with their segments (also with grouped key/value heads),
    and the model's own attention implementation is restored afterwards."""
    from transformers import AttentionInterface
    from classit_utils import scoring
    torch.manual_seed(1)
    gqa = LlamaForCausalLM(tiny_llama_config(len(tiny_tok), num_key_value_heads=2,
                                             attn_implementation="eager")).eval()
    seen = []

    def spy(*a, **k):
        seg = scoring._SEGMENTS.get()
        seen.append(None if seg is None else (seg.n, tuple(seg.queries.shape)))
        return scoring._tries_attention(*a, **k)
    reqs = _all_requests()
    scoring._sdpa()                                 # the engine's own registration happens first, once
    AttentionInterface.register(scoring._TRIES_ATTENTION, spy)
    try:
        got = score_requests(gqa, tiny_tok, reqs, batch_size=64, segment_nodes=8, progress=False)
    finally:
        AttentionInterface.register(scoring._TRIES_ATTENTION, scoring._tries_attention)
    assert gqa.config._attn_implementation == "eager"
    assert seen and all(s is not None for s in seen)
    n, (segs, width) = seen[-1]                     # the last batch: all requests, several segments
    assert segs > 1 and width == 8 and n < sum(len(e.ids) - 1 for e in set(encode_requests(tiny_tok, reqs)))
    for r, s in zip(reqs, got):
        assert s.logprob == pytest.approx(naive_score(gqa, tiny_tok, r).logprob, abs=TOL)


def test_models_outside_the_fast_paths_fall_back_exactly(model, tiny_tok):
    """Logits that are not head(hidden) (here: scaled) use the model's own logits; a model that ignores
    position_ids cannot take tree rows and scores plain rows, with a warning. Both stay exact."""
    class Scaled(LlamaForCausalLM):
        def forward(self, *a, **k):
            out = super().forward(*a, **k)
            out.logits = out.logits * 0.5
            return out
    scaled = Scaled(model.config).eval()
    scaled.load_state_dict(model.state_dict())
    reqs = [Request(c, k) for c, k in PAIRS]
    for r, s in zip(reqs, score_requests(scaled, tiny_tok, reqs, progress=False)):
        assert s.logprob == pytest.approx(naive_score(scaled, tiny_tok, r).logprob, abs=TOL)
        assert abs(s.logprob - naive_score(model, tiny_tok, r).logprob) > 1e-3     # the scaling was used

    forward = model.model.forward
    model.model.forward = lambda *a, **k: forward(*a, **{n: v for n, v in k.items() if n != "position_ids"})
    try:
        with pytest.warns(UserWarning, match="prefix sharing is off"):
            got = score_requests(model, tiny_tok, reqs, progress=False)
    finally:
        del model.model.forward
    for r, s in zip(reqs, got):
        assert s.logprob == pytest.approx(naive_score(model, tiny_tok, r).logprob, abs=TOL)


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_shared_context_equals_plain_per_token(model, tiny_tok, attn):
    ctx = "The cat sat on the mat."
    same_len = [(ctx, " The cat sat."), (ctx, " She reads.")]   # one group, no padding anywhere
    assert len({len(e.ids) for e in encode_requests(tiny_tok, [Request(*p) for p in same_len])}) == 1
    old = model.config._attn_implementation
    model.config._attn_implementation = attn
    try:
        for pairs in (PAIRS, same_len):
            reqs = [Request(c, k) for c, k in pairs]
            a = score_requests(model, tiny_tok, reqs, share_context=True, progress=False)
            b = score_requests(model, tiny_tok, reqs, share_context=False, progress=False)
            for x, y, r in zip(a, b, reqs):
                assert x.token_ids == y.token_ids
                assert max(abs(p - q) for p, q in zip(x.token_logprobs, y.token_logprobs)) < TOL
                assert abs(x.logprob - naive_score(model, tiny_tok, r).logprob) < TOL
    finally:
        model.config._attn_implementation = old


def test_duplicates_empty_continuations_and_bad_batch_size(model, tiny_tok):
    got = score_requests(model, tiny_tok, [Request("", SENTENCES[0]), Request("A dog", ""),
                                           Request("", SENTENCES[0])], progress=False)
    assert got[0] == got[2]
    assert got[1].logprob == 0.0 and got[1].n_tokens == 0
    assert score_requests(model, tiny_tok, [], progress=False) == []
    with pytest.raises(ValueError, match="batch_size"):
        score_requests(model, tiny_tok, [Request("", "x")], batch_size=0)
    with pytest.raises(ValueError, match="segment_nodes"):
        score_requests(model, tiny_tok, [Request("", "x")], segment_nodes=0)


def test_model_mode_is_restored(model, tiny_tok):
    model.train()
    score_texts(model, tiny_tok, SENTENCES[:2], progress=False)
    assert model.training
    model.eval()


def test_tie_rule_first_candidate_wins():
    """Official rule: torch.max picks the first maximal candidate; the correct one is first, so a tie is correct."""
    assert choose([-3.0, -3.0]) == 0
    assert choose([-4.0, -3.0, -3.0]) == 1
    assert choose([-3.0, -3.0], ties="wrong") == -1
    assert choose([-2.0, -3.0], ties="wrong") == 0
    spec = TaskSpec("t", "t", {"fast": "t"}, (), "", "accuracy", "", "")
    items = [Item("u", "f:1", ("", ""), ("a", "b"), ("a", "b")), Item("u", "f:2", ("", ""), ("a", "b"), ("a", "b"))]
    tie = [Score(-1.0, (5,), (-1.0,))] * 2
    worse = [Score(-2.0, (5,), (-2.0,)), Score(-1.0, (6,), (-1.0,))]
    assert evaluate_ranking(spec, "fast", items, [tie, worse]).score == 50.0
    assert evaluate_ranking(spec, "fast", items, [tie, worse], ties="wrong").score == 0.0


def test_identical_candidates_tie_exactly_and_count_correct(model, tiny_tok):
    s = score_texts(model, tiny_tok, [SENTENCES[1], SENTENCES[1]], progress=False)
    assert s[0].logprob == s[1].logprob and choose([x.logprob for x in s]) == 0
