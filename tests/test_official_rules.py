"""The official pipeline's rules, followed step by step: the reading task's `get_p2` and the causal
phrase-mask scoring, each written here as a literal one-example-at-a-time transliteration of the official
functions (`babylm/evaluation-pipeline-2025` @ bf55c11: `reading/evaluation_functions.py::get_p2`,
`sentence_zero_shot/dataset.py::process_causal_sentences` + `compute_results.compute_causal_results`) and
compared with the project's batched engine, for this project's tokenizer (adds BOS) and a GPT-2-style one
(adds nothing); the files' formats (WUG keys, reports); the 2026 rules (entity tracking without "nothing"
items, Global PIQA)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from conftest import TINY_TEXT, tiny_llama_config
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

from classit_utils.scoring import Request, score_requests
from classit_utils.tasks import OFFICIAL_SIZES, Item, MissingData, apply_rules, get_task, temperature_report
from classit_utils.tasks.reading import get_p2_steps
from classit_utils.tasks.wug import WUG_ADJ, evaluate_wug
from classit_utils.zeroshot import load_items, score_items

TOL = 1e-4


@pytest.fixture(scope="module")
def gpt2_tok():
    """A byte-level BPE without BOS or prefix space, as GPT-2's: `tokenizer(text)` adds nothing."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    t = Tokenizer(models.BPE())
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    t.decoder = decoders.ByteLevel()
    t.train_from_iterator(TINY_TEXT, trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"],
                                                         initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=t, bos_token="<|endoftext|>", eos_token="<|endoftext|>")


def _model(vocab: int, seed: int) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    m = LlamaForCausalLM(tiny_llama_config(vocab, pad_token_id=0, bos_token_id=0, eos_token_id=0))
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() == 2:
                p.normal_(0, 0.08)          # log-probs that differ clearly between candidates
    return m.eval()


@pytest.fixture(scope="module", params=["project", "gpt2"])
def pair(request, tiny_tok, gpt2_tok):
    tok = tiny_tok if request.param == "project" else gpt2_tok
    return _model(len(tok), 3), tok


# ------------------------------------------------------------------ the official functions, one at a time
def official_get_p(sentence, word, model, tok):
    inpts = tok(sentence, return_tensors="pt")
    with torch.no_grad():
        logits = model(**inpts).logits[:, -1, :]
    target_id = tok(word, add_special_tokens=False)["input_ids"][0]
    return torch.softmax(logits[0], dim=-1)[target_id].item()


def official_get_p2(sentence, word, model, tok):
    inpts = tok(sentence, return_tensors="pt")
    with torch.no_grad():
        logits = model(**inpts).logits[:, -1, :]
    target = tok(word, add_special_tokens=False)["input_ids"]
    p = torch.softmax(logits[0], dim=-1)[target[0]].item()
    if len(target) == 1:
        return p
    out_p = [p]
    sentence = sentence + tok.decode(target[0])
    for token in target[1:]:
        t = tok.decode(token)
        out_p.append(official_get_p(sentence, t, model, tok))
        sentence = sentence + t
    return float(np.prod(out_p))


