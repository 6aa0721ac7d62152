"""What a stricter confidence threshold would do: answers below it become abstentions.

Each result line carries the answerer's confidence (its best shown sentence's score). Raising the threshold turns
the least confident answers into abstentions: fewer wrong answers to unanswerable questions (abstention recall
rises), fewer right ones too (answer accuracy falls, false abstention rises). Lowering it below the one the run
used cannot be replayed (an abstention has no answer to show), so the curve starts at what the run did.
"""
from __future__ import annotations

from dataclasses import dataclass

from .metrics import Judgement


@dataclass
class Point:
    threshold: float  # answers with a confidence below it are withheld (inf: every answer with a confidence)
    answer_accuracy: float  # answerable questions right and still answered
    false_abstention: float  # answerable questions declined or now below the threshold
    abstention_recall: float  # unanswerable questions declined or now below the threshold
    answered: float  # share of all questions still answered
    precision: float  # answers still given that are right (an answer to an unanswerable question is wrong)


def kept(j: Judgement, threshold: float) -> bool:
    """Still answered at this threshold (an answer without a confidence cannot be held back)."""
    return not j.abstained and (j.confidence is None or j.confidence >= threshold)


def at(judged: list[Judgement], threshold: float) -> Point:
    answerable = [j for j in judged if j.answerable]
    unanswerable = [j for j in judged if not j.answerable]
    n = max(len(answerable), 1)
    given = [j for j in judged if kept(j, threshold)]
    return Point(
        threshold=threshold,
        answer_accuracy=sum(j.correct and kept(j, threshold) for j in answerable) / n,
        false_abstention=sum(not kept(j, threshold) for j in answerable) / n,
        abstention_recall=sum(not kept(j, threshold) for j in unanswerable) / len(unanswerable) if unanswerable else 1.0,
        answered=len(given) / max(len(judged), 1),
        precision=sum(j.correct for j in given) / len(given) if given else 1.0,
    )


def has_confidences(judged: list[Judgement]) -> bool:
    return any(j.confidence is not None and not j.abstained for j in judged)


def curve(judged: list[Judgement]) -> list[Point]:
    """The run as it was (threshold 0), then each answer's confidence as the threshold (the answers below it
    withheld), then a threshold above all (every answer with a confidence withheld): one point a step."""
    steps = sorted({j.confidence for j in judged if j.confidence is not None and not j.abstained} - {0.0})
    points = [at(judged, t) for t in [0.0] + steps + [float("inf")]]
    out: list[Point] = []
    for p in points:  # the lowest confidence withholds nothing: the same point as the run's
        if not out or p.answered != out[-1].answered:
            out.append(p)
    return out


def table(judged: list[Judgement], rows: int = 10) -> list[Point]:
    """Up to `rows` points of the curve, evenly spread along it, the run's first."""
    points = curve(judged)
    if len(points) <= rows:
        return points
    picks = sorted({round(i * (len(points) - 1) / (rows - 1)) for i in range(rows)})
    return [points[i] for i in picks]
