"""The built-in vocabulary and a tiny agreement-aware English grammar that every format module draws on.

None of the demo text comes from the real data: all of it is built from these small word lists (names,
nouns, verbs, adjectives, places), so one RNG state always gives the same sentence. Nonce words (wiki
titles, wug stems, towns) are built from syllables.
"""
from __future__ import annotations

import random
from typing import NamedTuple


NAMES_F = "Anna Mia Lily Emma Rosa Nora Lucy Ella Sara Kate Ruth Jane Amy Ivy Zoe Hana".split()
NAMES_M = "Tom Sam Ben Max Leo Jack Paul Adam Noah Luke Owen Dan Eli Finn Hugo Ravi".split()
NAMES = NAMES_F + NAMES_M
SURNAMES = "Brook Carter Fields Hill Lane Marsh Norton Parker Reed Stone Vale Wells Ashby Dorran Penrow".split()


def _pairs(s: str) -> list[tuple[str, str]]:
    return [tuple(x.split()) for x in s.split(",")]  # type: ignore[misc]


ANIMALS = _pairs("dog dogs,cat cats,bird birds,horse horses,rabbit rabbits,mouse mice,duck ducks,fox foxes,"
                 "frog frogs,bear bears,goat goats,puppy puppies,kitten kittens,cow cows,pig pigs")
PEOPLE = _pairs("farmer farmers,teacher teachers,child children,girl girls,boy boys,man men,woman women,"
                "baker bakers,doctor doctors,sailor sailors,king kings,queen queens,friend friends,"
                "neighbor neighbors,student students,driver drivers")
THINGS = _pairs("ball balls,cup cups,book books,box boxes,apple apples,chair chairs,table tables,hat hats,"
                "shoe shoes,car cars,flower flowers,door doors,window windows,cake cakes,key keys,coin coins,"
                "basket baskets,letter letters,picture pictures,blanket blankets,bottle bottles,spoon spoons,"
                "boat boats,kite kites,drum drums,lamp lamps,bag bags,toy toys,cookie cookies,egg eggs")
FEMALE_NOUNS = {"girl", "woman", "queen"}
MALE_NOUNS = {"boy", "man", "king"}


class Verb(NamedTuple):
    base: str
    s: str
    past: str
    pp: str
    ing: str


def verbs(s: str) -> list[Verb]:
    return [Verb(*x.split("/")) for x in s.split()]


TV_THING = verbs(
    "see/sees/saw/seen/seeing like/likes/liked/liked/liking want/wants/wanted/wanted/wanting "
    "find/finds/found/found/finding carry/carries/carried/carried/carrying push/pushes/pushed/pushed/pushing "
    "hold/holds/held/held/holding wash/washes/washed/washed/washing paint/paints/painted/painted/painting "
    "draw/draws/drew/drawn/drawing take/takes/took/taken/taking drop/drops/dropped/dropped/dropping "
    "bring/brings/brought/brought/bringing buy/buys/bought/bought/buying hide/hides/hid/hidden/hiding "
    "keep/keeps/kept/kept/keeping choose/chooses/chose/chosen/choosing throw/throws/threw/thrown/throwing "
    "clean/cleans/cleaned/cleaned/cleaning move/moves/moved/moved/moving")
TV_ANIM = verbs(
    "see/sees/saw/seen/seeing like/likes/liked/liked/liking find/finds/found/found/finding "
    "follow/follows/followed/followed/following help/helps/helped/helped/helping call/calls/called/called/calling "
    "watch/watches/watched/watched/watching visit/visits/visited/visited/visiting hear/hears/heard/heard/hearing "
    "meet/meets/met/met/meeting chase/chases/chased/chased/chasing feed/feeds/fed/fed/feeding "
    "hug/hugs/hugged/hugged/hugging thank/thanks/thanked/thanked/thanking")
_ANIMAL_TV = {"see", "like", "find", "follow", "chase", "watch", "hear", "want", "carry", "hold", "take",
              "drop", "hide", "push"}
