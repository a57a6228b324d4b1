"""BabyLM pretraining text: `babylm_corpus/train_demo/<source>.train`, one file per source, each with the
markup of the real source (CHILDES `*MOT:` codes, Switchboard `A:`/`B:` labels, `= = = title = = =`
wiki headings, Gutenberg headers and licence lines), so the demo runs the real cleaners of
`classit_utils.corpus`.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Callable

from .articles import make_article, make_countries
from .common import DemoSpec, rng_for, write_lines
from .dialogue import dialogue, utterance
from .grammar import (ADJ_PERSON, ADJ_THING, ANIMALS, NAMES, PEOPLE, PLACES, SURNAMES, THINGS, a_or_an, cap, clause,
                      predicate, pron_clause, question, sentence)


BABYLM_SOURCES = ("bnc_spoken", "childes", "gutenberg", "open_subtitles", "simple_wiki", "switchboard")


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
    thing, animal = rng.choice(THINGS)[0], rng.choice(sorted(_SOUNDS))
    if speaker == "CHI":
        return rng.choice([f"{thing}!", f"more {thing}.", f"want {thing}.", f"my {thing}.", "no!", "mommy!",
                           f"{animal} go {_SOUNDS[animal]}.", f"where {thing}?", "uh oh.", "all done.",
                           f"big {thing}.", f"I want the {thing}.", f"{thing} fall down."])
    adj = rng.choice(ADJ_THING)
    return rng.choice([
        f"look at the {thing}!", f"where is the {thing}?", f"can you find the {adj} {thing}?",
        f"that's {a_or_an(adj)} {adj} {thing}.", f"do you want the {thing}?", "good job!",
        f"what does the {animal} say?", f"the {animal} says {_SOUNDS[animal]}.",
        f"let's put the {thing} in the box.", "are you hungry?", "you're okay.",
        sentence(rng, allow_question=False).lower(), cap(question(rng)).lower(),
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
    return _fill(target, lambda: [f"{s}:\t{u}" for s, u, _ in dialogue(rng)])


def _babylm_bnc(rng: random.Random, target: int) -> list[str]:
    def line() -> list[str]:
        r = rng.random()
        if r < 0.15:
            return [rng.choice(["Mm.", "Yeah.", "Erm.", "Right.", "No.", "Oh dear.", "Mhm."])]
        tag = rng.choice(["sd", "sd", "sv", "qy", "qw"])
        u = utterance(rng, tag)
        if rng.random() < 0.3:
            u = rng.choice(["Er, ", "Erm, ", "Well, ", "Oh, "]) + u[0].lower() + u[1:]
        return [u]
    return _fill(target, line)


def _babylm_subtitles(rng: random.Random, target: int) -> list[str]:
    def line() -> list[str]:
        thing, place, name = rng.choice(THINGS)[0], rng.choice(PLACES), rng.choice(NAMES)
        return [rng.choice([
            "Come on!", "Let's go.", f"{name}, wait!", f"Where did you put the {thing}?", "Get in the car.",
            f"We have to go back to {place}.", f"I told you, {clause(rng)}.", "What are you doing here?",
            "I don't know.", f"Give me the {thing}.", "Are you okay?", f"{name}!", "Thank you.",
            sentence(rng), cap(question(rng)), f"- {cap(pron_clause(rng))}.",
        ])]
    return _fill(target, line)


def _book_title(rng: random.Random) -> str:
    return rng.choice([
        f"The {cap(rng.choice(ADJ_THING))} {cap(rng.choice(THINGS)[0])}",
        f"{rng.choice(NAMES)} and the {cap(rng.choice(ANIMALS)[0])}",
        f"Stories of the {cap(rng.choice(PLACES)[4:])}",
    ])


def _story_paragraph(rng: random.Random, hero: str) -> str:
    sents = []
    for _ in range(rng.randint(2, 5)):
        r = rng.random()
        if r < 0.2:
            sents.append(f'"{cap(pron_clause(rng))}," said {rng.choice([hero] + NAMES)}.')
        elif r < 0.35:
            sents.append(f"{hero} {predicate(rng, 'sg', 'person', 'past')}.")
        else:
            sents.append(cap(clause(rng, rng.choice(["past", "past", "neg_past"]))) + ".")
    return " ".join(sents)


def _babylm_gutenberg(rng: random.Random, target: int) -> list[str]:
    n_books = max(1, min(8, target // 5000))
    lines: list[str] = []
    for b in range(n_books):
        title = _book_title(rng)
        author = f"{rng.choice(NAMES)} {rng.choice(SURNAMES)}"
        book_target = target * (b + 1) // n_books
        lines += [f"= = = PG{rng.randint(10000, 69999)} = = =",
                  f"The Project Gutenberg eBook of {title}, by {author}",
                  f"Produced by {rng.choice(NAMES)} {rng.choice(SURNAMES)} "
                  "and the Online Distributed Proofreading Team.",
                  f"*** START OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***",
                  title.upper(), f"by {author}"]
        hero = rng.choice(NAMES)
        adj, noun = rng.choice(ADJ_PERSON), rng.choice(PEOPLE)[0]
        lines += ["CHAPTER 1.", f"Once upon a time there lived {a_or_an(adj)} {adj} {noun} named {hero}. "
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
    countries = make_countries(rng)

    def article() -> list[str]:
        a = make_article(rng, seen, countries)
        body = a.sentences
        if len(body) > 4 and rng.random() < 0.5:
            k = rng.randint(2, len(body) - 2)
            return [f"= = = {a.title} = = =", " ".join(body[:k]), " ".join(body[k:])]
        return [f"= = = {a.title} = = =", " ".join(body)]
    return _fill(target, article)


def write_babylm(root: Path, spec: DemoSpec, manifest: dict) -> None:
    makers = {"bnc_spoken": _babylm_bnc, "childes": _babylm_childes, "gutenberg": _babylm_gutenberg,
              "open_subtitles": _babylm_subtitles, "simple_wiki": _babylm_wiki,
              "switchboard": _babylm_switchboard}
    for src in BABYLM_SOURCES:
        lines = makers[src](rng_for(spec, f"babylm/{src}"), spec.words_per_source)
        write_lines(root, f"babylm_corpus/train_demo/{src}.train", lines, manifest)
