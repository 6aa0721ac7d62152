"""Check any text against sources: which of its sentences the evidence backs, and where.

A reader pastes an answer from elsewhere (another chatbot, a colleague's summary, a draft). Each of its sentences is
judged by the support verifier (onnx_models.SupportModel, trained by training/train_verifier.py) against the
passages given, or, without passages, against the collection's passages found for that sentence. A sentence is
"supported" when some window of some evidence reaches policy.json's sentence_supported; its citations are the
windows that do, as exact offsets into what they came from (a passage given, or a document of the collection).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from ..ingest.chunking import sentence_spans
from ..ingest.metadata import shown_date
from ..schema import Passage, QuestionError, is_text
from . import policy

MAX_TEXT_CHARS = 20_000  # about 3,000 words: a long answer or a short report
MAX_PASSAGES = 20
MAX_PASSAGE_CHARS = 200_000
MAX_SENTENCES = 80
SEARCHED_PASSAGES = 3  # the collection's best passages read for each sentence
CITED_PER_SENTENCE = 3


class CheckError(QuestionError):
    """The text or passages to check cannot be checked (empty, not text, too long): the caller's to fix (400)."""


@dataclass
class CheckedSentence:
    text: str
    start: int  # offsets into the checked text
    end: int
    supported: bool
    probability: float  # the verifier's, for the best evidence window
    citations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Check:
    sentences: list[CheckedSentence]

    def to_dict(self) -> dict[str, Any]:
        supported = sum(s.supported for s in self.sentences)
        return {"sentences": [asdict(s) for s in self.sentences], "supported": supported,
                "unsupported": len(self.sentences) - supported}


def checked_input(text: Any, passages: Any) -> tuple[str, list[str] | None]:
    """The text and passages, or CheckError saying why they cannot be checked."""
    if not isinstance(text, str) or not text.strip():
        raise CheckError("the text to check is empty")
    if not is_text(text):
        raise CheckError("the text to check is not valid text")
    if len(text) > MAX_TEXT_CHARS:
        raise CheckError(f"the text to check is too long ({len(text)} characters; the limit is {MAX_TEXT_CHARS})")
    if passages is None:
        return text, None
    if not isinstance(passages, list) or not all(isinstance(p, str) for p in passages):
        raise CheckError("passages must be a list of strings")
    if not passages:
        raise CheckError("passages is an empty list: leave it out to search the collection")
    if len(passages) > MAX_PASSAGES:
        raise CheckError(f"too many passages ({len(passages)}; the limit is {MAX_PASSAGES})")
    if any(len(p) > MAX_PASSAGE_CHARS or not is_text(p) for p in passages):
        raise CheckError(f"a passage is too long or not valid text (the limit is {MAX_PASSAGE_CHARS} characters)")
    if not any(p.strip() for p in passages):
        raise CheckError("every passage is empty")
    return text, passages


def sentences_of(text: str) -> list[tuple[int, int]]:
    spans = [(a, b) for a, b in sentence_spans(text) if re.search(r"[^\W_]", text[a:b])]
    if len(spans) > MAX_SENTENCES:
        raise CheckError(f"the text has too many sentences ({len(spans)}; the limit is {MAX_SENTENCES})")
    return spans


def judged(sentences: list[str], evidences: list[str]) -> list[list[tuple[float, int, int]]]:
    """For each sentence, for each evidence: the verifier's probability for its best window, and that window's start
    and end in the evidence (every sentence in one batched run of the verifier)."""
    from ..onnx_models import sigmoid, support_model

    return [[(sigmoid(logit), a, b) for logit, (a, b) in best]
            for best in support_model().best_windows_each(sentences, evidences)]


def backing(scores: list[tuple[float, int, int]]) -> list[tuple[float, int, int, int]]:
    """The evidence windows that back a sentence, most probable first: (probability, evidence index, start, end)."""
    return sorted(((p, k, s, e) for k, (p, s, e) in enumerate(scores) if policy.evidence_backs(p)),
                  reverse=True)[:CITED_PER_SENTENCE]


def best_probability(scores: list[tuple[float, int, int]]) -> float:
    return round(max((p for p, _, _ in scores), default=0.0), 4)


def check_passages(text: str, passages: list[str]) -> Check:
    spans = sentences_of(text)
    out = []
    for (a, b), scores in zip(spans, judged([text[a:b] for a, b in spans], passages)):
        cited = backing(scores)
        out.append(CheckedSentence(text[a:b], a, b, bool(cited), best_probability(scores), [
            {"passage": k, "start": s, "end": e, "text": passages[k][s:e], "probability": round(p, 4)}
            for p, k, s, e in cited]))
    return Check(out)


def check_collection(text: str, retrieve: Callable[[str, int], list[Passage]], question: str = "") -> Check:
    out = []
    for a, b in sentences_of(text):
        sentence = text[a:b]
        query = f"{question} {sentence}".strip() if question and len(sentence.split()) < 6 else sentence
        passages = retrieve(query, SEARCHED_PASSAGES)
        scores = judged([sentence], [p.chunk.text for p in passages])[0]
        citations = []
        for p, k, s, e in backing(scores):
            chunk = passages[k].chunk
            citations.append({"document_id": chunk.document_id, "title": chunk.title, "source": chunk.source,
                              "date": chunk.date, "date_shown": shown_date(chunk.date), "url": chunk.url,
                              "start": chunk.start + s, "end": chunk.start + e, "text": chunk.text[s:e],
                              "probability": round(p, 4)})
        out.append(CheckedSentence(sentence, a, b, bool(citations), best_probability(scores), citations))
    return Check(out)
