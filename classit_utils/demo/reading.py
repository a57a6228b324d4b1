"""Reading times: `reading/reading_data.csv`, one row per word after the first of 40 sentences, with the
real columns (an unnamed index first). The simulated eye-tracking and self-paced reading times grow
with word length and shrink with word frequency, so the reading metric has a signal to find.
"""
from __future__ import annotations

import csv
import io
import math
import random
from pathlib import Path

from .common import DemoSpec, distinct, rng_for
from .grammar import NAMES, cap, clause


READING_COLUMNS = ("", "item", "word", "word2", "sentence", "context_length", "sent_id", "item_id", "list",
                   "Subtlex_log10", "length", "RTfirstfix", "RTfirstpass", "RTgopast", "RTrightbound",
                   "self_paced_reading_time", "ELAN", "LAN", "N400", "P600", "EPNP", "PNP", "prev_word",
                   "prev_item", "prev_length")


_FUNCTION_FREQ = {"the": 14.2, "a": 13.6, "and": 13.5, "to": 13.6, "of": 13.3, "in": 13.0, "is": 13.1,
                  "was": 12.8, "that": 13.2, "he": 13.0, "she": 12.5, "it": 13.4, "his": 12.3, "her": 12.4,
                  "my": 12.8, "our": 11.3, "this": 12.9, "these": 11.2, "those": 11.0, "some": 11.6,
                  "many": 11.0, "two": 11.4, "three": 10.8, "at": 12.5, "on": 12.8, "near": 10.1,
                  "will": 12.2, "can": 12.4, "did": 12.3, "not": 12.9, "are": 12.6, "were": 12.0,
                  "because": 11.1, "but": 12.6, "when": 12.0, "so": 12.7, "said": 11.9, "an": 11.7}


def _logfreq(word: str) -> float:
    w = word.strip(".,?!").lower()
    if word.strip(".,?!") in NAMES:
        return math.nan
    if w in _FUNCTION_FREQ:
        return _FUNCTION_FREQ[w]
    jitter = random.Random(f"freq:{w}").uniform(-1.2, 1.2)
    return round(min(12.5, max(2.0, 12.0 - 0.55 * len(w) + jitter)), 6)


def write_reading(root: Path, spec: DemoSpec, manifest: dict) -> None:
    rng = rng_for(spec, "reading")

    def sentence(r: random.Random) -> str:
        while True:
            s = cap(clause(r)) + "."
            if 4 <= len(s.split()) <= 14:
                return s
    sentences = distinct(rng, sentence, 40)
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
