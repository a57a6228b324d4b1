"""Age of acquisition: `aoa_substitute/child_american_english_proportions.csv` (Wordbank-style CDI production
proportions at 16..30 months) and `aochildes_transcripts/<Name>.csv` (childes-db utterance exports), the two
inputs of `classit_utils.tasks.aoa`.

- CDI table: R `write.csv` layout (every string and the header quoted, numbers bare, at most 2 decimals, "0"
  and "1" without decimals), `type` "word", items in CDI category order with contiguous ids. About a hundred
  words of the demo grammar; some items carry the real file's quirks: a sense label ("duck (animal)", a
  second "clean" that cleans to a duplicate), a family-wording `*` ("mommy*"), slash alternatives
  ("rabbit/bunny"), a placeholder ("teddy's name"), multi-word items ("uh oh") and a one-letter word ("I").
  Each word's proportion follows a logistic curve with a made-up midpoint (earlier for sounds and nouns,
  later for function words; some before 16 or after 30 months, so not every word has a child AoA), sampled
  as the share of 40-90 children per month.
- Transcripts: the 24 columns of `childesr::get_utterances` written by `write.table(quote=FALSE)` (bare
  fields, NA for missing, age in days), a few transcripts per file; glosses lower-case without punctuation,
  with CHAT compounds ("thank_you") and untranscribed words (xxx, yyy) now and then. Adult speech (Mother,
  Father, Investigator) is demo-grammar sentences and child-directed frames that put a CDI word after at
  least 5 words (earlier-learned words more often); about one row in ten is the Target_Child's, which the
  loader drops.
"""
from __future__ import annotations

import math
import random
from pathlib import Path

from .common import DemoSpec, rng_for
from .grammar import (ADJ_THING, ANIMALS, IV, IV_PEOPLE, NAMES, NAMES_F, PEOPLE, THINGS, TIMES, TV_ANIM,
                      TV_THING, a_or_an, clause, pron_clause, question)


CDI_REL = "aoa_substitute/child_american_english_proportions.csv"
TRANSCRIPT_FILES = ("Ashby", "Penrow")
AGES = tuple(range(16, 31))
TRANSCRIPT_COLUMNS = ("id", "speaker_id", "utterance_order", "transcript_id", "corpus_id", "gloss", "num_tokens",
                      "stem", "part_of_speech", "speaker_code", "speaker_name", "speaker_role", "target_child_id",
                      "target_child_age", "target_child_name", "target_child_sex", "type", "media_end",
                      "media_start", "media_unit", "collection_id", "collection_name", "num_morphemes",
                      "language")

# CDI items in category order: (category, midpoint range in months, definitions)
_CDI = (
    ("sounds", (12, 20), ["woof", "meow", "quack", "moo", "baa baa"]),
    ("animals", (17, 24), ["bear", "bird", "cat", "cow", "dog", "duck (animal)", "frog", "horse",
                           "kitten/kitty", "mouse", "pig", "puppy", "rabbit/bunny"]),
    ("vehicles", (18, 25), ["boat", "car"]),
    ("toys", (17, 24), ["ball", "book", "drum", "kite", "toy (object)"]),
    ("food_drink", (18, 26), ["apple", "cake (food)", "cookie", "egg"]),
    ("clothing", (19, 26), ["hat", "shoe"]),
    ("household", (20, 28), ["basket", "blanket", "bottle", "box", "cup", "key", "spoon"]),
    ("furniture_rooms", (20, 28), ["chair", "door", "kitchen", "table", "window"]),
    ("outside", (21, 29), ["flower", "garden", "yard"]),
    ("places", (21, 29), ["farm", "house", "park", "school", "shop/store"]),
    ("people", (16, 27), ["doctor", "farmer", "friend", "girl", "mommy*", "teacher", "teddy's name"]),
    ("games_routines", (16, 24), ["uh oh", "thank you"]),
    ("action_words", (21, 29), ["clean (action)", "cry", "dance", "find", "help", "hide", "hold", "jump",
                                "play (action)", "push", "read", "run", "see", "sing", "sleep", "swim", "walk",
                                "watch (action)"]),
    ("descriptive_words", (22, 30), ["big", "blue", "brown", "clean (description)", "green", "happy", "hungry",
                                     "little", "old", "red", "sleepy", "yellow"]),
    ("time_words", (25, 33), ["today", "yesterday", "morning", "night"]),
    ("pronouns", (24, 34), ["I", "he", "she", "it", "they", "we", "you", "my", "this", "that"]),
    ("question_words", (25, 33), ["what", "where"]),
    ("locations", (24, 32), ["in", "on", "near"]),
    ("quantifiers", (25, 33), ["some", "many"]),
    ("helping_verbs", (26, 35), ["is/are", "don't", "will", "was"]),
    ("connecting_words", (27, 36), ["and", "because", "but", "so"]),
)
_SOUNDS = {"woof": "dog", "meow": "cat", "quack": "duck", "moo": "cow"}


