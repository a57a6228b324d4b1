"""Tests of the demo data generator: determinism, formats, and that the answers are right."""
from __future__ import annotations

import csv
import json
import re
import zipfile
from pathlib import Path

import pytest

from classit_utils.demo import (BABYLM_SOURCES, BLIMP_UIDS, EWOK_DOMAINS, EWOK_PASSWORD, GLUE_TASKS,
                                READING_COLUMNS, SUPPLEMENT_FILES, DemoSpec, main, write_demo_data)

SPEC = DemoSpec()
SMALL = DemoSpec(seed=0, words_per_source=3_000, swda_dialogues=8, items_per_paradigm=10, glue_train=30,
                 glue_valid=12)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("demo")
    return root, write_demo_data(root, SPEC)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _jsonl(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.endswith(b"\n") and b"\r" not in raw
    return [json.loads(line) for line in raw.decode("utf-8").split("\n")[:-1]]


# --- determinism and manifest -------------------------------------------------------------------

def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    ma = write_demo_data(a, SMALL)
    mb = write_demo_data(b, SMALL)
    write_demo_data(c, DemoSpec(seed=1, words_per_source=3_000, swda_dialogues=8, items_per_paradigm=10,
                                glue_train=30, glue_valid=12))
    fa, fb, fc = _files(a), _files(b), _files(c)
    assert ma == mb
    assert fa == fb
    assert fa != fc
    # every generator depends on the seed
    same = [k for k in fa if k in fc and fa[k] == fc[k]]
    assert same == [], same


def test_default_size_is_deterministic(demo, tmp_path):
    root, manifest = demo
    again = write_demo_data(tmp_path / "again", SPEC)
    assert again == manifest
    assert _files(tmp_path / "again") == _files(root)


def test_manifest_lists_every_file_with_its_count(demo):
    root, manifest = demo
    on_disk = set(_files(root))
    assert set(manifest) == on_disk
    for rel, n in manifest.items():
        path = root / rel
        if rel == "ewok.zip":
            continue
        lines = path.read_bytes().decode("utf-8").split("\n")
        assert lines[-1] == "", rel
        header = 1 if rel.endswith(".csv") else 0
        assert len(lines) - 1 - header == n, rel
        assert n > 0, rel


def test_cli(tmp_path, capsys):
    assert main([str(tmp_path / "out"), "--seed", "3", "--words-per-source", "2000"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (tmp_path / "out" / "ewok.zip").is_file()


# --- BabyLM corpus -------------------------------------------------------------------------------

def test_babylm_corpus_formats_and_sizes(demo):
    root, _ = demo
    d = root / "babylm_corpus" / "train_demo"
    assert sorted(p.stem for p in d.glob("*.train")) == sorted(BABYLM_SOURCES)
    for src in BABYLM_SOURCES:
        text = (d / f"{src}.train").read_text(encoding="utf-8")
        n_words = len(text.split())
        assert 0.8 * SPEC.words_per_source <= n_words <= 1.2 * SPEC.words_per_source, (src, n_words)
        lines = text.split("\n")[:-1]
        assert all(line.strip() for line in lines), src
    childes = (d / "childes.train").read_text().splitlines()
    assert all(re.fullmatch(r"\*(MOT|CHI|FAT):\t\S.*", line) for line in childes)
    assert {line[:5] for line in childes} >= {"*MOT:", "*CHI:"}
    swb = (d / "switchboard.train").read_text().splitlines()
    assert all(re.fullmatch(r"[AB]:\t\S.*", line) for line in swb)
    assert any(a[0] == b[0] for a, b in zip(swb, swb[1:]))  # runs by one speaker
    assert any(a[0] != b[0] for a, b in zip(swb, swb[1:]))
    wiki = (d / "simple_wiki.train").read_text().splitlines()
    heads = [i for i, line in enumerate(wiki) if re.fullmatch(r"= = = \S.* = = =", line)]
    assert heads and heads[0] == 0
    for i, j in zip(heads, heads[1:] + [len(wiki)]):
        body = " ".join(wiki[i + 1:j])
        n_sent = len(re.findall(r"[.!?](?:\s|$)", body))
        assert 3 <= n_sent <= 8, body
    first_bodies = [wiki[i + 1] for i in heads]
    assert sum(" is a" in b.split(".")[0] for b in first_bodies) == len(first_bodies)
    gut = (d / "gutenberg.train").read_text().splitlines()
    assert re.fullmatch(r"= = = PG\d{5} = = =", gut[0])
    starts = [x for x in gut if x.startswith("*** START OF THE PROJECT GUTENBERG EBOOK ")]
    ends = [x for x in gut if x.startswith("*** END OF THE PROJECT GUTENBERG EBOOK ")]
    assert len(starts) == len(ends) >= 1 and all(x.endswith(" ***") for x in starts + ends)
    assert any(x.startswith("Produced by ") for x in gut)


# --- SwDA ------------------------------------------------------------------------------------------

def test_swda_layout(demo):
    root, _ = demo
    base = root / "swda" / "swda_data"
    counts = {}
    for split in ("train", "val", "test"):
        files = sorted((base / split).glob("*.txt"))
        assert all(re.fullmatch(r"\d{4}\.txt", f.name) for f in files)
        counts[split] = len(files)
        for f in files:
            rows = [line.split("|") for line in f.read_text().splitlines()]
            assert all(len(r) == 3 and r[0] in ("A", "B") and r[1] and r[2] for r in rows)
            assert {r[2] for r in rows} & {"sd", "sv", "qy", "qw", "aa", "b", "%"}
        if split != "train":
            concat = "".join(f.read_text() for f in files)
            assert (base / f"{split}_set.txt").read_text() == concat
    assert sum(counts.values()) == SPEC.swda_dialogues
    assert counts["train"] > counts["val"] >= 1 and counts["test"] >= 1
    ids = [f.stem for s in ("train", "val", "test") for f in (base / s).glob("*.txt")]
    assert len(set(ids)) == len(ids)


# --- minimal pairs -----------------------------------------------------------------------------------

BLIMP_FIELDS = ["sentence_good", "sentence_bad", "field", "linguistics_term", "UID", "simple_LM_method",
                "one_prefix_method", "two_prefix_method", "lexically_identical", "pair_id"]


def test_blimp(demo):
    root, _ = demo
    for uid in BLIMP_UIDS:
        full = _jsonl(root / "blimp_filtered" / f"{uid}.jsonl")
        fast = _jsonl(root / "blimp_fast" / f"{uid}.jsonl")
        assert len(full) > len(fast) == SPEC.items_per_paradigm
        for r in full + fast:
            assert list(r) == BLIMP_FIELDS
            assert r["UID"] == uid and r["sentence_good"] != r["sentence_bad"]
            assert all(isinstance(r[k], bool) for k in BLIMP_FIELDS[5:9]) and isinstance(r["pair_id"], int)
        assert [r["pair_id"] for r in full] == list(range(len(full)))
        assert all(r in full for r in fast)


SUPP_EXTRA = {"hypernym": ["row", "contrast"], "qa_congruence_easy": ["row", "fragment", "contrast"],
              "qa_congruence_tricky": ["row", "fragment", "contrast"],
              "subject_aux_inversion": ["pair_ID", "row", "ambiguous", "template"],
              "turn_taking": ["quad", "type", "length", "other"]}


def test_supplement(demo):
    root, _ = demo
    for name in SUPPLEMENT_FILES:
        for folder in ("supplement_filtered", "supplement_fast"):
            rows = _jsonl(root / folder / f"{name}.jsonl")
            assert rows
            for r in rows:
                assert list(r) == SUPP_EXTRA[name] + ["sentence_good", "sentence_bad"]
                assert r["sentence_good"] != r["sentence_bad"]
        rows = _jsonl(root / "supplement_filtered" / f"{name}.jsonl")
        if name in ("qa_congruence_easy", "qa_congruence_tricky", "turn_taking"):
            assert any("\n" in r["sentence_good"] for r in rows)
        if name == "turn_taking":
            assert {r["type"] for r in rows} == {"single", "double"}
            assert all((r["other"] is None) == (r["type"] == "single") for r in rows)


def test_ewok_zip(demo):
    root, _ = demo
    raw = (root / "ewok.zip").read_bytes()
    with zipfile.ZipFile(root / "ewok.zip") as zf:
        names = zf.namelist()
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist())
        for domain in EWOK_DOMAINS:
            for folder in ("ewok_filtered", "ewok_fast"):
                assert f"{folder}/{domain}.jsonl" in names
        fields = ["Domain", "ConceptA", "ConceptB", "ContextType", "ContextDiff", "TargetDiff", "Context1",
                  "Context2", "Target1", "Target2"]
        for name in names:
            if not name.endswith(".jsonl"):
                continue
            text = zf.open(name, pwd=EWOK_PASSWORD).read().decode("utf-8")
            rows = [json.loads(x) for x in text.splitlines()]
            assert rows and all(list(r) == fields for r in rows)
            assert all(r["Domain"] == name.split("/")[1][:-6] for r in rows)
            if name.startswith("ewok_filtered/"):
                assert len(rows) % 2 == 0
                for a, b in zip(rows[::2], rows[1::2]):
                    assert (b["Context1"], b["Context2"], b["Target1"], b["Target2"]) == \
                        (a["Context2"], a["Context1"], a["Target2"], a["Target1"])
                    assert {k: v for k, v in a.items() if k[:-1] not in ("Context", "Target")} == \
                        {k: v for k, v in b.items() if k[:-1] not in ("Context", "Target")}
    assert b"BabyLM2025" not in raw


# --- entity tracking ---------------------------------------------------------------------------------

def _parse_items(s: str) -> list[str]:
    return [] if s == "nothing" else [x[4:] for x in s.split(" and ")]


def _find(box: list[str], ref: str) -> str:
    hits = [it for it in box if it == ref] or [it for it in box if it.split()[-1] == ref]
    assert len(hits) >= 1, (box, ref)
    if len(hits) > 1:  # a bare noun must name one item of the box unambiguously
        assert len(set(hits)) == 1, (box, ref)
    return hits[0]


def _render(box: list[str]) -> str:
    if not box:
        return "nothing."
    return " and ".join(f"the {x}" for x in sorted(box, key=lambda x: (x.split()[-1], x))) + "."


def _simulate(prefix: str) -> tuple[str, int]:
    """Replay the operations of an input_prefix; return (state of the queried box, ops touching it)."""
    m = re.fullmatch(r"(.*?\.)((?: [A-Z][^.]*\.)*) Box (\d) contains ", prefix)
    assert m, prefix
    init, ops, q = m.group(1), m.group(2), int(m.group(3))
    boxes: dict[int, list[str]] = {}
    for part in init[:-1].split(", Box "):
        n, contents = re.fullmatch(r"(?:Box )?(\d) contains (.*)", part).groups()
        boxes[int(n)] = _parse_items(contents)
    assert sorted(boxes) == list(range(7))
    touched = 0
    for op in [o.strip() for o in ops.split(".") if o.strip()]:
        if m := re.fullmatch(r"Move the contents of Box (\d) to Box (\d)", op):
            a, b = int(m.group(1)), int(m.group(2))
            boxes[b] += boxes[a]
            boxes[a] = []
            hit = {a, b}
        elif m := re.fullmatch(r"Move (.*) from Box (\d) to Box (\d)", op):
            a, b = int(m.group(2)), int(m.group(3))
            items = [_find(boxes[a], r) for r in _parse_items(m.group(1))]
            for it in items:
                boxes[a].remove(it)
            boxes[b] += items
            hit = {a, b}
        elif m := re.fullmatch(r"Remove (.*) from Box (\d)", op):
            a = int(m.group(2))
            for it in [_find(boxes[a], r) for r in _parse_items(m.group(1))]:
                boxes[a].remove(it)
            hit = {a}
        elif m := re.fullmatch(r"Put (.*) into Box (\d)", op):
            a = int(m.group(2))
            boxes[a] += _parse_items(m.group(1))
            hit = {a}
        else:
            raise AssertionError(op)
        touched += q in hit
    return _render(boxes[q]), touched


def test_entity_tracking_answers_are_correct(demo):
    root, _ = demo
    fields = ["sample_id", "numops", "input_prefix", "options", "example_id"]
    for mode in ("regular", "ambiref", "move_contents"):
        rows = _jsonl(root / "entity_tracking" / f"{mode}.jsonl")
        assert {r["numops"] for r in rows} == set(range(6))
        assert [r["example_id"] for r in rows] == list(range(len(rows)))
        assert len({r["sample_id"] for r in rows}) == len(rows)
        for r in rows:
            assert list(r) == fields
            assert r["input_prefix"].endswith(" contains ")
            assert len(r["options"]) == 5 == len(set(r["options"]))
            assert all(o.endswith(".") for o in r["options"])
            state, touched = _simulate(r["input_prefix"])
            assert r["options"][0] == state, (r["input_prefix"], r["options"])
            assert touched == r["numops"]
        if mode == "move_contents":
            assert any("Move the contents of" in r["input_prefix"] for r in rows)
    assert (root / "entity_tracking_fast" / "regular.jsonl").read_bytes() == \
        (root / "entity_tracking" / "regular.jsonl").read_bytes()


# --- wug, reading, glue, comps, class_it -------------------------------------------------------------

def test_wug_files(demo):
    root, _ = demo
    adj = _jsonl(root / "wug_adj_nominalization" / "wug_adj_nominalization.jsonl")
    head = "Create a noun out of the following adjective: "
    for r in adj:
        assert list(r) == ["sentences", "ratio"] and 0.0 <= r["ratio"] <= 1.0
        s1, s2 = r["sentences"].split("\t")
        m1 = re.fullmatch(re.escape(head) + r"(\w+)\. (\w+)", s1)
        m2 = re.fullmatch(re.escape(head) + r"(\w+)\. (\w+)", s2)
        assert m1 and m2 and m1.group(1) == m2.group(1)
        assert m1.group(2).endswith("ity") and m2.group(2) == m2.group(1) + "ness"
    assert any(r["sentences"].split("\t")[0].endswith("ability") for r in adj)
    past = _jsonl(root / "wug_past_tense" / "wug_past_tense.jsonl")
    for r in past:
        assert list(r) == ["sentences", "ratio"] and 0.0 <= r["ratio"] <= 1.0
        s1, s2 = r["sentences"].split("\t")
        w1, w2 = s1.split(), s2.split()
        diff = [(a, b) for a, b in zip(w1, w2) if a != b]
        assert len(w1) == len(w2) and len(diff) == 1 and diff[0][0].endswith("ed")


def test_reading_csv(demo):
    root, _ = demo
    raw = (root / "reading" / "reading_data.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(raw.splitlines()))
    assert tuple(rows[0]) == READING_COLUMNS
    assert raw.splitlines()[0] == "," + ",".join(READING_COLUMNS[1:])
    recs = [dict(zip(rows[0], r)) for r in rows[1:]]
    assert [int(r[""]) for r in recs] == list(range(len(recs)))
    assert len({r["sent_id"] for r in recs}) >= 30
    for r in recs:
        words = r["sentence"].split()
        k = int(r["context_length"])
        assert r["item"] == " ".join(words[:k]) and r["word"] == words[k]
        assert r["word2"] == r["word"].strip(".,?!").upper()
        assert int(r["length"]) == len(r["word"])
        if k == 1:
            assert r["prev_word"] == r["prev_item"] == "" and r["prev_length"] == "-1"
        else:
            assert r["prev_word"] == words[k - 1] and r["prev_item"] == " ".join(words[:k - 1])
            assert int(r["prev_length"]) == len(r["prev_word"])
        assert 1 <= int(r["list"]) <= 8
        for c in READING_COLUMNS[11:22]:
            float(r[c])
    # reading times carry signal: longer words are read more slowly on average
    import numpy as np
    length = np.array([float(r["length"]) for r in recs])
    rt = np.array([float(r["RTfirstfix"]) for r in recs])
    assert np.corrcoef(length, rt)[0, 1] > 0.3
    # full sentences: one row per word after the first
    per_sent: dict[str, list[int]] = {}
    for r in recs:
        per_sent.setdefault(r["sent_id"], []).append(int(r["context_length"]))
    for r in recs:
        assert sorted(per_sent[r["sent_id"]]) == list(range(1, len(r["sentence"].split())))


# --- AoA: CDI proportions and CHILDES transcripts -----------------------------------------------------

AOCHILDES_COLUMNS = ["id", "speaker_id", "utterance_order", "transcript_id", "corpus_id", "gloss", "num_tokens", "stem",
                     "part_of_speech", "speaker_code", "speaker_name", "speaker_role", "target_child_id",
                     "target_child_age", "target_child_name", "target_child_sex", "type", "media_end", "media_start",
                     "media_unit", "collection_id", "collection_name", "num_morphemes", "language"]


def test_aoa_cdi_proportions(demo):
    from classit_utils.tasks import aoa as A
    root, _ = demo
    raw = (root / A.CDI_FILE).read_bytes().decode("utf-8")
    assert raw.endswith("\n") and "\r" not in raw
    lines = raw.split("\n")[:-1]
    ages = [str(a) for a in A.AGES]
    assert lines[0] == ",".join(f'"{c}"' for c in ["num_item_id", "definition", "type", "category", *ages])
    number = r"(?:0|1|0\.\d?[1-9])"                      # R's print: 0, 1, 0.7, 0.05 (no trailing zeros)
    row = re.compile(rf'(\d+),"([^"]+)","word","([a-z_]+)",({number}(?:,{number}){{14}})')
    parsed = [row.fullmatch(line) for line in lines[1:]]
    assert all(parsed), [line for line, m in zip(lines[1:], parsed) if not m][:3]
    assert [int(m.group(1)) for m in parsed] == list(range(1, len(parsed) + 1))
    assert 60 <= len(parsed) <= 130
    categories = [m.group(3) for m in parsed]
    assert len(set(categories)) >= 15
    assert all(a == b or b not in categories[:i] for i, (a, b) in enumerate(zip(categories, categories[1:]), 1))
    definitions = [m.group(2) for m in parsed]
    assert any(re.fullmatch(r"\w+ \(\w+\)", d) for d in definitions)          # sense labels
    assert any(d.endswith("*") for d in definitions) and any("/" in d for d in definitions)

    cdi = A.read_cdi(root)
    assert list(cdi.columns) == ["num_item_id", "definition", "type", "category", *ages]
    assert ((cdi[ages] >= 0) & (cdi[ages] <= 1)).all().all()
    assert (cdi[ages].mean().diff().dropna() > -0.02).all()     # children know more words month by month
    kept, dropped, child = A._children(cdi)
    assert len(kept) >= 0.9 * len(cdi)
    reasons = {why.split(" of ")[0] for _, _, why in dropped}
    assert {"multi-word", "placeholder", "one letter", "duplicate"} <= reasons
    assert {"duck", "mommy", "rabbit", "is", "don't"} <= set(kept.values())
    ok = sum(f.ok for f in child.values())
    assert 0.7 * len(kept) <= ok < len(kept)                    # most words have a child AoA, not all
    assert all(16 <= f.aoa <= 30 for f in child.values() if f.ok)
    # the CDI words are words of the demo corpus
    corpus = " ".join(p.read_text() for p in (root / "babylm_corpus" / "train_demo").glob("*.train"))
    tokens = set(re.sub(r"[^\w' ]", " ", corpus).split())
    assert set(kept.values()) <= tokens


def test_aoa_transcripts(demo):
    from classit_utils.tasks import aoa as A
    root, _ = demo
    files = sorted((root / A.TRANSCRIPTS).glob("*.csv"))
    assert 1 <= len(files) <= 2 and sorted(p.name for p in (root / A.TRANSCRIPTS).iterdir()) == [f.name for f in files]
    n_rows = n_child = 0
    for f in files:
        raw = f.read_bytes().decode("utf-8")
        assert raw.endswith("\n") and "\r" not in raw and '"' not in raw     # write.table(quote=FALSE)
        rows = list(csv.reader(raw.splitlines()))
        assert rows[0] == AOCHILDES_COLUMNS
        recs = [dict(zip(rows[0], r)) for r in rows[1:]]
        assert all(len(r) == len(AOCHILDES_COLUMNS) for r in rows)
        n_rows += len(recs)
        n_child += sum(r["speaker_role"] == "Target_Child" for r in recs)
        assert {r["speaker_role"] for r in recs} <= {"Mother", "Father", "Investigator", "Target_Child"}
        assert {"Mother", "Target_Child"} <= {r["speaker_role"] for r in recs}
        assert len({r["corpus_id"] for r in recs}) == 1 and len({r["transcript_id"] for r in recs}) >= 2
        assert [int(r["id"]) for r in recs] == sorted({int(r["id"]) for r in recs})
        for r in recs:
            assert int(r["num_tokens"]) == len(r["gloss"].split())
            assert len(r["stem"].split()) == len(r["part_of_speech"].split())
            assert r["gloss"] == r["gloss"].strip() and not re.search(r"[.,?!]", r["gloss"])
            assert r["speaker_name"] == "NA" and r["language"] == "eng" and r["target_child_sex"] in ("female", "male")
            assert r["num_morphemes"] == "NA" or int(r["num_morphemes"]) >= len(r["stem"].split())
            assert r["type"] in ("declarative", "question", "imperative_emphatic", "trail off")
            float(r["target_child_age"])                      # days
        assert any(r["gloss"] == "" for r in recs) and any("xxx" in r["gloss"].split() for r in recs)
        assert any("_" in r["gloss"] for r in recs)           # CHAT compounds
    assert 0.05 * n_rows <= n_child <= 0.2 * n_rows

    utts = A.read_utterances(root)
    assert len(utts) == n_rows - n_child                      # the child's own rows are dropped
    cdi = A.read_cdi(root)
    kept, _ = A.select_items(zip(cdi["num_item_id"], cdi["definition"]))
    ctx = A.build_contexts(utts, kept.values())               # the official 5 words of left context, 20 at most
    counts = [len(ctx[w]) for w in kept.values()]
    assert sum(n > 0 for n in counts) >= 0.95 * len(kept)
    assert sum(n >= 5 for n in counts) >= 0.85 * len(kept)
    assert all(c.position >= 5 and len(c.context.split()) == c.position for v in ctx.values() for c in v)


GLUE_FIELDS = {"boolq": ["question", "passage", "idx", "label"],
               "mnli": ["premise", "hypothesis", "label", "idx"],
               "mrpc": ["sentence1", "sentence2", "label", "idx"],
               "multirc": ["paragraph", "question", "answer", "idx", "label"],
               "qqp": ["question1", "question2", "label", "idx"],
               "rte": ["sentence1", "sentence2", "label", "idx"],
               "wsc": ["text", "span1_index", "span2_index", "span1_text", "span2_text", "idx", "label"]}
GLUE_LABELS = {"mnli": {0, 1, 2}}


def test_glue(demo):
    root, _ = demo
    for task in GLUE_TASKS:
        for split, n in (("train", SPEC.glue_train), ("valid", SPEC.glue_valid)):
            rows = _jsonl(root / "glue_filtered" / f"{task}.{split}.jsonl")
            assert len(rows) == n
            labels = set()
            for r in rows:
                assert list(r) == GLUE_FIELDS[task]
                assert type(r["label"]) is int
                labels.add(r["label"])
                if task == "multirc":
                    assert list(r["idx"]) == ["paragraph", "question", "answer"]
                else:
                    assert type(r["idx"]) is int
                if task == "wsc":
                    toks = r["text"].split()
                    assert toks[r["span1_index"]] == r["span1_text"]
                    assert toks[r["span2_index"]] == r["span2_text"]
            assert labels == GLUE_LABELS.get(task, {0, 1}), (task, split, labels)


def test_glue_labels_follow_the_text(demo):
    root, _ = demo
    for r in _jsonl(root / "glue_filtered" / "mnli.train.jsonl"):
        neg = " not " in r["hypothesis"] or r["hypothesis"].startswith("Nobody") or " never " in r["hypothesis"]
        assert neg == (r["label"] == 2)
    for r in _jsonl(root / "glue_filtered" / "rte.train.jsonl"):
        if r["label"] == 0:  # entailment: every hypothesis word occurs in the premise
            assert set(r["sentence2"][:-1].split()) <= set(r["sentence1"].replace(",", "").replace(".", "").split())
    for r in _jsonl(root / "glue_filtered" / "mrpc.train.jsonl"):
        if r["label"] == 1:
            assert len(set(r["sentence1"].split()) ^ set(r["sentence2"].split())) <= 6


def test_comps_and_class_it(demo):
    root, _ = demo
    rows = _jsonl(root / "comps" / "comps_base.jsonl")
    assert rows
    for r in rows:
        assert list(r) == ["acceptable_concept", "unacceptable_concept", "prefix_acceptable",
                           "prefix_unacceptable", "property_phrase"]
        assert r["prefix_acceptable"].split()[-1] == r["acceptable_concept"]
        assert r["prefix_unacceptable"].split()[-1] == r["unacceptable_concept"]
        assert r["acceptable_concept"] != r["unacceptable_concept"]
    n = max(24, SPEC.items_per_paradigm)
    conv = _jsonl(root / "class_it" / "switchboard.jsonl")
    assert len(conv) == n and all(list(r) == ["prompt", "reply"] for r in conv)
    for k, r in enumerate(conv):
        for text in r.values():   # plain utterances: no speaker labels, SwDA `|` fields or line breaks
            assert re.fullmatch(r"[A-Z][^\n|]*[.?!,]", text) and not re.match(r"[AB]:", text), text
        assert len(r["reply"].split()) >= 3, r
        # consecutive turns: a pair's prompt is the previous pair's reply, unless that pair was left out
        # (a reply under 3 words) or a new dialogue starts (its opening "Okay.")
        assert k == 0 or r["prompt"] == conv[k - 1]["reply"] or len(r["prompt"].split()) < 3, (conv[k - 1], r)
    assert conv[0]["prompt"] == "Okay."
    assert sum(bool(re.search(r"[.?!] [A-Z]", r["reply"])) for r in conv) >= 5   # a speaker's run is one turn
    qa = _jsonl(root / "class_it" / "simple_wiki.jsonl")
    assert len(qa) == n and all(list(r) == ["prompt", "reply"] for r in qa)
    titles = []
    for i in range(0, n, 3):   # three questions per article, the first about its defining sentence
        m = re.match(r"(?:An? )?([A-Za-z]+) is an? ", qa[i]["reply"])
        assert m, qa[i]
        titles.append(m.group(1).lower())
        for r in qa[i:i + 3]:
            assert r["prompt"].endswith("?") and r["reply"].endswith(".") and "?" not in r["reply"], r
            assert titles[-1] in r["prompt"].lower(), (titles[-1], r)
    assert len(set(titles)) == len(titles)
