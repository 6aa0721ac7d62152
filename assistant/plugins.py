"""What a plug-in must be: one Protocol per kind of part, each made by a factory of one signature.

Every kind in registry.Registry is typed with its Protocol here. A plug-in module has a `register(registry)` function
(registry.py) that adds factories by name:

    registry.embedders.add("mine", MyEmbedder)        # MyEmbedder(settings) -> Embedder
    registry.answerers.add("mine", MyAnswerer)        # MyAnswerer(settings) -> Answerer
    registry.rewriters.add("mine", MyRewriter)        # MyRewriter(settings) -> Rewriter
    registry.fusions.add("mine", lambda settings: f)  # -> Fusion

A factory takes the Settings and nothing else; what a part needs at run time comes with each call, or, for
an answerer that reads the collection, through bind(store).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator, Protocol

if TYPE_CHECKING:
    from .answering.drafts import Draft
    from .config import Settings
    from .index.store import Store
    from .schema import Message, Passage

Hits = list[tuple[str, float]]  # (chunk id, score), best first


class Embedder(Protocol):
    """Turns text into vectors for the Chroma collection.

    `name` is stored with the collection (an index built by another embedder is rebuilt, not mixed), `dim` is the
    vectors' length. embed_documents embeds passages as stored; embed_query a question (models with a query
    instruction add it here). Both are called from several threads and must be deterministic."""

    name: str
    dim: int

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class Answerer(Protocol):
    """Turns (the cleaned question, the standalone query, the retrieved passages, the history) into Drafts: raw text
    deltas as they are produced, each finished sentence with the exact spans it rests on (and its calibrated
    probability, if it has one), or one abstain draft saying why it does not answer.

    It decides nothing the verifier decides: the Assistant verifies every sentence against its spans (verify.py,
    policy.py), numbers the citations, and closes the generator when it has enough sentences or the reader left.
    It raises AssistantError for a failure the user should read (a backend down)."""

    name: str
    uses_store: bool  # True: the Assistant calls bind(store) once, before the first answer
    may_fall_back: bool  # True: a failure before anything was shown hands the question to the extractive answerer

    def bind(self, store: "Store") -> None:
        """Give access to the collection (its term statistics); only called when uses_store."""

    def answer(self, question: str, query: str, passages: list["Passage"],
               history: list["Message"]) -> Iterator["Draft"]: ...


class Rewriter(Protocol):
    """Turns a cleaned follow-up question and the earlier turns into a standalone query for retrieval; returns the
    question unchanged when it needs no rewriting (always for a first question). store: the collection, whose
    vocabulary it may read (None without one). Earlier answers are context, never evidence."""

    def __call__(self, question: str, history: Iterable["Message"], store: "Store | None" = None) -> str: ...


class Fusion(Protocol):
    """Combines the dense (Chroma) and keyword (BM25) hits into one score per chunk id, higher is better; a chunk
    in either list may be missing from the other."""

    def __call__(self, dense: Hits, bm25: Hits, settings: "Settings") -> dict[str, float]: ...
