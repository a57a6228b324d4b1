"""BLiMP and the BabyLM BLiMP supplement: minimal pairs in `blimp_{filtered,fast}/<UID>.jsonl` and
`supplement_{filtered,fast}/<name>.jsonl`, with the fields of each real file. A filtered file holds
`2 * items_per_paradigm` distinct pairs; its fast file is a sample of them.
"""
from __future__ import annotations

import random
from pathlib import Path

from .common import DemoSpec, distinct, rng_for, write_jsonl
from .grammar import (ADJ_ANIMAL, ADJ_PERSON, ADJ_THING, ANIMALS, FEMALE_NOUNS, IV, IV_PEOPLE, MALE_NOUNS, NAMES,
                      NAMES_F, NAMES_M, PEOPLE, PLACES, THINGS, TV_ANIM, TV_THING, a_or_an, cap, locative,
                      noun_phrase, verbs)


BLIMP_UIDS = ("determiner_noun_agreement_1", "regular_plural_subject_verb_agreement_1",
              "anaphor_number_agreement", "adjunct_island", "irregular_past_participle_adjectives",
              "existential_there_quantifiers_1")
SUPPLEMENT_FILES = ("hypernym", "qa_congruence_easy", "qa_congruence_tricky", "subject_aux_inversion",
                    "turn_taking")


_BLIMP_META = {  # UID: (field, linguistics_term, simple, one_prefix, two_prefix, lexically_identical)
    "determiner_noun_agreement_1": ("morphology", "determiner_noun_agreement", True, True, False, True),
    "regular_plural_subject_verb_agreement_1": ("morphology", "subject_verb_agreement", True, True, False, False),
    "anaphor_number_agreement": ("morphology", "anaphor_agreement", True, True, False, True),
    "adjunct_island": ("syntax", "island_effects", True, False, False, True),
    "irregular_past_participle_adjectives": ("morphology", "irregular_forms", True, False, True, False),
    "existential_there_quantifiers_1": ("semantics", "quantifiers", True, False, False, False),
}
_REGULAR_PL = [(s, p) for s, p in ANIMALS + PEOPLE + THINGS if p in (s + "s", s + "es")]


def _blimp_det_noun(rng: random.Random) -> tuple[str, str]:
    sg, pl = rng.choice(THINGS)
    v = rng.choice(TV_THING)
    verb = rng.choice([v.s, v.past, f"didn't {v.base}", f"will {v.base}"])
    subj = rng.choice(NAMES) if rng.random() < 0.6 else noun_phrase(rng, PEOPLE, "sg", dets=["the"])
    adj = (rng.choice(ADJ_THING) + " ") if rng.random() < 0.2 else ""
    if rng.random() < 0.5:
        det = rng.choice(["this", "that"])
        good, bad = sg, pl
    else:
        det = rng.choice(["these", "those"])
        good, bad = pl, sg
    s = f"{cap(subj)} {verb} {det} {adj}"
    return s + good + ".", s + bad + "."


def _blimp_sv_agr(rng: random.Random) -> tuple[str, str]:
    sg, pl = rng.choice([p for p in _REGULAR_PL if p in ANIMALS + PEOPLE])
    kind = "person" if (sg, pl) in PEOPLE else "animal"
    pool = (IV + (IV_PEOPLE if kind == "person" else []))
    v = rng.choice(pool)
    tail = locative(rng.choice(PLACES)) if rng.random() < 0.5 else rng.choice(["often", "a lot", "every day"])
    det = rng.choice(["the", "the", "these", "some", "many"]) if rng.random() < 0.5 else "the"
    if rng.random() < 0.5:
        head = f"{cap(det)} {pl}"
        good, bad = v.base, v.s
    else:
        head = f"{cap(rng.choice(['the', 'this', 'that']))} {sg}"
        good, bad = v.s, v.base
    return f"{head} {good} {tail}.", f"{head} {bad} {tail}."


def _blimp_anaphor(rng: random.Random) -> tuple[str, str]:
    v = rng.choice(verbs("see/sees/saw/seen/seeing hurt/hurts/hurt/hurt/hurting help/helps/helped/helped/helping "
                         "wash/washes/washed/washed/washing hide/hides/hid/hidden/hiding "
                         "find/finds/found/found/finding like/likes/liked/liked/liking "
                         "hear/hears/heard/heard/hearing"))
    verb = rng.choice([v.past, f"didn't {v.base}", f"will {v.base}", f"can't {v.base}"])
    r = rng.random()
    if r < 0.5:
        if rng.random() < 0.5:
            subj, refl = rng.choice(NAMES_F), "herself"
        else:
            subj, refl = rng.choice(NAMES_M), "himself"
        return f"{subj} {verb} {refl}.", f"{subj} {verb} themselves."
    sg, pl = rng.choice(PEOPLE)
    subj = f"{cap(rng.choice(['the', 'these', 'those', 'some']))} {pl}"
    bad = "herself" if sg in FEMALE_NOUNS else "himself" if sg in MALE_NOUNS else rng.choice(["herself", "himself"])
    return f"{subj} {verb} themselves.", f"{subj} {verb} {bad}."


