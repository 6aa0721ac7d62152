"""The report as Markdown (for a pull request or a wiki), the plot in an SVG file beside it. Text from questions,
answers and documents is escaped and kept on one line: it never becomes a heading, a link or HTML."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from . import content
from .summary import Evaluation

# inline syntax only: every line starts with our own text ("| ", "- **label**: ", "#### "), never with data
SPECIAL = re.compile(r"([\\`*_\[\]<>&|~!])")


def md(text: str) -> str:
    """Plain text as inert Markdown: one line, every character Markdown or HTML could read as syntax escaped."""
    return SPECIAL.sub(r"\\\1", re.sub(r"\s+", " ", str(text)).strip())


def table(t: content.Table) -> list[str]:
    headers, rows = t
    lines = ["| " + " | ".join(md(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md(v) for v in row) + " |" for row in rows]
    return lines + [""]


def case_block(j) -> list[str]:
    lines = [f"#### {md(content.case_title(j))}", ""]
    for label, values in content.case_fields(j):
        if len(values) == 1:
            lines.append(f"- **{md(label)}**: {md(values[0])}")
        else:
            lines.append(f"- **{md(label)}**:")
            lines += [f"  - {md(v)}" for v in values]
    return lines + [""]


def gate_lines(ev: Evaluation) -> list[str]:
    if not ev.bounds:
        return []
    if not ev.failed_bounds:
        return [f"**Gate passed**: {md(', '.join(map(str, ev.bounds)))}", ""]
    return ["**Gate failed**:", ""] + [f"- {md(f)}" for f in ev.failed_bounds] + [""]


def threshold_lines(ev: Evaluation, svg_name: str | None) -> list[str]:
    lines = ["## Confidence threshold", ""]
    if not ev.has_confidences():
        return lines + ["These results carry no confidence per answer.", ""]
    lines += ["Withholding every answer whose confidence is below the threshold (the run itself is at 0): abstention "
              "recall rises, answer accuracy falls.", ""]
    if svg_name:
        lines += [f"![Answer accuracy against abstention over the confidence threshold]({svg_name.replace(' ', '%20')})", ""]
    return lines + table(content.threshold_table(ev))


def compare_lines(ev: Evaluation) -> list[str]:
    c = ev.comparison
    if c is None:
        return []
    lines = [f"## Compared with {md(c.old_name)}", ""] + table(content.delta_table(ev))
    for label, pairs in (("Right before, wrong now", c.broke), ("Wrong before, right now", c.fixed)):
        lines += [f"### {label} ({len(pairs)})", ""] + (table(content.flips(pairs)) if pairs else ["none", ""])
    return lines


def render(ev: Evaluation, svg_name: str | None = None) -> str:
    failed, unsupported = ev.failed, ev.unsupported
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# Evaluation: {md(ev.name)}", "",
             f"{len(ev.cases)} questions · answerer {md(ev.answerers)} · {len(failed)} failed · {when}", ""]
    lines += gate_lines(ev) + ["## Figures", ""] + table(content.headline(ev))
    if ev.by_kind:
        lines += ["## By kind", ""] + table(content.kind_table(ev))
    lines += threshold_lines(ev, svg_name) + compare_lines(ev)
    lines += [f"## Failed questions ({len(failed)})", ""]
    for j in failed:
        lines += case_block(j)
    if unsupported:
        lines += [f"## Right answers whose citations miss the evidence ({len(unsupported)})", ""]
        for j in unsupported:
            lines += case_block(j)
    return "\n".join(lines).rstrip() + "\n"
