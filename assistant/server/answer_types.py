"""The JSON shapes of an answer and a document (`assistant ask --json`, /api/ask, the chat page's API) as TypedDicts,
so that typed clients see them: Gradio derives its API description from these hints, and gradio_client's
view_api() shows every field with its type."""
from __future__ import annotations

from typing import Any, Literal, TypedDict


class Turn(TypedDict):
    """One earlier message of the conversation, oldest first."""

    role: Literal["user", "assistant"]
    content: str


class CitationJSON(TypedDict):
    marker: int  # the [n] in the sentences' text
    document_id: str
    document: str  # the same id, under its older name
    source: str  # the file, relative to the folder it was ingested from
    title: str
    chunk_id: str
    start: int  # text == the document's text[start:end]
    end: int
    text: str
    page: int | None  # a PDF's page


class SentenceJSON(TypedDict):
    text: str  # with its [n] markers
    body: str  # without them: render this as text, the markers from citations
    citations: list[int]
    support: float
    verdict: Literal["supported", "uncertain", "weak", "abstain"]
    verdict_words: str
    probability: float | None


class AnswerJSON(TypedDict):
    answer: str
    abstained: bool
    sentences: list[SentenceJSON]
    citations: list[CitationJSON]
    contexts: list[dict[str, Any]]  # the retrieved passages with their scores
    rewritten_query: str
    answerer: str
    notice: str
    confidence: float | None
    timings: dict[str, float]


class DocumentJSON(TypedDict):
    id: str
    source: str
    title: str
    sha256: str
    root: str
    ingested_at: str
    chunks: int
    text: str  # every citation's start/end index into it
    pages: list[int]  # a PDF's page start offsets