IV = verbs(
    "sleep/sleeps/slept/slept/sleeping run/runs/ran/run/running jump/jumps/jumped/jumped/jumping "
    "walk/walks/walked/walked/walking swim/swims/swam/swum/swimming play/plays/played/played/playing "
    "sit/sits/sat/sat/sitting wait/waits/waited/waited/waiting rest/rests/rested/rested/resting")
IV_PEOPLE = verbs(
    "laugh/laughs/laughed/laughed/laughing sing/sings/sang/sung/singing dance/dances/danced/danced/dancing "
    "smile/smiles/smiled/smiled/smiling cry/cries/cried/cried/crying read/reads/read/read/reading "
    "cook/cooks/cooked/cooked/cooking")
ADJ_THING = "big small old new red blue green yellow brown soft heavy clean".split()
ADJ_PERSON = "big small little old young happy tall hungry sleepy brave quiet kind".split()
ADJ_ANIMAL = "big small little old young happy hungry sleepy brown white".split()
PLACES = ["the park", "the kitchen", "the garden", "the school", "the shop", "the river", "the house",
          "the forest", "the farm", "the beach", "the town", "the yard", "the barn", "the library"]
_PREP = {"the river": "near", "the beach": "at", "the school": "at", "the shop": "at", "the farm": "on"}
TIMES = ["yesterday", "today", "every day", "in the morning", "after lunch", "last night", "on Sunday",
         "in the evening", "after school", "last week"]
PAST_TIMES = ["yesterday", "last night", "on Sunday", "last week", "after school"]
_DET_SG = ["the", "the", "the", "a", "this", "that", "my", "our", "his", "her"]
_DET_PL = ["the", "the", "some", "these", "those", "two", "three", "many", "my", "our"]


def locative(place: str) -> str:
    return f"{_PREP.get(place, 'in')} {place}"


