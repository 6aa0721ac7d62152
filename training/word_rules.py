"""The word rules that judged reworded sentences before the trained support verifier (assistant/answering/verify.py
until then): what a sentence states that its spans do not, by names, numbers, claim words and the share of its words
found. Kept as the baseline that training/train_verifier.py reports the verifier beside, on the same pairs."""
from __future__ import annotations

import re
import threading

from assistant.answering.verify import _comparable
from assistant.lexicon import CLAIM_WORDS, NUMBER_WORDS, STOPWORDS

MIN_COVERAGE = 0.75  # share of a sentence's content words (stemmed) that had to be in its spans or the question
_TOKEN = re.compile(r"\d[\d,.]*\d|\d|[A-Za-z]+")


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
