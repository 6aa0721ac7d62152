"""The few types every part of the assistant speaks (see DESIGN.md)."""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Iterable

from .ingest.metadata import shown_date


@dataclass
class Document:
    id: str
    source: str  # path relative to the ingested root (or the uploaded file name)
    title: str
    sha256: str
    text: str  # extracted text: every offset points into it
    root: str = ""  # absolute folder it was ingested from ("" for single files and uploads)
    ingested_at: str = ""
    pages: list[int] = field(default_factory=list)  # PDF: start offset of each page in text
    chunks: int = 0
    date: str = ""  # partial ISO date ("2020", "2020-09", "2020-09-14"): a metadata file's, else the file's own
    url: str = ""  # the original's http(s) address, "" when unknown
    # what the file itself says (title, date, url), kept so that a metadata file's row can be dropped again
    own: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The name a reader sees: the title, else the file name."""
        return self.title or self.source

    def page_at(self, offset: int) -> int | None:
        """1-based PDF page holding this offset, None for other formats."""
        if not self.pages:
            return None
        page = 1
        for n, start in enumerate(self.pages, 1):
            if start <= offset:
                page = n
        return page

    def summary(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("text")
        d.pop("pages")
        d.pop("own")
        d["date_shown"] = shown_date(self.date)
        return d


@dataclass
class Chunk:
    id: str
    document_id: str
    start: int
    end: int
    text: str  # == document.text[start:end]
    tokens: int
    source: str = ""
    title: str = ""
    page: int | None = None
    date: str = ""  # its document's (partial ISO)
    url: str = ""
    # the sentences as (start, end) within text, found at ingest (None: an index from before they were kept)
    sentences: list[tuple[int, int]] | None = None


@dataclass
class Passage:
    """A retrieved chunk with the scores that put it where it is."""

    chunk: Chunk
    score: float = 0.0  # the final ranking score
    dense: float | None = None
    bm25: float | None = None
    fused: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self.chunk)
        d.pop("sentences")  # an ingest-time detail of the chunk, not part of what a passage shows
        d.update(
            score=self.score, dense=self.dense, bm25=self.bm25, fused=self.fused,
            dense_rank=self.dense_rank, bm25_rank=self.bm25_rank,
        )
        return d


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
    date: str = ""  # its document's date, partial ISO ("2020-09"); "" when unknown
    url: str = ""  # its document's http(s) original, "" when unknown

    @classmethod
    def within(cls, chunk: Chunk, start: int, end: int) -> "Span":
        """A span given in document offsets inside chunk."""
        return cls(chunk.document_id, chunk.source, chunk.id, start, end,
                   chunk.text[start - chunk.start:end - chunk.start], chunk.title, chunk.page, chunk.date, chunk.url)


@dataclass
class Citation(Span):
    """A cited span and the marker its sentences show ([1], [2], ... in order of first use)."""

    marker: int = field(kw_only=True)

    @classmethod
    def of(cls, span: Span, marker: int, page: int | None = None) -> "Citation":
        """span cited as [marker] (page: the page it starts on, when it lies past its chunk's first page)."""
        return cls(**{**{f: getattr(span, f) for f in Span.__dataclass_fields__}, "page": page}, marker=marker)

    def to_dict(self) -> dict[str, Any]:
        d = {"marker": self.marker} | {f: getattr(self, f) for f in Span.__dataclass_fields__}
        d["document"] = d["document_id"]
        d["date_shown"] = shown_date(self.date)
        return d


@dataclass
class Sentence:
    text: str  # shown text, with its markers
    citations: list[int]  # markers
    support: float = 0.0  # 0..1: a quote's calibrated probability of answering; else how well its spans back it
    # supported | uncertain (the model doubts it answers the question) | weak (its spans only partly back it) |
    # abstain; "supported" only when the model's probability is at or above the fitted threshold (verify.py)
    verdict: str = "supported"
    probability: float | None = None  # the answer-bearing model's probability that it answers the question
    values: list[str] = field(default_factory=list)  # the values it gives for what was asked, when sources disagree

    def verdict_words(self) -> str:
        """The verdict in plain words, as the chat, the widget and the CLI show it ("" for an abstention)."""
        p = f" (p {shown_probability(self.probability)})" if self.probability is not None else ""
        if self.verdict == "supported":
            return f"likely answers{p}"
        if self.verdict == "uncertain":
            return f"may not answer the question{p}"
        if self.verdict == "weak":
            return f"only partly backed by its source (support {self.support:.2f})"
        return ""

    @property
    def body(self) -> str:
        """The text without its citation markers: the words to render as text. A "[2]" quoted from an article
        stays in here as text; only `citations` are markers (they end `text`)."""
        suffix = "".join(f"[{m}]" for m in self.citations)
        if suffix and self.text.endswith(suffix):
            return self.text[:-len(suffix)].rstrip()
        return self.text

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "body": self.body, "verdict_words": self.verdict_words()}


def shown_probability(p: float) -> str:
    """Two decimals, rounded down: a doubted 0.9996 under a threshold of 0.9997 does not read as a sure "1.00"."""
    return f"{math.floor(p * 100) / 100:.2f}"


