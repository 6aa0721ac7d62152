"""One run's judgement in one object: what `assistant eval` prints, gates on and reports."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from . import threshold
from .compare import Comparison, compare
from .gate import Bound, failures
from .metrics import Judgement, applicable, judge_all, score, score_by_kind


@dataclass
class Evaluation:
    name: str  # the question set's file name
    cases: list[dict]
    results: list[dict]
    metrics: dict
    by_kind: dict[str, dict]
    judged: list[Judgement]
    bounds: list[Bound] = field(default_factory=list)
    failed_bounds: list[str] = field(default_factory=list)
    comparison: Comparison | None = None

    @property
    def failed(self) -> list[Judgement]:
        return [j for j in self.judged if not j.passed]

    @property
    def unsupported(self) -> list[Judgement]:
        """Right answers whose citations do not hold the evidence: a reader checking them would not find it."""
        return [j for j in self.judged if j.correct and not j.supported]

    @property
    def answerers(self) -> str:
        names = Counter(str(r["answerer"]) for r in self.results if r.get("answerer"))
        return ", ".join(f"{k} ({v})" if len(names) > 1 else k for k, v in names.most_common()) or "not recorded"

    def applicable(self, kind: str | None = None) -> set[str]:
        return applicable([c for c in self.cases if kind is None or str(c.get("kind")) == kind])

    def curve(self) -> list[threshold.Point]:
        return threshold.curve(self.judged)

    def threshold_table(self) -> list[threshold.Point]:
        return threshold.table(self.judged)

    def has_confidences(self) -> bool:
        return threshold.has_confidences(self.judged)

    def to_dict(self) -> dict:
        d = {"questions": self.name, "metrics": self.metrics, "by_kind": self.by_kind,
             "failed": [j.case["id"] for j in self.failed],
             "gate": {"bounds": [str(b) for b in self.bounds], "failures": self.failed_bounds},
             "thresholds": [thresholds_json(p) for p in self.curve()] if self.has_confidences() else []}
        if self.comparison is not None:
            c = self.comparison
            d["compare"] = {"old": c.old_name, "deltas": {x.metric: round(x.change, 6) for x in c.deltas},
                            "right_to_wrong": [now.case["id"] for _, now in c.broke],
                            "wrong_to_right": [now.case["id"] for _, now in c.fixed]}
        return d


def thresholds_json(p: threshold.Point) -> dict:
    """A point of the curve as JSON: threshold null for "above every answer's confidence" (JSON has no infinity)."""
    d = asdict(p)
    d["threshold"] = None if p.threshold == float("inf") else p.threshold
    return d


def evaluate(name: str, cases: list[dict], results: list[dict], bounds: list[Bound] | None = None,
             old_results: list[dict] | None = None, old_name: str = "old") -> Evaluation:
    metrics = score(cases, results)
    by_kind = score_by_kind(cases, results)
    ev = Evaluation(name, cases, results, metrics, by_kind, judge_all(cases, results), list(bounds or []))
    ev.failed_bounds = failures(ev.bounds, metrics, by_kind)
    if old_results is not None:
        ev.comparison = compare(cases, old_results, results, old_name)
    return ev

