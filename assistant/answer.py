"""Answerers behind one interface, registered by name; the embedded extractive default goes through the same registry.

An answerer turns (question, standalone query, passages, history) into a stream of Drafts: raw text deltas as
they are produced, then each finished sentence with the exact spans it rests on. The Assistant verifies each
sentence against its spans and numbers the citations.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol

from .config import Settings
from .schema import AssistantError, Chunk, Passage


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

    @classmethod
    def within(cls, chunk: Chunk, start: int, end: int) -> "Span":
        """A span given in document offsets inside chunk."""
        return cls(chunk.document_id, chunk.source, chunk.id, start, end,
                   chunk.text[start - chunk.start:end - chunk.start], chunk.title, chunk.page)


@dataclass
class Draft:
    kind: str  # "delta" | "sentence" | "abstain"
    text: str = ""
    spans: list[Span] = field(default_factory=list)
    score: float | None = None  # the answerer's calibrated probability that it answers the question, if it has one


class Answerer(Protocol):
    name: str

    def answer(self, question: str, query: str, passages: list[Passage], history: list[dict]) -> Iterator[Draft]: ...


ANSWERERS: dict[str, Callable[[Settings], Answerer]] = {}


def register(name: str):
    def wrap(factory):
        ANSWERERS[name] = factory
        return factory
    return wrap


def get_answerer(name: str, settings: Settings) -> Answerer:
    # importing the modules registers their answerers
    from . import extractive, llm  # noqa: F401

    try:
        return ANSWERERS[name](settings)
    except KeyError:
        raise AssistantError(f"unknown answerer {name!r}; choose one of {', '.join(ANSWERERS)}") from None
