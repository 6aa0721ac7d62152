"""What the report says, as plain text: tables (headers and rows) and each failed case's fields. The HTML and
Markdown renderers escape it; nothing here is markup."""
from __future__ import annotations

import math

from .metrics import METRICS, Judgement
from .plot import Chart, Series, render
from .summary import Evaluation

Table = tuple[list[str], list[list[str]]]
KIND_COLUMNS = ["answer_accuracy", "citation_support", "false_abstention", "abstention_recall", "retrieval_hit@k",
                "latency_ms_p50"]
NOT_APPLICABLE = "–"


def fmt(metric: str, value) -> str:
    if value is None:
        return NOT_APPLICABLE
    if metric.startswith("latency_ms"):
        return f"{value:.0f} ms"
    if metric in ("cases", "missing_results"):
        return str(int(value))
    if metric == "answer_words_median":
        return f"{value:g}"
    return f"{value:.3f}"


def change(metric: str, delta: float) -> str:
    shown = fmt(metric, abs(delta))
    return ("+" if delta > 0 else "-" if delta < 0 else "±") + shown


def headline(ev: Evaluation) -> Table:
    ok = ev.applicable()
    rows = [[name, fmt(name, value) if name in ok else NOT_APPLICABLE, METRICS[name]] for name, value in ev.metrics.items()]
    return ["metric", "value", "what it measures"], rows


def kind_table(ev: Evaluation) -> Table:
    rows = []
    for kind, m in ev.by_kind.items():
        ok = ev.applicable(kind)
        rows.append([kind, str(m["cases"])] + [fmt(k, m.get(k)) if k in ok else NOT_APPLICABLE for k in KIND_COLUMNS])
    return ["kind", "cases"] + KIND_COLUMNS, rows


def threshold_table(ev: Evaluation) -> Table:
    rows = [[threshold_label(p.threshold)] + [f"{v:.3f}" for v in (1 - p.answered, p.answer_accuracy, p.false_abstention,
                                                                  p.abstention_recall, p.precision)]
            for p in ev.threshold_table()]
    return ["threshold", "declined", "answer_accuracy", "false_abstention", "abstention_recall", "answers right"], rows


def threshold_label(t: float) -> str:
    return "above all" if t == float("inf") else "0 (the run)" if t == 0 else f"{t:.4g}"


def threshold_svg(ev: Evaluation) -> str:
    """The figures against the share of questions declined as the threshold rises (its values on the top axis)."""
    points = ev.curve()
    xs = [1 - p.answered for p in points]
    lo = math.floor(xs[0] * 10) / 10
    ticks: list[tuple[float, str]] = []
    for x, p in zip(xs, points):
        if not ticks or x - ticks[-1][0] >= (1 - lo) / 7:
            ticks.append((x, threshold_label(p.threshold)))

    def line(attr: str) -> list[tuple[float, float]]:
        return [(x, getattr(p, attr)) for x, p in zip(xs, points)]

    return render(Chart([
        Series("answer accuracy", "#1f77b4", line("answer_accuracy")),
        Series("abstention recall", "#2ca02c", line("abstention_recall")),
        Series("false abstention", "#d62728", line("false_abstention"), dashed=True),
        Series("answers right", "#7f7f7f", line("precision"), dashed=True),
    ], x_label="share of all questions declined", y_label="share of questions",
        title="Answer accuracy against abstention over the confidence threshold", x_range=(lo, 1.0),
        top_ticks=ticks, top_label="confidence threshold (answers below it withheld)"))


def delta_table(ev: Evaluation) -> Table:
    c = ev.comparison
    rows = [[d.metric, fmt(d.metric, d.old), fmt(d.metric, d.new), change(d.metric, d.change), d.verdict] for d in c.deltas]
    return ["metric", c.old_name, "now", "change", ""], rows


def flips(pairs: list[tuple[Judgement, Judgement]]) -> Table:
    rows = [[str(now.case["id"]), now.case.get("question", ""), answer_text(before), answer_text(now)] for before, now in pairs]
    return ["id", "question", "before", "now"], rows


def answer_text(j: Judgement) -> str:
    if j.result is None:
        return "(no result)"
    if j.result.get("error"):
        return f"(error) {j.result['error']}"
    text = str(j.result.get("answer") or "")
    return f"(declined) {text}".strip() if j.abstained else text


def expected(case: dict) -> str:
    if not case.get("answerable", True):
        return "to decline: the articles do not hold the answer"
    parts = []
    if case.get("answer_any"):
        parts.append("any of " + " | ".join(map(str, case["answer_any"])))
    if case.get("answer_all"):
        parts.append("all of " + " | ".join(map(str, case["answer_all"])))
    return "; ".join(parts) or "any answer"


def case_title(j: Judgement) -> str:
    kind = f" · {j.case['kind']}" if j.case.get("kind") is not None else ""
    confidence = f" · confidence {j.confidence:.3f}" if j.confidence is not None else ""
    return f"{j.case['id']}{kind} · {j.outcome}{confidence}"


def case_fields(j: Judgement) -> list[tuple[str, list[str]]]:
    """(label, lines) of a failed case, for a reader to see why: asked, given, expected, cited, retrieved."""
    case, r = j.case, j.result or {}
    fields = []
    if case.get("history"):
        fields.append(("earlier turns", [str(t) for t in case["history"]]))
    fields.append(("question", [str(case.get("question", ""))]))
    query = r.get("rewritten_query")
    if query and query != case.get("question"):
        fields.append(("searched for", [str(query)]))
    fields.append(("answer given", [answer_text(j)]))
    if r.get("notice"):
        fields.append(("answerer's note", [str(r["notice"])]))
    fields.append(("expected", [expected(case)]))
    cites = r.get("citations") or []
    fields.append(("cited", [f"{c.get('source', '?')}: {c.get('text', '')}" for c in cites] or ["nothing"]))
    if j.answerable and case.get("evidence_any"):
        where = f"first in retrieved passage #{j.evidence_rank}" if j.evidence_rank else "in no retrieved passage"
        fields.append(("evidence", [" | ".join(map(str, case["evidence_any"])) + f" ({where})"]))
    if j.answerable and case.get("sources"):
        fields.append(("articles", [", ".join(map(str, case["sources"]))]))
    return fields
