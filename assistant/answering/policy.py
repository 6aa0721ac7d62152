"""When the assistant answers, abstains, widens its search, badges a sentence "supported" or drops it: every
threshold decision of answering/, in one place, from one fitted file.

The thresholds are fitted on the tuning half of bench/data (bench/split.py) and live in
models/answer_bearing/policy.json: training/fit_answerer.py writes the extractive answerer's (answer_threshold,
confident_answer), training/fit_verdict.py the verdict's (answer_supported, span_*), training/train_verifier.py the
support verifier's (sentence_supported). The probabilities they are compared with come from elsewhere
(calibration.py for a quoted sentence, the answer-bearing model for a cited span, the support verifier for a
reworded sentence or a checked text's); a number in no span is verify.py's parsing.

    extractive answerer   abstains            best sentence's probability < answer_threshold
                          widens its search   first round's best < confident_answer (scores sentence_budget_max)
                          shows a sentence    beside the best when its probability >= settings.extra_sentence_min
    LLM answerer          abstains            no source sentence's relevance reaches settings.support_threshold
                                              (no model call), or the model says it cannot answer (llm.py)
    every sentence        dropped             no citation, no cited span at or above span_floor, or a reworded
                                              sentence giving a number no span gives (verify.absent_numbers)
                          "supported"         its probability >= answer_supported (a quote) or its best span's
                                              >= span_supported (a reworded sentence); else "uncertain"
                          "weak"              reworded and the support verifier's probability < sentence_supported
    a checked text        "supported"         some window of the evidence reaches sentence_supported (check.py)
    the answer            abstains            an answerer abstained, or no sentence survived: ABSTAIN_TEXT
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..config import Settings
from ..model_files import ANSWER_MODEL_DIR
from ..schema import AssistantError

POLICY_FILE = ANSWER_MODEL_DIR / "policy.json"
# What the user reads when the articles do not hold the answer (the API's "answer", the chat page, the widget).
ABSTAIN_TEXT = "The articles do not say."


@dataclass(frozen=True)
class Thresholds:
    """The fitted thresholds of policy.json (the fitting scripts say how each is chosen)."""

    answer_threshold: float  # the extractive answerer abstains when its best sentence's probability is under this
    confident_answer: float  # ... and scores more sentences when the first round's best is under this
    answer_supported: float  # the answerer's calibrated probability at or above which a sentence is "supported"
    span_scale: float  # a cited span's probability of bearing on the question: sigmoid(scale * logit + shift)
    span_shift: float
    span_floor: float  # a span below this does not bear on the question: it supports no answer
    span_supported: float  # a sentence whose best span is below this is "uncertain"
    span_titled: bool  # the span is scored after its document's title, as the answerer scores sentences
    # the support verifier's probability at or above which evidence backs a sentence (training/train_verifier.py)
    sentence_supported: float = 0.5


@lru_cache(maxsize=1)
def thresholds() -> Thresholds:
    try:
        data = json.loads(POLICY_FILE.read_text(encoding="utf-8"))
        return Thresholds(**{name: data[name] for name in Thresholds.__dataclass_fields__ if name in data})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssistantError(f"the answer thresholds are missing or broken at {POLICY_FILE}: reinstall the package "
                             f"or run training/fit_answerer.py and training/fit_verdict.py ({exc})") from None


def write_fitted(path: Path, values: dict) -> None:
    """Set a fitting script's keys in policy.json at path, keeping the other script's."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data | values, indent=1) + "\n", encoding="utf-8")


# -- the extractive answerer -----------------------------------------------------------------------
def abstains(best: float) -> bool:
    """No sentence answers: the most probable one is under the fitted threshold."""
    return best < thresholds().answer_threshold


def searches_further(best: float) -> bool:
    """The first round's best sentence is not a confident answer: score the next sentences too."""
    return best < thresholds().confident_answer


def shown_beside(probability: float, settings: Settings) -> bool:
    """A sentence beside the best one is probable enough to be shown too."""
    return probability >= settings.extra_sentence_min


# -- the LLM answerer --------------------------------------------------------------------------------
def sources_answer(relevances: list[float], settings: Settings) -> bool:
    """Some source sentence is relevant enough to ask the model at all (else it abstains without a call)."""
    return bool(relevances) and max(relevances) >= settings.support_threshold


# -- every sentence ----------------------------------------------------------------------------------
def quote_supported(probability: float) -> bool:
    """A sentence with its answerer's calibrated probability is "supported" (else "uncertain")."""
    return probability >= thresholds().answer_supported


def span_bears(probability: float) -> bool:
    """A cited span bears on the question: below the floor it is no citation (a sentence left with none is dropped)."""
    return probability >= thresholds().span_floor


def span_supported(probability: float | None) -> bool:
    """A reworded sentence whose best span is this probable is "supported" (else "uncertain")."""
    return probability is None or probability >= thresholds().span_supported


def evidence_backs(probability: float) -> bool:
    """The support verifier finds the evidence backs the sentence (a checked text's sentence; a reworded one)."""
    return probability >= thresholds().sentence_supported


def kept(verdict: str) -> bool:
    """A verified sentence is shown; an "unsupported" one is dropped."""
    return verdict != "unsupported"
