import json

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
