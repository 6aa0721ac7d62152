"""Evidence about a candidate answer sentence that the answer-bearing model cannot see: features, not decisions.

The model reads one (question, sentence) pair. It cannot know that a name of the question occurs nowhere in the
collection, that the year the user typed is not near the sentence, or how highly retrieval ranked the passage.
These are measured here and enter only through the fitted combination (calibration.py); no threshold here.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

from ..lexicon import QUESTION_WORDS

NUMBER = re.compile(r"\b\d[\d,.]*\d\b|\b\d\b")
FEATURES = ("logit", "unknown", "off_number", "names_nearby", "coverage", "passage_rank", "follow_up")


def _variant(a: str, b: str) -> bool:
    """'iraq' ~ 'iraqi', 'canada' ~ 'canadian': a shared prefix of all but one letter of the shorter word."""
    common = len(os.path.commonprefix([a, b]))
    return common >= 4 and common >= min(len(a), len(b)) - 1


class Evidence:
    """Term statistics of the collection behind store (its keyword index's vocabulary), asked about one question at
    a time."""

    def __init__(self, store):
        self.store = store

    @property
    def vocabulary(self):
        return self.store.vocabulary if self.store is not None else None

    def stems(self, text: str) -> list[str]:
        return self.vocabulary.stems(text) if self.vocabulary is not None else []

    def specific_terms(self, question: str) -> tuple[list[str], list[str]]:
        """Stemmed terms that pin the answer down: (names and numbers, those plus words rare in the collection)."""
        if self.vocabulary is None:
            return [], []
        stems = [t for t in self.stems(question) if t not in QUESTION_WORDS]
        df, n = self.vocabulary.doc_freq(stems)
        marked = set()
        for k, word in enumerate(re.findall(r"[A-Za-z0-9][\w'-]*", question)):
            if (k > 0 and word[:1].isupper()) or any(ch.isdigit() for ch in word):
                marked.update(self.stems(word))
        rare = max(2, int(0.05 * n))
        names = sorted(t for t in set(stems) if t in marked)
        return names, sorted({t for t in stems if t in marked or df.get(t, 0) <= rare})

    def coverage(self, terms: list[str], text: str) -> float:
        """Share of terms present in text, a term matching a variant of itself."""
        if not terms or self.vocabulary is None:
            return 1.0
        present = set(self.stems(text))
        by_head: dict[str, list[str]] = {}  # a variant shares its first four letters: only those are compared
        for w in present:
            by_head.setdefault(w[:4], []).append(w)
        return sum(t in present or any(_variant(t, w) for w in by_head.get(t[:4], ())) for t in terms) / len(terms)

    def unknown(self, terms: list[str]) -> list[str]:
        if not terms or self.vocabulary is None:
            return []
        df, _ = self.vocabulary.doc_freq(terms)
        return [t for t in terms if df.get(t, 0) == 0]

    def about(self, question: str, query: str, passages: list) -> "QuestionEvidence":
        """What the features need of the question and the passages, measured once a question (not once a round of
        candidates); question: the user's words, cleaned; query: the standalone query (with what a follow-up
        carried over)."""
        names, terms = self.specific_terms(query)
        by_doc: dict[str, str] = {}
        for p in passages:
            by_doc[p.chunk.document_id] = by_doc.get(p.chunk.document_id, "") + " " + p.chunk.text + " " + p.chunk.title
        return QuestionEvidence(unknown=1.0 if self.unknown(names) else 0.0, follow_up=float(query != question),
                                typed_names=self.specific_terms(question)[0], typed_numbers=NUMBER.findall(question),
                                doc_coverage={doc: self.coverage(terms, text) for doc, text in by_doc.items()})

    def rows(self, about: "QuestionEvidence", cands: list) -> list[dict[str, float]]:
        """One feature dict a candidate (its .score is the model's logit)."""
        rows = []
        for c in cands:
            nearby = c.context.replace(",", "")
            off = any(not re.search(rf"(?<![\d.]){re.escape(n.replace(',', ''))}(?![\d]|\.\d)", nearby)
                      for n in about.typed_numbers)
            rows.append({"logit": c.score, "unknown": about.unknown, "off_number": 1.0 if off else 0.0,
                         "names_nearby": self.coverage(about.typed_names, c.context),
                         "coverage": about.doc_coverage.get(c.span.document_id, 0.0),
                         "passage_rank": 1.0 / (1.0 + c.rank), "follow_up": about.follow_up})
        return rows

    def features(self, question: str, query: str, cands: list, passages: list) -> list[dict[str, float]]:
        """rows(about(...), cands) in one call."""
        return self.rows(self.about(question, query, passages), cands)


@dataclass
class QuestionEvidence:
    unknown: float  # 1.0 when a name or number of the query occurs nowhere in the collection
    typed_names: list[str]  # the names and numbers the user typed, stemmed
    typed_numbers: list[str]  # the numbers the user typed, as typed
    doc_coverage: dict[str, float]  # document id -> share of the query's specific terms in its retrieved passages
    follow_up: float = 0.0  # 1.0 when the query carries the subject of an earlier turn (followup.py)


def idf_weights(vocabulary, query: str) -> dict[str, float]:
    """Rarity weight of each content stem of the query (the cheap prior that budgets which sentences are scored)."""
    q = [t for t in set(vocabulary.stems(query)) if t not in QUESTION_WORDS]
    df, n = vocabulary.doc_freq(q)
    return {t: math.log(1 + (n + 1) / (df.get(t, 0) + 1)) for t in q}