def _word(definition: str) -> str | None:
    """The demo's own reading of an item: the word a child-directed frame can put in a slot (None: none)."""
    w = definition.split(" (")[0].split("/")[0].rstrip("*")
    return None if " " in w or "'s " in definition or len(w) < 2 else w


def _r_number(x: float) -> str:
    """R's `write.csv` print of a proportion rounded to 2 decimals: 0.7, 0.05, 0, 1."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _cdi_rows(rng: random.Random) -> list[tuple[int, str, str, list[float], float]]:
    """(item id, definition, category, proportions at `AGES`, planted midpoint)."""
    rows = []
    for category, (lo, hi), definitions in _CDI:
        for definition in definitions:
            mid, slope, top = rng.uniform(lo, hi), rng.uniform(0.25, 0.6), rng.uniform(0.85, 1.0)
            props = []
            for age in AGES:
                p = top / (1 + math.exp(-slope * (age - mid)))
                n = rng.randint(40, 90)
                props.append(round(sum(rng.random() < p for _ in range(n)) / n, 2))
            rows.append((len(rows) + 1, definition, category, props, mid))
    return rows


def _cdi_text(rows) -> str:
    """The CDI table as R's `write.csv` writes it."""
    header = ",".join(f'"{c}"' for c in ("num_item_id", "definition", "type", "category", *map(str, AGES)))
    lines = [header] + [f'{i},"{d}","word","{c}",' + ",".join(_r_number(p) for p in props)
                        for i, d, c, props, _ in rows]
    return "".join(line + "\n" for line in lines)


# ------------------------------------------------------------------------------------------- transcripts
_THING = {sg for sg, _ in THINGS}
_ANIMAL = {sg for sg, _ in ANIMALS}
_PERSON = {sg for sg, _ in PEOPLE}
_PLACE = {"beach", "farm", "house", "park", "school", "shop", "kitchen", "garden", "yard"}
_VERB = {v.base for v in TV_THING + TV_ANIM + IV + IV_PEOPLE}
_ADJ = set(ADJ_THING) | {"happy", "hungry", "little", "sleepy"}
_TIME = {"today", "yesterday"}
_DAYPART = {"morning", "night"}

