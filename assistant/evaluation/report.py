"""Write the evaluation report a team reads, HTML or Markdown by the file's suffix."""
from __future__ import annotations

from pathlib import Path

from . import content, html_report, markdown_report
from .summary import Evaluation

FORMATS = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown"}


def report_format(path: Path) -> str:
    """html | markdown; ValueError for another suffix (checked before a long run, not after)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: a report is .html or .md")
    return fmt


def write(ev: Evaluation, path: Path) -> list[Path]:
    """Write the report (and, beside a Markdown one, its plot as NAME.svg); returns the files written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if report_format(path) == "html":
        path.write_text(html_report.render(ev), encoding="utf-8")
        return [path]
    written = []
    svg_name = None
    if ev.has_confidences():
        svg = path.with_suffix(".svg")
        svg.write_text(content.threshold_svg(ev), encoding="utf-8")
        svg_name, written = svg.name, [svg]
    path.write_text(markdown_report.render(ev, svg_name), encoding="utf-8")
    return [path] + written
