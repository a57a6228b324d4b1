"""(Super)GLUE fine-tuning sets: `glue_filtered/<task>.{train,valid}.jsonl` for BoolQ, MNLI, MRPC,
MultiRC, QQP, RTE and WSC, with labels that follow from the text, so fine-tuning has something to learn.
`boolq.train.jsonl` and `multirc.train.jsonl` are written although the real copies are missing, in the
format of their `.valid` files.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Callable, NamedTuple

from .articles import Article, make_article, make_countries
from .common import DemoSpec, rng_for, write_jsonl
from .grammar import (ADJ_PERSON, ADJ_THING, NAMES, NAMES_F, NAMES_M, PEOPLE, PLACES, THINGS, TIMES, TV_THING, Verb,
                      a_or_an, cap, clause, locative, unique_nonce)


GLUE_TASKS = ("boolq", "mnli", "mrpc", "multirc", "qqp", "rte", "wsc")


_SYNONYMS = [("big", "large"), ("small", "little"), ("happy", "glad"), ("quickly", "fast"),
             ("bought", "purchased"), ("began", "started"), ("fixed", "repaired"), ("helped", "assisted"),
             ("looked at", "watched"), ("gift", "present"), ("shop", "store"), ("angry", "upset")]


class _Event(NamedTuple):
    subj_adj: str
    subj: str        # singular person noun or name
    verb: Verb
    obj_adj: str
    obj: str         # singular thing noun
    place: str


def _event(rng: random.Random) -> _Event:
    person = rng.choice(PEOPLE)[0] if rng.random() < 0.6 else ""
    subj = f"the {person}" if person else rng.choice(NAMES)
    adj = rng.choice(ADJ_PERSON) if person and rng.random() < 0.6 else ""
    v = rng.choice([v for v in TV_THING if v.base not in ("want", "like", "keep")])
    return _Event(adj, subj, v, rng.choice(ADJ_THING) if rng.random() < 0.7 else "", rng.choice(THINGS)[0],
                  rng.choice(PLACES))


def _ev_subj(e: _Event, adj: bool = True) -> str:
    if e.subj.startswith("the ") and adj and e.subj_adj:
        return f"the {e.subj_adj} {e.subj[4:]}"
    return e.subj


def _ev_obj(e: _Event, adj: bool = True, det: str = "the") -> str:
    words = [e.obj_adj, e.obj] if adj and e.obj_adj else [e.obj]
    if det == "a":
        det = a_or_an(words[0])
    return f"{det} {' '.join(words)}"


def _glue_mnli(rng: random.Random, idx: int) -> dict:
    e = _event(rng)
    premise = cap(f"{_ev_subj(e)} {e.verb.past} {_ev_obj(e)} {locative(e.place)}.")
    label = rng.randrange(3)
    if label == 0:
        hyp = rng.choice([f"{_ev_subj(e, False)} {e.verb.past} {_ev_obj(e, False)}.",
                          f"Someone {e.verb.past} {_ev_obj(e)}.",
                          f"{_ev_subj(e, False)} was {locative(e.place)}."])
    elif label == 1:
        hyp = rng.choice([f"{_ev_subj(e, False)} {e.verb.past} {_ev_obj(e, False)} {rng.choice(TIMES)}.",
                          f"{_ev_subj(e, False)} {e.verb.past} {_ev_obj(e, False)} for "
                          f"{rng.choice(['a friend', 'her mother', 'his brother', 'a neighbor'])}.",
                          f"{_ev_subj(e, False)} {e.verb.past} {_ev_obj(e, False)} because it was raining."])
    else:
        hyp = rng.choice([f"{_ev_subj(e, False)} did not {e.verb.base} {_ev_obj(e, False)}.",
                          f"Nobody {e.verb.past} {_ev_obj(e)}.",
                          f"{_ev_subj(e, False)} never {e.verb.past} anything {locative(e.place)}."])
    return {"premise": premise, "hypothesis": cap(hyp), "label": label, "idx": idx}


def _tok(s: str) -> str:
    """MRPC-style spacing: punctuation split off by spaces."""
    for p in ",.?!":
        s = s.replace(p, f" {p}")
    return s


def _mrpc_frame(rng: random.Random, word: str) -> Callable[[str, str, str], str]:
    """A sentence frame for a synonym slot: (word, name, noun) -> sentence."""
    place, time, person = rng.choice(PLACES), rng.choice(TIMES), rng.choice(PEOPLE)[0]
    if word in ("big", "small"):
        return lambda w, n, x: f"{n} said that the {w} {x} was {locative(place)}."
    if word in ("happy", "angry"):
        return lambda w, n, x: f"{n} said that the {w} {person} was {locative(place)}."
    if word == "quickly":
        return lambda w, n, x: f"{n} walked {w} to {place} with the {x}."
    if word == "began":
        return lambda w, n, x: f"{n} {w} to paint the {x} {time}."
    if word == "helped":
        return lambda w, n, x: f"{n} {w} the {person} with the {x} {time}."
    if word == "gift":
        return lambda w, n, x: f"{n} put the {w} next to the {x} {time}."
    if word == "shop":
        return lambda w, n, x: f"{n} bought {a_or_an(x)} {x} at the {w} {time}."
    return lambda w, n, x: f"{n} {w} the {x} {locative(place)} {time}."


def _glue_mrpc(rng: random.Random, idx: int) -> dict:
    """label 1: the same sentence with a synonym swapped in; 0: another person/thing, or another sentence."""
    a, b = rng.choice(_SYNONYMS)
    frame = _mrpc_frame(rng, a)
    name, thing = rng.choice(NAMES), rng.choice(THINGS)[0]
    s1 = frame(a, name, thing)
    label = int(rng.random() < 0.6)
    if label:
        s2 = frame(b, name, thing)
        if rng.random() < 0.3:
            s2 = s2[:-1] + ", " + rng.choice(["officials said", "the report said", "she added"]) + "."
    elif rng.random() < 0.5:
        s2 = cap(clause(rng, "past")) + "."
    else:
        s2 = frame(b, rng.choice([n for n in NAMES if n != name]), rng.choice([t for t, _ in THINGS if t != thing]))
    if rng.random() < 0.5:
        s1, s2 = s2, s1
    return {"sentence1": _tok(s1), "sentence2": _tok(s2), "label": label, "idx": idx}


_QQP_GROUPS = [
    (["How do I learn to {x}?", "What is the best way to learn to {x}?", "How can I get better at {g}?"],
     [("swim", "swimming"), ("cook rice", "cooking rice"), ("draw animals", "drawing animals"),
      ("ride a bike", "riding a bike"), ("play the drum", "playing the drum"), ("paint flowers", "painting flowers"),
      ("bake bread", "baking bread"), ("sing well", "singing")]),
    (["Where can I buy a good {x}?", "What is the best place to buy a {x}?", "Which shop sells good {g}?"],
     [("kite", "kites"), ("lamp", "lamps"), ("basket", "baskets"), ("blanket", "blankets"), ("drum", "drums"),
      ("boat", "boats"), ("bag", "bags"), ("hat", "hats")]),
    (["Why do {x}?", "What is the reason that {x}?", "Why is it that {x}?"],
     [("cats sleep so much", ""), ("birds sing in the morning", ""), ("dogs bark at night", ""),
      ("ducks swim in cold water", ""), ("cows eat so much grass", ""), ("frogs jump so high", ""),
      ("children like cookies", ""), ("farmers wake up early", "")]),
]


def _glue_qqp(rng: random.Random, idx: int) -> dict:
    templates, slots = rng.choice(_QQP_GROUPS)
    s = rng.choice(slots)
    usable = [t for t in templates if "{g}" not in t or s[1]]
    t1, t2 = rng.sample(usable, 2)
    label = int(rng.random() < 0.4)
    s2 = s if label else rng.choice([x for x in slots if x != s])
    if not label and rng.random() < 0.3:
        t2 = t1
    return {"question1": t1.format(x=s[0], g=s[1]), "question2": t2.format(x=s2[0], g=s2[1]), "label": label,
            "idx": idx}


def _glue_rte(rng: random.Random, idx: int, towns: list[str]) -> dict:
    e = _event(rng)
    name = rng.choice(NAMES)
    town = rng.choice(towns)
    premise = cap(f"{name}, who lives in {town}, {e.verb.past} {_ev_obj(e, det='a')} {locative(e.place)} "
                  f"{rng.choice(TIMES)}.")
    label = rng.randrange(2)  # 0 = entailment, 1 = not_entailment (GLUE RTE)
    if label == 0:
        hyp = rng.choice([f"{name} lives in {town}.", f"{name} {e.verb.past} {_ev_obj(e, det='a')}.",
                          f"{name} {e.verb.past} {_ev_obj(e, det='a')} {locative(e.place)}."])
    else:
        other_town = rng.choice([t for t in towns if t != town])
        other_name = rng.choice([n for n in NAMES if n != name])
        hyp = rng.choice([f"{name} lives in {other_town}.", f"{name} did not {e.verb.base} {_ev_obj(e, det='a')}.",
                          f"{other_name} {e.verb.past} {_ev_obj(e, det='a')}."])
    return {"sentence1": premise, "sentence2": hyp, "label": label, "idx": idx}


_WSC_TEMPLATES = [  # (text with {A} {B} {p} {t}, index of the referent: 0 = A, 1 = B)
    ("{A} called {B} because {p} wanted to talk about the {t}.", 0),
    ("{A} thanked {B} because {p} had fixed the {t}.", 1),
    ("{A} gave {B} the {t} because {p} needed it.", 1),
    ("{A} gave {B} the {t} because {p} did not need it anymore.", 0),
    ("{A} visited {B} because {p} was sick.", 1),
    ("{A} waited for {B} because {p} was late.", 1),
    ("{A} helped {B} carry the {t} because {p} was strong.", 0),
    ("{A} asked {B} about the {t} because {p} did not know where it was.", 0),
]


def _glue_wsc(rng: random.Random, idx: int) -> dict:
    tpl, ref = rng.choice(_WSC_TEMPLATES)
    fa = rng.random() < 0.5
    a = rng.choice(NAMES_F if fa else NAMES_M)
    b = rng.choice(NAMES_M if fa else NAMES_F)
    ref_female = fa if ref == 0 else not fa
    p = "she" if ref_female else "he"
    text = tpl.format(A=a, B=b, p=p, t=rng.choice(THINGS)[0])
    toks = text.split()
    cand = rng.randrange(2)
    cand_name = (a, b)[cand]
    return {"text": text, "span1_index": toks.index(cand_name), "span2_index": toks.index(p),
            "span1_text": cand_name, "span2_text": p, "idx": idx, "label": int(cand == ref)}


def _glue_boolq(rng: random.Random, idx: int, art: Article) -> dict:
    f = rng.choice(art.facts)
    label = int(rng.random() < 0.6)
    value = f.value if label else rng.choice(f.wrong)
    return {"question": f.yes_no(value).lower(), "passage": f"{art.title} -- {' '.join(art.sentences)}",
            "idx": idx, "label": label}


def write_glue(root: Path, spec: DemoSpec, manifest: dict) -> None:
    for split, n in (("train", spec.glue_train), ("valid", spec.glue_valid)):
        rng = rng_for(spec, f"glue/{split}")
        seen: set[str] = set()
        countries = make_countries(rng)
        towns = [cap(unique_nonce(rng, seen)) for _ in range(8)]
        base = 0 if split == "train" else 100_000
        tasks: dict[str, list[dict]] = {}
        tasks["boolq"] = [_glue_boolq(rng, base + i, make_article(rng, seen, countries)) for i in range(n)]
        tasks["mnli"] = [_glue_mnli(rng, base + i) for i in range(n)]
        tasks["mrpc"] = [_glue_mrpc(rng, base + i) for i in range(n)]
        multirc: list[dict] = []
        p_i = q_i = a_i = 0
        while len(multirc) < n:
            art = make_article(rng, seen, countries)
            paragraph = "  ".join(art.sentences)
            for f in art.facts:
                answers = [(f.answer, 1)] + [(w, 0) for w in f.wrong[: rng.randint(1, 3)]]
                rng.shuffle(answers)
                for ans, lab in answers:
                    if lab == 0 and f.answer[:1].isupper():
                        ans = cap(ans)
                    multirc.append({"paragraph": paragraph, "question": f.question, "answer": ans,
                                    "idx": {"paragraph": base + p_i, "question": base + q_i, "answer": base + a_i},
                                    "label": lab})
                    a_i += 1
                q_i += 1
            p_i += 1
        tasks["multirc"] = multirc[:n]
        tasks["qqp"] = [_glue_qqp(rng, base + i) for i in range(n)]
        tasks["rte"] = [_glue_rte(rng, base + i, towns) for i in range(n)]
        tasks["wsc"] = [_glue_wsc(rng, base + i) for i in range(n)]
        for task in GLUE_TASKS:
            write_jsonl(root, f"glue_filtered/{task}.{split}.jsonl", tasks[task], manifest)
