"""Deterministic demo data in the real file formats of the study's data.

`write_demo_data(root, DemoSpec(...))` writes a small, self-made stand-in for `$CLASSIT_DATA` (the
`shared/data` folder described in its README.md and SOURCES-it.md): BabyLM pretraining text, SwDA
dialogues, BLiMP/supplement minimal pairs, EWoK (inside `ewok.zip`), entity tracking, wug tests, the
reading-time CSV, (Super)GLUE fine-tuning sets, COMPS and a CLASS_IT-shaped instruction set.

Every file mirrors the layout, file names, field names, field types, line endings and quirks of the
real file it stands in for, so the `demo` profile runs the very loaders that the real data goes
through. None of the text comes from the real data: all of it is produced here, from small built-in
vocabularies (names, nouns, verbs, adjectives, places) and a tiny agreement-aware English grammar,
with `random.Random`. Each generator draws from its own RNG seeded with `"<seed>:<name>"`, so the
output is byte-identical for the same `DemoSpec`, and changing one generator does not shift the
others. Nonce words (wiki titles, wug adjectives and verbs, towns) are built from syllables.

Assumptions, where the real file is not available here (see shared/data/README.md, "Not found"):
- `wug_past_tense/wug_past_tense.jsonl` is given the shape of the adjective file: `sentences` (two
  sentences joined by a TAB, the regular nonce past form first, the irregular one second, e.g.
  "Yesterday she splinged the ball.\\tYesterday she splang the ball.") and `ratio` (the simulated
  human proportion for the first, regular form).
- `comps/comps_base.jsonl` uses the COMPS (Misra et al. 2023) fields `acceptable_concept,
  unacceptable_concept, prefix_acceptable, prefix_unacceptable, property_phrase`
  (e.g. "robin" / "table" / "A robin" / "A table" / "can fly.").
- `class_it/{switchboard,simple_wiki}.jsonl` follow the released `colinglab/CLASS_IT` shape with
  fields `prompt` and `reply`.
- `glue_filtered/boolq.train.jsonl` and `multirc.train.jsonl` are written although the real copies
  are missing, in the same format as their `.valid` files.

CLI: `python -m classit_utils.demo OUT_DIR [--seed N]`.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

__all__ = ["DemoSpec", "write_demo_data", "main"]


@dataclass(frozen=True)
class DemoSpec:
    seed: int = 0
    words_per_source: int = 40_000   # pretraining text per BabyLM source file
    swda_dialogues: int = 60
    items_per_paradigm: int = 40      # BLiMP-style files (fast; filtered has twice as many)
    glue_train: int = 200             # train items per GLUE task
    glue_valid: int = 60


BABYLM_SOURCES = ("bnc_spoken", "childes", "gutenberg", "open_subtitles", "simple_wiki", "switchboard")
BLIMP_UIDS = ("determiner_noun_agreement_1", "regular_plural_subject_verb_agreement_1",
              "anaphor_number_agreement", "adjunct_island", "irregular_past_participle_adjectives",
              "existential_there_quantifiers_1")
SUPPLEMENT_FILES = ("hypernym", "qa_congruence_easy", "qa_congruence_tricky", "subject_aux_inversion",
                    "turn_taking")
EWOK_DOMAINS = ("agent-properties", "physical-relations", "social-relations", "spatial-relations")
GLUE_TASKS = ("boolq", "mnli", "mrpc", "multirc", "qqp", "rte", "wsc")
READING_COLUMNS = ("", "item", "word", "word2", "sentence", "context_length", "sent_id", "item_id", "list",
                   "Subtlex_log10", "length", "RTfirstfix", "RTfirstpass", "RTgopast", "RTrightbound",
                   "self_paced_reading_time", "ELAN", "LAN", "N400", "P600", "EPNP", "PNP", "prev_word",
                   "prev_item", "prev_length")
EWOK_PASSWORD = b"BabyLM2025"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# ----------------------------------------------------------------------------------------------
# Shared lexicon and grammar
# ----------------------------------------------------------------------------------------------

_NAMES_F = "Anna Mia Lily Emma Rosa Nora Lucy Ella Sara Kate Ruth Jane Amy Ivy Zoe Hana".split()
_NAMES_M = "Tom Sam Ben Max Leo Jack Paul Adam Noah Luke Owen Dan Eli Finn Hugo Ravi".split()
_NAMES = _NAMES_F + _NAMES_M
_SURNAMES = "Brook Carter Fields Hill Lane Marsh Norton Parker Reed Stone Vale Wells Ashby Dorran Penrow".split()


def _pairs(s: str) -> list[tuple[str, str]]:
    return [tuple(x.split()) for x in s.split(",")]  # type: ignore[misc]


_ANIMALS = _pairs("dog dogs,cat cats,bird birds,horse horses,rabbit rabbits,mouse mice,duck ducks,fox foxes,"
                  "frog frogs,bear bears,goat goats,puppy puppies,kitten kittens,cow cows,pig pigs")
_PEOPLE = _pairs("farmer farmers,teacher teachers,child children,girl girls,boy boys,man men,woman women,"
                 "baker bakers,doctor doctors,sailor sailors,king kings,queen queens,friend friends,"
                 "neighbor neighbors,student students,driver drivers")
_THINGS = _pairs("ball balls,cup cups,book books,box boxes,apple apples,chair chairs,table tables,hat hats,"
                 "shoe shoes,car cars,flower flowers,door doors,window windows,cake cakes,key keys,coin coins,"
                 "basket baskets,letter letters,picture pictures,blanket blankets,bottle bottles,spoon spoons,"
                 "boat boats,kite kites,drum drums,lamp lamps,bag bags,toy toys,cookie cookies,egg eggs")
_FEMALE_NOUNS = {"girl", "woman", "queen"}
_MALE_NOUNS = {"boy", "man", "king"}


class _V(NamedTuple):
    base: str
    s: str
    past: str
    pp: str
    ing: str


def _verbs(s: str) -> list[_V]:
    return [_V(*x.split("/")) for x in s.split()]


_TV_THING = _verbs(
    "see/sees/saw/seen/seeing like/likes/liked/liked/liking want/wants/wanted/wanted/wanting "
    "find/finds/found/found/finding carry/carries/carried/carried/carrying push/pushes/pushed/pushed/pushing "
    "hold/holds/held/held/holding wash/washes/washed/washed/washing paint/paints/painted/painted/painting "
    "draw/draws/drew/drawn/drawing take/takes/took/taken/taking drop/drops/dropped/dropped/dropping "
    "bring/brings/brought/brought/bringing buy/buys/bought/bought/buying hide/hides/hid/hidden/hiding "
    "keep/keeps/kept/kept/keeping choose/chooses/chose/chosen/choosing throw/throws/threw/thrown/throwing "
    "clean/cleans/cleaned/cleaned/cleaning move/moves/moved/moved/moving")
_TV_ANIM = _verbs(
    "see/sees/saw/seen/seeing like/likes/liked/liked/liking find/finds/found/found/finding "
    "follow/follows/followed/followed/following help/helps/helped/helped/helping call/calls/called/called/calling "
    "watch/watches/watched/watched/watching visit/visits/visited/visited/visiting hear/hears/heard/heard/hearing "
    "meet/meets/met/met/meeting chase/chases/chased/chased/chasing feed/feeds/fed/fed/feeding "
    "hug/hugs/hugged/hugged/hugging thank/thanks/thanked/thanked/thanking")
_ANIMAL_TV = {"see", "like", "find", "follow", "chase", "watch", "hear", "want", "carry", "hold", "take",
              "drop", "hide", "push"}
_IV = _verbs(
    "sleep/sleeps/slept/slept/sleeping run/runs/ran/run/running jump/jumps/jumped/jumped/jumping "
    "walk/walks/walked/walked/walking swim/swims/swam/swum/swimming play/plays/played/played/playing "
    "sit/sits/sat/sat/sitting wait/waits/waited/waited/waiting rest/rests/rested/rested/resting")
_IV_PEOPLE = _verbs(
    "laugh/laughs/laughed/laughed/laughing sing/sings/sang/sung/singing dance/dances/danced/danced/dancing "
    "smile/smiles/smiled/smiled/smiling cry/cries/cried/cried/crying read/reads/read/read/reading "
    "cook/cooks/cooked/cooked/cooking")
_ADJ_THING = "big small old new red blue green yellow brown soft heavy clean".split()
_ADJ_PERSON = "big small little old young happy tall hungry sleepy brave quiet kind".split()
_ADJ_ANIMAL = "big small little old young happy hungry sleepy brown white".split()
_PLACES = ["the park", "the kitchen", "the garden", "the school", "the shop", "the river", "the house",
           "the forest", "the farm", "the beach", "the town", "the yard", "the barn", "the library"]
_PREP = {"the river": "near", "the beach": "at", "the school": "at", "the shop": "at", "the farm": "on"}
_TIMES = ["yesterday", "today", "every day", "in the morning", "after lunch", "last night", "on Sunday",
          "in the evening", "after school", "last week"]
_PAST_TIMES = ["yesterday", "last night", "on Sunday", "last week", "after school"]
_DET_SG = ["the", "the", "the", "a", "this", "that", "my", "our", "his", "her"]
_DET_PL = ["the", "the", "some", "these", "those", "two", "three", "many", "my", "our"]


def _pp(place: str) -> str:
    return f"{_PREP.get(place, 'in')} {place}"


def _a(word: str) -> str:
    return "an" if word[0].lower() in "aeiou" else "a"


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _plural(word: str) -> str:
    if word.endswith(("s", "sh", "ch", "x", "z")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def _np(rng: random.Random, pool, number: str, adjs=None, adj_p: float = 0.3, dets=None) -> str:
    sg, pl = rng.choice(pool)
    noun = sg if number == "sg" else pl
    adj = rng.choice(adjs) if adjs and rng.random() < adj_p else None
    det = rng.choice(dets or (_DET_SG if number == "sg" else _DET_PL))
    if det == "a":
        det = _a(adj or noun)
    return " ".join([det] + ([adj] if adj else []) + [noun])


def _subject(rng: random.Random, people_only: bool = False) -> tuple[str, str, str]:
    """(text, number, kind): number in sg/pl, kind in person/animal."""
    r = rng.random()
    if r < 0.3:
        return rng.choice(_NAMES), "sg", "person"
    kind = "person" if people_only or r < 0.65 else "animal"
    number = "sg" if rng.random() < 0.6 else "pl"
    pool, adjs = (_PEOPLE, _ADJ_PERSON) if kind == "person" else (_ANIMALS, _ADJ_ANIMAL)
    return _np(rng, pool, number, adjs), number, kind


_BE = {("present", "sg"): "is", ("present", "pl"): "are", ("present", "1sg"): "am",
       ("past", "sg"): "was", ("past", "pl"): "were", ("past", "1sg"): "was"}


def _verb_group(rng: random.Random, v: _V, number: str, tense: str) -> str:
    """The verb in `tense` agreeing with `number` (sg = 3rd singular, pl, 1sg)."""
    if tense == "present":
        return v.s if number == "sg" else v.base
    if tense == "past":
        return v.past
    if tense == "prog":
        if v.base in _STATIVE:
            return v.s if number == "sg" else v.base
        return f"{_BE['present', number]} {v.ing}"
    if tense == "future":
        return f"will {v.base}"
    if tense == "modal":
        return f"{rng.choice(['can', 'should', 'might'])} {v.base}"
    if tense == "neg_present":
        aux = "does" if number == "sg" else "do"
        return f"{aux}n't {v.base}" if rng.random() < 0.5 else f"{aux} not {v.base}"
    if tense == "neg_past":
        return f"didn't {v.base}" if rng.random() < 0.5 else f"did not {v.base}"
    raise ValueError(tense)


_STATIVE = {"like", "want", "see", "hear", "keep", "hold"}
_TENSES = ["present", "present", "past", "past", "past", "prog", "future", "modal", "neg_present", "neg_past"]


def _predicate(rng: random.Random, number: str, kind: str, tense: str) -> str:
    r = rng.random()
    if r < 0.12:  # copula
        t = "past" if tense in ("past", "neg_past") else "present"
        be = _BE[t, number]
        adjs = _ADJ_PERSON if kind == "person" else _ADJ_ANIMAL
        rest = rng.choice(adjs) if rng.random() < 0.5 else _pp(rng.choice(_PLACES))
        return f"{be} {rest}"
    if r < 0.35:  # intransitive
        pool = _IV + (_IV_PEOPLE if kind == "person" else [])
        vp = _verb_group(rng, rng.choice(pool), number, tense)
        return vp + (f" {_pp(rng.choice(_PLACES))}" if rng.random() < 0.6 else "")
    if r < 0.7:
        pool = _TV_THING if kind == "person" else [v for v in _TV_THING if v.base in _ANIMAL_TV]
        obj = _np(rng, _THINGS, "sg" if rng.random() < 0.6 else "pl", _ADJ_THING, 0.4)
    else:
        pool = _TV_ANIM if kind == "person" else [v for v in _TV_ANIM if v.base in _ANIMAL_TV]
        if rng.random() < 0.25:
            obj = rng.choice(_NAMES)
        else:
            opool, oadj = (_PEOPLE, _ADJ_PERSON) if rng.random() < 0.5 else (_ANIMALS, _ADJ_ANIMAL)
            obj = _np(rng, opool, "sg" if rng.random() < 0.6 else "pl", oadj)
    vp = f"{_verb_group(rng, rng.choice(pool), number, tense)} {obj}"
    if rng.random() < 0.3:
        vp += f" {_pp(rng.choice(_PLACES))}"
    if rng.random() < 0.15:
        vp += f" {rng.choice(_TIMES)}"
    return vp


def _clause(rng: random.Random, tense: str | None = None, people_only: bool = False) -> str:
    subj, number, kind = _subject(rng, people_only)
    return f"{subj} {_predicate(rng, number, kind, tense or rng.choice(_TENSES))}"


def _question(rng: random.Random) -> str:
    subj, number, kind = _subject(rng)
    r = rng.random()
    if r < 0.4:
        v = rng.choice(_TV_THING if kind == "person" else [v for v in _TV_THING if v.base in _ANIMAL_TV])
        aux = rng.choice(["does" if number == "sg" else "do", "did", "will", "can"])
        return f"{aux} {subj} {v.base} {_np(rng, _THINGS, 'sg', _ADJ_THING)}?"
    if r < 0.7:
        return f"where {_BE['present', number]} {subj}?"
    v = rng.choice(_TV_THING)
    return f"what did {subj} {v.base}?"


def _sentence(rng: random.Random, allow_question: bool = True) -> str:
    r = rng.random()
    if allow_question and r < 0.08:
        return _cap(_question(rng))
    if r < 0.25:
        conj = rng.choice(["and", "because", "but", "when", "so"])
        s = f"{_clause(rng)} {conj} {_clause(rng)}"
    elif r < 0.33:
        s = f"{rng.choice(_NAMES)} said that {_clause(rng)}"
    else:
        s = _clause(rng)
    return _cap(s) + "."


# --- first/second person conversation -----------------------------------------------------------

_PRONS = [("I", "1sg"), ("you", "pl"), ("we", "pl"), ("they", "pl"), ("he", "sg"), ("she", "sg")]


def _pron_clause(rng: random.Random, tense: str | None = None) -> str:
    pron, number = rng.choice(_PRONS)
    return f"{pron} {_predicate(rng, number, 'person', tense or rng.choice(_TENSES))}"


_BACKCHANNEL = ["Uh-huh.", "Yeah.", "Right.", "Um-hum.", "Oh.", "Oh, really?", "Sure."]
_ACCEPT = ["Yeah.", "Right.", "Exactly.", "That's true.", "Yes.", "I know."]
_FRAGMENT = ["Well, I,", "And, uh,", "So, uh,", "But, um,", "It's, uh,", "I, I,"]
_APPRECIATE = ["Oh, that's great.", "That's nice.", "Oh, that sounds like fun.", "Wow."]
_YES = ["Yes.", "Yeah, I do.", "Yeah, we did.", "Oh, yes."]
_NO = ["No.", "No, not really.", "No, I don't.", "Not really."]
_CLOSING = ["Well, it was nice talking to you.", "Okay, bye-bye.", "All right, take care.",
            "Well, I guess I'd better go."]
_FILLERS = ["uh, ", "um, ", "you know, ", "well, ", ""]


def _conv(rng: random.Random, tag: str) -> str:
    """One Switchboard-like utterance for a DAMSL tag (capitalized, punctuated)."""
    if tag == "b":
        return rng.choice(_BACKCHANNEL)
    if tag == "aa":
        return rng.choice(_ACCEPT)
    if tag == "%":
        return rng.choice(_FRAGMENT)
    if tag == "ba":
        return rng.choice(_APPRECIATE)
    if tag == "ny":
        return rng.choice(_YES)
    if tag == "nn":
        return rng.choice(_NO)
    if tag == "fc":
        return rng.choice(_CLOSING)
    if tag == "qy":
        return _cap(rng.choice([
            lambda: f"do you {rng.choice(_TV_THING).base} {_np(rng, _THINGS, 'pl', _ADJ_THING, dets=['the', 'your'])}?",
            lambda: f"have you ever been to {rng.choice(_PLACES)}?",
            lambda: f"do you have {_np(rng, _ANIMALS, 'sg', _ADJ_ANIMAL, dets=['a'])}?",
            lambda: f"did you {rng.choice(_IV).base} {_pp(rng.choice(_PLACES))} {rng.choice(_PAST_TIMES)}?",
            lambda: f"do you like {rng.choice(_ANIMALS)[1]}?",
        ])())
    if tag == "qw":
        return _cap(rng.choice([
            lambda: f"what kind of {rng.choice(_THINGS)[1]} do you like?",
            lambda: f"where do you usually {rng.choice(_IV + _IV_PEOPLE).base}?",
            lambda: f"what did you do {rng.choice(_PAST_TIMES)}?",
            lambda: f"how many {rng.choice(_ANIMALS)[1]} do you have?",
            lambda: f"who {rng.choice(_TV_ANIM).past} {rng.choice(['your', 'the'])} {rng.choice(_PEOPLE)[0]}?",
        ])())
    if tag == "sv":
        head = rng.choice(["I think", "I guess", "it seems like", "I don't think", "I believe", "I feel like"])
        return _cap(f"{rng.choice(_FILLERS)}{head} {_clause(rng)}.")
    # sd: statement
    s = _pron_clause(rng) if rng.random() < 0.6 else _clause(rng)
    if rng.random() < 0.3:
        s = f"{s} {rng.choice(['and', 'because', 'but', 'so'])} {_pron_clause(rng)}"
    return _cap(f"{rng.choice(_FILLERS)}{s}.")


def _dialogue(rng: random.Random, n_min: int = 24, n_max: int = 60) -> list[tuple[str, str, str]]:
    """A two-speaker dialogue as (speaker, utterance, tag) rows, with runs by one speaker."""
    rows = [("A", "Okay.", 'fo_o_fw_"_by_bc')]
    target = rng.randint(n_min, n_max)
    spk, other = "B", "A"
    last_tag = ""
    while len(rows) < target:
        run: list[str] = []
        if last_tag == "qy":
            run.append(rng.choice(["ny", "nn"]))
        elif last_tag == "qw":
            run.append("sd")
        for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
            run.append(rng.choices(["sd", "sv", "%", "qy", "qw", "aa", "ba"], [10, 5, 2, 2, 2, 2, 1])[0])
        for i, tag in enumerate(run):
            rows.append((spk, _conv(rng, tag), tag))
            if i < len(run) - 1 and rng.random() < 0.2:
                rows.append((other, _conv(rng, "b"), "b"))
            if tag in ("qy", "qw"):
                break
        last_tag = rows[-1][2] if rows[-1][0] == spk else ""
        spk, other = other, spk
    rows.append((spk, _conv(rng, "fc"), "fc"))
    rows.append((other, _conv(rng, "fc"), "fc"))
    return rows


# --- nonce words -------------------------------------------------------------------------------

_ONSETS = ["bl", "br", "d", "f", "g", "gl", "k", "l", "m", "n", "p", "pl", "r", "s", "sn", "t", "tr", "v",
           "w", "z", "zh", "kr", "fl"]
_VOWELS = ["a", "e", "i", "o", "u", "ee", "oo", "ai", "o", "a"]
_CODAS = ["", "", "n", "r", "k", "l", "m", "t", "ck", "sh", "nd"]


def _nonce(rng: random.Random, syllables: int = 2) -> str:
    w = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables))
    return w + rng.choice(["", "", "et", "o", "an", "el"])


def _unique_nonce(rng: random.Random, seen: set[str], syllables: int = 2) -> str:
    while True:
        w = _nonce(rng, syllables)
        if w not in seen and 4 <= len(w) <= 12:
            seen.add(w)
            return w


# --- encyclopedia articles (simple_wiki, boolq, multirc, QA) --------------------------------------

class _Fact(NamedTuple):
    sentence: str
    question: str        # wh-question
    answer: str          # short answer
    yes_no: Callable[[str], str]  # value -> lowercase yes/no question without '?'
    value: str
    wrong: list[str]     # wrong values of the same type


class _Article(NamedTuple):
    title: str
    sentences: list[str]
    facts: list[_Fact]


_HABITATS = ["forests", "rivers", "deserts", "mountains", "lakes", "grasslands", "caves", "swamps"]
_FOODS = ["seeds", "insects", "leaves", "fish", "berries", "grass", "worms", "fruit"]
_COLORS = ["brown", "green", "red", "yellow", "black", "grey", "blue", "white"]
_COVER = {"bird": "feathers", "fish": "scales", "frog": "skin", "beetle": "wings", "mouse": "fur",
          "snake": "scales", "lizard": "scales"}
_KNOWN_FOR = ["cheese", "bridges", "markets", "music festival", "old castle", "gardens", "boats", "bakeries"]
_DISH_KIND = ["bread", "soup", "cake", "pie", "drink", "salad"]
_INGREDIENTS = ["rice", "potatoes", "milk", "apples", "beans", "corn", "eggs", "honey", "carrots", "nuts"]
_MEALS = ["for breakfast", "at dinner", "on holidays", "in the summer", "in the winter", "at parties"]
_SCORES = ["points", "goals", "runs", "baskets"]
_GEAR = ["ball", "stick", "net", "small flag", "wooden bat", "ring"]


def _others(rng: random.Random, pool: list[str], value: str, k: int = 3) -> list[str]:
    return rng.sample([p for p in pool if p != value], k)


def _article(rng: random.Random, seen: set[str], countries: list[str]) -> _Article:
    name = _unique_nonce(rng, seen)
    kind = rng.choice(["animal", "animal", "town", "food", "game"])
    year = rng.randint(1750, 1990)
    person = f"{rng.choice(_NAMES)} {rng.choice(_SURNAMES)}"
    facts: list[_Fact] = []
    if kind == "animal":
        cls = rng.choice(sorted(_COVER))
        t, ts = name, _plural(name)
        size = rng.choice(["small", "large", "tiny", "medium-sized"])
        hab, food, col = rng.choice(_HABITATS), rng.choice(_FOODS), rng.choice(_COLORS)
        first = f"{_cap(_a(t))} {t} is {_a(size)} {size} kind of {cls} that lives in {hab}."
        facts.append(_Fact(first, f"Where does {_a(t)} {t} live?", _cap(hab), lambda v: f"does {_a(t)} {t} live in {v}",
                           hab, _others(rng, _HABITATS, hab)))
        facts.append(_Fact(f"{_cap(ts)} mostly eat {food}.", f"What do {ts} eat?", _cap(food),
                           lambda v: f"do {ts} eat {v}", food, _others(rng, _FOODS, food)))
        facts.append(_Fact(f"It has {col} {_COVER[cls]}.", f"What color are the {_COVER[cls]} of {_a(t)} {t}?",
                           _cap(col), lambda v: f"does {_a(t)} {t} have {v} {_COVER[cls]}", col,
                           _others(rng, _COLORS, col)))
        n = str(rng.randint(2, 9))
        nums = [str(i) for i in range(2, 10)]
        facts.append(_Fact(f"A female {t} lays {n} eggs at a time.", f"How many eggs does a female {t} lay?", n,
                           lambda v: f"does a female {t} lay {v} eggs at a time", n, _others(rng, nums, n)))
        names = [f"{a} {b}" for a in _NAMES[:6] for b in _SURNAMES[:4]]
        facts.append(_Fact(f"The first {t} was described by {person} in {year}.",
                           f"Who described the first {t}?", person,
                           lambda v: f"was the first {t} described by {v}", person, _others(rng, names, person)))
        life = str(rng.randint(2, 20))
        facts.append(_Fact(f"Most {ts} live for about {life} years.", f"How long do {ts} live?", f"{life} years",
                           lambda v: f"do {ts} live for about {v} years", life,
                           _others(rng, [str(i) for i in range(2, 21)], life)))
        title = _cap(t)
    elif kind == "town":
        t = _cap(name)
        country = rng.choice(countries)
        first = f"{t} is a small town in the {rng.choice(['north', 'south', 'east', 'west'])} of {country}."
        facts.append(_Fact(first, f"In which country is {t}?", country, lambda v: f"is {t} in {v}", country,
                           _others(rng, countries, country)))
        pop = f"{rng.randint(1, 40)},{rng.randint(0, 9)}00"
        pops = [f"{i},{j}00" for i in range(1, 41) for j in (0, 5)]
        facts.append(_Fact(f"About {pop} people live in {t}.", f"How many people live in {t}?", pop,
                           lambda v: f"do about {v} people live in {t}", pop, _others(rng, pops, pop)))
        river = _cap(_nonce(rng, 2))
        rivers = [_cap(_nonce(rng, 2)) for _ in range(4)]
        facts.append(_Fact(f"The {river} River flows through the town.", f"Which river flows through {t}?",
                           f"The {river} River", lambda v: f"does the {v} river flow through {t}", river,
                           [r for r in rivers if r != river][:3]))
        facts.append(_Fact(f"{t} was founded in {year}.", f"When was {t} founded?", str(year),
                           lambda v: f"was {t} founded in {v}", str(year),
                           [str(year + d) for d in rng.sample([-40, -12, 7, 25, 60], 3)]))
        known = rng.choice(_KNOWN_FOR)
        facts.append(_Fact(f"The town is known for its {known}.", f"What is {t} known for?", f"Its {known}",
                           lambda v: f"is {t} known for its {v}", known, _others(rng, _KNOWN_FOR, known)))
        title = t
    elif kind == "food":
        t = _cap(name)
        dish, ing, meal = rng.choice(_DISH_KIND), rng.choice(_INGREDIENTS), rng.choice(_MEALS)
        country = rng.choice(countries)
        first = f"{t} is a kind of {dish} from {country}."
        facts.append(_Fact(first, f"What kind of food is {t}?", f"A kind of {dish}",
                           lambda v: f"is {name} a kind of {v}", dish, _others(rng, _DISH_KIND, dish)))
        facts.append(_Fact(f"It is made from {ing}.", f"What is {t} made from?", _cap(ing),
                           lambda v: f"is {name} made from {v}", ing, _others(rng, _INGREDIENTS, ing)))
        facts.append(_Fact(f"People usually eat it {meal}.", f"When do people eat {t}?", _cap(meal),
                           lambda v: f"do people usually eat {name} {v}", meal, _others(rng, _MEALS, meal)))
        facts.append(_Fact(f"The first recipe for {t} was written by {person} in {year}.",
                           f"Who wrote the first recipe for {t}?", person,
                           lambda v: f"did {v} write the first recipe for {name}", person,
                           [f"{rng.choice(_NAMES)} {s}" for s in rng.sample(_SURNAMES, 3)]))
        title = t
    else:
        t = _cap(name)
        n = str(rng.randint(3, 11))
        gear, score = rng.choice(_GEAR), rng.choice(_SCORES)
        first = f"{t} is a game played by two teams of {n} players."
        facts.append(_Fact(first, f"How many players are on a {t} team?", n,
                           lambda v: f"does a {name} team have {v} players", n,
                           _others(rng, [str(i) for i in range(3, 12)], n)))
        facts.append(_Fact(f"The players use {_a(gear)} {gear}.", f"What do the players of {t} use?",
                           f"{_cap(_a(gear))} {gear}", lambda v: f"do {name} players use {_a(v)} {v}", gear,
                           _others(rng, _GEAR, gear)))
        facts.append(_Fact(f"The team that scores the most {score} wins.", f"How does a team win at {t}?",
                           f"By scoring the most {score}", lambda v: f"do {name} teams score {v}", score,
                           _others(rng, _SCORES, score)))
        mins = str(rng.choice([20, 30, 40, 60, 90]))
        facts.append(_Fact(f"A game of {t} lasts about {mins} minutes.", f"How long does a game of {t} last?",
                           f"About {mins} minutes", lambda v: f"does a game of {name} last {v} minutes", mins,
                           _others(rng, ["20", "30", "40", "60", "90"], mins)))
        country = rng.choice(countries)
        facts.append(_Fact(f"It was first played in {country} in {year}.", f"Where was {t} first played?",
                           country, lambda v: f"was {name} first played in {v}", country,
                           _others(rng, countries, country)))
        title = t
    first, rest = facts[0], facts[1:]
    rng.shuffle(rest)
    rest = rest[: rng.randint(2, len(rest))]
    facts = [first] + rest
    return _Article(title, [f.sentence for f in facts], facts)


def _countries(rng: random.Random) -> list[str]:
    seen: set[str] = set()
    return [_cap(_unique_nonce(rng, seen)) + rng.choice(["ia", "land", "a"]) for _ in range(10)]


# ----------------------------------------------------------------------------------------------
# File helpers
# ----------------------------------------------------------------------------------------------

def _rng(spec: DemoSpec, name: str) -> random.Random:
    return random.Random(f"{spec.seed}:{name}")


def _write_lines(root: Path, rel: str, lines: list[str], manifest: dict) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(line + "\n" for line in lines).encode("utf-8"))
    manifest[rel] = len(lines)


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _write_jsonl(root: Path, rel: str, rows: list[dict], manifest: dict) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_jsonl(rows).encode("utf-8"))
    manifest[rel] = len(rows)


def _distinct(rng: random.Random, make: Callable[[random.Random], tuple], n: int, key=lambda x: x) -> list:
    """n items from `make`, distinct by key (gives up on distinctness after many tries)."""
    out, seen, tries = [], set(), 0
    while len(out) < n:
        item = make(rng)
        tries += 1
        if key(item) in seen and tries < 50 * n:
            continue
        seen.add(key(item))
        out.append(item)
    return out


# ----------------------------------------------------------------------------------------------
# 1. BabyLM pretraining text
# ----------------------------------------------------------------------------------------------

def _fill(target: int, make_lines: Callable[[], list[str]]) -> list[str]:
    lines: list[str] = []
    words = 0
    while words < target:
        for line in make_lines():
            lines.append(line)
            words += len(line.split())
    return lines


_SOUNDS = {"dog": "woof", "cat": "meow", "duck": "quack", "cow": "moo", "pig": "oink", "bird": "tweet",
           "frog": "ribbit", "goat": "baa", "horse": "neigh"}


def _childes_utt(rng: random.Random, speaker: str) -> str:
    thing, animal = rng.choice(_THINGS)[0], rng.choice(sorted(_SOUNDS))
    if speaker == "CHI":
        return rng.choice([f"{thing}!", f"more {thing}.", f"want {thing}.", f"my {thing}.", "no!", "mommy!",
                           f"{animal} go {_SOUNDS[animal]}.", f"where {thing}?", "uh oh.", "all done.",
                           f"big {thing}.", f"I want the {thing}.", f"{thing} fall down."])
    adj = rng.choice(_ADJ_THING)
    return rng.choice([
        f"look at the {thing}!", f"where is the {thing}?", f"can you find the {adj} {thing}?",
        f"that's {_a(adj)} {adj} {thing}.", f"do you want the {thing}?", "good job!",
        f"what does the {animal} say?", f"the {animal} says {_SOUNDS[animal]}.",
        f"let's put the {thing} in the box.", "are you hungry?", "you're okay.",
        _sentence(rng, allow_question=False).lower(), _cap(_question(rng)).lower(),
    ])


def _babylm_childes(rng: random.Random, target: int) -> list[str]:
    def block() -> list[str]:
        out = []
        for _ in range(rng.randint(6, 20)):
            spk = rng.choices(["MOT", "CHI", "FAT"], [6, 3, 1])[0]
            out.append(f"*{spk}:\t{_childes_utt(rng, spk)}")
        return out
    return _fill(target, block)


def _babylm_switchboard(rng: random.Random, target: int) -> list[str]:
    return _fill(target, lambda: [f"{s}:\t{u}" for s, u, _ in _dialogue(rng)])


def _babylm_bnc(rng: random.Random, target: int) -> list[str]:
    def line() -> list[str]:
        r = rng.random()
        if r < 0.15:
            return [rng.choice(["Mm.", "Yeah.", "Erm.", "Right.", "No.", "Oh dear.", "Mhm."])]
        tag = rng.choice(["sd", "sd", "sv", "qy", "qw"])
        u = _conv(rng, tag)
        if rng.random() < 0.3:
            u = rng.choice(["Er, ", "Erm, ", "Well, ", "Oh, "]) + u[0].lower() + u[1:]
        return [u]
    return _fill(target, line)


def _babylm_subtitles(rng: random.Random, target: int) -> list[str]:
    def line() -> list[str]:
        thing, place, name = rng.choice(_THINGS)[0], rng.choice(_PLACES), rng.choice(_NAMES)
        return [rng.choice([
            "Come on!", "Let's go.", f"{name}, wait!", f"Where did you put the {thing}?", "Get in the car.",
            f"We have to go back to {place}.", f"I told you, {_clause(rng)}.", "What are you doing here?",
            "I don't know.", f"Give me the {thing}.", "Are you okay?", f"{name}!", "Thank you.",
            _sentence(rng), _cap(_question(rng)), f"- {_cap(_pron_clause(rng))}.",
        ])]
    return _fill(target, line)


def _book_title(rng: random.Random) -> str:
    return rng.choice([
        f"The {_cap(rng.choice(_ADJ_THING))} {_cap(rng.choice(_THINGS)[0])}",
        f"{rng.choice(_NAMES)} and the {_cap(rng.choice(_ANIMALS)[0])}",
        f"Stories of the {_cap(rng.choice(_PLACES)[4:])}",
    ])


def _story_paragraph(rng: random.Random, hero: str) -> str:
    sents = []
    for _ in range(rng.randint(2, 5)):
        r = rng.random()
        if r < 0.2:
            sents.append(f'"{_cap(_pron_clause(rng))}," said {rng.choice([hero] + _NAMES)}.')
        elif r < 0.35:
            sents.append(f"{hero} {_predicate(rng, 'sg', 'person', 'past')}.")
        else:
            sents.append(_cap(_clause(rng, rng.choice(["past", "past", "neg_past"]))) + ".")
    return " ".join(sents)


def _babylm_gutenberg(rng: random.Random, target: int) -> list[str]:
    n_books = max(1, min(8, target // 5000))
    lines: list[str] = []
    for b in range(n_books):
        title = _book_title(rng)
        author = f"{rng.choice(_NAMES)} {rng.choice(_SURNAMES)}"
        book_target = target * (b + 1) // n_books
        lines += [f"= = = PG{rng.randint(10000, 69999)} = = =",
                  f"The Project Gutenberg eBook of {title}, by {author}",
                  f"Produced by {rng.choice(_NAMES)} {rng.choice(_SURNAMES)} "
                  "and the Online Distributed Proofreading Team.",
                  f"*** START OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***",
                  title.upper(), f"by {author}"]
        hero = rng.choice(_NAMES)
        adj, noun = rng.choice(_ADJ_PERSON), rng.choice(_PEOPLE)[0]
        lines += ["CHAPTER 1.", f"Once upon a time there lived {_a(adj)} {adj} {noun} named {hero}. "
                  + _story_paragraph(rng, hero)]
        chapter = 1
        words = sum(len(x.split()) for x in lines)
        while words < book_target - 12:  # 12: the closing lines
            if rng.random() < 0.1:
                chapter += 1
                lines.append(f"CHAPTER {chapter}.")
                words += 2
            lines.append(_story_paragraph(rng, hero))
            words += len(lines[-1].split())
        lines += ["THE END.", f"*** END OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***"]
    return lines


def _babylm_wiki(rng: random.Random, target: int) -> list[str]:
    seen: set[str] = set()
    countries = _countries(rng)

    def article() -> list[str]:
        a = _article(rng, seen, countries)
        body = a.sentences
        if len(body) > 4 and rng.random() < 0.5:
            k = rng.randint(2, len(body) - 2)
            return [f"= = = {a.title} = = =", " ".join(body[:k]), " ".join(body[k:])]
        return [f"= = = {a.title} = = =", " ".join(body)]
    return _fill(target, article)


def _write_babylm(root: Path, spec: DemoSpec, manifest: dict) -> None:
    makers = {"bnc_spoken": _babylm_bnc, "childes": _babylm_childes, "gutenberg": _babylm_gutenberg,
              "open_subtitles": _babylm_subtitles, "simple_wiki": _babylm_wiki,
              "switchboard": _babylm_switchboard}
    for src in BABYLM_SOURCES:
        lines = makers[src](_rng(spec, f"babylm/{src}"), spec.words_per_source)
        _write_lines(root, f"babylm_corpus/train_demo/{src}.train", lines, manifest)


# ----------------------------------------------------------------------------------------------
# 2. SwDA
# ----------------------------------------------------------------------------------------------

def _write_swda(root: Path, spec: DemoSpec, manifest: dict) -> None:
    rng = _rng(spec, "swda")
    n = spec.swda_dialogues
    ids = sorted(rng.sample(range(2000, 5000), n))
    n_eval = max(1, n // 30)
    held = rng.sample(ids, 2 * n_eval)
    split_of = {i: "train" for i in ids}
    split_of.update({i: "val" for i in held[:n_eval]})
    split_of.update({i: "test" for i in held[n_eval:]})
    concat: dict[str, list[str]] = {"val": [], "test": []}
    for i in ids:
        lines = [f"{s}|{u}|{t}" for s, u, t in _dialogue(rng, 30, 90)]
        split = split_of[i]
        _write_lines(root, f"swda/swda_data/{split}/{i:04d}.txt", lines, manifest)
        if split in concat:
            concat[split] += lines
    for split, lines in concat.items():
        _write_lines(root, f"swda/swda_data/{split}_set.txt", lines, manifest)


# ----------------------------------------------------------------------------------------------
# 3. BLiMP
# ----------------------------------------------------------------------------------------------

_BLIMP_META = {  # UID: (field, linguistics_term, simple, one_prefix, two_prefix, lexically_identical)
    "determiner_noun_agreement_1": ("morphology", "determiner_noun_agreement", True, True, False, True),
    "regular_plural_subject_verb_agreement_1": ("morphology", "subject_verb_agreement", True, True, False, False),
    "anaphor_number_agreement": ("morphology", "anaphor_agreement", True, True, False, True),
    "adjunct_island": ("syntax", "island_effects", True, False, False, True),
    "irregular_past_participle_adjectives": ("morphology", "irregular_forms", True, False, True, False),
    "existential_there_quantifiers_1": ("semantics", "quantifiers", True, False, False, False),
}
_REGULAR_PL = [(s, p) for s, p in _ANIMALS + _PEOPLE + _THINGS if p in (s + "s", s + "es")]


def _blimp_det_noun(rng: random.Random) -> tuple[str, str]:
    sg, pl = rng.choice(_THINGS)
    v = rng.choice(_TV_THING)
    verb = rng.choice([v.s, v.past, f"didn't {v.base}", f"will {v.base}"])
    subj = rng.choice(_NAMES) if rng.random() < 0.6 else _np(rng, _PEOPLE, "sg", dets=["the"])
    adj = (rng.choice(_ADJ_THING) + " ") if rng.random() < 0.2 else ""
    if rng.random() < 0.5:
        det = rng.choice(["this", "that"])
        good, bad = sg, pl
    else:
        det = rng.choice(["these", "those"])
        good, bad = pl, sg
    s = f"{_cap(subj)} {verb} {det} {adj}"
    return s + good + ".", s + bad + "."


def _blimp_sv_agr(rng: random.Random) -> tuple[str, str]:
    sg, pl = rng.choice([p for p in _REGULAR_PL if p in _ANIMALS + _PEOPLE])
    kind = "person" if (sg, pl) in _PEOPLE else "animal"
    pool = (_IV + (_IV_PEOPLE if kind == "person" else []))
    v = rng.choice(pool)
    tail = _pp(rng.choice(_PLACES)) if rng.random() < 0.5 else rng.choice(["often", "a lot", "every day"])
    det = rng.choice(["the", "the", "these", "some", "many"]) if rng.random() < 0.5 else "the"
    if rng.random() < 0.5:
        head = f"{_cap(det)} {pl}"
        good, bad = v.base, v.s
    else:
        head = f"{_cap(rng.choice(['the', 'this', 'that']))} {sg}"
        good, bad = v.s, v.base
    return f"{head} {good} {tail}.", f"{head} {bad} {tail}."


def _blimp_anaphor(rng: random.Random) -> tuple[str, str]:
    v = rng.choice(_verbs("see/sees/saw/seen/seeing hurt/hurts/hurt/hurt/hurting help/helps/helped/helped/helping "
                          "wash/washes/washed/washed/washing hide/hides/hid/hidden/hiding "
                          "find/finds/found/found/finding like/likes/liked/liked/liking "
                          "hear/hears/heard/heard/hearing"))
    verb = rng.choice([v.past, f"didn't {v.base}", f"will {v.base}", f"can't {v.base}"])
    r = rng.random()
    if r < 0.5:
        if rng.random() < 0.5:
            subj, refl = rng.choice(_NAMES_F), "herself"
        else:
            subj, refl = rng.choice(_NAMES_M), "himself"
        return f"{subj} {verb} {refl}.", f"{subj} {verb} themselves."
    sg, pl = rng.choice(_PEOPLE)
    subj = f"{_cap(rng.choice(['the', 'these', 'those', 'some']))} {pl}"
    bad = "herself" if sg in _FEMALE_NOUNS else "himself" if sg in _MALE_NOUNS else rng.choice(["herself", "himself"])
    return f"{subj} {verb} themselves.", f"{subj} {verb} {bad}."


def _blimp_adjunct_island(rng: random.Random) -> tuple[str, str]:
    pv = rng.choice(["talk to", "wait for", "look at", "run from", "sing to", "write to", "hide from", "argue with"])
    ving = rng.choice(["seeing", "calling", "helping", "visiting", "meeting", "watching", "hugging", "thanking"])
    aux = rng.choice(["did", "will", "can", "should"])
    conj = rng.choice(["after", "before", "while", "without"])
    a, b = rng.sample(_NAMES, 2)
    return (f"Who {aux} {a} {pv} {conj} {ving} {b}?", f"Who {aux} {a} {pv} {b} {conj} {ving}?")


_PARTICIPLE_ADJ = [  # (past, participle, nouns)
    ("broke", "broken", ["cup", "window", "chair", "toy", "lamp", "bottle", "drum"]),
    ("hid", "hidden", ["key", "coin", "box", "letter", "door"]),
    ("ate", "eaten", ["apple", "cake", "cookie", "egg"]),
    ("forgot", "forgotten", ["book", "letter", "key", "hat", "song"]),
    ("stole", "stolen", ["car", "coin", "bag", "key", "bike", "picture"]),
    ("froze", "frozen", ["river", "lake", "bottle", "cake", "pond"]),
    ("wrote", "written", ["letter", "note", "word", "story"]),
    ("tore", "torn", ["blanket", "picture", "bag", "letter", "book", "hat"]),
    ("fell", "fallen", ["leaf", "tree", "apple", "branch"]),
    ("shook", "shaken", ["bottle", "box", "basket"]),
]


def _blimp_participle(rng: random.Random) -> tuple[str, str]:
    past, pp, nouns = rng.choice(_PARTICIPLE_ADJ)
    noun = rng.choice(nouns)
    det = rng.choice(["The", "This", "That", "My", "Our"])
    tail = rng.choice([f"is {_pp(rng.choice(_PLACES))}", "was on the table", "is not here", "looks old",
                       f"belongs to {rng.choice(_NAMES)}", "was very small", "is still there"])
    return f"{det} {pp} {noun} {tail}.", f"{det} {past} {noun} {tail}."


def _blimp_there(rng: random.Random) -> tuple[str, str]:
    sg, pl = rng.choice(_ANIMALS + _PEOPLE + _THINGS)
    be = rng.choice(["are", "were", "aren't", "weren't"])
    good = rng.choice(["many", "some", "few", "no", "several", "two", "three"])
    bad = rng.choice(["all", "most", "all the", "most of the"])
    tail = _pp(rng.choice(_PLACES))
    return f"There {be} {good} {pl} {tail}.", f"There {be} {bad} {pl} {tail}."


_BLIMP_MAKERS = {
    "determiner_noun_agreement_1": _blimp_det_noun,
    "regular_plural_subject_verb_agreement_1": _blimp_sv_agr,
    "anaphor_number_agreement": _blimp_anaphor,
    "adjunct_island": _blimp_adjunct_island,
    "irregular_past_participle_adjectives": _blimp_participle,
    "existential_there_quantifiers_1": _blimp_there,
}


def _write_blimp(root: Path, spec: DemoSpec, manifest: dict) -> None:
    for uid in BLIMP_UIDS:
        rng = _rng(spec, f"blimp/{uid}")
        field, term, simple, one, two, lex = _BLIMP_META[uid]
        pairs = _distinct(rng, _BLIMP_MAKERS[uid], 2 * spec.items_per_paradigm)
        rows = [{"sentence_good": g, "sentence_bad": b, "field": field, "linguistics_term": term, "UID": uid,
                 "simple_LM_method": simple, "one_prefix_method": one, "two_prefix_method": two,
                 "lexically_identical": lex, "pair_id": i} for i, (g, b) in enumerate(pairs)]
        _write_jsonl(root, f"blimp_filtered/{uid}.jsonl", rows, manifest)
        _write_jsonl(root, f"blimp_fast/{uid}.jsonl", rng.sample(rows, spec.items_per_paradigm), manifest)


# ----------------------------------------------------------------------------------------------
# 4. BLiMP supplement
# ----------------------------------------------------------------------------------------------

_HYPERNYMS = [("robin", "bird"), ("sparrow", "bird"), ("rose", "flower"), ("tulip", "flower"),
              ("daisy", "flower"), ("hammer", "tool"), ("wrench", "tool"), ("apple", "fruit"),
              ("pear", "fruit"), ("oak", "tree"), ("pine", "tree"), ("carrot", "vegetable"),
              ("onion", "vegetable"), ("truck", "vehicle"), ("bus", "vehicle"), ("guitar", "instrument"),
              ("violin", "instrument"), ("beetle", "insect"), ("poodle", "dog"), ("salmon", "fish")]
_HYP_VERBS = _verbs("see/sees/saw/seen/seeing find/finds/found/found/finding draw/draws/drew/drawn/drawing "
                    "notice/notices/noticed/noticed/noticing "
                    "photograph/photographs/photographed/photographed/photographing")


def _supp_hypernym(rng: random.Random) -> dict:
    row = rng.randrange(len(_HYPERNYMS))
    hypo, hyper = _HYPERNYMS[row]
    v = rng.choice(_HYP_VERBS)
    subj = rng.choice(["he", "she", "they", rng.choice(_NAMES), f"the {rng.choice(_PEOPLE)[0]}"])
    ahypo, ahyper = f"{_a(hypo)} {hypo}", f"{_a(hyper)} {hyper}"
    link = rng.choice(["it must be the case that", "that means", "then"])
    kind = rng.randrange(3)
    if kind == 0:
        contrast = "base_and_hypernym/converse"
        good = f"If {subj} {v.past} {ahypo}, {link} {subj} {v.past} {ahyper}."
        bad = f"If {subj} {v.past} {ahyper}, {link} {subj} {v.past} {ahypo}."
    elif kind == 1:
        contrast = "base_neg_and_hypernym_neg/converse"
        good = f"If {subj} didn't {v.base} {ahyper}, {link} {subj} didn't {v.base} {ahypo}."
        bad = f"If {subj} didn't {v.base} {ahypo}, {link} {subj} didn't {v.base} {ahyper}."
    else:
        contrast = "hypernym_and_other_neg/base_neg"
        other = rng.choice([h for h, k in _HYPERNYMS if k != hyper])
        good = f"If {subj} {v.past} {ahypo}, {link} {subj} didn't {v.base} {_a(other)} {other}."
        bad = f"If {subj} {v.past} {ahypo}, {link} {subj} didn't {v.base} {ahyper}."
    return {"row": row, "contrast": contrast, "sentence_good": _cap(good), "sentence_bad": _cap(bad)}


def _speakers(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.5:
        return "A", "B"
    a, b = rng.sample(_NAMES, 2)
    return a, b


def _supp_qa_easy(rng: random.Random) -> dict:
    a, b = _speakers(rng)
    row = rng.randrange(10)
    fragment = rng.random() < 0.5
    kind = rng.randrange(3)
    thing, person = rng.choice(_THINGS)[0], rng.choice(_PEOPLE)[0]
    if kind == 0:
        contrast = "animate vs. inanimate"
        v = rng.choice(_TV_ANIM)
        q = f"Who did you {v.base} {_pp(rng.choice(_PLACES))}?"
        if fragment:
            ga, ba = f"{_cap(_a(person))} {person}.", f"{_cap(_a(thing))} {thing}."
        else:
            ga, ba = f"I {v.past} {_a(person)} {person}.", f"I {v.past} {_a(thing)} {thing}."
    elif kind == 1:
        contrast = "inanimate vs. animate"
        v = rng.choice([x for x in _TV_THING if x.base in ("find", "buy", "carry", "wash", "paint", "drop", "keep")])
        q = f"What did you {v.base}?"
        if fragment:
            ga, ba = f"{_cap(_a(thing))} {thing}.", f"{_cap(_a(person))} {person}."
        else:
            ga, ba = f"I {v.past} {_a(thing)} {thing}.", f"I {v.past} {_a(person)} {person}."
    else:
        contrast = "loc vs. NP"
        place = rng.choice(_PLACES)
        q = f"Where did you put the {thing}?"
        if fragment:
            ga, ba = _cap(_pp(place)) + ".", f"The {person}."
        else:
            ga, ba = f"I put it {_pp(place)}.", f"I put it the {person}."
    return {"row": row, "fragment": "fragment" if fragment else "sentence", "contrast": contrast,
            "sentence_good": f"{a}: {q}\n{b}: {ga}", "sentence_bad": f"{a}: {q}\n{b}: {ba}"}


def _supp_qa_tricky(rng: random.Random) -> dict:
    a, b = _speakers(rng)
    row = rng.randrange(20)
    fragment = rng.random() < 0.5
    kind = rng.randrange(4)
    v = rng.choice(_IV + _IV_PEOPLE)
    things = rng.choice(_THINGS)[1]
    if kind == 0:
        contrast = "manner vs. NP (tricky)"
        adv = rng.choice(["Slowly", "Quickly", "Carefully", "Quietly", "Happily"])
        q = f"How do you {v.base}?"
        ga, ba = (f"{adv}.", f"{_cap(things)}.") if fragment else \
            (f"I {v.base} {adv.lower()}.", f"I {v.base} {things}.")
    elif kind == 1:
        contrast = "animate vs. inanimate (tricky)"
        name = rng.choice(_NAMES)
        q = f"Who {v.past}?"
        ga, ba = (f"{name}.", f"The {things}.") if fragment else (f"{name} {v.past}.", f"The {things} {v.past}.")
    elif kind == 2:
        contrast = "temp vs. NP (tricky)"
        t = rng.choice(["Yesterday", "Last night", "This morning", "On Sunday"])
        q = f"When did you {v.base}?"
        ga, ba = (f"{t}.", f"The {things}.") if fragment else \
            (f"I {v.past} {t[0].lower() + t[1:]}.", f"I {v.past} the {things}.")
    else:
        contrast = "loc vs. NP (tricky)"
        place = rng.choice(_PLACES)
        q = f"Where did you {v.base}?"
        ga, ba = (f"{_cap(_pp(place))}.", f"{_cap(place)}.") if fragment else \
            (f"I {v.past} {_pp(place)}.", f"I {v.past} {place}.")
    return {"row": row, "fragment": "fragment" if fragment else "sentence", "contrast": contrast,
            "sentence_good": f"{a}: {q}\n{b}: {ga}", "sentence_bad": f"{a}: {q}\n{b}: {ba}"}


def _supp_sai(rng: random.Random) -> dict:
    number = "sg" if rng.random() < 0.6 else "pl"
    pool, adjs = (_PEOPLE, _ADJ_PERSON) if rng.random() < 0.5 else (_ANIMALS, _ADJ_ANIMAL)
    sg, pl = rng.choice(pool)
    noun = sg if number == "sg" else pl
    det = rng.choice(["the", "this", "that"] if number == "sg" else ["the", "these", "those", "some"])
    be = "is" if number == "sg" else "are"
    ving, vbase = rng.choice(_IV).ing, rng.choice(_IV).base
    adj = rng.choice(adjs)
    rc = rng.choice(["that", "who"]) if pool is _PEOPLE else "that"
    template = rng.choice(["1_RC_ambig_1", "1_RC_unambig_1", "1_RC_unambig_2"])
    if template == "1_RC_ambig_1":
        good = f"{_cap(be)} {det} {noun} {rc} {be} {ving} {adj}?"
        bad = f"{_cap(be)} {det} {noun} {rc} {ving} {be} {adj}?"
    elif template == "1_RC_unambig_1":
        good = f"{_cap(be)} {det} {noun} {rc} can {vbase} {adj}?"
        bad = f"Can {det} {noun} {rc} {vbase} {be} {adj}?"
    else:
        good = f"Can {det} {noun} {rc} {be} {ving} {vbase}?"
        bad = f"{_cap(be)} {det} {noun} {rc} {ving} can {vbase}?"
    return {"pair_ID": 0, "row": 0, "ambiguous": template.startswith("1_RC_ambig"), "template": template,
            "sentence_good": good, "sentence_bad": bad}


_TT_VALID = {"you": ["I", "we"], "I": ["you"], "we": ["you"], "she": ["she"], "they": ["they"]}
_TT_VPS_SHORT = ["quit", "meet him", "go home", "win", "call her", "stay"]
_TT_VPS_LONG = ["think it was going to rain", "go somewhere after the game was over",
                "find the key that was under the bed", "help the farmer with the heavy boxes"]
_TT_AUX = [("Did", "did", "didn't"), ("Should", "should", "shouldn't"), ("Can", "can", "can't"),
           ("Will", "will", "won't")]


def _supp_turn_taking(rng: random.Random) -> dict:
    a, b = _speakers(rng)
    long = rng.random() < 0.35
    yes = rng.random() < 0.5
    if rng.random() < 0.5:  # single: the question pronoun changes, the answer stays
        qp = rng.choice(["you", "we", "I"])
        ap = rng.choice(_TT_VALID[qp])
        bad_qp = rng.choice([p for p in ("she", "they", "he") if ap not in _TT_VALID.get(p, [p])])
        aux_q, aux_yes, aux_no = rng.choice(_TT_AUX)
        vp = rng.choice(_TT_VPS_LONG if long else _TT_VPS_SHORT)
        ans = f"{'Yes' if yes else 'No'}, {ap} {aux_yes if yes else aux_no}."
        good = f"{a}: {aux_q} {qp} {vp}?\n{b}: {ans}"
        bad = f"{a}: {aux_q} {bad_qp} {vp}?\n{b}: {ans}"
        return {"quad": str(((qp, ap), (bad_qp, ap))), "type": "single", "length": "long" if long else "short",
                "other": None, "sentence_good": good, "sentence_bad": bad}
    qp = rng.choice(["you", "we", "I"])
    ap = rng.choice(_TT_VALID[qp])
    bad_ap = rng.choice([p for p in ("I", "you", "we", "they", "she") if p not in _TT_VALID[qp]])
    other = rng.choice(["I", "you", "we", "they", "she"])
    vp = rng.choice(["thought it was going to rain", "found the key that was under the bed",
                     "helped the farmer with the heavy boxes"] if long else
                    ["met him", "quit", "won", "left early", "saw it"])
    q = f"Did {qp} say that {other} {vp}?"

    def ans(p: str) -> str:
        return f"Yes, {p} said that."
    if rng.random() < 0.5:
        good, bad = f"{q}\n{ans(ap)}", f"{q}\n{ans(bad_ap)}"
    else:
        def quoted(p: str) -> str:
            return f'"{q}" he asked. "{ans(p)[:-1]}," she said.'
        good, bad = quoted(ap), quoted(bad_ap)
    return {"quad": str(((qp, ap), (qp, bad_ap))), "type": "double", "length": "long" if long else "short",
            "other": other, "sentence_good": good, "sentence_bad": bad}


_SUPP_MAKERS = {"hypernym": _supp_hypernym, "qa_congruence_easy": _supp_qa_easy,
                "qa_congruence_tricky": _supp_qa_tricky, "subject_aux_inversion": _supp_sai,
                "turn_taking": _supp_turn_taking}


def _write_supplement(root: Path, spec: DemoSpec, manifest: dict) -> None:
    for name in SUPPLEMENT_FILES:
        rng = _rng(spec, f"supplement/{name}")
        rows = _distinct(rng, _SUPP_MAKERS[name], 2 * spec.items_per_paradigm, key=lambda r: r["sentence_good"])
        if name == "subject_aux_inversion":
            for i, r in enumerate(rows):
                r["pair_ID"], r["row"] = i // 3, i % 20
        _write_jsonl(root, f"supplement_filtered/{name}.jsonl", rows, manifest)
        _write_jsonl(root, f"supplement_fast/{name}.jsonl", rng.sample(rows, spec.items_per_paradigm), manifest)


# ----------------------------------------------------------------------------------------------
# 5. EWoK (zip)
# ----------------------------------------------------------------------------------------------

def _ewok_item(rng: random.Random, domain: str) -> dict:
    a, b = rng.sample(_NAMES, 2)
    t1, t2 = rng.sample([t[0] for t in _THINGS], 2)
    place = rng.choice(_PLACES)[4:]
    k = rng.randrange(2)
    if domain == "agent-properties":
        if k == 0:
            ca, cb, ctype, cdiff, tdiff = "believe", "doubt", "direct", "antonym", "concept swap"
            c1 = f"{a} is in the {place}. {a} sees the {t1} inside."
            c2 = f"{a} is in the {place}. {a} sees the {t1} outside."
            g1, g2 = f"{a} believes that the {t1} is in the {place}.", f"{a} doubts that the {t1} is in the {place}."
        else:
            food = rng.choice(["apples", "cake", "soup", "rice", "carrots", "cookies"])
            ca, cb, ctype, cdiff, tdiff = "like", "dislike", "indirect", "antonym", "concept swap"
            c1, c2 = f"{a} always smiles when eating {food}.", f"{a} always frowns when eating {food}."
            g1, g2 = f"{a} likes {food}.", f"{a} dislikes {food}."
    elif domain == "physical-relations":
        if k == 0:
            ca, cb, ctype, cdiff, tdiff = "above", "below", "indirect", "antonym", "concept swap"
            c1, c2 = f"The {t1} is on top of the {t2}.", f"The {t1} is under the {t2}."
            g1, g2 = f"The {t1} is above the {t2}.", f"The {t1} is below the {t2}."
        else:
            ca, cb, ctype, cdiff, tdiff = "inside", "outside", "indirect", "antonym", "concept swap"
            c1, c2 = f"{a} put the {t1} into the box.", f"{a} put the {t1} next to the box."
            g1, g2 = f"The {t1} is inside the box.", f"The {t1} is outside the box."
    elif domain == "social-relations":
        if k == 0:
            ca, cb, ctype, cdiff, tdiff = "parent", "child", "indirect", "variable swap", "concept swap"
            c1, c2 = f"{a} takes care of {b}, who is still a baby.", f"{b} takes care of {a}, who is still a baby."
            g1, g2 = f"{a} is the parent of {b}.", f"{a} is the child of {b}."
        else:
            ca, cb, ctype, cdiff, tdiff = "teacher", "student", "indirect", "variable swap", "concept swap"
            c1, c2 = f"{a} explains the lesson to {b} every morning.", f"{b} explains the lesson to {a} every morning."
            g1, g2 = f"{a} is the teacher of {b}.", f"{a} is the student of {b}."
    elif domain == "spatial-relations":
        if k == 0:
            ca, cb, ctype, cdiff, tdiff = "left", "right", "direct", "antonym", "variable swap"
            c1, c2 = f"The {t1} is to the left of the {t2}.", f"The {t1} is to the right of the {t2}."
            g1, g2 = f"The {t2} is to the right of the {t1}.", f"The {t1} is to the right of the {t2}."
        else:
            ca, cb, ctype, cdiff, tdiff = "near", "far", "direct", "antonym", "concept swap"
            c1 = f"{a} can touch the {t1} without standing up."
            c2 = f"{a} has to walk for an hour to reach the {t1}."
            g1, g2 = f"The {t1} is near {a}.", f"The {t1} is far from {a}."
    else:
        raise ValueError(domain)
    return {"Domain": domain, "ConceptA": ca, "ConceptB": cb, "ContextType": ctype, "ContextDiff": cdiff,
            "TargetDiff": tdiff, "Context1": c1, "Context2": c2, "Target1": g1, "Target2": g2}


def _swap(item: dict) -> dict:
    out = dict(item)
    out["Context1"], out["Context2"] = item["Context2"], item["Context1"]
    out["Target1"], out["Target2"] = item["Target2"], item["Target1"]
    return out


def _zip_add(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    if name.endswith("/"):
        info.external_attr = (0o40755 << 16) | 0x10
        zf.writestr(info, b"")
        return
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def _write_ewok(root: Path, spec: DemoSpec, manifest: dict) -> None:
    members: dict[str, list[dict]] = {}
    for domain in EWOK_DOMAINS:
        rng = _rng(spec, f"ewok/{domain}")
        items = _distinct(rng, lambda r: _ewok_item(r, domain), spec.items_per_paradigm,
                          key=lambda d: (d["Context1"], d["Target1"]))
        members[f"ewok_filtered/{domain}.jsonl"] = [x for it in items for x in (it, _swap(it))]
        members[f"ewok_fast/{domain}.jsonl"] = rng.sample(items, max(1, spec.items_per_paradigm // 2))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for folder in ("ewok_filtered/", "ewok_fast/"):
            _zip_add(zf, folder, b"")
            for name, rows in members.items():
                if name.startswith(folder):
                    _zip_add(zf, name, _jsonl(rows).encode("utf-8"))
    (root / "ewok.zip").write_bytes(buf.getvalue())
    manifest["ewok.zip"] = sum(len(r) for r in members.values())


# ----------------------------------------------------------------------------------------------
# 6. Entity tracking
# ----------------------------------------------------------------------------------------------

_ET_OBJECTS = ["apple", "bag", "ball", "bell", "book", "bottle", "bowl", "brush", "cake", "candle", "card",
               "chair", "clock", "coat", "coin", "cup", "doll", "drum", "egg", "fork", "glove", "hat", "key",
               "kite", "lamp", "leaf", "letter", "map", "mug", "pen", "plate", "ring", "rope", "shell", "shoe",
               "sock", "spoon", "stone", "toy", "watch"]
_ET_ADJS = ["big", "small", "red", "blue", "green", "yellow"]
_N_BOXES = 7


def _et_desc(item: tuple[str, str]) -> str:
    adj, noun = item
    return f"{adj} {noun}" if adj else noun


def _et_render(items: list[tuple[str, str]]) -> str:
    """Box contents as in the real files: 'nothing' or 'the x and the y' (sorted by noun, then adjective)."""
    if not items:
        return "nothing"
    return " and ".join(f"the {_et_desc(it)}" for it in sorted(items, key=lambda it: (it[1], it[0])))


def _et_ref(box: list[tuple[str, str]], item: tuple[str, str]) -> str:
    """How an operation names an item of `box`: bare noun when unique there, else with its adjective."""
    return item[1] if sum(1 for it in box if it[1] == item[1]) == 1 else _et_desc(item)


def _et_example(rng: random.Random, mode: str, target: int) -> tuple[str, list[str]]:
    ambi = mode == "ambiref"
    while True:
        used: set[tuple[str, str]] = set()

        def fresh() -> tuple[str, str] | None:
            for _ in range(50):
                it = (rng.choice(_ET_ADJS) if ambi else "", rng.choice(_ET_OBJECTS))
                if it not in used and (ambi or all(u[1] != it[1] for u in used)):
                    used.add(it)
                    return it
            return None

        boxes: list[list[tuple[str, str]]] = []
        for _ in range(_N_BOXES):
            k = rng.choices([0, 1, 2, 3], [2, 3, 3, 3])[0]
            boxes.append([it for it in (fresh() for _ in range(k)) if it])
        init = ", ".join(f"Box {i} contains {_et_render(b)}" for i, b in enumerate(boxes)) + "."
        q = rng.randrange(_N_BOXES)
        n_total = target + rng.randint(0, 4 if target < 5 else 2)
        touch = set(rng.sample(range(n_total), target))
        ops: list[str] = []
        ok = True
        for j in range(n_total):
            must = j in touch
            allowed = [q] if must else [i for i in range(_N_BOXES) if i != q]
            kinds = ["move", "remove", "put"] + (["contents"] if mode == "move_contents" else [])
            rng.shuffle(kinds)
            done = False
            for kind in kinds:
                if kind in ("move", "contents"):
                    # one of src/dst must be q when `must`, neither when not
                    srcs = [i for i in range(_N_BOXES) if boxes[i] and (must or i != q)]
                    if not srcs:
                        continue
                    src = rng.choice(srcs)
                    if must and src != q:
                        dst = q
                    else:
                        dsts = [i for i in range(_N_BOXES) if i != src and i != q]
                        if not dsts:
                            continue
                        dst = rng.choice(dsts)
                    if kind == "contents":
                        ops.append(f"Move the contents of Box {src} to Box {dst}")
                        boxes[dst] += boxes[src]
                        boxes[src] = []
                    else:
                        moved = rng.sample(boxes[src], rng.randint(1, min(2, len(boxes[src]))))
                        moved.sort(key=lambda it: (it[1], it[0]))
                        refs = [_et_ref(boxes[src], it) for it in moved]
                        ops.append(f"Move {' and '.join('the ' + r for r in refs)} from Box {src} to Box {dst}")
                        for it in moved:
                            boxes[src].remove(it)
                        boxes[dst] += moved
                elif kind == "remove":
                    cands = [i for i in allowed if boxes[i]]
                    if not cands:
                        continue
                    b = rng.choice(cands)
                    gone = rng.sample(boxes[b], rng.randint(1, min(2, len(boxes[b]))))
                    gone.sort(key=lambda it: (it[1], it[0]))
                    refs = [_et_ref(boxes[b], it) for it in gone]
                    ops.append(f"Remove {' and '.join('the ' + r for r in refs)} from Box {b}")
                    for it in gone:
                        boxes[b].remove(it)
                else:
                    b = rng.choice(allowed)
                    new = [it for it in (fresh() for _ in range(rng.randint(1, 2))) if it]
                    if not new:
                        continue
                    ops.append(f"Put {' and '.join('the ' + _et_desc(it) for it in new)} into Box {b}")
                    boxes[b] += new
                done = True
                break
            if not done:
                ok = False
                break
        if not ok:
            continue
        prefix = init + "".join(f" {op}." for op in ops) + f" Box {q} contains "
        answer = _et_render(boxes[q]) + "."
        options = [answer]
        cands = [_et_render(b) + "." for i, b in enumerate(boxes) if i != q]
        rng.shuffle(cands)
        all_items = sorted({it for b in boxes for it in b} | used)
        for _ in range(200):
            if len(options) >= 5:
                break
            r = rng.random()
            if r < 0.35 and cands:
                c = cands.pop()
            elif boxes[q] and r < 0.8:
                alt = list(boxes[q])
                pool = [it for it in all_items if it not in alt]
                if not pool:
                    continue
                alt[rng.randrange(len(alt))] = rng.choice(pool)
                c = _et_render(alt) + "."
            else:
                c = _et_render(rng.sample(all_items, rng.randint(1, 2))) + "."
            if c not in options:
                options.append(c)
        if len(options) == 5:
            return prefix, options


def _write_entity_tracking(root: Path, spec: DemoSpec, manifest: dict) -> None:
    per_numops = max(1, spec.items_per_paradigm // 2)
    for mode in ("regular", "ambiref", "move_contents"):
        rng = _rng(spec, f"entity_tracking/{mode}")
        n = 6 * per_numops
        sample_ids = rng.sample(range(3 * n), n)
        rows = []
        for numops in range(6):
            for _ in range(per_numops):
                prefix, options = _et_example(rng, mode, numops)
                rows.append({"sample_id": sample_ids[len(rows)], "numops": numops, "input_prefix": prefix,
                             "options": options, "example_id": len(rows)})
        _write_jsonl(root, f"entity_tracking/{mode}.jsonl", rows, manifest)
        if mode == "regular":  # the real fast file is byte-identical to the full one
            _write_jsonl(root, "entity_tracking_fast/regular.jsonl", rows, manifest)


# ----------------------------------------------------------------------------------------------
# 7. Wug tests
# ----------------------------------------------------------------------------------------------

_WUG_ADJ = {  # suffix: (-ity form of the suffix, mean human preference for -ity)
    "able": ("ability", 0.6), "ive": ("ivity", 0.45), "ous": ("osity", 0.35), "ish": ("ishity", 0.1),
    "al": ("ality", 0.55), "ic": ("icity", 0.7)}
_PAST_REAL = {"sling", "cling", "fling", "spring", "string", "swing", "bring", "sting", "thing", "sing", "ring",
              "wing", "king", "blink", "drink", "shrink", "stink", "slink", "clink", "brink", "plink", "think",
              "kink", "wink", "creep", "sleep", "sweep", "steep", "sheep", "cheep", "bleep", "keep", "deep",
              "jeep", "peep", "weep", "seep", "beep", "sprink", "trink", "glink"}
_PAST_ONSETS = ["spl", "gl", "kr", "zw", "sn", "bl", "fr", "sk", "tw", "pl", "gr", "shm", "dr", "thw", "spr",
                "kl", "fl", "br", "tr", "gw", "skr", "v", "z"]
_PAST_FRAMES = ["Yesterday she {} the ball.", "Last night the children {} in the garden.",
                "Last week my brother {} all morning.", "This morning the farmer {} the goat.",
                "Yesterday {name} {} again.", "After lunch we {} for an hour."]


def _proportion(rng: random.Random, p: float) -> float:
    n = rng.randint(10, 14)
    k = sum(rng.random() < p for _ in range(n))
    return k / n


def _write_wug(root: Path, spec: DemoSpec, manifest: dict) -> None:
    rng = _rng(spec, "wug/adj")
    seen: set[str] = set()
    rows = []
    for _ in range(2 * spec.items_per_paradigm):
        suffix = rng.choice(sorted(_WUG_ADJ))
        ity, p = _WUG_ADJ[suffix]
        stem = _unique_nonce(rng, seen, rng.choice([1, 2])).rstrip("aeiou")
        adj = stem + suffix
        head = f"Create a noun out of the following adjective: {adj}."
        p = min(1.0, max(0.0, p + rng.uniform(-0.2, 0.2)))
        rows.append({"sentences": f"{head} {stem}{ity}\t{head} {adj}ness", "ratio": _proportion(rng, p)})
    _write_jsonl(root, "wug_adj_nominalization/wug_adj_nominalization.jsonl", rows, manifest)

    rng = _rng(spec, "wug/past")
    pats = {"ing": ("ang", 0.4), "ink": ("ank", 0.5), "eep": ("ept", 0.6)}
    seen_v: set[str] = set()
    rows = []
    while len(rows) < max(10, spec.items_per_paradigm):
        rhyme = rng.choice(sorted(pats))
        verb = rng.choice(_PAST_ONSETS) + rhyme
        if verb in _PAST_REAL or verb in seen_v:
            continue
        seen_v.add(verb)
        irr = verb[: -len(rhyme)] + pats[rhyme][0]
        reg = verb + "ed"
        frame = rng.choice(_PAST_FRAMES).replace("{name}", rng.choice(_NAMES))
        s1, s2 = frame.format(reg), frame.format(irr)
        p = min(1.0, max(0.0, pats[rhyme][1] + rng.uniform(-0.2, 0.2)))
        rows.append({"sentences": f"{s1}\t{s2}", "ratio": _proportion(rng, p)})
    _write_jsonl(root, "wug_past_tense/wug_past_tense.jsonl", rows, manifest)


# ----------------------------------------------------------------------------------------------
# 8. Reading times
# ----------------------------------------------------------------------------------------------

_FUNCTION_FREQ = {"the": 14.2, "a": 13.6, "and": 13.5, "to": 13.6, "of": 13.3, "in": 13.0, "is": 13.1,
                  "was": 12.8, "that": 13.2, "he": 13.0, "she": 12.5, "it": 13.4, "his": 12.3, "her": 12.4,
                  "my": 12.8, "our": 11.3, "this": 12.9, "these": 11.2, "those": 11.0, "some": 11.6,
                  "many": 11.0, "two": 11.4, "three": 10.8, "at": 12.5, "on": 12.8, "near": 10.1,
                  "will": 12.2, "can": 12.4, "did": 12.3, "not": 12.9, "are": 12.6, "were": 12.0,
                  "because": 11.1, "but": 12.6, "when": 12.0, "so": 12.7, "said": 11.9, "an": 11.7}


def _logfreq(word: str) -> float:
    w = word.strip(".,?!").lower()
    if word.strip(".,?!") in _NAMES:
        return math.nan
    if w in _FUNCTION_FREQ:
        return _FUNCTION_FREQ[w]
    jitter = random.Random(f"freq:{w}").uniform(-1.2, 1.2)
    return round(min(12.5, max(2.0, 12.0 - 0.55 * len(w) + jitter)), 6)


def _write_reading(root: Path, spec: DemoSpec, manifest: dict) -> None:
    rng = _rng(spec, "reading")
    def sentence(r: random.Random) -> str:
        while True:
            s = _cap(_clause(r)) + "."
            if 4 <= len(s.split()) <= 14:
                return s
    sentences = _distinct(rng, sentence, 40)
    rows = []
    for sent_id, sentence in enumerate(sentences, start=1):
        words = sentence.split()
        for i in range(1, len(words)):
            word = words[i]
            item = " ".join(words[:i])
            freq = _logfreq(word)
            f = 7.0 if math.isnan(freq) else freq
            length = len(word)
            last = i == len(words) - 1
            firstfix = max(60.0, 150 + 8 * length - 6 * f + rng.gauss(0, 20))
            firstpass = firstfix + abs(rng.gauss(0, 15)) + (20.0 if length > 6 else 0.0)
            rightbound = firstpass + abs(rng.gauss(0, 10))
            gopast = rightbound + rng.expovariate(1 / 40) + (60.0 if last else 0.0)
            spr = 240 + 3 * length - 2.5 * f + rng.gauss(0, 12) + (30.0 if last else 0.0)
            erps = [rng.gauss(0, 1) for _ in range(6)]
            prev_word = words[i - 1] if i > 1 else ""
            prev_item = " ".join(words[: i - 1]) if i > 1 else ""
            rows.append([item, word, word.strip(".,?!").upper(), sentence, i, sent_id, len(rows) + 1,
                         rng.randint(1, 8), "" if math.isnan(freq) else freq, length, firstfix, firstpass,
                         gopast, rightbound, spr, *erps, prev_word, prev_item, len(prev_word) if i > 1 else -1])
    rng.shuffle(rows)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(READING_COLUMNS)
    for idx, r in enumerate(rows):
        w.writerow([idx] + [repr(x) if isinstance(x, float) else x for x in r])
    path = root / "reading" / "reading_data.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue().encode("utf-8"))
    manifest["reading/reading_data.csv"] = len(rows)


# ----------------------------------------------------------------------------------------------
# 9. GLUE
# ----------------------------------------------------------------------------------------------

_SYNONYMS = [("big", "large"), ("small", "little"), ("happy", "glad"), ("quickly", "fast"),
             ("bought", "purchased"), ("began", "started"), ("fixed", "repaired"), ("helped", "assisted"),
             ("looked at", "watched"), ("gift", "present"), ("shop", "store"), ("angry", "upset")]


class _Event(NamedTuple):
    subj_adj: str
    subj: str        # singular person noun or name
    verb: _V
    obj_adj: str
    obj: str         # singular thing noun
    place: str


def _event(rng: random.Random) -> _Event:
    person = rng.choice(_PEOPLE)[0] if rng.random() < 0.6 else ""
    subj = f"the {person}" if person else rng.choice(_NAMES)
    adj = rng.choice(_ADJ_PERSON) if person and rng.random() < 0.6 else ""
    v = rng.choice([v for v in _TV_THING if v.base not in ("want", "like", "keep")])
    return _Event(adj, subj, v, rng.choice(_ADJ_THING) if rng.random() < 0.7 else "", rng.choice(_THINGS)[0],
                  rng.choice(_PLACES))


def _ev_subj(e: _Event, adj: bool = True) -> str:
    if e.subj.startswith("the ") and adj and e.subj_adj:
        return f"the {e.subj_adj} {e.subj[4:]}"
    return e.subj


def _ev_obj(e: _Event, adj: bool = True, det: str = "the") -> str:
    words = [e.obj_adj, e.obj] if adj and e.obj_adj else [e.obj]
    if det == "a":
        det = _a(words[0])
    return f"{det} {' '.join(words)}"


def _glue_mnli(rng: random.Random, idx: int) -> dict:
    e = _event(rng)
    premise = _cap(f"{_ev_subj(e)} {e.verb.past} {_ev_obj(e)} {_pp(e.place)}.")
    label = rng.randrange(3)
    if label == 0:
        hyp = rng.choice([f"{_ev_subj(e, False)} {e.verb.past} {_ev_obj(e, False)}.",
                          f"Someone {e.verb.past} {_ev_obj(e)}.",
                          f"{_ev_subj(e, False)} was {_pp(e.place)}."])
    elif label == 1:
        hyp = rng.choice([f"{_ev_subj(e, False)} {e.verb.past} {_ev_obj(e, False)} {rng.choice(_TIMES)}.",
                          f"{_ev_subj(e, False)} {e.verb.past} {_ev_obj(e, False)} for "
                          f"{rng.choice(['a friend', 'her mother', 'his brother', 'a neighbor'])}.",
                          f"{_ev_subj(e, False)} {e.verb.past} {_ev_obj(e, False)} because it was raining."])
    else:
        hyp = rng.choice([f"{_ev_subj(e, False)} did not {e.verb.base} {_ev_obj(e, False)}.",
                          f"Nobody {e.verb.past} {_ev_obj(e)}.",
                          f"{_ev_subj(e, False)} never {e.verb.past} anything {_pp(e.place)}."])
    return {"premise": premise, "hypothesis": _cap(hyp), "label": label, "idx": idx}


def _tok(s: str) -> str:
    """MRPC-style spacing: punctuation split off by spaces."""
    for p in ",.?!":
        s = s.replace(p, f" {p}")
    return s


def _mrpc_frame(rng: random.Random, word: str) -> Callable[[str, str, str], str]:
    """A sentence frame for a synonym slot: (word, name, noun) -> sentence."""
    place, time, person = rng.choice(_PLACES), rng.choice(_TIMES), rng.choice(_PEOPLE)[0]
    if word in ("big", "small"):
        return lambda w, n, x: f"{n} said that the {w} {x} was {_pp(place)}."
    if word in ("happy", "angry"):
        return lambda w, n, x: f"{n} said that the {w} {person} was {_pp(place)}."
    if word == "quickly":
        return lambda w, n, x: f"{n} walked {w} to {place} with the {x}."
    if word == "began":
        return lambda w, n, x: f"{n} {w} to paint the {x} {time}."
    if word == "helped":
        return lambda w, n, x: f"{n} {w} the {person} with the {x} {time}."
    if word == "gift":
        return lambda w, n, x: f"{n} put the {w} next to the {x} {time}."
    if word == "shop":
        return lambda w, n, x: f"{n} bought {_a(x)} {x} at the {w} {time}."
    return lambda w, n, x: f"{n} {w} the {x} {_pp(place)} {time}."


def _glue_mrpc(rng: random.Random, idx: int) -> dict:
    """label 1: the same sentence with a synonym swapped in; 0: another person/thing, or another sentence."""
    a, b = rng.choice(_SYNONYMS)
    frame = _mrpc_frame(rng, a)
    name, thing = rng.choice(_NAMES), rng.choice(_THINGS)[0]
    s1 = frame(a, name, thing)
    label = int(rng.random() < 0.6)
    if label:
        s2 = frame(b, name, thing)
        if rng.random() < 0.3:
            s2 = s2[:-1] + ", " + rng.choice(["officials said", "the report said", "she added"]) + "."
    elif rng.random() < 0.5:
        s2 = _cap(_clause(rng, "past")) + "."
    else:
        s2 = frame(b, rng.choice([n for n in _NAMES if n != name]), rng.choice([t for t, _ in _THINGS if t != thing]))
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
    name = rng.choice(_NAMES)
    town = rng.choice(towns)
    premise = _cap(f"{name}, who lives in {town}, {e.verb.past} {_ev_obj(e, det='a')} {_pp(e.place)} "
                   f"{rng.choice(_TIMES)}.")
    label = rng.randrange(2)  # 0 = entailment, 1 = not_entailment (GLUE RTE)
    if label == 0:
        hyp = rng.choice([f"{name} lives in {town}.", f"{name} {e.verb.past} {_ev_obj(e, det='a')}.",
                          f"{name} {e.verb.past} {_ev_obj(e, det='a')} {_pp(e.place)}."])
    else:
        other_town = rng.choice([t for t in towns if t != town])
        other_name = rng.choice([n for n in _NAMES if n != name])
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
    a = rng.choice(_NAMES_F if fa else _NAMES_M)
    b = rng.choice(_NAMES_M if fa else _NAMES_F)
    ref_female = fa if ref == 0 else not fa
    p = "she" if ref_female else "he"
    text = tpl.format(A=a, B=b, p=p, t=rng.choice(_THINGS)[0])
    toks = text.split()
    cand = rng.randrange(2)
    cand_name = (a, b)[cand]
    return {"text": text, "span1_index": toks.index(cand_name), "span2_index": toks.index(p),
            "span1_text": cand_name, "span2_text": p, "idx": idx, "label": int(cand == ref)}


def _glue_boolq(rng: random.Random, idx: int, art: _Article) -> dict:
    f = rng.choice(art.facts)
    label = int(rng.random() < 0.6)
    value = f.value if label else rng.choice(f.wrong)
    return {"question": f.yes_no(value).lower(), "passage": f"{art.title} -- {' '.join(art.sentences)}",
            "idx": idx, "label": label}


def _write_glue(root: Path, spec: DemoSpec, manifest: dict) -> None:
    for split, n in (("train", spec.glue_train), ("valid", spec.glue_valid)):
        rng = _rng(spec, f"glue/{split}")
        seen: set[str] = set()
        countries = _countries(rng)
        towns = [_cap(_unique_nonce(rng, seen)) for _ in range(8)]
        base = 0 if split == "train" else 100_000
        tasks: dict[str, list[dict]] = {}
        tasks["boolq"] = [_glue_boolq(rng, base + i, _article(rng, seen, countries)) for i in range(n)]
        tasks["mnli"] = [_glue_mnli(rng, base + i) for i in range(n)]
        tasks["mrpc"] = [_glue_mrpc(rng, base + i) for i in range(n)]
        multirc: list[dict] = []
        p_i = q_i = a_i = 0
        while len(multirc) < n:
            art = _article(rng, seen, countries)
            paragraph = "  ".join(art.sentences)
            for f in art.facts:
                answers = [(f.answer, 1)] + [(w, 0) for w in f.wrong[: rng.randint(1, 3)]]
                rng.shuffle(answers)
                for ans, lab in answers:
                    if lab == 0 and f.answer[:1].isupper():
                        ans = _cap(ans)
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
            _write_jsonl(root, f"glue_filtered/{task}.{split}.jsonl", tasks[task], manifest)


# ----------------------------------------------------------------------------------------------
# 10. COMPS
# ----------------------------------------------------------------------------------------------

_COMPS = {  # property phrase: concepts that have it
    "can fly.": ["robin", "sparrow", "eagle", "owl", "crow", "bee", "duck"],
    "can swim.": ["fish", "duck", "frog", "salmon", "otter", "whale"],
    "has fur.": ["cat", "dog", "rabbit", "bear", "fox", "mouse", "otter"],
    "has wheels.": ["car", "bus", "bike", "truck", "wagon", "train"],
    "lays eggs.": ["chicken", "duck", "robin", "snake", "turtle", "frog", "owl"],
    "can be eaten.": ["apple", "bread", "carrot", "cake", "egg", "banana", "fish"],
    "grows in the ground.": ["carrot", "potato", "tree", "grass", "flower", "onion"],
    "is used for cutting.": ["knife", "saw", "axe"],
    "has leaves.": ["tree", "flower", "grass", "onion"],
    "is made of wood.": ["chair", "table", "door", "spoon", "wagon"],
}
_COMPS_ALL = sorted({c for cs in _COMPS.values() for c in cs} | {"rock", "shoe", "cup", "lamp", "sock", "coin"})


def _write_comps(root: Path, spec: DemoSpec, manifest: dict) -> None:
    rng = _rng(spec, "comps")

    def make(r: random.Random) -> dict:
        prop = r.choice(sorted(_COMPS))
        good = r.choice(_COMPS[prop])
        bad = r.choice([c for c in _COMPS_ALL if c not in _COMPS[prop]])
        return {"acceptable_concept": good, "unacceptable_concept": bad,
                "prefix_acceptable": f"{_cap(_a(good))} {good}", "prefix_unacceptable": f"{_cap(_a(bad))} {bad}",
                "property_phrase": prop}
    rows = _distinct(rng, make, 2 * spec.items_per_paradigm,
                     key=lambda d: (d["acceptable_concept"], d["unacceptable_concept"], d["property_phrase"]))
    _write_jsonl(root, "comps/comps_base.jsonl", rows, manifest)


# ----------------------------------------------------------------------------------------------
# 11. CLASS_IT-shaped instruction data
# ----------------------------------------------------------------------------------------------

def _write_class_it(root: Path, spec: DemoSpec, manifest: dict) -> None:
    n = max(24, spec.items_per_paradigm)
    rng = _rng(spec, "class_it/switchboard")
    rows: list[dict] = []
    while len(rows) < n:
        turns: list[tuple[str, str]] = []
        for spk, utt, _ in _dialogue(rng, 16, 30):
            if turns and turns[-1][0] == spk:
                turns[-1] = (spk, f"{turns[-1][1]} {utt}")
            else:
                turns.append((spk, utt))
        for (_, p), (_, r) in zip(turns, turns[1:]):
            if len(r.split()) >= 3 and len(rows) < n:
                rows.append({"prompt": p, "reply": r})
    _write_jsonl(root, "class_it/switchboard.jsonl", rows, manifest)

    rng = _rng(spec, "class_it/simple_wiki")
    seen: set[str] = set()
    countries = _countries(rng)
    rows = []
    while len(rows) < n:
        art = _article(rng, seen, countries)
        for f in art.facts[:3]:
            if len(rows) < n:
                rows.append({"prompt": f.question, "reply": f.sentence})
    _write_jsonl(root, "class_it/simple_wiki.jsonl", rows, manifest)


# ----------------------------------------------------------------------------------------------
# Entry points
# ----------------------------------------------------------------------------------------------

_WRITERS = (_write_babylm, _write_swda, _write_blimp, _write_supplement, _write_ewok, _write_entity_tracking,
            _write_wug, _write_reading, _write_glue, _write_comps, _write_class_it)


def write_demo_data(root: str | Path, spec: DemoSpec = DemoSpec()) -> dict:
    """Write the demo data under `root`; return {relative posix path: number of items or lines}."""
    if spec.words_per_source < 1 or spec.swda_dialogues < 3 or spec.items_per_paradigm < 2 \
            or spec.glue_train < 1 or spec.glue_valid < 1:
        raise ValueError(f"DemoSpec sizes must be positive, swda_dialogues >= 3 (train/val/test) and "
                         f"items_per_paradigm >= 2: {spec}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, int] = {}
    for writer in _WRITERS:
        writer(root, spec, manifest)
    return dict(sorted(manifest.items()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m classit_utils.demo",
                                 description="Write deterministic demo data in the real file formats.")
    ap.add_argument("out_dir", help="folder to write into (created if missing)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--words-per-source", type=int, default=DemoSpec.words_per_source)
    args = ap.parse_args(argv)
    manifest = write_demo_data(args.out_dir, DemoSpec(seed=args.seed, words_per_source=args.words_per_source))
    print(f"wrote {len(manifest)} files ({sum(manifest.values())} items/lines) to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
