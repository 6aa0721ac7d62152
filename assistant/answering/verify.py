"""Check each answer sentence against the spans it cites, and say how sure the answer-bearing model is that it
answers the question.

Every answerer's sentences go through verify_sentence. The verdict a user sees comes from the answer-bearing
model's probability that the sentence answers the question: "supported" only at or above a threshold fitted on the
tuning half of the bench questions (models/answer_bearing/verdict.json, written by training/fit_verdict.py),
"uncertain" below it. An answerer with its own calibrated probability (the extractive one, which quotes) gives it
in Draft.score. Otherwise (the LLM's sentences) each cited span is scored against the question: a span that does
not bear on it is no citation, and a sentence left with none is refused. Anything reworded must also keep its
spans' names, numbers and dates, say no amount or negation they do not, count with their numbers what they
count, use mostly their (or the question's) words, and be scored as supported by the relevance cross-encoder
(sentence against spans): below settings.support_threshold it is "weak".
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache

from ..config import Settings
from .extractive import titled
from ..lexicon import CLAIM_WORDS, NUMBER_WORDS, STOPWORDS
from ..model_files import ANSWER_MODEL_DIR
from ..schema import AssistantError

VERDICT_FILE = ANSWER_MODEL_DIR / "verdict.json"
# Share of a sentence's content words (stemmed) that must appear in its cited spans or the question. A small
# model keeps the cited sentence's words and adds invented ones ("..., and the latest is the attack on the embassy"),
# which the cross-encoder, a relevance model, still scores as support.
MIN_COVERAGE = 0.75
# Words that state an amount or flip a claim: numbers in words, which the coverage share hides ("a majority of the
# troops" scores 0.86 and 0.996 support against "38 per cent had a favourable view"). In a sentence, they must be
# in what it cites (or in the question): lexicon.CLAIM_WORDS and NUMBER_WORDS.
_TOKEN = re.compile(r"\d[\d,.]*\d|\d|[A-Za-z]+")


@dataclass(frozen=True)
class Thresholds:
    """The fitted thresholds of verdict.json (training/fit_verdict.py says how each is chosen)."""

    answer_supported: float  # the answerer's calibrated probability at or above which a sentence is "supported"
    span_scale: float  # a cited span's probability of bearing on the question: sigmoid(scale * logit + shift)
    span_shift: float
    span_floor: float  # a span below this does not bear on the question: it supports no answer
    span_supported: float  # a sentence whose best span is below this is "uncertain"
    span_titled: bool  # the span is scored after its document's title, as the answerer scores sentences


@lru_cache(maxsize=1)
def thresholds() -> Thresholds:
    try:
        data = json.loads(VERDICT_FILE.read_text(encoding="utf-8"))
        return Thresholds(**{name: data[name] for name in Thresholds.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssistantError(f"the verdict thresholds are missing or broken at {VERDICT_FILE}: reinstall the "
                             f"package or run training/fit_verdict.py ({exc})") from None


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
    limits = thresholds()
    if draft.score is not None:  # the answerer's own calibrated probability of this sentence
        probability, spans, confident = draft.score, list(draft.spans), draft.score >= limits.answer_supported
    else:
        probability, spans = bearing_spans(question, draft.spans, limits)
        if not spans:
            return Verdict(0.0, "unsupported", ["a span that bears on the question"], probability)
        confident = probability is None or probability >= limits.span_supported
    doubt = "supported" if confident else "uncertain"
    span_text = " ".join(s.text for s in spans)
    if _comparable(draft.text) in _comparable(span_text):  # a verbatim quote: its spans say exactly this
        return Verdict(1.0 if draft.score is None else draft.score, doubt, [], probability, spans)
    missing = unsupported_parts(draft.text, span_text, question)
    if missing:
        return Verdict(0.0, "unsupported", missing, probability, spans)
    from ..onnx_models import cross_encoder, sigmoid

    support = sigmoid(cross_encoder().score(draft.text, [span_text])[0])
    return Verdict(support, doubt if support >= settings.support_threshold else "weak", [], probability, spans)


def bearing_spans(question: str, spans: list, limits: Thresholds) -> tuple[float | None, list]:
    """The best span's probability of bearing on the question, and the spans at or above the floor (all of them,
    with no probability, when there is no question)."""
    if not question.strip():
        return None, list(spans)
    from ..onnx_models import answer_model, sigmoid

    logits = answer_model().score(question, [model_input(s) if limits.span_titled else s.text for s in spans])
    probabilities = [sigmoid(limits.span_scale * x + limits.span_shift) for x in logits]
    return max(probabilities), [s for s, p in zip(spans, probabilities) if p >= limits.span_floor]


def model_input(span) -> str:
    """A span as the answer-bearing model reads it: after its document's title when the title names a subject."""
    return titled(span.text, span.title)