def official_phrase_logprob(sentence, completion, model, tok):
    """process_causal_sentences + compute_causal_results for one text (temperature 1)."""
    out = tok(text=sentence, return_offsets_mapping=True)
    tokens, offsets = out["input_ids"], out["offset_mapping"]
    start_char = len(sentence) - len(completion) + offsets[0][0]
    mask = [1 if end > start_char else 0 for _, end in offsets]
    ids = torch.tensor([tokens])
    with torch.no_grad():
        logits = model(input_ids=ids[:, :-1], attention_mask=torch.ones_like(ids[:, :-1])).logits
    lp = torch.log_softmax(logits, dim=-1)
    target = torch.gather(lp, -1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return float(torch.sum(target * torch.tensor([mask[1:]])))


READING = [("The cat sat on the", "mat"), ("She reads a book about", "birdsongs"), ("None", "They"),
           ("Where is the red", "ball?"), ("We eat bread and", "drink")]


def test_reading_official_rule_equals_get_p2_step_by_step(pair):
    model, tok = pair
    task = get_task("reading")
    items = [Item("reading", f"x:{i}", (c,), (" " + w,), meta={"official_item": c, "official_word": w,
                                                                "official_has_prev": False})
             for i, (c, w) in enumerate(READING)]
    got = task.score(model, tok, items, batch_size=3, progress=False)
    for (ctx, word), ss in zip(READING, got):
        want = -math.log(official_get_p2(ctx, word, model, tok))
        assert -ss[0].logprob == pytest.approx(want, abs=TOL), (ctx, word)
        assert ss[1] is None
    multi = [w for c, w in READING if len(tok(w, add_special_tokens=False)["input_ids"]) > 1]
    assert multi, "the cases must include words of several tokens"
    # the steps: one per token of the bare word, each scoring exactly one token
    steps = get_p2_steps(tok, "The cat sat on the", "birdsongs")
    assert len(steps) == len(tok("birdsongs", add_special_tokens=False)["input_ids"])
    assert all(len(s.ids) - s.n_prefix == 1 for s in steps)


CANDIDATES = [("", "The cat sat on the mat."), ("", "Where is the red ball?"),
              ("The ball is under the bed.", " The ball is low."),
              ("Box 1 contains the ball. Box 1 contains ", "the ball.")]


def test_ranking_scores_follow_the_causal_phrase_mask_with_the_tokenizers_own_bos(pair):
    model, tok = pair
    got = score_requests(model, tok, [Request(c, k) for c, k in CANDIDATES], batch_size=2, progress=False)
    for (ctx, cont), s in zip(CANDIDATES, got):
        assert s.logprob == pytest.approx(official_phrase_logprob(ctx + cont, cont, model, tok), abs=TOL), (ctx, cont)


def test_without_bos_the_first_token_is_not_scored(gpt2_tok):
    model = _model(len(gpt2_tok), 5)
    s = score_requests(model, gpt2_tok, [Request("", "The cat sat.")], progress=False)[0]
    assert s.n_tokens == len(gpt2_tok("The cat sat.")["input_ids"]) - 1


def test_wug_predictions_are_keyed_by_the_task_as_the_official_file():
    items = [Item("wug_adj", f"f:{i}", ("", ""), (f"a{i}", f"b{i}"), (f"a{i}", f"b{i}"), meta={"ratio": r})
             for i, r in enumerate((0.2, 0.9, 0.5))]
    from classit_utils.scoring import Score
    scores = [[Score(-1.0, (1,), (-1.0,)), Score(-2.0, (1,), (-2.0,))],
              [Score(-3.0, (1,), (-3.0,)), Score(-1.0, (1,), (-1.0,))],
              [Score(-1.0, (1,), (-1.0,)), Score(-1.5, (1,), (-1.5,))]]
    res = evaluate_wug(WUG_ADJ, "fast", items, scores)
    preds = res.predictions["wug_adj"]["predictions"]
    assert [p["id"] for p in preds] == ["wug_adj_0", "wug_adj_1", "wug_adj_2"]
    assert [p["pred"] for p in preds] == ["a0", "b1", "a2"]
    assert preds[0]["prob"] == pytest.approx(1 / (1 + math.exp(-1)))
    assert res.report.splitlines()[2:4] == ["### UID SPEARMAN'S RHO", f"avg: {res.score:.2f}"]


def test_temperature_report_has_the_official_layout():
    text = temperature_report([("field", {"morphology": 65.0}), ("UID", {"a": 50.0, "b": 80.333})], 65.1666)
    assert text == ("TEMPERATURE: 1.00\n\n### FIELD ACCURACY\nmorphology: 65.00\n\n### UID ACCURACY\na: 50.00\n"
                    "b: 80.33\n\n### AVERAGE ACCURACY\n65.17\n\n")


# ----------------------------------------------------------------------------------------------- 2026
def _et_items() -> list[Item]:
    opts = [("the cat.", "the ball.", "nothing.", "the book.", "the cup."),
            ("the ball.", "the cat.", "the hat.", "the book.", "the cup.")]
    return [Item(f"regular_{i}_ops", f"f:{i}", ("Box 1 contains ",) * 5, o, o) for i, o in enumerate(opts)]


def test_2026_entity_tracking_drops_items_with_a_nothing_option():
    items = _et_items()
    assert apply_rules("entity_tracking", items, "2025") == items
    assert [it.uid for it in apply_rules("entity_tracking", items, "2026")] == ["regular_1_ops"]
    with pytest.raises(ValueError, match="unknown rules"):
        apply_rules("entity_tracking", items, "2024")


def test_2026_ewok_scores_and_predicts_the_full_sentences():
    it = Item("spatial-relations", "f:1", ("The ball is under the bed.",) * 2, (" The ball is low.", " The ball is high."),
              (" The ball is low.", " The ball is high."))
    (new,) = apply_rules("ewok", [it], "2026")
    assert new.contexts == ("", "") and new.completions == ("The ball is under the bed. The ball is low.",
                                                            "The ball is under the bed. The ball is high.")
    assert apply_rules("ewok", [it], "2025") == [it]


@pytest.mark.realdata
def test_2026_fast_entity_tracking_has_the_official_2238_items(data_root):
    items = load_items("entity_tracking", data_root, "fast", rules="2026")
    from collections import Counter
    assert len(items) == 2238 and dict(Counter(it.uid for it in items)) == OFFICIAL_SIZES["entity_tracking_filtered"]["fast"]
    assert len(load_items("entity_tracking", data_root, "fast", rules="2025")) == 3152


def test_global_piqa_loader_and_predictions_on_a_fixture(tmp_path, tiny_tok):
    rows = [{"example_id": f"ex{i}", "prompt": "To dry a wet cup,", "solution0": "wipe it with a towel.",
             "solution1": "put it in the sink.", "label": i % 2} for i in range(4)]
    (tmp_path / "global_piqa_parallel").mkdir()
    (tmp_path / "global_piqa_parallel" / "eng_latn.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    items = load_items("global_piqa_parallel", tmp_path, "fast", rules="2026")
    assert [it.label for it in items] == [0, 1, 0, 1] and items[0].continuations == (" wipe it with a towel.",
                                                                                        " put it in the sink.")
    res = score_items(_model(len(tiny_tok), 1), tiny_tok, "global_piqa_parallel", items, progress=False)
    assert set(res.predictions) == {"ex0", "ex1", "ex2", "ex3"}
    assert all(len(v["predictions"]) == 1 and v["predictions"][0]["id"] == f"{k}_0" for k, v in res.predictions.items())
    chosen = [res.predictions[f"ex{i}"]["predictions"][0]["pred"] for i in range(4)]
    # the same candidates in every item: the model's choice is the same, so exactly half are correct
    assert len(set(chosen)) == 1 and res.score == 50.0
    with pytest.raises(MissingData, match=r"^global_piqa_nonparallel/eng_latn.jsonl: file not found"):
        load_items("global_piqa_nonparallel", tmp_path, "fast", rules="2026")


def test_a_password_zip_is_read_with_its_folder_at_any_depth(tmp_path):
    """OSF's `ewok_fast.zip` keeps its files under `evaluation_data/fast_eval/ewok_fast/`; the shared copy
    at the zip's root: both are read."""
    import zipfile
    from classit_utils.datafiles import read_jsonl_folder
    row = json.dumps({"Domain": "d", "x": 1}) + "\n"
    for name, member in (("root.zip", "ewok_fast/d.jsonl"), ("deep.zip", "evaluation_data/fast_eval/ewok_fast/d.jsonl")):
        with zipfile.ZipFile(tmp_path / name, "w") as z:
            z.writestr(member, row)
            z.writestr("evaluation_data/fast_eval/ewok_fast_other/e.jsonl", row)
        got = list(read_jsonl_folder(tmp_path, "ewok_fast", ("Domain",), zip_name=name))
        assert [(stem, rec["Domain"]) for stem, _, rec in got] == [("d", "d")]
