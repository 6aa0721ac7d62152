"""Clean a typed question before retrieval: fillers and abandoned starts out, misspelled words matched to the collection.

People type "which pope, no wait, who brought back the abacus" or "who was achiles mom". Retrieval and the
cross-encoder both do better on "who brought back the abacus" and "who was achilles mom": a learned tagger
(disfluency.py) deletes the abandoned words, and a word the collection never uses is replaced by the
collection's nearest word.

What a question abandons may be what it goes on to ask about: in "How many troops does the US have in Iraq, uh, I
mean how many did it have in 2020?" the "it" of what is meant is the US of what was taken back. The words taken out
are kept (Cleaned.abandoned), so that the conversation can be read with them as the turn before (rewrite.py).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..lexicon import EDITING_WORDS, SPEECH_WORDS, STOPWORDS, WORD, english_words
from .disfluency import cut, tokenize

MAX_CORRECTIONS = 10  # a pasted paragraph is not a typo: stop matching after this many unknown words


def correct_spelling(question: str, words: dict[str, int], known_stem=None) -> str:
    """Replace words the collection never uses by its nearest word (1 edit, 2 for long words), keeping case.

    known_stem(word) -> bool tells whether another form of the word occurs (then it is not a misspelling).
    """
    if not words:
        return question
    squashed = _index(words)[2]

    tried = 0

    def fix(m: re.Match) -> str:
        nonlocal tried
        word = m.group(0)
        low = word.lower()
        if low in words or len(low) < 4:
            return word
        plain = unicodedata.normalize("NFKD", low).encode("ascii", "ignore").decode()
        if plain != low and plain in words:  # "Kadhimí" for "Kadhimi"
            return _case(word, plain)
        if low.replace("-", "") in squashed:  # "utf8" for "utf-8"
            return _case(word, squashed[low.replace("-", "")])
        if len(low) < 5 or is_english(low) or (known_stem is not None and known_stem(low)) or tried >= MAX_CORRECTIONS:
            return word
        tried += 1
        best = nearest(low, words)
        return _case(word, best) if best else word

    return WORD.sub(fix, question)


def is_english(word: str) -> bool:
    """A vocabulary word or an inflection of one ("router", "hackers" are not whole BERT words; "rout", "hacker" are)."""
    vocab = english_words()
    if word in vocab:
        return True
    for suffix in ("s", "es", "ed", "d", "er", "ers", "r", "rs", "ing", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and word[:-len(suffix)] in vocab:
            return True
    return False


def nearest(word: str, words: dict[str, int]) -> str | None:
    from rapidfuzz.distance import DamerauLevenshtein
    from rapidfuzz.process import extract

    _, by_length, _, memo = _index(words)
    if word in memo:
        return memo[word]
    limit = 1 if len(word) <= 7 else 2
    bucket = [w for n in range(len(word) - limit, len(word) + limit + 1) for w in by_length.get(n, ())]
    found = extract(word, bucket, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=8)
    # fewest edits first, then the word the collection uses most; same first letter preferred (typos rarely hit it)
    found.sort(key=lambda f: (f[1], f[0][:1] != word[:1], -words[f[0]]))
    memo[word] = found[0][0] if found else None
    return memo[word]


def _case(original: str, word: str) -> str:
    return word[:1].upper() + word[1:] if original[:1].isupper() else word


_groups: dict[int, tuple] = {}


def _index(words: dict[str, int]):
    # one grouping per vocabulary object (the BM25 index swaps its dict when it is rebuilt)
    entry = _groups.get(id(words))
    if entry is None or entry[0] is not words:
        by_length: dict[int, list[str]] = {}
        squashed: dict[str, str] = {}
        for w in words:
            by_length.setdefault(len(w), []).append(w)
            if "-" in w:
                squashed.setdefault(w.replace("-", ""), w)
        _groups.clear()
        entry = _groups[id(words)] = (words, by_length, squashed, {})  # the last: nearest() answers so far
    return entry


@dataclass(frozen=True)
class Cleaned:
    """A typed question as meant (text), and the start it abandoned: the words the tagger took out before its first
    kept word, without the speech words and breaks at their ends ("How many troops does the US have in Iraq" of
    "..., uh, I mean how many did it have in 2020?"); "" when that start names nothing."""

    text: str
    abandoned: str = ""


def abandoned_words(taken: str) -> str:
    """The start a question took back without the fillers and breaks before it and the editing words after it
    ("How many troops does the US have in Iraq" of "How many troops does the US have in Iraq, uh, I mean");
    "" when no word of it names anything (fillers or an opening such as "Hey, quick question" alone)."""
    spans = tokenize(taken)

    def spoken(span: tuple[int, int], at_end: bool) -> bool:
        word = taken[span[0]:span[1]].lower()
        if not word[:1].isalnum() or word in SPEECH_WORDS:
            return True
        return at_end and (word in STOPWORDS or word in EDITING_WORDS)

    while spans and spoken(spans[0], False):
        spans.pop(0)
    while spans and spoken(spans[-1], True):
        spans.pop()
    return taken[spans[0][0]:spans[-1][1]] if spans else ""


def clean_question(question: str, store=None) -> Cleaned:
    """The question without disfluencies, and what it abandoned, their misspelled words matched to the collection
    behind store."""
    text, taken = cut(question)
    abandoned = abandoned_words(taken)
    vocabulary = store.vocabulary if store is not None else None
    words = vocabulary.surface_words() if vocabulary is not None else {}
    if not words:
        return Cleaned(text, abandoned)
    return Cleaned(correct_spelling(text, words, vocabulary.knows),
                   correct_spelling(abandoned, words, vocabulary.knows) if abandoned else "")


def normalize_question(question: str, store=None) -> str:
    """The question without disfluencies, its misspelled words matched to the collection behind store."""
    return clean_question(question, store).text