def unsupported_parts(sentence: str, span_text: str, question: str = "") -> list[str]:
    """What a sentence states that its spans do not: names, numbers and dates; amounts and negations; numbers that
    count something else; and, when too few of its words are there, the words that are not."""
    spans = _comparable(span_text)
    missing = [f for f in key_facts(sentence) if _comparable(f) not in spans]
    evidence = f"{span_text} {question}"
    missing += sorted(claim_words(sentence) - claim_words(evidence))
    missing += [n for n in misattributed_numbers(sentence, evidence) if n.split()[0] not in missing]  # not twice
    if coverage(sentence, evidence) < MIN_COVERAGE:
        found = content_words(evidence)
        missing += [w for w, stem in dict.fromkeys(content_tokens(sentence)) if stem not in found and w not in missing]
    return missing


def key_facts(text: str) -> list[str]:
    """Numbers, dates and capitalised names in a sentence (not its first word)."""
    facts = re.findall(r"\d[\d,.]*\d|\d", text)
    words = text.split()
    for k, w in enumerate(words):
        w = w.strip(".,;:!?\"'()[]“”‘’")
        if k > 0 and w[:1].isupper() and len(w) > 1 and not w.isupper() or (len(w) > 1 and w.isupper() and k > 0):
            facts.append(w)
    return facts


_local = threading.local()


def _stemmer():
    """One stemmer per thread: PyStemmer objects must not be used concurrently (the API answers in threads)."""
    if not hasattr(_local, "stemmer"):
        import Stemmer  # PyStemmer, already here for bm25s

        _local.stemmer = Stemmer.Stemmer("english")
    return _local.stemmer


def content_tokens(text: str) -> list[tuple[str, str]]:
    """The content words of a text (no stopwords, no one- or two-letter words but numbers), each with its stem."""
    words = [w for w in re.findall(r"[a-z0-9]+(?:[.,'][a-z0-9]+)*", text.casefold().replace("\u2019", "'"))
             if w not in STOPWORDS and (len(w) > 2 or w.isdigit())]
    return list(zip(words, _stemmer().stemWords(words)))


def content_words(text: str) -> set[str]:
    return {stem for _, stem in content_tokens(text)}


def coverage(sentence: str, evidence: str) -> float:
    """Share of the sentence's content words (stemmed) found in the evidence."""
    words = content_words(sentence)
    return len(words & content_words(evidence)) / len(words) if words else 1.0


def claim_words(text: str) -> set[str]:
    words = set(re.findall(r"[a-z]+", text.casefold().replace("n't", " not")))
    return words & CLAIM_WORDS


def _is_number(token: str) -> bool:
    return token[0].isdigit() or token.casefold() in NUMBER_WORDS


def misattributed_numbers(sentence: str, evidence: str) -> list[str]:
    """Numbers whose noun differs from the evidence's: "killed five people" against "killed five children and two
    women" (the number is there, what it counts is not). A number directly followed by a lower-case content word
    must have that word near the same number in the evidence; a capitalised one is a name, checked as a key fact."""
    said = _TOKEN.findall(sentence)
    seen = [t.casefold() for t in _TOKEN.findall(evidence)]
    stem = _stemmer().stemWord
    wrong = []
    for i, token in enumerate(said[:-1]):
        unit = said[i + 1]
        if not _is_number(token) or _is_number(unit) or unit.casefold() in STOPWORDS or unit[0].isupper():
            continue
        spots = [k for k, t in enumerate(seen) if t == token.casefold()]
        if not any(stem(unit.casefold()) in {stem(t) for t in seen[max(0, k - 4):k + 5]} for k in spots):
            wrong.append(f"{token} {unit}")
    return wrong


def _comparable(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip().casefold()
