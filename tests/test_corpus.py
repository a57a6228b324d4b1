from collections import Counter

import pandas as pd
import pytest

from classit_utils import corpus as C


# ---------------------------------------------------------------- cleaning golden cases
def test_clean_childes_drops_speaker_codes_and_annotations():
    raw = "*MOT:\twhere is the ball ?\n*CHI:\tthere [giggles] xxx ball.\n"
    assert C.clean("childes", raw) == "where is the ball ?\nthere ball."
    # the 600k samples join lines with spaces: codes are inline
    assert C.clean("childes", "*MOT: look. *CHI: doggie!") == "look. doggie!"


def test_clean_switchboard_drops_prefixes():
    assert C.clean("switchboard", "A:\tI'm sure.\nB:\tUh-huh.\n") == "I'm sure.\nUh-huh."


def test_clean_wiki_drops_heading_markup():
    assert C.clean("simple_wiki", "= = = Cats = = =\nCats are animals.\n") == "Cats are animals."
    assert C.clean("simple_wiki", "end. = = = Dogs = = = Dogs bark.") == "end.\nDogs bark." or \
        C.clean("simple_wiki", "end. = = = Dogs = = = Dogs bark.") == "end. Dogs bark."


def test_clean_gutenberg_drops_boilerplate():
    raw = ("= = = PG123 = = =\nThe Project Gutenberg eBook header\n"
           "*** START OF THE PROJECT GUTENBERG EBOOK TALES ***\nProduced by Someone\n"
           "Once upon a time a _very_ small fox lived here.\n"
           "*** END OF THE PROJECT GUTENBERG EBOOK TALES ***\nLicence text that must go.\n")
    assert C.clean("gutenberg", raw) == "Once upon a time a very small fox lived here."


def test_gutenberg_books_lose_their_licence_when_chunked():
    book = ("*** START OF THE PROJECT GUTENBERG EBOOK A ***\n" + "story words here\n" * 10 +
            "*** END OF THE PROJECT GUTENBERG EBOOK A ***\n" + "licence text\n" * 10)
    docs = C.split_documents("gutenberg", "= = = PG1 = = =\n" + book, doc_words=9)
    assert docs and all("licence" not in d.text and "GUTENBERG" not in d.text for d in docs)
    assert sum(d.words for d in docs) == 30


def test_clean_generic_normalizes_whitespace():
    assert C.clean("bnc_spoken", "  a\t b \n\n c ") == "a b\nc"


# ---------------------------------------------------------------- documents
def test_wiki_articles_become_titled_documents():
    raw = "= = = Cats = = =\nCats are animals. They purr.\n= = = Dogs = = =\nDogs bark.\n"
    docs = C.split_documents("simple_wiki", raw, doc_words=100)
    assert [(d.title, d.text) for d in docs] == [("Cats", "Cats are animals. They purr."), ("Dogs", "Dogs bark.")]
    assert [d.doc_id for d in docs] == ["simple_wiki:0", "simple_wiki:1"]
    # raw words include the heading markup, so 'before cleaning' counts are honest
    assert sum(d.raw_words for d in docs) == C.count_words(raw)


def test_inline_headings_of_space_joined_samples():
    docs = C.split_documents("simple_wiki", "tail text. = = = Cats = = = Cats purr. = = = Dogs = = = Dogs bark.", 100)
    assert [(d.title, d.text) for d in docs] == [(None, "tail text."), ("Cats", "Cats purr."), ("Dogs", "Dogs bark.")]


def test_a_heading_cut_in_half_neither_takes_a_title_nor_shifts_the_next():
    body = "Kenneth Lamar was an American politician who served in the state house for many years and then " \
           "retired to a farm near the river where he died."
    raw = f"She died = = {body} = = = Cats = = = Cats purr. = = = Dogs = = = Dogs bark."
    docs = C.split_documents("simple_wiki", raw, 100)
    assert [(d.title, d.text) for d in docs] == [(None, f"She died {body}"), ("Cats", "Cats purr."),
                                                 ("Dogs", "Dogs bark.")]
    assert sum(d.raw_words for d in docs) == C.count_words(raw)


def test_long_lines_are_chunked():
    docs = C.split_documents("bnc_spoken", " ".join(f"w{i}" for i in range(25)), doc_words=10)
    assert [d.words for d in docs] == [10, 10, 5]


def test_max_words_per_source_caps_by_whole_documents():
    raw = {"a": "\n".join(["one two three"] * 10), "b": "x y"}
    docs = C.build_documents(raw, doc_words=3, max_words_per_source=7)
    assert Counter(d.source for d in docs) == {"a": 3, "b": 1}


# ---------------------------------------------------------------- budget accounting
def _docs():
    return [C.Document("simple_wiki", "simple_wiki:0", "Cats purr a lot.", "Cats", 4),
            C.Document("simple_wiki", "simple_wiki:1", "Dogs bark.", "Dogs", 2),
            C.Document("switchboard", "switchboard:0", "Hello there.\nHow are you?\nFine thanks.", None, 6)]


def test_holdout_removes_docs_and_lines():
    kept, removed = C.apply_holdout(_docs(), C.Holdout(doc_ids=frozenset({"simple_wiki:0"}),
                                                       lines=frozenset({"how are you?"})))
    assert [d.doc_id for d in kept] == ["simple_wiki:1", "switchboard:0"]
    assert kept[1].text == "Hello there.\nFine thanks."
    assert removed == {"simple_wiki": 4, "switchboard": 3}
    other = C.Document("bnc_spoken", "bnc_spoken:0", "How are you?\nGood.")
    kept, removed = C.apply_holdout([other], C.Holdout(lines=frozenset({"how are you?"})))
    assert kept == [other] and not removed      # only the IT pairs' own source loses lines


