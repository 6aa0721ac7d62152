"""Answers as JSON and server-sent events: the shapes the REST and OpenAI routes send."""
from __future__ import annotations

import json
from typing import Any

from ...schema import Answer


def citation_dicts(answer: Answer) -> list[dict]:
    """Each citation with the verdict, support and probability of the least sure sentence that cites it: a
    citation is "supported" only when every sentence resting on it is."""
    out = []
    for c in answer.citations:
        citing = sorted((s for s in answer.sentences if c.marker in s.citations), key=lambda s: s.verdict == "supported")
        d = c.to_dict()
        d["verdict"] = citing[0].verdict if citing else ""
        d["support"] = citing[0].support if citing else 0.0
        d["probability"] = citing[0].probability if citing else None
        out.append(d)
    return out


def answer_json(answer: Answer) -> dict:
    """An answer as /api/ask sends it (the `ask --json` shape, citations with their verdicts)."""
    return {**answer.to_dict(), "citations": citation_dicts(answer)}


def answer_extras(answer: Answer) -> dict[str, Any]:
    """The fields an OpenAI message gains: structured citations and per-sentence verdicts."""
    return {
        "citations": citation_dicts(answer),
        "sentences": [s.to_dict() for s in answer.sentences],
        "abstained": answer.abstained,
        "rewritten_query": answer.rewritten_query,
        "notice": answer.notice,
        "disagreement": answer.disagreement,  # sources giving different values: [{values, marker, title, date, ...}]
        "as_of": answer.as_of,
    }


def sse(data: Any) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def event_json(event: dict) -> dict:
    """A core stream event as JSON."""
    kind = event["event"]
    if kind == "sentence":
        return {"event": kind, "sentence": event["sentence"].to_dict(), "citations": [c.to_dict() for c in event["citations"]]}
    if kind == "done":
        return {"event": kind, "answer": answer_json(event["answer"])}
    return dict(event)
