"""Training pairs for the follow-up model: (previous question, question, does it lean on the previous turn?).

Made from SQuAD 1.1 paragraphs, whose questions come a handful a paragraph and share a subject (rules are fine
here: they generate data, the product's judgement is the model trained on it):
- a paragraph's questions in order; a later question that repeats the subject of the one before (the article's
  title, or a name both share) is rewritten as people ask it in a chat: the subject becomes a pronoun ("When was
  he born?", "What is its capital?", "Who lived there?"), is dropped ("And in 1990?", "What about the army?"), or
  the question becomes a bare "Why?" / "When was that?"  -> label 1;
- the same question left as it was (it names its subject itself)                                -> label 0;
- a question of another article after it (a change of topic)                                      -> label 0.
Articles of training/heldout_articles.txt are kept for reporting (split="report").
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

from training.pairs import read_heldout
from training.squad import Article, read_articles

PRONOUNS = {"person": ("he", "she", "they"), "thing": ("it", "it", "it", "they")}
POSSESSIVES = {"he": "his", "she": "her", "they": "their", "it": "its", "this": "its", "that": "its"}
OPENERS = ("And ", "And what about ", "What about ", "How about ", "Also, ", "So ", "Ok, and ", "")
BARE = ("What about the second one?", "And the first one?", "Tell me more about the last one.", "Which of them is older?",
        "Was anyone hurt?", "How many were there?", "Is that still true?", "What was the reason?", "Who was involved?",
        "Why?", "When was that?", "Where was that?", "How?", "Who did that?", "Tell me more.", "What happened next?",
        "And then?", "Why is that?", "How so?", "Anything else?", "What else?", "Since when?", "Who else?")
PERSON_HINT = re.compile(r"\b(he|she|his|her|him)\b", re.I)
INTERNAL_PRONOUN = re.compile(r"\b(he|she|it|its|his|her|they|their|there)\b", re.I)
ROLE = re.compile(r"\b(?:is|was|are|were)\s+(?:an?|the)\s+(?:[\w-]+\s+){0,3}?([a-z]{3,})(?=[\s,.;]+(?:in|of|on|at|that|which|who|and|located|from|with|by|,|\.))")


def description_of(article: Article) -> str | None:
    """What the article's first sentence says its subject is ("Aruba is an island in ..." -> "the island")."""
    first = article.paragraphs[0].sentences[0] if article.paragraphs and article.paragraphs[0].sentences else ""
    m = ROLE.search(first[:200])
    return f"the {m.group(1)}" if m else None


@dataclass
class Example:
    previous: str
    question: str
    depends: int
    kind: str  # pronoun | dropped | elliptical | bare | self_contained | topic_change
    standalone: str


def subject_of(article: Article, previous: str, question: str) -> str | None:
    """The subject two consecutive questions share: the title (or its head word), else a name both use."""
    title = article.title
    candidates = [title]
    names = re.findall(r"(?<!^)(?<![.?!] )\b([A-Z][\w'-]+(?:\s+(?:of\s+|de\s+)?[A-Z][\w'-]+)*)", question)
    candidates += sorted(names, key=len, reverse=True)
    for s in candidates:
        whole = re.compile(rf"(?<![\w-]){re.escape(s)}(?![\w-])")
        if len(s) > 2 and whole.search(question) and whole.search(previous):
            return s
    return None


def pronoun_for(article: Article, rng: random.Random) -> str:
    text = " ".join(p.context for p in article.paragraphs[:3])
    person = len(PERSON_HINT.findall(text)) > 6 and len(article.title.split()) <= 4
    return rng.choice(PRONOUNS["person" if person else "thing"])