@dataclass
class Answer:
    question: str
    sentences: list[Sentence] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    rewritten_query: str = ""
    passages: list[Passage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    answerer: str = ""
    notice: str = ""  # e.g. "LLM server unreachable; answered extractively"
    complete: bool = True  # False when the answerer broke off mid-answer (never cached)
    confidence: float | None = None  # the answerer's score of its best shown sentence (of its abstention), 0..1
    # when its sources give different values for what was asked: one entry per source, newest first, each
    # {"values", "marker", "document_id", "source", "title", "date", "date_shown", "url"} (answer.disagreement)
    disagreement: list[dict[str, Any]] = field(default_factory=list)
    as_of: str = ""  # the newest date of its cited sources, when they span time (partial ISO)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)

    @classmethod
    def from_dict(cls, data: dict[str, Any], question: str) -> "Answer":
        """An Answer read back from to_dict()'s JSON (an API answer, a kept conversation); unknown keys are ignored."""
        passages = []
        for ctx in data.get("contexts") or []:
            chunk = Chunk(**_known(Chunk, ctx))
            passages.append(Passage(chunk, **{k: ctx.get(k) for k in ("dense", "bm25", "fused")},
                                    score=ctx.get("score") or 0.0))
        return cls(
            question=question,
            sentences=[Sentence(**_known(Sentence, s)) for s in data.get("sentences") or []],
            citations=[Citation(**_known(Citation, c)) for c in data.get("citations") or []],
            abstained=bool(data.get("abstained")),
            rewritten_query=str(data.get("rewritten_query") or ""),
            passages=passages,
            timings=dict(data.get("timings") or {}),
            answerer=str(data.get("answerer") or ""),
            notice=str(data.get("notice") or ""),
            confidence=data.get("confidence"),
            disagreement=list(data.get("disagreement") or []),
            as_of=str(data.get("as_of") or ""),
        )

    def citation_dicts(self) -> list[dict[str, Any]]:
        """Each citation with the verdict, support and probability of the least sure sentence that cites it: a
        citation is "supported" only when every sentence resting on it is."""
        out = []
        for c in self.citations:
            citing = sorted((s for s in self.sentences if c.marker in s.citations), key=lambda s: s.verdict == "supported")
            d = c.to_dict()
            d["verdict"] = citing[0].verdict if citing else ""
            d["support"] = citing[0].support if citing else 0.0
            d["probability"] = citing[0].probability if citing else None
            out.append(d)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The answer as `ask --json` prints it and /api/ask sends it."""
        return {
            "answer": self.text,
            "abstained": self.abstained,
            "sentences": [s.to_dict() for s in self.sentences],
            "citations": self.citation_dicts(),
            "contexts": [
                {"source": p.chunk.source, "text": p.chunk.text, **{k: v for k, v in p.to_dict().items() if k not in ("text", "source")}}
                for p in self.passages
            ],
            "rewritten_query": self.rewritten_query,
            "answerer": self.answerer,
            "notice": self.notice,
            "confidence": self.confidence,
            "disagreement": self.disagreement,
            "as_of": self.as_of,
            "timings": self.timings,
        }


# -- the events of an answer as it forms (Assistant.stream) ------------------------------------------
@dataclass
class QueryEvent:
    """First: the standalone query the question was rewritten to."""

    rewritten_query: str


@dataclass
class DeltaEvent:
    """Raw text as the answerer produces it (not yet verified: a sentence may still be dropped)."""

    text: str


@dataclass
class SentenceEvent:
    """A sentence once complete and verified, with the citations it introduces."""

    sentence: Sentence
    citations: list[Citation]


@dataclass
class DoneEvent:
    """Last: the whole answer."""

    answer: Answer


StreamEvent = QueryEvent | DeltaEvent | SentenceEvent | DoneEvent


@dataclass
class Message:
    """One turn of a conversation, oldest first in a history: a user's question or the assistant's reply (with the
    Answer it showed, when the reply came from this assistant; the follow-up rewriter reads it)."""

    role: str  # "user" | "assistant"
    content: str
    answer: Answer | None = None

    @classmethod
    def of(cls, item: "Message | dict[str, Any]") -> "Message":
        """A Message from a Message or from an OpenAI-style {"role", "content"} dict (API and UI requests)."""
        if isinstance(item, Message):
            return item
        return cls(role=str(item.get("role", "")), content=str(item.get("content") or ""), answer=item.get("answer"))

    @staticmethod
    def exchange(question: str, answer: Answer) -> list["Message"]:
        """The two messages one ask adds to a history."""
        return [Message("user", question), Message("assistant", answer.text, answer)]


def messages(history: "Iterable[Message | dict[str, Any]] | None") -> list[Message]:
    return [Message.of(m) for m in history or ()]


def is_text(value: str) -> bool:
    """Whether value can be written as UTF-8: JSON may carry a lone surrogate ("\\ud800"), which no tokenizer,
    index or response encoder takes."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class AssistantError(Exception):
    """An error with a one-line reason meant for the user."""


class QuestionError(AssistantError):
    """The question itself cannot be asked (empty, no words, not text, too long): the asker's to fix."""


def check_question(question: str | None, max_chars: int) -> str:
    """The question stripped, or QuestionError saying why it cannot be asked; every front end asks through this."""
    question = (question or "").strip()
    if not question:
        raise QuestionError("the question is empty")
    if not re.search(r"[^\W_]", question):
        raise QuestionError("the question has no words")
    if not is_text(question):
        raise QuestionError("the question is not valid text (it holds a lone UTF-16 surrogate)")
    if len(question) > max_chars:
        raise QuestionError(f"the question is too long ({len(question)} characters; the limit is {max_chars})")
    return question


class ConfigError(AssistantError):
    """A setting (flag or environment variable) with a value it cannot take; the command line exits 2."""


def _known(cls, data: dict) -> dict:
    """The keys of data that the dataclass cls takes (JSON carries extras such as "body" or "date_shown")."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}
