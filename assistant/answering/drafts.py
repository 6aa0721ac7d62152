"""What an answerer produces (Drafts resting on Spans) and the interface every answerer has; they are found by name in
registry.registry.answerers, the built-in ones registered like any plugin.

An answerer turns (the cleaned question, standalone query, passages, history) into a stream of Drafts: raw text deltas as
they are produced, then each finished sentence with the exact spans it rests on. The Assistant verifies each
sentence against its spans and numbers the citations.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Protocol

from ..schema import Chunk, Message, Passage


@dataclass
class Span:
    """A stretch of a document's text: text == document.text[start:end]."""

    document_id: str
    source: str
    chunk_id: str
    start: int
    end: int
    text: str
    title: str = ""
    page: int | None = None
    date: str = ""  # the document's (partial ISO)
    url: str = ""

    @classmethod
    def within(cls, chunk: Chunk, start: int, end: int) -> "Span":
        """A span given in document offsets inside chunk."""
        return cls(chunk.document_id, chunk.source, chunk.id, start, end,
                   chunk.text[start - chunk.start:end - chunk.start], chunk.title, chunk.page, chunk.date, chunk.url)


@dataclass
class Draft:
    kind: str  # "delta" | "sentence" | "abstain"
    text: str = ""
    spans: list[Span] = field(default_factory=list)
    score: float | None = None  # the answerer's calibrated probability that it answers the question, if it has one
    values: list[str] = field(default_factory=list)  # the values it gives for what was asked, when sources disagree


class Answerer(Protocol):
    name: str
    uses_store: bool  # the Assistant calls bind(store) once before the first answer
    may_fall_back: bool  # a failure before anything was shown hands the question to the fallback answerer

    def answer(self, question: str, query: str, passages: list[Passage], history: list[Message]) -> Iterator[Draft]: ...
