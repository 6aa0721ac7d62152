"""Two runs of one question set side by side (another answerer, another LLM server, another release): how each
figure moved, and which questions went from right to wrong and back."""
from __future__ import annotations

from dataclasses import dataclass, field

from .metrics import LOWER_IS_BETTER, NEITHER, Judgement, judge_all, score


@dataclass
class Delta:
    metric: str
    old: float
    new: float

    @property
    def change(self) -> float:
        return self.new - self.old

    @property
    def verdict(self) -> str:
        """better | worse | same (| changed, for a figure that is neither), as a reader of this figure would say."""
        if abs(self.change) < 1e-9:
            return "same"
        if self.metric in NEITHER:
            return "changed"
        return "better" if (self.change < 0) == (self.metric in LOWER_IS_BETTER) else "worse"


@dataclass
class Comparison:
    old_name: str
    deltas: list[Delta] = field(default_factory=list)
    broke: list[tuple[Judgement, Judgement]] = field(default_factory=list)  # (old, new): right before, wrong now
    fixed: list[tuple[Judgement, Judgement]] = field(default_factory=list)  # wrong before, right now


def compare(cases: list[dict], old_results: list[dict], new_results: list[dict], old_name: str = "old") -> Comparison:
    old_m, new_m = score(cases, old_results), score(cases, new_results)
    c = Comparison(old_name)
    c.deltas = [Delta(k, old_m[k], new_m[k]) for k in new_m if k in old_m and k != "cases"]
    for before, now in zip(judge_all(cases, old_results), judge_all(cases, new_results)):
        if before.passed and not now.passed:
            c.broke.append((before, now))
        elif now.passed and not before.passed:
            c.fixed.append((before, now))
    return c


def summary_lines(c: Comparison) -> list[str]:
    """The comparison as plain lines for a terminal."""
    lines = [f"compared with {c.old_name}:"]
    for d in c.deltas:
        if d.verdict != "same":
            lines.append(f"  {d.metric}: {d.old:.3f} -> {d.new:.3f} ({d.change:+.3f}, {d.verdict})")
    if len(lines) == 1:
        lines.append("  every figure the same")
    for label, pairs in (("right -> wrong", c.broke), ("wrong -> right", c.fixed)):
        lines.append(f"  {label}: {len(pairs)}" + (": " + ", ".join(str(now.case["id"]) for _, now in pairs) if pairs else ""))
    return lines
