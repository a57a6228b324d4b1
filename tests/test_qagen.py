"""Model-generated lecture QA (classit_utils.qagen): parser and filters on hand-written outputs, then the
whole loop with a tiny LLaMA trained here, in a few seconds, to answer in the `Q: ... / A: ...` format."""
import inspect
import json

import pandas as pd
import pytest
import torch
from transformers import LlamaForCausalLM

from classit_utils import qagen as G
from classit_utils.corpus import Document
from classit_utils.tokenizer import BOS, train_tokenizer

from conftest import tiny_llama_config

FACTS = {
    "Blicket": "A blicket is a small bird. It lives in tall trees. It sings in the morning. Blickets eat seeds. "
               "The blicket has red wings. It builds a nest of grass.",
    "Dax": "A dax is a kind of fish. It swims in cold rivers. Daxes eat small bugs. The dax has silver scales.",
    "Wug": "A wug is a blue animal. It lives on farms. Wugs eat grass and bread. A wug can jump very high. "
           "Wugs sleep in barns.",
    "Toma": "Toma is a town in the hills. It has a big market. Many people in Toma make cheese.",
}
ARTICLES = [Document("simple_wiki", f"simple_wiki:{i}", t, k) for i, (k, t) in enumerate(FACTS.items())]
TEMPLATE = "{title}: {section} ({n})"   # short prompts keep the tiny model fast
RUN = dict(template=TEMPLATE, system=None, questions_per_section=1, section_sentences=2, max_new_tokens=40,
           batch_size=3, progress=False)
N_SECTIONS = [3, 2, 3, 2]