def replace_subject(question: str, subject: str, pronoun: str) -> str | None:
    """The question with its subject said as a pronoun, grammatically enough for a chat ("the X's" -> "its")."""
    pattern = re.compile(rf"(?:\b[Tt]he\s+)?(?<![\w-]){re.escape(subject)}(?![\w-])(['’]s?)?")
    m = pattern.search(question)
    if m is None:
        return None
    if re.search(r"[A-Z][\w'-]*\s+$", question[:m.start()][-30:]) and m.start() > 0 or \
            re.match(r"\s+(?:[A-Z]|\d)", question[m.end():]):
        return None  # part of a longer name: "the 51st State" is no "it"
    word = POSSESSIVES[pronoun] if m.group(1) else pronoun
    before = question[:m.start()]
    if re.search(r"\b(?:in|at|to|from)\s+$", before) and not m.group(1) and pronoun in ("it", "this", "that"):
        before, word = re.sub(r"\b(?:in|at|to|from)\s+$", "", before), "there"
    object_position = bool(re.search(r"\b(?:by|for|with|about|of|against|on|between|before|after|than|to|from|at|in|into|over|under|like|and|or)\s+$", before))
    if object_position and word in ("he", "she", "they"):
        word = {"he": "him", "she": "her", "they": "them"}[word]
    out = before + word + question[m.end():]
    return out[:1].upper() + out[1:] if m.start() == 0 else out


def replace_description(question: str, subject: str, description: str) -> str | None:
    """The question with its subject said as "the island", "the company" (the article's own word for it)."""
    m = re.search(rf"(?:\b[Tt]he\s+)?(?<![\w-]){re.escape(subject)}(?![\w-])(['’]s?)?", question)
    if m is None:
        return None
    out = question[:m.start()] + description + (m.group(1) or "") + question[m.end():]
    return out[:1].upper() + out[1:]


def elliptical(previous: str, question: str, rng: random.Random) -> str | None:
    """"What about X?" / "And in 1990?": what the question adds, when it differs from the previous one in one thing."""
    numbers = re.findall(r"\b\d{3,4}\b", question)
    if numbers and not any(n in previous for n in numbers):
        return rng.choice(("And in ", "What about in ", "How about ")) + numbers[0] + "?"
    own = [w for w in re.findall(r"\b[A-Z][\w'-]+\b", question[1:]) if w not in previous]
    if len(own) == 1:
        return rng.choice(OPENERS[:5]) + own[0] + "?"
    return None


def paragraph_examples(article: Article, others: list[Article], rng: random.Random) -> list[Example]:
    """Consecutive questions of each paragraph, made into chat turns. A question that shares no subject with the one
    before and is left as it was is not used: SQuAD has vague ones ("What was under scrutiny?") that would teach
    the model that a question without a subject stands alone."""
    out: list[Example] = []
    for p in article.paragraphs:
        qs = [q.text.strip() for q in p.questions if q.answers]
        for prev, q in zip(qs, qs[1:]):
            subject = subject_of(article, prev, q)
            roll = rng.random()
            if subject:
                rewritten = replace_subject(q, subject, pronoun_for(article, rng)) if roll < 0.6 else None
                description = description_of(article) if subject == article.title else None
                if rewritten and description and rng.random() < 0.35:
                    rewritten = replace_description(q, subject, description)
                if rewritten and rewritten != q:
                    if rng.random() < 0.2:
                        rewritten = rng.choice(OPENERS) + rewritten[:1].lower() + rewritten[1:]
                    out.append(Example(prev, rewritten, 1, "pronoun", q))
                else:
                    out.append(Example(prev, q, 0, "self_contained", q))
                continue
            short = elliptical(prev, q, rng) if roll < 0.35 else None
            if short:
                out.append(Example(prev, short, 1, "elliptical", q))
            elif roll < 0.42:
                out.append(Example(prev, rng.choice(BARE), 1, "bare", prev))
            else:
                other = rng.choice(others)
                answerable = [x.text.strip() for x in rng.choice(other.paragraphs).questions if x.answers]
                # a self-contained question may hold a pronoun of its own ("...and where was it found?")
                inner = [x for x in answerable if INTERNAL_PRONOUN.search(x) and other.title in x]
                if answerable and other.title != article.title:
                    new = rng.choice(inner if inner and rng.random() < 0.5 else answerable)
                    out.append(Example(prev, new, 0, "topic_change", new))
    return out


def examples(split: str = "train", limit_articles: int = 0, seed: int = 0) -> list[Example]:
    """Examples of the training articles (split="train") or of the held-out ones (split="report")."""
    heldout = read_heldout()
    keep = (lambda t: t not in heldout) if split == "train" else (lambda t: t in heldout)
    articles = read_articles(keep=keep)
    articles.sort(key=lambda a: a.title)
    if limit_articles:
        articles = articles[:limit_articles]
    rng = random.Random(seed)
    out: list[Example] = []
    for article in articles:
        out += paragraph_examples(article, articles, rng)
    return out
