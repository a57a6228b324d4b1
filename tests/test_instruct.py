import json
from pathlib import Path

import pandas as pd
import pytest

from classit_utils import instruct as I
from classit_utils.config import ConvConfig, QAConfig
from classit_utils.corpus import DataError, Document

DIALOGUE = [("A", "Hi."), ("A", "How are you doing today?"), ("B", "I am fine thanks."),
            ("A", "Do you like dogs at all?"), ("B", "Yes I really do."), ("B", "They are great.")]


def test_merge_turns():
    turns = I.merge_turns(DIALOGUE)
    assert [(t.speaker, t.text) for t in turns] == [
        ("A", "Hi. How are you doing today?"), ("B", "I am fine thanks."),
        ("A", "Do you like dogs at all?"), ("B", "Yes I really do. They are great.")]
    assert turns[0].utterances == ("Hi.", "How are you doing today?")


def test_conversational_pairs_disjoint_and_overlapping():
    d = {"d1": DIALOGUE}
    disjoint = I.conversational_pairs(d, ConvConfig(min_reply_words=1))
    assert list(zip(disjoint.prompt, disjoint.reply)) == [
        ("Hi. How are you doing today?", "I am fine thanks."),
        ("Do you like dogs at all?", "Yes I really do. They are great.")]
    overlapping = I.conversational_pairs(d, ConvConfig(min_reply_words=1, overlapping=True))
    assert len(overlapping) == 3 and overlapping.prompt[1] == "I am fine thanks."
    ctx2 = I.conversational_pairs(d, ConvConfig(min_reply_words=1, overlapping=True, context_turns=2))
    assert ctx2.prompt[1] == "Hi. How are you doing today?\nI am fine thanks."
    short = I.conversational_pairs(d, ConvConfig(min_reply_words=5))
    assert list(short.reply) == ["Do you like dogs at all?"]   # (t0,t1) too short, so (t1,t2) is taken
    assert I.conversational_pairs(d, ConvConfig(min_reply_words=1, max_words=10)).reply.tolist() == ["I am fine thanks."]


def test_swda_reader_and_error(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "0001.txt").write_text("A|Hello there.|fo\nB|Hi.|b\n")
    d = I.read_swda(tmp_path)
    assert d == {"train/0001": [("A", "Hello there."), ("B", "Hi.")]}
    (tmp_path / "train" / "0002.txt").write_text("A|ok|b\nthis line is broken\n")
    with pytest.raises(DataError, match=r"0002.txt:2: expected 'Speaker\|Utterance\|tag'"):
        I.read_swda(tmp_path)
    with pytest.raises(DataError, match="SwDA folder not found"):
        I.read_swda(tmp_path / "nope")


def test_babylm_switchboard_reader(tmp_path):
    p = tmp_path / "switchboard.train"
    p.write_text("A:\tHello.\nA:\tHow are you?\nB:\tFine.\n")
    assert I.read_babylm_switchboard(p) == {"switchboard": [("A", "Hello."), ("A", "How are you?"), ("B", "Fine.")]}
    p.write_text("A:\tHello.\nC-3PO says hi\n")
    with pytest.raises(DataError, match=r"switchboard.train:2"):
        I.read_babylm_switchboard(p)


def test_qa_pairs_golden():
    art = Document("simple_wiki", "simple_wiki:3", "A blicket is a small bird. It lives in trees. It sings at dawn. "
                   "Blickets eat seeds.", "Blicket")
    person = Document("simple_wiki", "simple_wiki:4", "Ann Lee (born 1950) is a singer. She sings songs.", "Ann Lee")
    df = I.qa_pairs([art, person, Document("simple_wiki", "simple_wiki:5", "No title here. Two sentences.")],
                    QAConfig(answer_sentences=2, questions_per_article=3))
    assert list(zip(df.prompt, df.reply)) == [
        ("What is Blicket?", "A blicket is a small bird. It lives in trees."),
        ("What else can you tell me about Blicket?", "It sings at dawn. Blickets eat seeds."),
        ("Who is Ann Lee?", "Ann Lee (born 1950) is a singer. She sings songs.")]
    assert list(df._doc) == ["simple_wiki:3", "simple_wiki:3", "simple_wiki:4"]


def test_finalize_split_is_deterministic():
    df = pd.DataFrame({"prompt": ["p"] * 400, "reply": ["r"] * 400, "source": "x", "origin": [f"o{i}" for i in range(400)]})
    a, b = I.finalize(df, 0.1), I.finalize(df, 0.1)
    assert a.equals(b) and 20 < (a.split == "heldout").sum() < 60
    assert a.text[0] == "<|user|> p\n<|assistant|> r"