def target(title: str, section: str) -> str:
    return f"Q: What about {title}?\nA: {G.sentences(section)[0]}"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def trained():
    """(model, tokenizer): a 2-layer LLaMA that learned to answer each section's prompt with one pair."""
    texts = [d.text for d in ARTICLES] + [target(d.title, s) for d in ARTICLES for s in G.sections(d.text, 2)]
    tok = train_tokenizer(texts * 20, vocab_size=400, min_frequency=1)
    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_llama_config(len(tok), max_position_embeddings=512))
    examples = []
    for d in ARTICLES:
        for s in G.sections(d.text, 2):
            prompt = G.prompt_ids(tok, G.messages(d.title, s, 1, TEMPLATE, None))
            reply = tok(" " + target(d.title, s), add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
            examples.append((prompt, reply))
    width = max(len(p) + len(r) for p, r in examples)
    ids = torch.zeros(len(examples), width, dtype=torch.long)
    mask = torch.zeros_like(ids)
    labels = torch.full_like(ids, -100)
    for i, (p, r) in enumerate(examples):
        ids[i, :len(p) + len(r)] = torch.tensor(p + r)
        mask[i, :len(p) + len(r)] = 1
        labels[i, len(p):len(p) + len(r)] = torch.tensor(r)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(150):
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1
    return model.eval(), tok


def counting(model):
    """Wrap `model.generate` to count the prompts it is asked to continue."""
    calls = {"prompts": 0}
    inner = model.generate

    def generate(*args, **kwargs):
        calls["prompts"] += kwargs["input_ids"].shape[0]
        return inner(*args, **kwargs)
    model.generate = generate
    return calls


# --------------------------------------------------------------------------- parser and filters
def test_parse_qa_tolerates_formats_and_junk():
    out = ("Sure! Here are three questions:\n\n1. **Q:** What is a cat?\n**A:** A cat is a pet.\n"
           "Q2: Where do cats sleep? A: In beds.\nSome junk line.\nA: orphan answer\n"
           "Question: Lonely question?\nQ: Last one?\nAnswer: Yes it is.\nI hope this helps!")
    assert G.parse_qa(out) == [("What is a cat?", "A cat is a pet."), ("Where do cats sleep?", "In beds."),
                               ("", "orphan answer"), ("Lonely question?", ""), ("Last one?", "Yes it is.")]
    assert G.parse_qa("") == [] and G.parse_qa("A blicket is a bird.\nAnswer the question.") == []


def test_content_words_and_overlap():
    words = G.content_words("The birds eat 3 seeds in it's nest, and Toma!")
    assert words == {"bird", "eat", "3", "seed", "nest", "toma"}
    section = "A blicket is a small bird. It lives in trees."
    assert G.overlap("Blickets are small birds.", section) == 1.0
    assert G.overlap("A blicket eats fish.", section) == pytest.approx(1 / 3)
    assert G.overlap("Yes, it is.", section) == 0.0


def test_filter_counts_on_hand_written_outputs():
    section = "A blicket is a small bird. It lives in tall trees. It sings in the morning."
    out = ("Q: What is a blicket?\nA: A blicket is a small bird.\n"        # kept
           "Q: What is a blicket?\nA: It is a small bird.\n"               # duplicate question
           "Q: Where does it live\nA: In tall trees.\n"                   # not a question
           "Q: When does it sing?\n"                                      # no answer: empty
           "Q: What does it eat?\nA: It eats fish and cheese.\n"          # ungrounded
           "Q: Tell me all?\nA: " + " ".join(["bird"] * 12) + "\n"        # too long (max 10 words)
           "Q: Where does it live?\nA: It lives in tall trees.\n"         # kept
           "Q: When does it sing?\nA: In the morning.\n")                 # over the limit of 2
    kept, dropped = G.filter_pairs(G.parse_qa(out), section, limit=2, max_reply_words=10, min_overlap=0.5)
    assert kept == [("What is a blicket?", "A blicket is a small bird."),
                    ("Where does it live?", "It lives in tall trees.")]
    assert dict(dropped) == {"duplicate": 1, "not_question": 1, "empty": 1, "ungrounded": 1, "too_long": 1,
                             "over_limit": 1}


def test_sections_templates_and_prompt_rendering(tiny_tok):
    assert G.sections(FACTS["Dax"], 3) == ["A dax is a kind of fish. It swims in cold rivers. Daxes eat small bugs.",
                                           "The dax has silver scales."]
    G.check_template(G.DEFAULT_TEMPLATE)
    with pytest.raises(ValueError, match="unknown field"):
        G.check_template("{title} {secton}")
    with pytest.raises(ValueError, match="must contain"):
        G.check_template("{title} only")
    msgs = G.messages("Dax", "A dax is a fish.", 3, G.DEFAULT_TEMPLATE, "Be brief.")
    assert msgs[0] == {"role": "system", "content": "Be brief."} and "Write 3 questions" in msgs[1]["content"]
    ids = G.prompt_ids(tiny_tok, msgs)   # the project's template writes no BOS: it is added once
    assert ids[0] == tiny_tok.bos_token_id and ids.count(tiny_tok.bos_token_id) == 1
    assert ids[-1] == tiny_tok.convert_tokens_to_ids("<|assistant|>")
    tiny_tok.chat_template, old = "{{ bos_token }}" + tiny_tok.chat_template, tiny_tok.chat_template
    try:                                  # a template that writes BOS (LLaMA-3's) gets no second one
        assert G.prompt_ids(tiny_tok, msgs) == ids
    finally:
        tiny_tok.chat_template = old
    assert tiny_tok.decode(ids[:1]) == BOS


def test_engine_resolution_and_params():
    assert G.resolve_engine("auto", "some/model", "cpu") == "hf"
    with pytest.raises(RuntimeError, match="vllm is not installed"):
        G.resolve_engine("vllm", "some/model")
    with pytest.raises(ValueError, match="unknown engine"):
        G.resolve_engine("tgi", "some/model")
    p = G.QAGenParams()
    assert p.model == "meta-llama/Llama-3.2-3B-Instruct" and not p.do_sample
    assert "model" not in p.kwargs() and set(p.kwargs()) <= set(inspect.signature(G.generate_qa).parameters)
    from classit_utils.config import ConfigError, parse_config
    with pytest.raises(ConfigError, match=r"instruct\.qa\.generate\.template: .*must contain \{section\}"):
        parse_config({"profile": "x", "data_root": ".", "instruct": {"qa": {"generate": {"template": "no slot"}}}},
                     check_paths=False)


def test_cache_key_changes_with_what_changes_outputs():
    base = dict(template=TEMPLATE, system=None, questions_per_section=1, section_sentences=2, model="m",
                max_new_tokens=40, do_sample=False, temperature=1.0, seed=0, engine="hf", dtype="float32")
    key = G.article_key(ARTICLES[0], **base)
    for change in ({"template": TEMPLATE + "!"}, {"system": "s"}, {"questions_per_section": 2}, {"model": "m2"},
                   {"section_sentences": 3}, {"max_new_tokens": 41}, {"engine": "vllm"}, {"do_sample": True}):
        assert G.article_key(ARTICLES[0], **{**base, **change}) != key, change
    assert G.article_key(ARTICLES[1], **base) != key
    assert G.article_key(ARTICLES[0], **{**base, "seed": 1, "temperature": 0.5}) == key   # greedy ignores them
    sampled = {**base, "do_sample": True}
    assert G.article_key(ARTICLES[0], **{**sampled, "seed": 1}) != G.article_key(ARTICLES[0], **sampled)


# --------------------------------------------------------------------------- with the tiny model
def test_generated_frame_shape_and_content(trained, tmp_path):
    df = G.generate_qa(ARTICLES, trained, tmp_path, **RUN)
    assert list(df.columns) == ["prompt", "reply", "source", "text", "origin", "_doc", "_section"]
    assert "split" not in df and (df.source == "simple_wiki").all() and (df.text == df._section).all()
    assert len(df) == sum(N_SECTIONS) and df.origin[0] == "generated:Blicket#0" and df._doc[0] == "simple_wiki:0"
    assert df.prompt[0] == "What about Blicket?" and df.reply[0] == "A blicket is a small bird."
    assert all(r in t for r, t in zip(df.reply, df.text))   # the model learned to quote its section
    f = df.attrs["filtered"]
    assert f["sections"] == sum(N_SECTIONS) and f["kept"] == len(df) and f["parsed"] == f["kept"] + sum(
        f[r] for r in G.FILTER_RULES)
    assert df.attrs["qagen"] == {"articles": 4, "cached_articles": 0, "generated_sections": sum(N_SECTIONS),
                                 "engine": "hf", "dtype": "float32"}
    assert len(list(tmp_path.glob("*.jsonl"))) == 4
    line = json.loads((tmp_path / next(p.name for p in tmp_path.glob("*.jsonl"))).read_text().splitlines()[0])
    assert set(line) == {"title", "section_index", "section", "output"}


def test_deterministic_across_runs_and_batch_sizes(trained, tmp_path):
    a = G.generate_qa(ARTICLES, trained, tmp_path / "a", **RUN)
    b = G.generate_qa(ARTICLES, trained, tmp_path / "b", **RUN)
    c = G.generate_qa(ARTICLES, trained, tmp_path / "c", **{**RUN, "batch_size": 1})
    d = G.generate_qa(ARTICLES, trained, tmp_path / "d", **{**RUN, "batch_size": 16, "seed": 7})  # greedy: seed unused
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    pd.testing.assert_frame_equal(a, d)


def test_sampling_is_seeded_per_row_not_per_batch(trained):
    model, tok = trained
    prompts = [G.prompt_ids(tok, G.messages(d.title, s, 1, TEMPLATE, None)) for d in ARTICLES[:2]
               for s in G.sections(d.text, 2)]
    engine = G.HFEngine(model, tok, max_new_tokens=12, do_sample=True, temperature=3.0)
    seeds = [11, 12, 13, 14, 15]
    together = engine(prompts, seeds)
    one_by_one = [engine([p], [s])[0] for p, s in zip(prompts, seeds)]
    assert together == one_by_one == engine(prompts[::-1], seeds[::-1])[::-1]
    assert engine(prompts, [s + 100 for s in seeds]) != together
    greedy = G.HFEngine(model, tok, max_new_tokens=12, do_sample=False, temperature=1.0)
    assert greedy(prompts, seeds) == greedy(prompts, [0] * 5) != together


def test_resume_regenerates_only_unfinished_articles(trained, tmp_path):
    model, _ = trained
    calls = counting(model)
    try:
        G.generate_qa(ARTICLES[:1], trained, tmp_path, **RUN)           # a run killed after article 1
        assert calls["prompts"] == N_SECTIONS[0]
        full = G.generate_qa(ARTICLES, trained, tmp_path, **RUN)
        assert calls["prompts"] == sum(N_SECTIONS) and full.attrs["qagen"]["cached_articles"] == 1
        again = G.generate_qa(ARTICLES, trained, tmp_path, **{**RUN, "batch_size": 1})
        assert calls["prompts"] == sum(N_SECTIONS) and again.attrs["qagen"]["generated_sections"] == 0
        pd.testing.assert_frame_equal(again, full)
        # filters re-apply to the cached raw outputs without generating
        strict = G.generate_qa(ARTICLES, trained, tmp_path, **RUN, max_reply_words=5)
        assert calls["prompts"] == sum(N_SECTIONS) and strict.attrs["filtered"]["too_long"] > 0
        assert len(strict) == len(full) - strict.attrs["filtered"]["too_long"]
        # a broken cache file (a crash of an older, non-atomic writer) is regenerated, alone
        broken = sorted(tmp_path.glob("*.jsonl"))[0]
        broken.write_text('{"section_index": 0, "out')
        pd.testing.assert_frame_equal(G.generate_qa(ARTICLES, trained, tmp_path, **RUN), full)
        assert sum(N_SECTIONS) < calls["prompts"] <= sum(N_SECTIONS) + max(N_SECTIONS)
        # another template is another cache key: everything is generated again
        before = calls["prompts"]
        G.generate_qa(ARTICLES, trained, tmp_path, **{**RUN, "template": TEMPLATE + " "})
        assert calls["prompts"] == before + sum(N_SECTIONS)
    finally:
        del model.generate


def test_a_saved_model_folder_gives_the_same_pairs(trained, tmp_path):
    model, tok = trained
    model.save_pretrained(tmp_path / "model")
    tok.save_pretrained(tmp_path / "model")
    fp = G.model_fingerprint(tmp_path / "model")
    assert fp.startswith("dir:") and fp == G.model_fingerprint(str(tmp_path / "model"))
    from_folder = G.generate_qa(ARTICLES, str(tmp_path / "model"), tmp_path / "cache", device="cpu", **RUN)
    pd.testing.assert_frame_equal(from_folder, G.generate_qa(ARTICLES, trained, tmp_path / "cache2", **RUN))
    assert G.model_fingerprint("org/name") == "hub:org/name"
    assert G.model_fingerprint(trained).startswith("pair:")


def test_the_data_stage_generates_qa_when_the_params_say_so(trained, tmp_path):
    """`instruct.qa.method: generate`: the data stage's QA set is `generate_qa`'s, cached under the run folder,
    and finalized like any IT set (the chat text, a split by origin, the article for the hold-out)."""
    from classit_utils import datastage, instruct
    from classit_utils.config import parse_config
    gen = {k: v for k, v in RUN.items() if k != "progress"}
    cfg = parse_config({"profile": "qagen-test", "run_root": str(tmp_path), "data_root": str(tmp_path),
                        "instruct": {"qa": {"method": "generate", "generate": {**gen, "max_articles": 3}}}},
                       check_paths=False)
    df = datastage.qa_pairs(cfg, ARTICLES, model=trained)
    direct = G.generate_qa(ARTICLES[:3], trained, tmp_path / "direct", **RUN)
    pd.testing.assert_frame_equal(df, direct)
    assert len(list((cfg.run_dir / "qagen_cache").glob("*.jsonl"))) == 3
    final = instruct.finalize(df, 0.2, seed=0)
    assert set(final.split) <= {"train", "heldout"} and final._doc.tolist() == df._doc.tolist()
    assert instruct.holdout_docs(final) == {"simple_wiki:0", "simple_wiki:1", "simple_wiki:2"}
    assert final.text[0].count(final.reply[0]) == 1