def _blimp_adjunct_island(rng: random.Random) -> tuple[str, str]:
    pv = rng.choice(["talk to", "wait for", "look at", "run from", "sing to", "write to", "hide from", "argue with"])
    ving = rng.choice(["seeing", "calling", "helping", "visiting", "meeting", "watching", "hugging", "thanking"])
    aux = rng.choice(["did", "will", "can", "should"])
    conj = rng.choice(["after", "before", "while", "without"])
    a, b = rng.sample(NAMES, 2)
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
    tail = rng.choice([f"is {locative(rng.choice(PLACES))}", "was on the table", "is not here", "looks old",
                       f"belongs to {rng.choice(NAMES)}", "was very small", "is still there"])
    return f"{det} {pp} {noun} {tail}.", f"{det} {past} {noun} {tail}."


def _blimp_there(rng: random.Random) -> tuple[str, str]:
    sg, pl = rng.choice(ANIMALS + PEOPLE + THINGS)
    be = rng.choice(["are", "were", "aren't", "weren't"])
    good = rng.choice(["many", "some", "few", "no", "several", "two", "three"])
    bad = rng.choice(["all", "most", "all the", "most of the"])
    tail = locative(rng.choice(PLACES))
    return f"There {be} {good} {pl} {tail}.", f"There {be} {bad} {pl} {tail}."


_BLIMP_MAKERS = {
    "determiner_noun_agreement_1": _blimp_det_noun,
    "regular_plural_subject_verb_agreement_1": _blimp_sv_agr,
    "anaphor_number_agreement": _blimp_anaphor,
    "adjunct_island": _blimp_adjunct_island,
    "irregular_past_participle_adjectives": _blimp_participle,
    "existential_there_quantifiers_1": _blimp_there,
}


def write_blimp(root: Path, spec: DemoSpec, manifest: dict) -> None:
    for uid in BLIMP_UIDS:
        rng = rng_for(spec, f"blimp/{uid}")
        field, term, simple, one, two, lex = _BLIMP_META[uid]
        pairs = distinct(rng, _BLIMP_MAKERS[uid], 2 * spec.items_per_paradigm)
        rows = [{"sentence_good": g, "sentence_bad": b, "field": field, "linguistics_term": term, "UID": uid,
                 "simple_LM_method": simple, "one_prefix_method": one, "two_prefix_method": two,
                 "lexically_identical": lex, "pair_id": i} for i, (g, b) in enumerate(pairs)]
        write_jsonl(root, f"blimp_filtered/{uid}.jsonl", rows, manifest)
        write_jsonl(root, f"blimp_fast/{uid}.jsonl", rng.sample(rows, spec.items_per_paradigm), manifest)


# --- BLiMP supplement ---------------------------------------------------------------------------

_HYPERNYMS = [("robin", "bird"), ("sparrow", "bird"), ("rose", "flower"), ("tulip", "flower"),
              ("daisy", "flower"), ("hammer", "tool"), ("wrench", "tool"), ("apple", "fruit"),
              ("pear", "fruit"), ("oak", "tree"), ("pine", "tree"), ("carrot", "vegetable"),
              ("onion", "vegetable"), ("truck", "vehicle"), ("bus", "vehicle"), ("guitar", "instrument"),
              ("violin", "instrument"), ("beetle", "insect"), ("poodle", "dog"), ("salmon", "fish")]
_HYP_VERBS = verbs("see/sees/saw/seen/seeing find/finds/found/found/finding draw/draws/drew/drawn/drawing "
                   "notice/notices/noticed/noticed/noticing "
                   "photograph/photographs/photographed/photographed/photographing")


def _supp_hypernym(rng: random.Random) -> dict:
    row = rng.randrange(len(_HYPERNYMS))
    hypo, hyper = _HYPERNYMS[row]
    v = rng.choice(_HYP_VERBS)
    subj = rng.choice(["he", "she", "they", rng.choice(NAMES), f"the {rng.choice(PEOPLE)[0]}"])
    ahypo, ahyper = f"{a_or_an(hypo)} {hypo}", f"{a_or_an(hyper)} {hyper}"
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
        good = f"If {subj} {v.past} {ahypo}, {link} {subj} didn't {v.base} {a_or_an(other)} {other}."
        bad = f"If {subj} {v.past} {ahypo}, {link} {subj} didn't {v.base} {ahyper}."
    return {"row": row, "contrast": contrast, "sentence_good": cap(good), "sentence_bad": cap(bad)}


