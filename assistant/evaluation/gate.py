"""A quality gate: bounds on the figures (`--min answer_accuracy=0.9`, `--max latency_ms_p95=800`), per `kind` too
(`--min adversarial:abstention_recall=0.8`), so a team can put its own question set in its CI."""
from __future__ import annotations

from dataclasses import dataclass

from .metrics import METRICS


@dataclass
class Bound:
    metric: str
    limit: float
    at_least: bool  # --min (else --max)
    kind: str | None = None  # only the cases of this kind

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.metric}" if self.kind else self.metric

    def __str__(self) -> str:
        return f"{'--min' if self.at_least else '--max'} {self.name}={self.limit:g}"


def parse_bound(text: str, at_least: bool) -> Bound:
    """'METRIC=VALUE' or 'KIND:METRIC=VALUE'; ValueError with a one-line reason."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"{text!r}: expected METRIC=VALUE, e.g. answer_accuracy=0.9")
    kind, _, metric = name.rpartition(":")
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
    try:
        limit = float(value)
    except ValueError:
        raise ValueError(f"{text!r}: {value.strip()!r} is not a number") from None
    if limit != limit:
        raise ValueError(f"{text!r}: the limit is not a number")
    return Bound(metric, limit, at_least, kind or None)


def check_kinds(bounds: list[Bound], known: list[str]) -> None:
    """ValueError when a bound names a kind no case has (a typo would otherwise pass unnoticed)."""
    for b in bounds:
        if b.kind is not None and b.kind not in known:
            raise ValueError(f"{b}: no case has kind {b.kind!r}; kinds: {', '.join(known) or 'none'}")


def failures(bounds: list[Bound], metrics: dict, by_kind: dict[str, dict]) -> list[str]:
    """One line for each bound the figures do not meet."""
    out = []
    for b in bounds:
        figures = by_kind.get(b.kind, {}) if b.kind else metrics
        value = figures.get(b.metric)
        if value is None:
            out.append(f"{b.name} was not measured ({b})")
        elif (value < b.limit) if b.at_least else (value > b.limit):
            out.append(f"{b.name} {value:.3f} {'<' if b.at_least else '>'} {b.limit:g} ({b})")
    return out
