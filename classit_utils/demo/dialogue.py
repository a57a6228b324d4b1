"""Switchboard-like two-speaker dialogues with DAMSL tags, shared by the SwDA files, the BabyLM
`switchboard.train` and `bnc_spoken.train` text and the CLASS_IT conversation pairs.
"""
from __future__ import annotations

import random

from .grammar import (ADJ_ANIMAL, ADJ_THING, ANIMALS, IV, IV_PEOPLE, PAST_TIMES, PEOPLE, PLACES, THINGS, TV_ANIM,
                      TV_THING, cap, clause, locative, noun_phrase, pron_clause)


_BACKCHANNEL = ["Uh-huh.", "Yeah.", "Right.", "Um-hum.", "Oh.", "Oh, really?", "Sure."]
_ACCEPT = ["Yeah.", "Right.", "Exactly.", "That's true.", "Yes.", "I know."]
_FRAGMENT = ["Well, I,", "And, uh,", "So, uh,", "But, um,", "It's, uh,", "I, I,"]
_APPRECIATE = ["Oh, that's great.", "That's nice.", "Oh, that sounds like fun.", "Wow."]
_YES = ["Yes.", "Yeah, I do.", "Yeah, we did.", "Oh, yes."]
_NO = ["No.", "No, not really.", "No, I don't.", "Not really."]
_CLOSING = ["Well, it was nice talking to you.", "Okay, bye-bye.", "All right, take care.",
            "Well, I guess I'd better go."]
_FILLERS = ["uh, ", "um, ", "you know, ", "well, ", ""]


def utterance(rng: random.Random, tag: str) -> str:
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
        return cap(rng.choice([
            lambda: f"do you {rng.choice(TV_THING).base} "
                    f"{noun_phrase(rng, THINGS, 'pl', ADJ_THING, dets=['the', 'your'])}?",
            lambda: f"have you ever been to {rng.choice(PLACES)}?",
            lambda: f"do you have {noun_phrase(rng, ANIMALS, 'sg', ADJ_ANIMAL, dets=['a'])}?",
            lambda: f"did you {rng.choice(IV).base} {locative(rng.choice(PLACES))} {rng.choice(PAST_TIMES)}?",
            lambda: f"do you like {rng.choice(ANIMALS)[1]}?",
        ])())
    if tag == "qw":
        return cap(rng.choice([
            lambda: f"what kind of {rng.choice(THINGS)[1]} do you like?",
            lambda: f"where do you usually {rng.choice(IV + IV_PEOPLE).base}?",
            lambda: f"what did you do {rng.choice(PAST_TIMES)}?",
            lambda: f"how many {rng.choice(ANIMALS)[1]} do you have?",
            lambda: f"who {rng.choice(TV_ANIM).past} {rng.choice(['your', 'the'])} {rng.choice(PEOPLE)[0]}?",
        ])())
    if tag == "sv":
        head = rng.choice(["I think", "I guess", "it seems like", "I don't think", "I believe", "I feel like"])
        return cap(f"{rng.choice(_FILLERS)}{head} {clause(rng)}.")
    # sd: statement
    s = pron_clause(rng) if rng.random() < 0.6 else clause(rng)
    if rng.random() < 0.3:
        s = f"{s} {rng.choice(['and', 'because', 'but', 'so'])} {pron_clause(rng)}"
    return cap(f"{rng.choice(_FILLERS)}{s}.")


def dialogue(rng: random.Random, n_min: int = 24, n_max: int = 60) -> list[tuple[str, str, str]]:
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
            rows.append((spk, utterance(rng, tag), tag))
            if i < len(run) - 1 and rng.random() < 0.2:
                rows.append((other, utterance(rng, "b"), "b"))
            if tag in ("qy", "qw"):
                break
        last_tag = rows[-1][2] if rows[-1][0] == spk else ""
        spk, other = other, spk
    rows.append((spk, utterance(rng, "fc"), "fc"))
    rows.append((other, utterance(rng, "fc"), "fc"))
    return rows
