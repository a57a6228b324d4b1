"""Short encyclopedia articles about nonce animals, towns, foods and games, each sentence kept with a
question, its answer and wrong answers (`Fact`). One generator feeds BabyLM `simple_wiki.train`, the
BoolQ and MultiRC passages and the CLASS_IT QA pairs, so their questions can be answered from the text.
"""
from __future__ import annotations

import random
from typing import Callable, NamedTuple

from .grammar import NAMES, SURNAMES, a_or_an, cap, nonce, plural, unique_nonce


class Fact(NamedTuple):
    sentence: str
    question: str        # wh-question
    answer: str          # short answer
    yes_no: Callable[[str], str]  # value -> lowercase yes/no question without '?'
    value: str
    wrong: list[str]     # wrong values of the same type


class Article(NamedTuple):
    title: str
    sentences: list[str]
    facts: list[Fact]


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


def make_article(rng: random.Random, seen: set[str], countries: list[str]) -> Article:
    name = unique_nonce(rng, seen)
    kind = rng.choice(["animal", "animal", "town", "food", "game"])
    year = rng.randint(1750, 1990)
    person = f"{rng.choice(NAMES)} {rng.choice(SURNAMES)}"
    facts: list[Fact] = []
    if kind == "animal":
        cls = rng.choice(sorted(_COVER))
        t, ts = name, plural(name)
        size = rng.choice(["small", "large", "tiny", "medium-sized"])
        hab, food, col = rng.choice(_HABITATS), rng.choice(_FOODS), rng.choice(_COLORS)
        first = f"{cap(a_or_an(t))} {t} is {a_or_an(size)} {size} kind of {cls} that lives in {hab}."
        facts.append(Fact(first, f"Where does {a_or_an(t)} {t} live?", cap(hab),
                          lambda v: f"does {a_or_an(t)} {t} live in {v}", hab, _others(rng, _HABITATS, hab)))
        facts.append(Fact(f"{cap(ts)} mostly eat {food}.", f"What do {ts} eat?", cap(food),
                          lambda v: f"do {ts} eat {v}", food, _others(rng, _FOODS, food)))
        facts.append(Fact(f"It has {col} {_COVER[cls]}.", f"What color are the {_COVER[cls]} of {a_or_an(t)} {t}?",
                          cap(col), lambda v: f"does {a_or_an(t)} {t} have {v} {_COVER[cls]}", col,
                          _others(rng, _COLORS, col)))
        n = str(rng.randint(2, 9))
        nums = [str(i) for i in range(2, 10)]
        facts.append(Fact(f"A female {t} lays {n} eggs at a time.", f"How many eggs does a female {t} lay?", n,
                          lambda v: f"does a female {t} lay {v} eggs at a time", n, _others(rng, nums, n)))
        names = [f"{a} {b}" for a in NAMES[:6] for b in SURNAMES[:4]]
        facts.append(Fact(f"The first {t} was described by {person} in {year}.",
                          f"Who described the first {t}?", person,
                          lambda v: f"was the first {t} described by {v}", person, _others(rng, names, person)))
        life = str(rng.randint(2, 20))
        facts.append(Fact(f"Most {ts} live for about {life} years.", f"How long do {ts} live?", f"{life} years",
                          lambda v: f"do {ts} live for about {v} years", life,
                          _others(rng, [str(i) for i in range(2, 21)], life)))
        title = cap(t)
    elif kind == "town":
        t = cap(name)
        country = rng.choice(countries)
        first = f"{t} is a small town in the {rng.choice(['north', 'south', 'east', 'west'])} of {country}."
        facts.append(Fact(first, f"In which country is {t}?", country, lambda v: f"is {t} in {v}", country,
                          _others(rng, countries, country)))
        pop = f"{rng.randint(1, 40)},{rng.randint(0, 9)}00"
        pops = [f"{i},{j}00" for i in range(1, 41) for j in (0, 5)]
        facts.append(Fact(f"About {pop} people live in {t}.", f"How many people live in {t}?", pop,
                          lambda v: f"do about {v} people live in {t}", pop, _others(rng, pops, pop)))
        river = cap(nonce(rng, 2))
        rivers = [cap(nonce(rng, 2)) for _ in range(4)]
        facts.append(Fact(f"The {river} River flows through the town.", f"Which river flows through {t}?",
                          f"The {river} River", lambda v: f"does the {v} river flow through {t}", river,
                          [r for r in rivers if r != river][:3]))
        facts.append(Fact(f"{t} was founded in {year}.", f"When was {t} founded?", str(year),
                          lambda v: f"was {t} founded in {v}", str(year),
                          [str(year + d) for d in rng.sample([-40, -12, 7, 25, 60], 3)]))
        known = rng.choice(_KNOWN_FOR)
        facts.append(Fact(f"The town is known for its {known}.", f"What is {t} known for?", f"Its {known}",
                          lambda v: f"is {t} known for its {v}", known, _others(rng, _KNOWN_FOR, known)))
        title = t
    elif kind == "food":
        t = cap(name)
        dish, ing, meal = rng.choice(_DISH_KIND), rng.choice(_INGREDIENTS), rng.choice(_MEALS)
        country = rng.choice(countries)
        first = f"{t} is a kind of {dish} from {country}."
        facts.append(Fact(first, f"What kind of food is {t}?", f"A kind of {dish}",
                          lambda v: f"is {name} a kind of {v}", dish, _others(rng, _DISH_KIND, dish)))
        facts.append(Fact(f"It is made from {ing}.", f"What is {t} made from?", cap(ing),
                          lambda v: f"is {name} made from {v}", ing, _others(rng, _INGREDIENTS, ing)))
        facts.append(Fact(f"People usually eat it {meal}.", f"When do people eat {t}?", cap(meal),
                          lambda v: f"do people usually eat {name} {v}", meal, _others(rng, _MEALS, meal)))
        facts.append(Fact(f"The first recipe for {t} was written by {person} in {year}.",
                          f"Who wrote the first recipe for {t}?", person,
                          lambda v: f"did {v} write the first recipe for {name}", person,
                          [f"{rng.choice(NAMES)} {s}" for s in rng.sample(SURNAMES, 3)]))
        title = t
    else:
        t = cap(name)
        n = str(rng.randint(3, 11))
        gear, score = rng.choice(_GEAR), rng.choice(_SCORES)
        first = f"{t} is a game played by two teams of {n} players."
        facts.append(Fact(first, f"How many players are on a {t} team?", n,
                          lambda v: f"does a {name} team have {v} players", n,
                          _others(rng, [str(i) for i in range(3, 12)], n)))
        facts.append(Fact(f"The players use {a_or_an(gear)} {gear}.", f"What do the players of {t} use?",
                          f"{cap(a_or_an(gear))} {gear}", lambda v: f"do {name} players use {a_or_an(v)} {v}", gear,
                          _others(rng, _GEAR, gear)))
        facts.append(Fact(f"The team that scores the most {score} wins.", f"How does a team win at {t}?",
                          f"By scoring the most {score}", lambda v: f"do {name} teams score {v}", score,
                          _others(rng, _SCORES, score)))
        mins = str(rng.choice([20, 30, 40, 60, 90]))
        facts.append(Fact(f"A game of {t} lasts about {mins} minutes.", f"How long does a game of {t} last?",
                          f"About {mins} minutes", lambda v: f"does a game of {name} last {v} minutes", mins,
                          _others(rng, ["20", "30", "40", "60", "90"], mins)))
        country = rng.choice(countries)
        facts.append(Fact(f"It was first played in {country} in {year}.", f"Where was {t} first played?",
                          country, lambda v: f"was {name} first played in {v}", country,
                          _others(rng, countries, country)))
        title = t
    first, rest = facts[0], facts[1:]
    rng.shuffle(rest)
    rest = rest[: rng.randint(2, len(rest))]
    facts = [first] + rest
    return Article(title, [f.sentence for f in facts], facts)


def make_countries(rng: random.Random) -> list[str]:
    seen: set[str] = set()
    return [cap(unique_nonce(rng, seen)) + rng.choice(["ia", "land", "a"]) for _ in range(10)]
