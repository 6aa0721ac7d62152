"""Check each answer sentence against the spans it cites: key facts must be there, and the spans must support it."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .config import Settings


@dataclass
class Verdict:
    support: float
    verdict: str  # supported | weak | unsupported
    missing: list[str]


def verify_sentence(draft, settings: Settings) -> Verdict:
    from .onnx_models import cross_encoder, sigmoid

    span_text = " ".join(s.text for s in draft.spans)
    if not draft.spans:
        return Verdict(0.0, "unsupported", [])
    if _norm(draft.text) in _norm(span_text):
        return Verdict(1.0, "supported", [])
    missing = [f for f in key_facts(draft.text) if _norm(f) not in _norm(span_text)]
    support = sigmoid(cross_encoder().score(draft.text, [span_text])[0])
    if missing:
        return Verdict(min(support, 0.2), "unsupported", missing)
    verdict = "supported" if support >= settings.support_threshold else "weak"
    return Verdict(support, verdict, missing)


def key_facts(text: str) -> list[str]:
    """Numbers, dates and capitalised names in a sentence (not its first word)."""
    facts = re.findall(r"\d[\d,.]*\d|\d", text)
    words = text.split()
    for k, w in enumerate(words):
        w = w.strip(".,;:!?\"'()[]“”‘’")
        if k > 0 and w[:1].isupper() and len(w) > 1 and not w.isupper() or (len(w) > 1 and w.isupper() and k > 0):
            facts.append(w)
    return facts


def _norm(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip().casefold()
