"""A small line chart as inline SVG: no plotting library, no network, every label escaped."""
from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

WIDTH, HEIGHT = 680, 380
LEFT, RIGHT, TOP, BOTTOM = 56, 170, 44, 48  # margins: the legend stands on the right, a second x axis on top


@dataclass
class Series:
    label: str
    color: str  # a CSS colour of our own, never from data
    points: list[tuple[float, float]]  # (x, y), y in 0..1
    dashed: bool = False


@dataclass
class Chart:
    series: list[Series]
    x_label: str
    y_label: str
    title: str
    x_range: tuple[float, float] = (0.0, 1.0)
    top_ticks: list[tuple[float, str]] = field(default_factory=list)  # (x, label) on a second axis above
    top_label: str = ""


def render(chart: Chart) -> str:
    x0, x1 = chart.x_range
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + plot_w * (x - x0) / ((x1 - x0) or 1.0)

    def py(y: float) -> float:
        return TOP + plot_h * (1 - max(0.0, min(1.0, y)))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
           f'role="img" aria-label="{escape(chart.title)}" font-family="sans-serif" font-size="12">',
           f"<title>{escape(chart.title)}</title>"]
    for i in range(6):
        y = i / 5
        out.append(f'<line x1="{LEFT}" y1="{py(y):.1f}" x2="{LEFT + plot_w}" y2="{py(y):.1f}" stroke="#e4e4e4"/>')
        out.append(f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end" fill="#555">{y:.1f}</text>')
    for i in range(6):
        x = x0 + (x1 - x0) * i / 5
        out.append(f'<text x="{px(x):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" fill="#555">{x:.2f}</text>')
    for x, label in chart.top_ticks:
        out.append(f'<line x1="{px(x):.1f}" y1="{TOP}" x2="{px(x):.1f}" y2="{TOP + plot_h}" stroke="#f0f0f0"/>')
        out.append(f'<text x="{px(x):.1f}" y="{TOP - 6}" text-anchor="middle" fill="#555">{escape(label)}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>')
    out.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle">{escape(chart.x_label)}</text>')
    if chart.top_label:
        out.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{TOP - 24}" text-anchor="middle">{escape(chart.top_label)}</text>')
    out.append(f'<text transform="translate(14 {TOP + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">{escape(chart.y_label)}</text>')
    for n, s in enumerate(chart.series):
        out += _line(s, px, py)
        ly = TOP + 14 + 20 * n
        out.append(f'<line x1="{WIDTH - RIGHT + 12}" y1="{ly - 4}" x2="{WIDTH - RIGHT + 36}" y2="{ly - 4}" '
                   f'stroke="{s.color}" stroke-width="2.5"{_dash(s)}/>')
        out.append(f'<text x="{WIDTH - RIGHT + 42}" y="{ly}">{escape(s.label)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _dash(s: Series) -> str:
    return ' stroke-dasharray="5 3"' if s.dashed else ""


def _line(s: Series, px, py) -> list[str]:
    if not s.points:
        return []
    coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in s.points)
    dots = [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.2" fill="{s.color}"/>' for x, y in s.points] if len(s.points) <= 60 else []
    return [f'<polyline fill="none" stroke="{s.color}" stroke-width="2.2"{_dash(s)} points="{coords}">'
            f"<title>{escape(s.label)}</title></polyline>"] + dots
