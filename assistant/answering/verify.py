"""Check each answer sentence against the spans it cites, and say how sure the answer-bearing model is that it
answers the question.

Every answerer's sentences go through verify_sentence. The verdict a user sees comes from the answer-bearing
model's probability that the sentence answers the question: "supported" only at or above a threshold fitted on the
tuning half of the bench questions (policy.py, which holds every threshold), "uncertain" below it. An answerer with
its own calibrated probability (the extractive one, which quotes) gives it in Draft.score. Otherwise (the LLM's
sentences) each cited span is scored against the question: a span that does not bear on it is no citation, and a
sentence left with none is refused. A reworded sentence must keep its spans' numbers (a parsing check: a number in
no span is named and the sentence refused); whether its spans back everything else it says is judged by the trained
support verifier (onnx_models.SupportModel, training/train_verifier.py): below policy.json's sentence_supported it is
shown marked "weak".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..config import Settings
from .model_input import titled
from . import policy

NUMBER = re.compile(r"\d[\d,.]*\d|\d")


@dataclass
class Verdict:
    support: float  # 0..1: the answerer's probability for its quotes; else how well the spans back the wording
    verdict: str  # supported | uncertain (the model doubts it answers) | weak (spans partly back it) | unsupported
    missing: list[str] = field(default_factory=list)  # what the sentence says that its spans do not
    probability: float | None = None  # the model's probability that it answers the question (None: not judged)
    spans: list = field(default_factory=list)  # the cited spans that bear on the question: its citations


def verify_sentence(draft, settings: Settings, question: str = "") -> Verdict:
    """The verdict on one answer sentence (a Draft with its spans); question: what it must answer, whose words it
    may also use (without one, the spans are not judged against it and only the wording counts)."""
    if not draft.spans:
        return Verdict(0.0, "unsupported", ["a citation"])
    if draft.score is not None:  # the answerer's own calibrated probability of this sentence
        probability, spans, confident = draft.score, list(draft.spans), policy.quote_supported(draft.score)
    else:
        probability, spans = bearing_spans(question, draft.spans)
        if not spans:
            return Verdict(0.0, "unsupported", ["a span that bears on the question"], probability)
        confident = policy.span_supported(probability)
    doubt = "supported" if confident else "uncertain"
    span_text = " ".join(s.text for s in spans)
    if _comparable(draft.text) in _comparable(span_text):  # a verbatim quote: its spans say exactly this
        return Verdict(1.0 if draft.score is None else draft.score, doubt, [], probability, spans)
    missing = absent_numbers(draft.text, f"{span_text} {question}")
    if missing:
        return Verdict(0.0, "unsupported", missing, probability, spans)
    from ..onnx_models import sigmoid, support_model

    support = sigmoid(support_model().score(draft.text, [span_text])[0])
    return Verdict(support, doubt if policy.evidence_backs(support) else "weak", [], probability, spans)


def absent_numbers(sentence: str, evidence: str) -> list[str]:
    """The numbers a sentence gives that its evidence does not (written with or without thousands separators)."""
    given = {n.replace(",", "") for n in NUMBER.findall(evidence)}
    return [n for n in dict.fromkeys(NUMBER.findall(sentence)) if n.replace(",", "") not in given]


def bearing_spans(question: str, spans: list) -> tuple[float | None, list]:
    """The best span's probability of bearing on the question, and the spans at or above the floor (all of them,
    with no probability, when there is no question)."""
    if not question.strip():
        return None, list(spans)
    from ..onnx_models import answer_model, sigmoid

    limits = policy.thresholds()
    logits = answer_model().score(question, [model_input(s) if limits.span_titled else s.text for s in spans])
    probabilities = [sigmoid(limits.span_scale * x + limits.span_shift) for x in logits]
    return max(probabilities), [s for s, p in zip(spans, probabilities) if policy.span_bears(p)]


def model_input(span) -> str:
    """A span as the answer-bearing model reads it: after its document's title when the title names a subject."""
    return titled(span.text, span.title)


def _comparable(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip().casefold()