def _speakers(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.5:
        return "A", "B"
    a, b = rng.sample(NAMES, 2)
    return a, b


def _supp_qa_easy(rng: random.Random) -> dict:
    a, b = _speakers(rng)
    row = rng.randrange(10)
    fragment = rng.random() < 0.5
    kind = rng.randrange(3)
    thing, person = rng.choice(THINGS)[0], rng.choice(PEOPLE)[0]
    if kind == 0:
        contrast = "animate vs. inanimate"
        v = rng.choice(TV_ANIM)
        q = f"Who did you {v.base} {locative(rng.choice(PLACES))}?"
        if fragment:
            ga, ba = f"{cap(a_or_an(person))} {person}.", f"{cap(a_or_an(thing))} {thing}."
        else:
            ga, ba = f"I {v.past} {a_or_an(person)} {person}.", f"I {v.past} {a_or_an(thing)} {thing}."
    elif kind == 1:
        contrast = "inanimate vs. animate"
        v = rng.choice([x for x in TV_THING if x.base in ("find", "buy", "carry", "wash", "paint", "drop", "keep")])
        q = f"What did you {v.base}?"
        if fragment:
            ga, ba = f"{cap(a_or_an(thing))} {thing}.", f"{cap(a_or_an(person))} {person}."
        else:
            ga, ba = f"I {v.past} {a_or_an(thing)} {thing}.", f"I {v.past} {a_or_an(person)} {person}."
    else:
        contrast = "loc vs. NP"
        place = rng.choice(PLACES)
        q = f"Where did you put the {thing}?"
        if fragment:
            ga, ba = cap(locative(place)) + ".", f"The {person}."
        else:
            ga, ba = f"I put it {locative(place)}.", f"I put it the {person}."
    return {"row": row, "fragment": "fragment" if fragment else "sentence", "contrast": contrast,
            "sentence_good": f"{a}: {q}\n{b}: {ga}", "sentence_bad": f"{a}: {q}\n{b}: {ba}"}


def _supp_qa_tricky(rng: random.Random) -> dict:
    a, b = _speakers(rng)
    row = rng.randrange(20)
    fragment = rng.random() < 0.5
    kind = rng.randrange(4)
    v = rng.choice(IV + IV_PEOPLE)
    things = rng.choice(THINGS)[1]
    if kind == 0:
        contrast = "manner vs. NP (tricky)"
        adv = rng.choice(["Slowly", "Quickly", "Carefully", "Quietly", "Happily"])
        q = f"How do you {v.base}?"
        ga, ba = (f"{adv}.", f"{cap(things)}.") if fragment else \
            (f"I {v.base} {adv.lower()}.", f"I {v.base} {things}.")
    elif kind == 1:
        contrast = "animate vs. inanimate (tricky)"
        name = rng.choice(NAMES)
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
        place = rng.choice(PLACES)
        q = f"Where did you {v.base}?"
        ga, ba = (f"{cap(locative(place))}.", f"{cap(place)}.") if fragment else \
            (f"I {v.past} {locative(place)}.", f"I {v.past} {place}.")
    return {"row": row, "fragment": "fragment" if fragment else "sentence", "contrast": contrast,
            "sentence_good": f"{a}: {q}\n{b}: {ga}", "sentence_bad": f"{a}: {q}\n{b}: {ba}"}


def _supp_sai(rng: random.Random) -> dict:
    number = "sg" if rng.random() < 0.6 else "pl"
    pool, adjs = (PEOPLE, ADJ_PERSON) if rng.random() < 0.5 else (ANIMALS, ADJ_ANIMAL)
    sg, pl = rng.choice(pool)
    noun = sg if number == "sg" else pl
    det = rng.choice(["the", "this", "that"] if number == "sg" else ["the", "these", "those", "some"])
    be = "is" if number == "sg" else "are"
    ving, vbase = rng.choice(IV).ing, rng.choice(IV).base
    adj = rng.choice(adjs)
    rc = rng.choice(["that", "who"]) if pool is PEOPLE else "that"
    template = rng.choice(["1_RC_ambig_1", "1_RC_unambig_1", "1_RC_unambig_2"])
    if template == "1_RC_ambig_1":
        good = f"{cap(be)} {det} {noun} {rc} {be} {ving} {adj}?"
        bad = f"{cap(be)} {det} {noun} {rc} {ving} {be} {adj}?"
    elif template == "1_RC_unambig_1":
        good = f"{cap(be)} {det} {noun} {rc} can {vbase} {adj}?"
        bad = f"Can {det} {noun} {rc} {vbase} {be} {adj}?"
    else:
        good = f"Can {det} {noun} {rc} {be} {ving} {vbase}?"
        bad = f"{cap(be)} {det} {noun} {rc} {ving} can {vbase}?"
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


def write_supplement(root: Path, spec: DemoSpec, manifest: dict) -> None:
    for name in SUPPLEMENT_FILES:
        rng = rng_for(spec, f"supplement/{name}")
        rows = distinct(rng, _SUPP_MAKERS[name], 2 * spec.items_per_paradigm, key=lambda r: r["sentence_good"])
        if name == "subject_aux_inversion":
            for i, r in enumerate(rows):
                r["pair_ID"], r["row"] = i // 3, i % 20
        write_jsonl(root, f"supplement_filtered/{name}.jsonl", rows, manifest)
        write_jsonl(root, f"supplement_fast/{name}.jsonl", rng.sample(rows, spec.items_per_paradigm), manifest)