_FRAMES = {
    "thing": ["can you give me the {adj} {w}", "where did you put the {w}", "do you want to see the {w}",
              "oh look there is {a} {w}", "let's go and find the {w}", "I think the {animal} has the {w}",
              "what are you doing with the {w}", "can you show me the {adj} {w}"],
    "animal": ["can you show me the {w}", "do you see the little {w}", "oh look there is {a} {w}",
               "look at the big brown {w}", "what does the {w} say", "I think the {person} has a {w}"],
    "person": ["are we going to see the {w}", "do you want to help the {w}", "let's go and visit the {w}",
               "can you give the {thing} to the {w}", "oh look there is {a} {w}"],
    "mommy": ["can you give the {thing} to mommy", "let's go and show it to mommy", "do you want to help mommy"],
    "place": ["do you want to go to the {w}", "shall we go to the {w} now", "the {animal} ran all the way to the {w}",
              "we saw a {animal} at the {w}", "let's take the {thing} to the {w}"],
    "verb": ["can you show me how to {w}", "now do you want to {w}", "it's time for us to {w}",
             "can the little {animal} {w}", "I think the {animal} wants to {w}", "let's see if you can {w}"],
    "adj": ["look at the {thing} it is so {w}", "oh the {animal} is very {w}", "I think that one is {w}",
            "can you find the one that is {w}", "do you want the {w} {thing}"],
    "sound": ["what does the {animal} say it says {w}", "and the little {animal} says {w}",
              "that's right the {animal} says {w}",
              "look at the big {animal} it says {w}", "do you hear the {animal} it says {w}"],
    "time": ["we saw the {animal} at the park {w}", "did you play with the {thing} {w}",
             "the {animal} was very sleepy {w}"],
    "daypart": ["we can go to the park in the {w}", "the {animal} likes to sleep in the {w}",
                "you can have the {thing} in the {w}"],
    "other": ["okay now can you tell me where the {thing} is", "okay now can you tell me what the {animal} says",
              "now can you show me where the {animal} is", "I wonder if you know what the {animal} says",
              "and then can you tell me where you put the {thing}", "do you want to tell me what you saw",
              "look at the big {animal} and the {animal}", "you can have the {thing} but not the {thing}",
              "I know you want the {thing} because it is {adj}", "do you want to see some of my {things}",
              "oh look over there there are so many {things}", "we will go and see the {animal} and it will be fun",
              "look at the {animal} over there he is so {adj}", "look at the {person} over there she is so {adj}",
              "and when the {animal} is hungry they want to eat", "if you are good then we can go to the park",
              "oh no the {thing} is broken and you don't want it", "what did you do with the {thing} you had",
              "look the {thing} is not on the table", "can you put the {thing} near the {thing}",
              "I think that the {animal} was hungry", "can you give me the {thing} and this {thing}",
              "oh look at the {thing} that is {adj}", "do you want to put it in the box", "are you hungry"],
}
_ROUTINES = ["okay", "yeah", "good job", "look", "uh oh", "all done", "mhm", "there you go", "no", "thank_you",
             "oh", "good_night", "what", "hm", "", "xxx", "look at the xxx"]
_CHILD = ["more {thing}", "want {thing}", "my {thing}", "{thing}", "no", "mommy", "uh oh", "yyy", "{animal}",
          "big {thing}", "I want the big {thing} now please", "{sound} {sound}", "xxx {thing}"]
_QUESTION_START = {"can", "do", "does", "did", "where", "what", "are", "shall", "is", "will", "who"}
_IMPERATIVE_START = {"look", "let's", "okay", "there"}


def _kind(w: str) -> str:
    """Which `_FRAMES` a CDI word goes into."""
    if w == "mommy":
        return "mommy"
    if w in _SOUNDS:
        return "sound"
    for kind, words in (("time", _TIME), ("daypart", _DAYPART), ("place", _PLACE), ("thing", _THING),
                        ("animal", _ANIMAL), ("person", _PERSON), ("adj", _ADJ), ("verb", _VERB)):
        if w in words:
            return kind
    return "other"


def _fill(rng: random.Random, frame: str, w: str = "") -> str:
    """A frame with `w` in its {w} slot and random demo words in the others."""
    thing = rng.choice(THINGS)
    out = frame.replace("{things}", thing[1]).replace("{w}", w)
    for slot, pool in (("{thing}", [t[0] for t in THINGS]), ("{animal}", [a[0] for a in ANIMALS]),
                       ("{person}", [p[0] for p in PEOPLE]), ("{adj}", ADJ_THING), ("{sound}", sorted(_SOUNDS))):
        while slot in out:
            out = out.replace(slot, rng.choice(pool), 1)
    while "{a}" in out:   # the article agrees with the word after it
        nxt = out.split("{a}", 1)[1].split()[0]
        out = out.replace("{a}", a_or_an(nxt), 1)
    return out


def _plain(text: str) -> str:
    """A grammar sentence as a CHILDES gloss: no punctuation, lower-case but for names and I."""
    toks = text.replace(",", "").replace(".", "").replace("?", "").replace("!", "").split()
    return " ".join(t if t in NAMES or t == "I" else t.lower() for t in toks)


