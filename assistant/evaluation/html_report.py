"""The report as one self-contained HTML page: no script, no request to anywhere (its Content-Security-Policy
forbids both), the plot inline; every question, answer and cited span escaped, as data."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from html import escape

from . import content
from .summary import Evaluation

CSS = """
body { font: 15px/1.45 system-ui, sans-serif; color: #1d1d1f; max-width: 1200px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 2px; } h2 { font-size: 18px; margin-top: 30px; border-bottom: 1px solid #ddd; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.gate { padding: 8px 12px; border-radius: 6px; } .pass { background: #e8f5e9; } .fail { background: #fdecea; }
.better { color: #1b7f3b; } .worse { color: #b3261e; }
.case { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.case h3 { font-size: 15px; margin: 0 0 6px; } dl { display: grid; grid-template-columns: 120px 1fr; gap: 2px 12px; margin: 0; }
dt { color: #666; } dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; } dd + dd { grid-column: 2; }
.note { color: #555; max-width: 820px; }
"""
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


NUMBER = re.compile(r"^[+\-±]?\d[\d.,]*( ms)?$|^–$")


def table(t: content.Table) -> str:
    headers, rows = t
    numeric = [bool(rows) and all(NUMBER.match(r[i]) for r in rows) for i in range(len(headers))]
    head = "".join(f'<th{" class=num" if numeric[i] else ""}>{escape(h)}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(_cell(v, numeric[i]) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: str, numeric: bool) -> str:
    cls = value if value in ("better", "worse") else "num" if numeric else ""
    return f'<td class="{cls}">{escape(value)}</td>' if cls else f"<td>{escape(value)}</td>"


def case_card(j) -> str:
    rows = []
    for label, lines in content.case_fields(j):
        rows.append(f"<dt>{escape(label)}</dt>" + "".join(f"<dd>{escape(line)}</dd>" for line in lines))
    return f'<section class="case"><h3>{escape(content.case_title(j))}</h3><dl>{"".join(rows)}</dl></section>'


def gate_html(ev: Evaluation) -> str:
    if not ev.bounds:
        return ""
    if not ev.failed_bounds:
        return f'<p class="gate pass">Gate passed: {escape(", ".join(map(str, ev.bounds)))}</p>'
    items = "".join(f"<li>{escape(f)}</li>" for f in ev.failed_bounds)
    return f'<div class="gate fail"><strong>Gate failed</strong><ul>{items}</ul></div>'


def threshold_html(ev: Evaluation) -> str:
    if not ev.has_confidences():
        return "<h2>Confidence threshold</h2><p class=note>These results carry no confidence per answer.</p>"
    return ("<h2>Confidence threshold</h2><p class=note>Withholding every answer whose confidence is below the threshold "
            "(the run itself is at 0): abstention recall rises, answer accuracy falls. Choose where the trade suits "
            "your readers, and set the answerer's threshold there.</p>" + content.threshold_svg(ev) + table(content.threshold_table(ev)))


def compare_html(ev: Evaluation) -> str:
    c = ev.comparison
    if c is None:
        return ""
    parts = [f"<h2>Compared with {escape(c.old_name)}</h2>", table(content.delta_table(ev))]
    for label, pairs in (("Right before, wrong now", c.broke), ("Wrong before, right now", c.fixed)):
        parts.append(f"<h3>{escape(label)} ({len(pairs)})</h3>")
        parts.append(table(content.flips(pairs)) if pairs else "<p class=note>none</p>")
    return "".join(parts)


def render(ev: Evaluation) -> str:
    failed, unsupported = ev.failed, ev.unsupported
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{POLICY}">',
        f"<title>Evaluation: {escape(ev.name)}</title><style>{CSS}</style></head><body>",
        f"<h1>Evaluation: {escape(ev.name)}</h1>",
        f'<p class="sub">{len(ev.cases)} questions · answerer {escape(ev.answerers)} · {len(failed)} failed · {when}</p>',
        gate_html(ev), "<h2>Figures</h2>", table(content.headline(ev)),
    ]
    if ev.by_kind:
        parts += ["<h2>By kind</h2>", table(content.kind_table(ev))]
    parts += [threshold_html(ev), compare_html(ev), f"<h2>Failed questions ({len(failed)})</h2>"]
    parts += [case_card(j) for j in failed] or ["<p class=note>none</p>"]
    if unsupported:
        parts.append(f"<h2>Right answers whose citations miss the evidence ({len(unsupported)})</h2>")
        parts += [case_card(j) for j in unsupported]
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)