def test_encode_pair_mask_matches_whole_text(tiny_tok):
    ids, mask = I.encode_pair(tiny_tok, "Where is the ball?", "The ball is under the bed.")
    assert ids == tiny_tok(I.chat_text("Where is the ball?", "The ball is under the bed."))["input_ids"] + [2]
    reply = [t for t, m in zip(ids, mask) if m]
    assert tiny_tok.decode(reply) == " The ball is under the bed.</s>"
    assert mask[0] == 0 and ids[0] == 1 and mask[-1] == 1 and ids[-1] == 2
    assert ids.count(3) == 1 and ids.count(4) == 1       # <|user|>, <|assistant|>
    assert mask.index(1) == ids.index(4) + 1             # reply starts right after <|assistant|>


def _sets():
    mk = lambda n, src: I.finalize(pd.DataFrame({"prompt": [f"{src} q{i}" for i in range(n)], "reply": ["r"] * n,
                                                 "source": src, "origin": [f"{src}{i}" for i in range(n)]}), 0.0)
    return {"conv": mk(6, "conv"), "qa": mk(4, "qa")}


def test_curricula_phases_and_order():
    sets = _sets()
    m = {n: I.build_curriculum(n, sets, seed=1) for n in ("conv", "qa", "merged", "seq_conv_qa", "seq_qa_conv")}
    assert [p["sets"] for p in m["seq_conv_qa"]["phases"]] == [["conv"], ["qa"]]
    assert [p["sets"] for p in m["seq_qa_conv"]["phases"]] == [["qa"], ["conv"]]
    merged = m["merged"]["phases"][0]["rows"]
    assert len(merged) == 10 and sorted(map(tuple, merged)) == sorted([("conv", i) for i in range(6)] + [("qa", i) for i in range(4)])
    assert {s for s, _ in merged[:5]} == {"conv", "qa"}     # shuffled, not concatenated
    # the conv phase is the same order alone and inside the sequential curriculum
    assert m["conv"]["phases"][0]["rows"] == m["seq_conv_qa"]["phases"][0]["rows"] == m["seq_qa_conv"]["phases"][1]["rows"]
    assert m["merged"] == I.build_curriculum("merged", sets, seed=1)
    assert m["merged"] != I.build_curriculum("merged", sets, seed=2)
    assert m["seq_conv_qa"]["phases"][1]["words"] == 12     # "qa qN" + "r": 3 words a pair, 4 pairs
    with pytest.raises(ValueError, match="unknown curriculum 'mixed'"):
        I.build_curriculum("mixed", sets)


def test_curriculum_examples_in_manifest_order(tiny_tok):
    sets = _sets()
    m = I.build_curriculum("seq_qa_conv", sets, seed=0)
    ex = I.curriculum_examples(m, sets, tiny_tok)
    assert [len(p) for p in ex] == [4, 6]
    s, i = m["phases"][0]["rows"][0]
    assert ex[0][0] == I.encode_pair(tiny_tok, sets[s].at[i, "prompt"], "r")