def _adult(rng: random.Random, targets: list[str], weights: list[float]) -> str:
    """One caregiver gloss: a frame for a CDI word (`weights`), a grammar sentence or question, or a routine."""
    r = rng.random()
    if r < 0.55:
        w = rng.choices(targets, weights)[0]
        kind = _kind(w)
        if kind == "sound":    # the animal that makes it
            return _fill(rng, rng.choice(_FRAMES[kind]).replace("{animal}", _SOUNDS[w]), w)
        if kind != "other":
            return _fill(rng, rng.choice(_FRAMES[kind]), w)
        frames = [f for f in _FRAMES["other"] if w in f.split()]   # function words: the frames that have it
        return _fill(rng, rng.choice(frames)) if frames else _plain(clause(rng))
    if r < 0.6:
        return _fill(rng, rng.choice(_FRAMES["other"]))
    if r < 0.85:
        s = clause(rng)
        if rng.random() < 0.4:
            second = pron_clause(rng) if rng.random() < 0.5 else clause(rng)
            s += f" {rng.choice(['and', 'because', 'but', 'so', 'when'])} {second}"
        if rng.random() < 0.15:
            s += f" {rng.choice(TIMES)}"
        return _plain(s)
    if r < 0.9:
        return _plain(question(rng))
    return rng.choice(_ROUTINES)


# stems and part-of-speech tags (the childes-db `stem`, `part_of_speech` columns): form stem/tag/extra morphemes
_CLOSED = {
    "det:art": "the a an", "det:dem": "these those", "pro:dem": "this that", "det:poss": "my our his her your",
    "det:num": "two three", "qn": "some many all more", "pro:sub": "I he she we they", "pro:per": "you it",
    "pro:obj": "me him them us", "pro:int": "what where who how", "mod": "can will should might shall",
    "aux": "do does did", "prep": "in on at near with of for after", "inf": "to", "coord": "and but so",
    "conj": "because when if", "adv": "now then there here very", "adv:tem": "today yesterday", "neg": "not",
    "co": "okay yeah oh uh no mhm hm please thank_you good_night",
}
_IRREGULAR = ("is/be/cop/1 are/be/cop/1 was/be/cop/1 were/be/cop/1 am/be/cop/1 don't/do/mod/1 didn't/do/mod/1 "
              "doesn't/do/mod/1 let's/let/v/1 it's/it/pro:per/1 that's/that/pro:dem/1 you're/you/pro:per/1 "
              "say/say/v/0 says/say/v/1 said/say/v/1 go/go/v/0 going/go/part/1 give/give/v/0 gave/give/v/1 "
              "put/put/v/0 have/have/v/0 has/have/v/1 had/have/v/1 want/want/v/0 wants/want/v/1 know/know/v/0 "
              "think/think/v/0 tell/tell/v/0 show/show/v/0 look/look/v/0 wave/wave/v/0 doing/do/part/1 "
              "done/do/part/1 ran/run/v/1 right/right/adj/0")


def _lexicon() -> dict[str, tuple[str, str, int]]:
    """form: (stem, tag, extra morphemes), from the grammar's word lists."""
    lex: dict[str, tuple[str, str, int]] = {}
    for sg, pl in THINGS + ANIMALS + PEOPLE:
        lex[sg], lex[pl] = (sg, "n", 0), (sg, "n", 1)
    for w in sorted(_PLACE | _DAYPART | {"river", "forest", "town", "library", "barn", "way", "time", "nap", "fun",
                                         "one"}):
        lex.setdefault(w, (w, "n", 0))
    for v in TV_THING + TV_ANIM + IV + IV_PEOPLE:
        for form, extra in ((v.base, 0), (v.s, 1), (v.past, 1), (v.pp, 1)):
            lex.setdefault(form, (v.base, "v", extra))
        lex[v.ing] = (v.base, "part", 1)
    for w in sorted(_ADJ | {"tall", "young", "brave", "quiet", "kind", "white", "tired", "good"}):
        lex.setdefault(w, (w, "adj", 0))
    lex.update({n: (n, "n:prop", 0) for n in NAMES})
    lex.update({w: (w, tag, 0) for tag, words in _CLOSED.items() for w in words.split()})
    for entry in _IRREGULAR.split():
        form, stem, tag, extra = entry.split("/")
        lex[form] = (stem, tag, int(extra))
    lex.update({w: ("", "", 0) for w in ("xxx", "yyy", "www")})   # untranscribed: no stem
    return lex


_LEX = _lexicon()


