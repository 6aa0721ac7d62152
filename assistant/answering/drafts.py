"""What an answerer produces: Drafts resting on Spans (the answerer's contract is plugins.Answerer; answerers are
found by name in registry.registry.answerers, the built-in ones registered like any plugin).

An answerer turns (the cleaned question, standalone query, passages, history) into a stream of Drafts: raw text deltas as
they are produced, then each finished sentence with the exact spans it rests on. The Assistant verifies each
sentence against its spans and numbers the citations.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..schema import Span  # noqa: F401  (a Draft rests on Spans: answerers import both from here)


@dataclass
class Draft:
    kind: str  # "delta" | "sentence" | "abstain"
    text: str = ""
    spans: list[Span] = field(default_factory=list)
    score: float | None = None  # the answerer's calibrated probability that it answers the question, if it has one
    values: list[str] = field(default_factory=list)  # the values it gives for what was asked, when sources disagree
