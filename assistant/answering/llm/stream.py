"""Parsing a streamed answer: the citation-id markers, sentences as they complete, deltas with the ids taken out."""
from __future__ import annotations

import re
from typing import Iterator

from ...ingest.chunking import sentence_spans


_MARKER = r"\[\s*S?\s*\d+\s*(?:[,;]\s*S?\s*\d+\s*)*\]|\(\s*S\s*\d+\s*(?:[,;]\s*S\s*\d+\s*)*\)"
MARKER_RE = re.compile(_MARKER, re.IGNORECASE)
MARKER_RUN_RE = re.compile(rf"(?:\s*(?:{_MARKER}))*", re.IGNORECASE)
SPACED_MARKER_RE = re.compile(rf"[ \t]*(?:{_MARKER})", re.IGNORECASE)
ABSTAIN_RE = re.compile(
    r"\b(?:do|does|did)\s*(?:not|n't)\s+(?:contain|include|provide|mention|say|answer|state)\b"
    r"|\bno (?:information|answer|mention)\b|\bnot (?:mentioned|stated|provided)\b",
    re.IGNORECASE,
)
LEAD_RE = re.compile(r"^\s*(?:answer\s*:|[-*•]\s+|\d+[.)]\s+)+", re.IGNORECASE)


def _chunks(stream, parser: "SentenceParser") -> Iterator[str | None]:
    """The text pieces of a chat completion stream, then None at its end."""
    for event in stream:
        for choice in getattr(event, "choices", None) or []:
            piece = getattr(choice.delta, "content", None) if choice.delta else None
            if piece:
                parser.feed(piece)
                yield piece
    yield None


def clean(raw: str) -> str:
    """An answer sentence as shown: ids, list bullets and 'Answer:' taken off, spacing tidied."""
    text = SPACED_MARKER_RE.sub("", raw)
    text = LEAD_RE.sub("", text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def _plain_words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


class SentenceParser:
    """Cut streamed text into sentences, each with the ids written after it, as soon as each is complete.

    A sentence is complete when the next one has begun: its ids may come after its full stop ("... 2018. [S4]"),
    so the cut falls after the run of ids that follows it.
    """

    def __init__(self):
        self.text = ""
        self.done = 0  # text[:done] has been handed out

    def feed(self, piece: str) -> None:
        self.text += piece

    @property
    def usable(self) -> bool:
        return bool(re.search(r"[A-Za-z]{2}", clean(self.text)))

    def sentences(self, final: bool = False) -> list[str]:
        out: list[str] = []
        while True:
            rest = self.text[self.done:]
            spans = sentence_spans(rest)
            if not spans or (len(spans) == 1 and not final):
                break
            if len(spans) == 1:
                out.append(rest[spans[0][0]:])
                self.done = len(self.text)
                break
            cut = MARKER_RUN_RE.match(rest, spans[0][1]).end()
            if not final and not _begun(rest[cut:]):
                break
            out.append(rest[spans[0][0]:cut])
            self.done += cut
        return [s for s in out if s.strip()]


def _begun(following: str) -> bool:
    """Has a new sentence begun in this text (rather than more ids, perhaps still arriving)?"""
    m = re.match(r"\s*(\S)", following)
    if not m:
        return False
    if m.group(1) in "[(" and not re.search(r"[\])]", following):
        return False  # maybe an id still arriving
    # the next word must be whole: Punkt reads "U.S. A" as two sentences and "U.S. Army" as one
    return bool(re.match(r"\s*\S+\s", following))


class DeltaFilter:
    """Take [S#] ids out of streamed text without cutting one that arrives in pieces."""

    def __init__(self):
        self.pending = ""

    def feed(self, piece: str) -> str:
        self.pending += piece
        hold = len(self.pending)
        # keep back an unclosed bracket (maybe an id still arriving) and trailing spaces (maybe before an id)
        opening = max(self.pending.rfind("["), self.pending.rfind("("))
        if opening >= 0 and not re.search(r"[\]\)]", self.pending[opening:]) and len(self.pending) - opening <= 16:
            hold = opening
        head = self.pending[:hold]
        stripped = head.rstrip(" \t")
        hold = len(stripped)
        out = SPACED_MARKER_RE.sub("", self.pending[:hold])
        self.pending = self.pending[hold:]
        return out

    def flush(self) -> str:
        out, self.pending = SPACED_MARKER_RE.sub("", self.pending), ""
        return out