def _annotate(gloss: str) -> tuple[str, str, str, str]:
    """num_tokens, stem, part_of_speech, num_morphemes of a gloss (NA morphemes when nothing is transcribed)."""
    toks = gloss.split()
    parsed = [_LEX.get(t, (t.lower(), "n", 0)) for t in toks]
    parsed = [p for p in parsed if p[0]]
    morphemes = "NA" if not parsed else str(sum(1 + extra for _, _, extra in parsed))
    return str(len(toks)), " ".join(p[0] for p in parsed), " ".join(p[1] for p in parsed), morphemes


def _utterance_type(rng: random.Random, gloss: str) -> str:
    first = gloss.split()[0].lower() if gloss.split() else ""
    if rng.random() < 0.04:
        return "trail off"
    if first in _QUESTION_START:
        return "question"
    if first in _IMPERATIVE_START:
        return "imperative_emphatic"
    return "declarative"


def _age_text(days: float) -> str:
    """An R double as `write.table` prints it: 913.125, 852.25, 730."""
    return repr(days).removesuffix(".0")


def _transcripts(rng: random.Random, corpus_id: int, first_ids: tuple[int, int, int],
                 targets: list[str], weights: list[float]) -> list[list[str]]:
    """The rows of one corpus file: a few transcripts (one child, its caregivers, perhaps an investigator)."""
    utt_id, speaker_id, transcript_id = first_ids
    rows = []
    for _ in range(rng.randint(4, 6)):
        child_id = speaker_id
        speaker_id += 1
        name = rng.choice(NAMES)
        sex = "female" if name in NAMES_F else "male"
        age = _age_text(round(rng.uniform(18, 40) * 30.4375 * 8) / 8)
        speakers = [("MOT", "Mother", 8.0), ("FAT", "Father", rng.choice([0.0, 1.0, 3.0])),
                    ("INV", "Investigator", rng.choice([0.0, 0.3])), ("CHI", "Target_Child", 1.2)]
        speakers = [s for s in speakers if s[2] > 0]
        ids = {code: (child_id if code == "CHI" else speaker_id + k) for k, (code, _, _) in enumerate(speakers)}
        speaker_id += len(speakers)
        for order in range(1, rng.randint(200, 320) + 1):
            code, role, _ = rng.choices(speakers, [s[2] for s in speakers])[0]
            if role == "Target_Child":
                gloss = _fill(rng, rng.choice(_CHILD))
            else:
                gloss = _adult(rng, targets, weights)
            n_tok, stem, pos, morphemes = _annotate(gloss)
            utt_id += rng.randint(3, 40)
            rows.append([str(utt_id), str(ids[code]), str(order), str(transcript_id), str(corpus_id), gloss, n_tok,
                         stem, pos, code, "NA", role, str(child_id), age, name, sex, _utterance_type(rng, gloss),
                         "NA", "NA", "NA", "3", "Eng-NA", morphemes, "eng"])
        transcript_id += 1
    return rows


def write_aoa(root: Path, spec: DemoSpec, manifest: dict) -> None:
    rows = _cdi_rows(rng_for(spec, "aoa/cdi"))
    path = root / CDI_REL
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_cdi_text(rows).encode("utf-8"))
    manifest[CDI_REL] = len(rows)

    # child-directed speech names a word more often the earlier children learn it
    mids: dict[str, float] = {}
    for _, definition, _, _, mid in rows:
        if (w := _word(definition)) is not None:
            mids.setdefault(w, mid)
    targets = list(mids)
    weights = [1.0 + 3.0 / (1 + math.exp((mids[w] - 24) / 3)) for w in targets]
    rng = rng_for(spec, "aoa/transcripts")
    first = (rng.randint(1_000_000, 3_000_000), rng.randint(1000, 5000), rng.randint(5000, 9000))
    for k, name in enumerate(TRANSCRIPT_FILES):
        corpus_id = rng.randint(20, 90) + k
        body = _transcripts(rng, corpus_id, (first[0] + k * 500_000, first[1] + k * 100, first[2] + k * 20),
                            targets, weights)
        text = "".join(",".join(r) + "\n" for r in [list(TRANSCRIPT_COLUMNS)] + body)
        rel = f"aochildes_transcripts/{name}.csv"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(text.encode("utf-8"))
        manifest[rel] = len(body)
