"""Disfluent versions of SQuAD questions, as people type or dictate them: restarts, corrections, fillers, repeated
words and typos. The original question is what the messy one means.

- restart: an abandoned start, an editing phrase, then the question ("Which stadium, no wait, when did ...");
- correction: a name, number or word of the question said wrong first and corrected
  ("When did Newton's, uh, I mean Leibniz's calculus appear?"); the wrong one comes from the same article;
- filler: "um", "uh", "like", "you know", "so", "well" ... at the start and inside;
- repeat: a word said twice ("did did", "the the");
- typo: two neighbouring letters of a long word swapped.

These rules generate evaluation data (training/public_sets.py); the product never runs them. They are written
independently of any cleaner's training generator so that a cleaner is measured on wording it did not learn.
"""
from __future__ import annotations

import random
import re

from training.synthetic import STOPWORDS, values

EDITS = ("no sorry,", "no wait,", "sorry,", "I mean,", "or rather,", "scratch that,", "hmm no,", "actually,",
         "no, let me rephrase,", "wait,", "oops,", "er, no,", "make that")
CORRECTIONS = ("{wrong}, uh, I mean {right}", "{wrong}, no, {right}", "{wrong}, sorry, {right}",
               "{wrong} -- I mean {right}", "{wrong}, or rather {right}", "{wrong}, uh {right}",
               "{wrong}... no, {right}", "{wrong}, wait, {right}")
FILLERS = ("um", "uh", "like", "you know", "I guess", "kind of", "basically", "er")
OPENERS = ("So, um,", "Uh,", "Okay so", "Well,", "Hey, quick question,", "Um, so", "Hmm,", "So like,")
CLOSERS = (", actually?", ", do you know?", ", I think?", ", right?", "?? ", "? if you know")
WH = ("What", "Which", "Who", "When", "Where", "How many", "How", "Why", "In what year")
WORD = re.compile(r"\b[a-z]{5,}\b")


def lower_first(text: str) -> str:
    """The question continued after an opener: its first word lowercased unless it is a name ("Namibia", "SWAPO")."""
    first = text.split(" ", 1)[0]
    return text[:1].lower() + text[1:] if first.lower() in STOPWORDS or first in WH else text


def restart(question: str, context: str, rng: random.Random) -> str | None:
    """An abandoned start then the question: the start is another wh-word with a noun of the article, or the
    question's own first words with one of them different."""
    nouns = sorted({w for w in WORD.findall(context) if w not in STOPWORDS and w not in question.lower()})
    if rng.random() < 0.6 and nouns:
        wh = rng.choice([w for w in WH if not question.startswith(w)])
        abandoned = f"{wh} {rng.choice(nouns)}" if wh in ("What", "Which", "How many") else wh
    else:
        words = question.split()
        if len(words) < 4:
            return None
        abandoned = " ".join(words[:rng.randint(1, min(3, len(words) - 2))])
    return f"{abandoned}, {rng.choice(EDITS)} {lower_first(question)}"


def correction(question: str, context: str, rng: random.Random, answers: list[str]) -> str | None:
    """A name, number, year or content word of the question said wrong first, then corrected in place."""
    asked = values(question)
    around = values(context)
    options = [(v, sort) for sort, vs in asked.items() for v in vs
               if around[sort] - vs and not any(v in a for a in answers)]
    words = [w for w in WORD.findall(question) if w not in STOPWORDS]
    if not options and not words:
        return None
    if options and (rng.random() < 0.75 or not words):
        right, sort = rng.choice(sorted(options))
        wrong = rng.choice(sorted(around[sort] - asked[sort]))
    else:
        right = rng.choice(words)
        others = sorted({w for w in WORD.findall(context) if w[-2:] == right[-2:] and w != right and w not in STOPWORDS})
        if not others:
            return None
        wrong = rng.choice(others)
    said = rng.choice(CORRECTIONS).format(wrong=wrong, right=right)
    return re.sub(rf"(?<!\w){re.escape(right)}(?!\w)", lambda m: said, question, count=1)


def filler(question: str, rng: random.Random) -> str:
    words = question.split()
    for _ in range(rng.randint(1, 2)):
        # not inside a name ("South Africa") or a number ("1,200 km")
        gaps = [k for k in range(1, len(words)) if not (words[k - 1][:1].isupper() and words[k][:1].isupper())
                and not words[k][:1].isdigit()] or [len(words)]
        words.insert(rng.choice(gaps), rng.choice(FILLERS) + ("," if rng.random() < 0.5 else ""))
    text = " ".join(words)
    if rng.random() < 0.5:
        text = f"{rng.choice(OPENERS)} {lower_first(text)}"
    if rng.random() < 0.3 and text.endswith("?"):
        text = text[:-1].rstrip() + rng.choice(CLOSERS).rstrip()
    return text


def repeat(question: str, rng: random.Random) -> str:
    words = question.split()
    k = rng.randrange(len(words) - 1) if len(words) > 1 else 0
    stutter = words[k] if rng.random() < 0.6 else f"{words[k][:max(1, len(words[k]) // 2)]}-"
    return " ".join(words[:k] + [stutter] + words[k:])


def typo(question: str, rng: random.Random, answers: list[str]) -> str | None:
    long = [m for m in re.finditer(r"\b[a-z]{6,}\b", question) if not any(m.group() in a for a in answers)]
    if not long:
        return None
    m = rng.choice(long)
    w = m.group()
    i = rng.randrange(1, len(w) - 2)
    return question[:m.start()] + w[:i] + w[i + 1] + w[i] + w[i + 2:] + question[m.end():]


def disfluent(question: str, context: str, answers: list[str], rng: random.Random) -> tuple[str, list[str]]:
    """The question made messy by one major disfluency (restart or correction) or fillers, often plus a minor one
    (a filler, a repeated word, a typo): (the messy question, the kinds applied)."""
    question = question.strip()
    kinds: list[str] = []
    text = question
    major = rng.choices(("restart", "correction", "filler"), (0.4, 0.4, 0.2))[0]
    made = restart(text, context, rng) if major == "restart" else \
        correction(text, context, rng, answers) if major == "correction" else filler(text, rng)
    if made is None:
        made, major = filler(text, rng), "filler"
    text, kinds = made, [major]
    minor = rng.choices(("none", "filler", "repeat", "typo"), (0.4, 0.2, 0.2, 0.2))[0]
    if minor == "filler" and major != "filler":
        text, kinds = filler(text, rng), kinds + ["filler"]
    elif minor == "repeat":
        text, kinds = repeat(text, rng), kinds + ["repeat"]
    elif minor == "typo":
        changed = typo(text, rng, answers)
        if changed:
            text, kinds = changed, kinds + ["typo"]
    return text, kinds
