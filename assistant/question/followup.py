"""Does a question lean on the conversation, and what is it about then: a learned decision, not word rules.

A follow-up ("Who killed him?", "And in 2020?", "What about Korea?") is searched and scored together with the
subject of the turn it refers to; a self-contained question is searched exactly as typed, whatever came before.

Whether a question depends on the previous turn is the probability of one logistic regression over the words of
the question (with their position: "and" first means something "and" inside does not), its word pairs, and a few
measures of how it relates to the previous question (shared words, its length, names and numbers of its own).
It is trained on conversations made from SQuAD (training/followup_data.py: a paragraph's questions chained, the
repeated subject replaced by a pronoun or dropped, and topic changes mixed in) by training/train_followup.py; its
weights are models/followup/followup.json. Without that file nothing is treated as a follow-up.

The subject a follow-up inherits is that of the turn it refers to, never a pile of unrelated turns: the words of
that turn (and of the turns it leaned on in turn), dropped at the next self-contained question.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..lexicon import FOLLOW_UP_STOPWORDS
from ..onnx_models import sigmoid

WEIGHTS_FILE = Path(__file__).resolve().parents[1] / "models" / "followup" / "followup.json"
TOKEN = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?|[?,]")
# a run of capitalised words not at the start of a sentence: the names an answer gave ("General Frank McKenzie")
NAME_RUN = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’-]+(?:\s+(?:of\s+|de\s+|al-)?[A-Z][\w'’-]+)*")
MARKERS = re.compile(r"\s*\[\d+\]")
MAX_SUBJECT_WORDS = 12  # the carried subject is one question's words; a pasted paragraph is cut


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def content_words(text: str) -> list[str]:
    """The words of a question that say what it is about (not how it asks): parsing with a stop list, not judgement."""
    return [w for w in tokens(text) if w[0].isalnum() and w.lower() not in FOLLOW_UP_STOPWORDS]


def names_in(answer: str, limit: int = 2) -> list[str]:
    """The first names an answer shown to the user gave (its first sentence): what "he" or "it" may be next."""
    first = re.split(r"(?<=[.!?])\s", MARKERS.sub("", answer).strip(), maxsplit=1)[0]
    return [m.group(0) for m in NAME_RUN.finditer(first)][:limit]


def features(question: str, previous: str) -> dict[str, float]:
    """The evidence the dependency model weighs: sparse, named features of (question, previous question)."""
    words = tokens(question)
    lower = [w.lower() for w in words]
    out: dict[str, float] = {"bias": 1.0}
    for k, w in enumerate(lower):
        out[f"w={w}"] = 1.0
        if k + 1 < len(lower):
            out[f"b={w}_{lower[k + 1]}"] = 1.0
    if lower:
        out[f"first={lower[0]}"] = 1.0
        out[f"first2={'_'.join(lower[:2])}"] = 1.0
        out[f"last={lower[-1] if lower[-1] != '?' else (lower[-2] if len(lower) > 1 else '?')}"] = 1.0
    own = content_words(question)
    before = {w.lower() for w in content_words(previous)}
    out["content_words"] = min(len(own), 8) / 8
    out["words"] = min(len(words), 20) / 20
    out["shared_with_previous"] = sum(w.lower() in before for w in own) / len(own) if own else 0.0
    out["names"] = min(sum(1 for k, w in enumerate(words) if k > 0 and w[:1].isupper()), 3) / 3
    out["numbers"] = float(any(ch.isdigit() for ch in question))
    out["no_content"] = float(not own)
    return out


@dataclass
class FollowUpModel:
    weights: dict[str, float] = field(default_factory=dict)
    threshold: float = 0.5  # a question depends on the previous turn at or above this probability

    def probability(self, question: str, previous: str) -> float:
        """P(question needs the previous turn to be understood); 0 without a fitted model or a previous turn."""
        if not self.weights or not previous.strip():
            return 0.0
        return sigmoid(sum(self.weights.get(name, 0.0) * value for name, value in features(question, previous).items()))

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> "FollowUpModel":
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(weights={k: float(v) for k, v in data["weights"].items()}, threshold=float(data["threshold"]))


@lru_cache(maxsize=1)
def followup_model() -> FollowUpModel:
    return FollowUpModel.load()


def leans_on(question: str, previous: str) -> bool:
    """Whether a question needs the one before it to be understood (the learned follow-up model's judgement)."""
    model = followup_model()
    return model.probability(question, previous) >= model.threshold


@dataclass
class Turn:
    """One user turn as understood: the query it is searched with, and the subject a follow-up to it inherits."""

    question: str
    query: str
    subject: str
    depends: float  # P(it leans on the turn before)


def understand(questions: list[str], answers: list[str] | None = None, model: FollowUpModel | None = None) -> list[Turn]:
    """Each user question of a conversation (oldest first, already cleaned), understood against the one before;
    answers[k] is the text shown in reply to questions[k] (missing for the last question).

    A follow-up is searched with the subject of the turn it refers to: that turn's own words and the names its
    answer gave, and what that turn inherited when it was a follow-up itself ("What is the capital of Angola?" /
    "How big is the Chinese community there?" / "And the Brazilian one?"). A self-contained question starts afresh:
    nothing older reaches past it."""
    model = model or followup_model()
    answers = list(answers or [])
    turns: list[Turn] = []
    for k, question in enumerate(questions):
        previous = turns[-1] if turns else None
        p = model.probability(question, previous.question) if previous else 0.0
        depends = previous is not None and p >= model.threshold and bool(previous.subject)
        words = content_words(question) + (previous.subject.split() if depends else [])
        if k < len(answers):
            words += " ".join(names_in(answers[k])).split()
        subject = " ".join(list(dict.fromkeys(words))[:MAX_SUBJECT_WORDS])
        turns.append(Turn(question, f"{question} ({previous.subject})" if depends else question, subject, p))
    return turns