def test_class_it_loader_local_layouts(tmp_path):
    rows = [{"prompt": "How are you?", "reply": "Fine."}, {"prompt": "What is a cat?", "reply": "An animal."}]
    (tmp_path / "switchboard").mkdir()
    pd.DataFrame(rows).to_parquet(tmp_path / "switchboard" / "train-00000-of-00001.parquet")   # the hub layout
    (tmp_path / "simple_wiki.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = I.load_class_it(tmp_path)
    assert set(out) == {"conv", "qa"} and out["conv"].prompt.tolist() == ["How are you?", "What is a cat?"]
    assert out["qa"].source.tolist() == ["simple_wiki"] * 2
    (tmp_path / "simple_wiki.jsonl").write_text('{"prompt": "a", "reply": "b"}\n{"prompt": broken\n')
    with pytest.raises(DataError, match=r"simple_wiki.jsonl:2: invalid JSON"):
        I.load_class_it(tmp_path)
    (tmp_path / "simple_wiki.jsonl").write_text('{"question": "a", "answer": "b"}\n')
    with pytest.raises(DataError, match=r"simple_wiki.jsonl: missing column\(s\) prompt, reply"):
        I.load_class_it(tmp_path)


WIKI = [Document("simple_wiki", "simple_wiki:0", "The blicket is a small bird that lives in the tall trees of the north. "
                  "It sings every morning before the sun comes up over the hills.", "Blicket"),
        Document("simple_wiki", "simple_wiki:1", "Dax is a commune in the Landes department in south-western France.", "Dax"),
        Document("simple_wiki", "simple_wiki:2", "Mont is a commune in the Landes department in south-western France.", "Mont"),
        Document("simple_wiki", "simple_wiki:3", "The wug is a blue animal that lives on farms in the far south of the "
                 "land and eats grass all day.", "Wug"),
        Document("simple_wiki", "simple_wiki:4", "The blicket is a small bird that lives in the tall trees of the north. "
                 "It sings every morning before the sun comes up over the hills.", "Blicket (bird)"),
        Document("switchboard", "switchboard:0", "Yeah.\nwell I think that the weather has been very strange this year\n"
                 "I like dogs.\nwe went camping up in the mountains last summer with the kids", None),
        Document("bnc_spoken", "bnc_spoken:0", "Yeah.\nwell I think that the weather has been very strange this year", None)]


def test_class_it_holdout_finds_each_pairs_best_matching_article():
    qa = pd.DataFrame({"prompt": ["What does the blicket do?", "Where is Dax?"],
                       "reply": ["It sings every morning before the sun comes up.",
                                 "Dax is a commune in the Landes department in south-western France."]})
    conv = pd.DataFrame({"prompt": ["Do you like the weather?"],
                         "reply": ["Well, I think that the weather has been very strange this year. Yeah."]})
    h = I.class_it_holdout({"qa": qa, "conv": conv}, WIKI, qa_source="simple_wiki", n=5, min_shared=2)
    # the blicket pair: its article and the article's duplicate (a tie); the Dax pair: Dax alone (Mont shares
    # the stock phrase but fewer n-grams); the wug article shares nothing
    assert h.doc_ids == {"simple_wiki:0", "simple_wiki:4", "simple_wiki:1"}
    # a long line shares a 5-gram (punctuation and case aside); the short "Yeah." equals a sentence of a turn;
    # "I like dogs." equals none; only the switchboard source loses lines
    assert h.lines == {"yeah.", "well i think that the weather has been very strange this year"}
    assert h.line_sources == {"switchboard"}
    assert I.class_it_holdout({"qa": qa, "conv": conv}, WIKI, qa_source="simple_wiki", n=5,
                              min_shared=20).doc_ids == set()
    # a release with titles matches them too (case and spacing aside)
    titled = qa.assign(_title=["  wug ", "Nowhere"])
    assert "simple_wiki:3" in I.class_it_holdout({"qa": titled}, WIKI, qa_source="simple_wiki", n=5).doc_ids


@pytest.mark.realdata
def test_small_profile_takes_class_it_pairs_and_holds_out_their_source(data_root, tmp_path):
    """The small profile's template QA written out in CLASS_IT's hub layout, read back through the released
    data's path: the same pairs, and the matching hold-out finds every article the pairs came from (the
    template route knows them), the others it takes being copies of those articles in the corpus."""
    from classit_utils import datastage as D
    from classit_utils.config import load_config
    cfg = load_config(Path(__file__).parents[1] / "params" / "small.yaml",
                      overrides={"data_root": str(data_root), "instruct": {"qa": {"max_pairs": 600}}})
    corpus = D.load_corpus(cfg)
    built = D.build_it_sets(cfg, corpus)
    for config, name in I.CLASS_IT_CONFIGS.items():
        (tmp_path / config).mkdir()
        built[name][["prompt", "reply"]].to_parquet(tmp_path / config / "train-00000-of-00001.parquet")
    released_cfg = load_config(Path(__file__).parents[1] / "params" / "small.yaml",
                               overrides={"data_root": str(data_root), "instruct": {"class_it": str(tmp_path)}})
    released = D.build_it_sets(released_cfg, corpus)
    for name in ("conv", "qa"):
        assert released[name].prompt.tolist() == built[name].prompt.tolist()
    truth = I.holdout_docs(built["qa"])
    h = I.class_it_holdout(released, corpus.docs, qa_source="simple_wiki")
    assert truth <= h.doc_ids
    docs = {d.doc_id: d for d in corpus.docs}
    titles = {docs[t].title for t in truth}
    extra = h.doc_ids - truth
    assert sum(docs[e].title in titles for e in extra) >= 0.95 * len(extra)
    budget = D.apply_budget(released_cfg, corpus, released).table.set_index("source")
    assert budget.loc["total", "pretraining"] + budget.loc["total", "it_words"] <= cfg.corpus.budget_words
    assert budget.loc["simple_wiki", "held_for_it"] >= sum(docs[t].words for t in truth)
    assert budget.loc["switchboard", "held_for_it"] > 0


@pytest.mark.realdata
def test_real_swda_pairs(data_root):
    d = I.read_swda(data_root / "swda" / "swda_data")
    assert len(d) == 1155                                     # 1,115 train + 21 val + 19 test
    assert sum(len(u) for u in d.values()) == 199_740          # utterances, as SOURCES-it.md states
    assert sum(len(I.merge_turns(u)) for u in d.values()) == pytest.approx(100_069, rel=0.01)
    pairs = I.conversational_pairs(d, ConvConfig(max_pairs=500))
    assert len(pairs) == 500 and (pairs.reply.str.split().str.len() >= 3).all()


@pytest.mark.realdata
def test_real_babylm_switchboard_lines_are_in_swda(data_root):
    """BabyLM's switchboard.train is built from the same SwDA text, so hold-out by line works."""
    from classit_utils.corpus import normalize_line
    sb = I.read_babylm_switchboard(data_root / "babylm_corpus" / "train_10M" / "switchboard.train")["switchboard"]
    swda = {normalize_line(u) for utts in I.read_swda(data_root / "swda" / "swda_data").values() for _, u in utts}
    assert sum(normalize_line(u) in swda for _, u in sb[:2000]) / 2000 > 0.99
