"""Synthetic unanswerable questions: an answerable question changed so that its answer sentence no longer answers it.

SQuAD 2.0's adversarial questions keep the words of a paragraph and change one thing; only ~3k real ones are
available here, so more are made the same way from SQuAD 1.1 questions (training data only; the product never
runs this). Four kinds, each changing something the question shares with its answer sentence:

- swap: a name, number, year or month for another of the same sort from another paragraph of the article;
- neighbour: a name for one from a neighbouring sentence of the same paragraph (a near miss on the page);
- relation: the question's relation word (a content word it shares with the answer sentence) for another word
  of the article with the same last three letters, a rough stand-in for the same part of speech
  ("founded" -> "married"); noisy by design, like the others;
- negation: the question's first auxiliary verb negated ("What did Apple launch" -> "What didn't Apple launch").

The regular expressions here parse surface forms to build training data; the judgement is what the model learns.
"""
from __future__ import annotations

import random
import re

from bm25s.stopwords import STOPWORDS_EN

from training.squad import Article, Paragraph, Question

KINDS = ("swap", "neighbour", "relation", "negation")
KIND_WEIGHTS = (0.4, 0.2, 0.25, 0.15)

NAME = re.compile(r"\b[A-Z][\w'\-]*(?:\s+[A-Z][\w'\-]*)*")
NUMBER = re.compile(r"(?<![\w.,])\d[\d,]*(?:\.\d+)?(?![\w])")
MONTH = re.compile(r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\b")
WORD = re.compile(r"\b[a-z]{5,}\b")
NEGATED = {"is": "isn't", "was": "wasn't", "are": "aren't", "were": "weren't", "did": "didn't", "does": "doesn't",
           "do": "don't", "can": "can't", "could": "couldn't", "has": "hasn't", "have": "haven't", "had": "hadn't",
           "will": "won't", "would": "wouldn't", "should": "shouldn't"}
AUXILIARY = re.compile(rf"\b(?:{'|'.join(NEGATED)})\b")
STOPWORDS = set(STOPWORDS_EN)


def values(*sentences: str) -> dict[str, set[str]]:
    """The swappable things sentences name, by sort: a year swaps only with a year, a month with a month.

    A capitalised first word is no name ("However", "Users"): it is capitalised because it comes first.
    """
    found: dict[str, set[str]] = {"name": set(), "year": set(), "number": set(), "month": set()}
    for text in sentences:
        found["month"] |= set(MONTH.findall(text))
        for m in NAME.finditer(text):
            name = m.group()
            if m.start() > 0 and not MONTH.fullmatch(name) and name.lower() not in STOPWORDS and len(name) > 2:
                found["name"].add(name)
        for n in NUMBER.findall(text):
            found["year" if re.fullmatch(r"1\d{3}|20\d{2}", n) else "number"].add(n)
    return found


def answer_sentences(q: Question, p: Paragraph) -> list[str]:
    return [s for s in p.sentences if any(a in s for a in q.answers)]


def unanswerable_variant(q: Question, p: Paragraph, article: Article, rng: random.Random
                         ) -> Question | None:
    """The question changed by one of KINDS (chosen at random, falling back to the others), or None."""
    answer = answer_sentences(q, p)
    if not answer:
        return None
    kinds = list(KINDS)
    order = []
    weights = list(KIND_WEIGHTS)
    while kinds:  # a weighted order without replacement
        k = rng.choices(range(len(kinds)), weights)[0]
        order.append(kinds.pop(k))
        weights.pop(k)
    for kind in order:
        made = MAKERS[kind](q, p, article, answer[0], rng)
        if made:
            text, mentions = made
            return Question(text, [], list(q.answers), kind, mentions)
    return None


def _replace(question: str, old: str, new: str) -> str:
    return re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", new, question, count=1)


def _shared(q: Question, sentence: str) -> dict[str, list[str]]:
    """What the question names that the answer sentence also names (and that is not the answer itself)."""
    asked, said = values(q.text), values(sentence)
    return {sort: sorted(v for v in asked[sort] & said[sort] if not any(v in a for a in q.answers))
            for sort in asked}


def swap(q, p, article, sentence, rng):
    here = values(*p.sentences)
    elsewhere = values(*(s for other in article.paragraphs if other is not p for s in other.sentences))
    options = [(v, sort) for sort, vs in _shared(q, sentence).items() for v in vs
               if elsewhere[sort] - here[sort]]
    if not options:
        return None
    old, sort = rng.choice(options)
    new = rng.choice(sorted(elsewhere[sort] - here[sort]))
    return _replace(q.text, old, new), [new]


def neighbour(q, p, article, sentence, rng):
    names = _shared(q, sentence)["name"]
    nearby = sorted({n for s in p.sentences if s is not sentence for n in values(s)["name"]}
                    - values(sentence)["name"] - values(q.text)["name"])
    if not names or not nearby:
        return None
    new = rng.choice(nearby)
    return _replace(q.text, rng.choice(names), new), [new]


def relation(q, p, article, sentence, rng):
    said = set(WORD.findall(sentence))
    asked = [w for w in WORD.findall(q.text) if w in said and w not in STOPWORDS
             and not any(w in a for a in q.answers)]
    if not asked:
        return None
    old = rng.choice(asked)
    here = set(WORD.findall(p.context))
    words = sorted({w for other in article.paragraphs if other is not p for w in WORD.findall(other.context)
                    if w[-3:] == old[-3:] and w not in here and w not in STOPWORDS})
    if not words:
        return None
    new = rng.choice(words)
    return _replace(q.text, old, new), [new]


def negation(q, p, article, sentence, rng):
    if re.search(r"\bnot\b|n't\b|\bnever\b", q.text):
        return None
    m = AUXILIARY.search(q.text)
    if not m:
        return None
    return q.text[:m.start()] + NEGATED[m.group()] + q.text[m.end():], []


MAKERS = {"swap": swap, "neighbour": neighbour, "relation": relation, "negation": negation}