def a_or_an(word: str) -> str:
    return "an" if word[0].lower() in "aeiou" else "a"


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def plural(word: str) -> str:
    if word.endswith(("s", "sh", "ch", "x", "z")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def noun_phrase(rng: random.Random, pool, number: str, adjs=None, adj_p: float = 0.3, dets=None) -> str:
    sg, pl = rng.choice(pool)
    noun = sg if number == "sg" else pl
    adj = rng.choice(adjs) if adjs and rng.random() < adj_p else None
    det = rng.choice(dets or (_DET_SG if number == "sg" else _DET_PL))
    if det == "a":
        det = a_or_an(adj or noun)
    return " ".join([det] + ([adj] if adj else []) + [noun])


def _subject(rng: random.Random, people_only: bool = False) -> tuple[str, str, str]:
    """(text, number, kind): number in sg/pl, kind in person/animal."""
    r = rng.random()
    if r < 0.3:
        return rng.choice(NAMES), "sg", "person"
    kind = "person" if people_only or r < 0.65 else "animal"
    number = "sg" if rng.random() < 0.6 else "pl"
    pool, adjs = (PEOPLE, ADJ_PERSON) if kind == "person" else (ANIMALS, ADJ_ANIMAL)
    return noun_phrase(rng, pool, number, adjs), number, kind


_BE = {("present", "sg"): "is", ("present", "pl"): "are", ("present", "1sg"): "am",
       ("past", "sg"): "was", ("past", "pl"): "were", ("past", "1sg"): "was"}


def _verb_group(rng: random.Random, v: Verb, number: str, tense: str) -> str:
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


def predicate(rng: random.Random, number: str, kind: str, tense: str) -> str:
    r = rng.random()
    if r < 0.12:  # copula
        t = "past" if tense in ("past", "neg_past") else "present"
        be = _BE[t, number]
        adjs = ADJ_PERSON if kind == "person" else ADJ_ANIMAL
        rest = rng.choice(adjs) if rng.random() < 0.5 else locative(rng.choice(PLACES))
        return f"{be} {rest}"
    if r < 0.35:  # intransitive
        pool = IV + (IV_PEOPLE if kind == "person" else [])
        vp = _verb_group(rng, rng.choice(pool), number, tense)
        return vp + (f" {locative(rng.choice(PLACES))}" if rng.random() < 0.6 else "")
    if r < 0.7:
        pool = TV_THING if kind == "person" else [v for v in TV_THING if v.base in _ANIMAL_TV]
        obj = noun_phrase(rng, THINGS, "sg" if rng.random() < 0.6 else "pl", ADJ_THING, 0.4)
    else:
        pool = TV_ANIM if kind == "person" else [v for v in TV_ANIM if v.base in _ANIMAL_TV]
        if rng.random() < 0.25:
            obj = rng.choice(NAMES)
        else:
            opool, oadj = (PEOPLE, ADJ_PERSON) if rng.random() < 0.5 else (ANIMALS, ADJ_ANIMAL)
            obj = noun_phrase(rng, opool, "sg" if rng.random() < 0.6 else "pl", oadj)
    vp = f"{_verb_group(rng, rng.choice(pool), number, tense)} {obj}"
    if rng.random() < 0.3:
        vp += f" {locative(rng.choice(PLACES))}"
    if rng.random() < 0.15:
        vp += f" {rng.choice(TIMES)}"
    return vp


def clause(rng: random.Random, tense: str | None = None, people_only: bool = False) -> str:
    subj, number, kind = _subject(rng, people_only)
    return f"{subj} {predicate(rng, number, kind, tense or rng.choice(_TENSES))}"


def question(rng: random.Random) -> str:
    subj, number, kind = _subject(rng)
    r = rng.random()
    if r < 0.4:
        v = rng.choice(TV_THING if kind == "person" else [v for v in TV_THING if v.base in _ANIMAL_TV])
        aux = rng.choice(["does" if number == "sg" else "do", "did", "will", "can"])
        return f"{aux} {subj} {v.base} {noun_phrase(rng, THINGS, 'sg', ADJ_THING)}?"
    if r < 0.7:
        return f"where {_BE['present', number]} {subj}?"
    v = rng.choice(TV_THING)
    return f"what did {subj} {v.base}?"


def sentence(rng: random.Random, allow_question: bool = True) -> str:
    r = rng.random()
    if allow_question and r < 0.08:
        return cap(question(rng))
    if r < 0.25:
        conj = rng.choice(["and", "because", "but", "when", "so"])
        s = f"{clause(rng)} {conj} {clause(rng)}"
    elif r < 0.33:
        s = f"{rng.choice(NAMES)} said that {clause(rng)}"
    else:
        s = clause(rng)
    return cap(s) + "."


# --- first/second person conversation -----------------------------------------------------------

_PRONS = [("I", "1sg"), ("you", "pl"), ("we", "pl"), ("they", "pl"), ("he", "sg"), ("she", "sg")]


def pron_clause(rng: random.Random, tense: str | None = None) -> str:
    pron, number = rng.choice(_PRONS)
    return f"{pron} {predicate(rng, number, 'person', tense or rng.choice(_TENSES))}"


# --- nonce words -------------------------------------------------------------------------------

_ONSETS = ["bl", "br", "d", "f", "g", "gl", "k", "l", "m", "n", "p", "pl", "r", "s", "sn", "t", "tr", "v",
           "w", "z", "zh", "kr", "fl"]
_VOWELS = ["a", "e", "i", "o", "u", "ee", "oo", "ai", "o", "a"]
_CODAS = ["", "", "n", "r", "k", "l", "m", "t", "ck", "sh", "nd"]


def nonce(rng: random.Random, syllables: int = 2) -> str:
    w = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables))
    return w + rng.choice(["", "", "et", "o", "an", "el"])


def unique_nonce(rng: random.Random, seen: set[str], syllables: int = 2) -> str:
    while True:
        w = nonce(rng, syllables)
        if w not in seen and 4 <= len(w) <= 12:
            seen.add(w)
            return w