def test_fit_budget_trims_each_source_by_the_same_share():
    docs = [C.Document("a", f"a:{i}", "w " * 10) for i in range(10)] + \
           [C.Document("b", f"b:{i}", "w " * 10) for i in range(10)]
    kept, trimmed = C.fit_budget(docs, 100)
    assert sum(d.words for d in kept) == 100
    assert trimmed == {"a": 50, "b": 50}
    assert [d.doc_id for d in kept if d.source == "a"] == [f"a:{i}" for i in range(5)]
    same, none = C.fit_budget(docs, 10_000)
    assert same == docs and not none


def test_budget_table_accounts_every_word():
    raw = {"simple_wiki": "x " * 6, "switchboard": "y " * 6}
    docs = _docs()
    table = C.word_table(raw, docs)
    kept, removed = C.apply_holdout(docs, C.Holdout(doc_ids=frozenset({"simple_wiki:0"})))
    kept, trimmed = C.fit_budget(kept, 6)
    t = C.budget_table(table, removed, trimmed, kept, {"conv": 5, "qa": 4}, 15).set_index("source")
    assert t.loc["total", "pretraining"] + t.loc["total", "it_words"] <= 15
    for s in ("simple_wiki", "switchboard"):   # clean = held + trimmed + pretraining
        assert t.loc[s, "words_clean"] == t.loc[s, "held_for_it"] + t.loc[s, "trimmed_for_budget"] + t.loc[s, "pretraining"]
    assert t.loc["total", "it_words"] == 9


def test_validation_split_is_deterministic_and_near_fraction():
    ids = [f"s:{i}" for i in range(5000)]
    val = [i for i in ids if C.is_validation(i, 0.1)]
    assert val == [i for i in ids if C.is_validation(i, 0.1)]
    assert 400 < len(val) < 600


# ---------------------------------------------------------------- loaders
def test_babylm_dir_and_errors(tmp_path):
    (tmp_path / "childes.train").write_text("*MOT:\thi .\n")
    (tmp_path / "switchboard.train").write_text("A:\thello.\n")
    assert set(C.read_babylm_dir(tmp_path)) == {"childes", "switchboard"}
    assert set(C.read_babylm_dir(tmp_path, ["childes"])) == {"childes"}
    with pytest.raises(C.DataError, match=r"source\(s\) gutenberg not found"):
        C.read_babylm_dir(tmp_path, ["gutenberg"])
    with pytest.raises(C.DataError, match="BabyLM corpus folder not found"):
        C.read_babylm_dir(tmp_path / "nope")
    (tmp_path / "bad.train").write_bytes(b"\xff\xfe bad")
    with pytest.raises(C.DataError, match=r"bad.train: not UTF-8"):
        C.read_babylm_dir(tmp_path)


def test_text_dir_loader(tmp_path):
    (tmp_path / "tales.txt").write_text("Once upon a time.\n")
    assert C.read_text_dir(tmp_path) == {"tales": "Once upon a time.\n"}
    with pytest.raises(C.DataError, match=r"no \*.txt files"):
        (tmp_path / "empty").mkdir() or C.read_text_dir(tmp_path / "empty")


def test_hf_loader_on_local_files(tmp_path):
    df = pd.DataFrame({"text": ["Cats purr.", "Dogs bark.", "Hi there."], "source": ["wiki", "wiki", "chat"]})
    (tmp_path / "ds").mkdir()
    df.to_parquet(tmp_path / "ds" / "train-00000-of-00001.parquet")
    out = C.read_hf_dataset(str(tmp_path / "ds"))             # a local folder, as from a hub snapshot
    assert out == {"wiki": "Cats purr.\nDogs bark.", "chat": "Hi there."}
    df.drop(columns="source").to_json(tmp_path / "c.jsonl", orient="records", lines=True)
    assert C.read_hf_dataset(str(tmp_path / "c.jsonl")) == {"hf": "Cats purr.\nDogs bark.\nHi there."}
    with pytest.raises(C.DataError, match="no column 'body'"):
        C.read_hf_dataset(str(tmp_path / "c.jsonl"), text_field="body")


@pytest.mark.realdata
def test_real_babylm_files(data_root):
    raw = C.read_babylm_dir(data_root / "babylm_corpus" / "moritzlad_samples_train_600k")
    assert set(raw) == {"bnc_spoken", "childes", "gutenberg", "open_subtitles", "simple_wiki"}
    assert all(C.count_words(t) == 600_000 for t in raw.values())   # as the data README states
    docs = C.build_documents(raw, 2000, max_words_per_source=50_000)
    wiki = [d for d in docs if d.source == "simple_wiki" and d.title]
    assert len(wiki) > 100 and all("= = =" not in d.text for d in wiki)
    assert not any("*MOT:" in d.text or "*CHI:" in d.text for d in docs if d.source == "childes")
    assert not any("= = = PG" in d.text for d in docs if d.source == "gutenberg")
    sb = C.read_babylm_dir(data_root / "babylm_corpus" / "train_10M")
    assert C.count_words(sb["switchboard"]) == 146_789              # the README's count, labels included
    sdocs = C.split_documents("switchboard", sb["switchboard"], 1000)
    assert sum(d.words for d in sdocs) == 146_789 - 18_000           # one A:/B: label per line removed
