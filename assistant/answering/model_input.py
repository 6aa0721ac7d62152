"""How the answer-bearing model reads a sentence or a span: after its document's title when the title names a
subject, its first pronoun resolved. Shared by the extractive answerer (which scores sentences) and the verifier
(which scores cited spans), so both read text the same way.
"""
from __future__ import annotations

import re

from ..question.rewrite import find_person


def resolve_pronoun(sentence: str, before: list[str], title: str) -> str:
    """The sentence with its first he/she (or a leading "It") replaced by the person or subject it refers to.

    The cross-encoder cannot tell that "he said" in a quote is the general named a sentence earlier, so the
    sentence that answers "what did McKenzie say" scores below one that merely names him.
    """
    m = re.search(r"\b([Hh]e|[Ss]he)\b", sentence)
    if m:
        person = next((p for p in map(find_person, reversed(before)) if p), None)
        if person is None and names_a_subject(title) and len(title.split()) <= 4 and all(w[:1].isupper() for w in title.split()):
            person = title  # a biography's pronouns are mostly its subject's
        return sentence[:m.start()] + person + sentence[m.end():] if person else sentence
    m = re.match(r"(It|Its)\b", sentence)
    if m and title and len(title.split()) <= 4 and title.lower() in " ".join(before).lower():
        return title + ("'s" if m.group(1) == "Its" else "") + sentence[m.end():]
    return sentence


def titled(sentence: str, title: str) -> str:
    """The sentence as scored: after its document's title, which says what "the company" or "the war" is.

    Measured on three question sets: the right sentence ranks first 129 times of 144 with the title, 121 without.
    """
    return f"{title.strip()}. {sentence}" if names_a_subject(title) else sentence


def names_a_subject(title: str) -> bool:
    """A short title names what the document is about ("Aardwolf", "Apollo 8"); a headline or the opening words
    of a text (long, cut with "…") or a byline does not, and in front of a sentence it only adds noise."""
    title = title.strip()
    return 0 < len(title.split()) <= 6 and not title.endswith("…") and not re.match(r"(?i)(via|by|from)\s", title)
