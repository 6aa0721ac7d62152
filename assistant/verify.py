"""Check each answer sentence against the spans it cites: key facts must be there, and the spans must support it.

Every answerer's sentences go through verify_sentence. A verbatim quote of its span (the extractive answerer's
every sentence) passes at once; anything reworded must keep the span's names, numbers and dates, say no amount or
negation the span does not, count with its numbers what the span counts, use mostly the span's (or the
question's) words, and be scored as supported by the cross-encoder.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from .config import Settings
from .lexicon import CLAIM_WORDS, NUMBER_WORDS, STOPWORDS

# A cited span scoring below this against the question is as unrelated as the best sentence of an unanswerable
# question (those score <= 0.013 on the dev set; evidence sentences >= 0.55): citing it supports no answer, even
# quoted word for word (an injected "ignore previous instructions" line).
RELEVANCE_FLOOR = 0.05
# Share of a sentence's content words (stemmed) that must appear in its cited spans or the question. A small
# model keeps the cited sentence's words and adds invented ones ("..., and the latest is the attack on the embassy"),
# which the cross-encoder, a relevance model, still scores as support.
MIN_COVERAGE = 0.75
# Words that state an amount or flip a claim: numbers in words, which the coverage share hides ("a majority of the
# troops" scores 0.86 and 0.996 support against "38 per cent had a favourable view"). In a sentence, they must be
# in what it cites (or in the question): lexicon.CLAIM_WORDS and NUMBER_WORDS.
_TOKEN = re.compile(r"\d[\d,.]*\d|\d|[A-Za-z]+")


@dataclass
class Verdict:
    support: float
    verdict: str  # supported | weak | unsupported
    missing: list[str] = field(default_factory=list)  # what the sentence says that its spans do not


def verify_sentence(draft, settings: Settings, question: str = "") -> Verdict:
    """The verdict on one answer sentence (a Draft with its spans); question: the words a sentence may also use."""
    if not draft.spans:
        return Verdict(0.0, "unsupported", ["a citation"])
    span_text = " ".join(s.text for s in draft.spans)
    relevance = draft.score
    if relevance is None and question.strip():
        from .onnx_models import cross_encoder, sigmoid

        relevance = sigmoid(cross_encoder().score(question, [span_text])[0])
    if relevance is not None and relevance < RELEVANCE_FLOOR:
        return Verdict(0.0, "unsupported", ["a span that bears on the question"])
    if _comparable(draft.text) in _comparable(span_text):
        return Verdict(1.0, "supported", [])  # a verbatim quote: its span says exactly this
    missing = unsupported_parts(draft.text, span_text, question)
    if missing:
        return Verdict(0.0, "unsupported", missing)
    from .onnx_models import cross_encoder, sigmoid

    support = sigmoid(cross_encoder().score(draft.text, [span_text])[0])
    return Verdict(support, "supported" if support >= settings.support_threshold else "weak", [])


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
