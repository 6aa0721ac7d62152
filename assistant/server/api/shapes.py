"""Answers as JSON and server-sent events: the shapes the REST and OpenAI routes send."""
from __future__ import annotations

import json
from typing import Any

from ...schema import Answer, DeltaEvent, QueryEvent, SentenceEvent, StreamEvent


def answer_json(answer: Answer) -> dict:
    """An answer as /api/ask sends it (the `ask --json` shape, citations with their verdicts)."""
    return answer.to_dict()


def answer_extras(answer: Answer) -> dict[str, Any]:
    """The fields an OpenAI message gains: structured citations and per-sentence verdicts."""
    return {
        "citations": answer.citation_dicts(),
        "sentences": [s.to_dict() for s in answer.sentences],
        "abstained": answer.abstained,
        "rewritten_query": answer.rewritten_query,
        "notice": answer.notice,
        "disagreement": answer.disagreement,  # sources giving different values: [{values, marker, title, date, ...}]
        "as_of": answer.as_of,
    }


def sse(data: Any) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def event_json(event: StreamEvent) -> dict:
    """A core stream event as JSON: {"event": "query" | "delta" | "sentence" | "done", ...its fields}."""
    if isinstance(event, QueryEvent):
        return {"event": "query", "rewritten_query": event.rewritten_query}
    if isinstance(event, DeltaEvent):
        return {"event": "delta", "text": event.text}
    if isinstance(event, SentenceEvent):
        return {"event": "sentence", "sentence": event.sentence.to_dict(), "citations": [c.to_dict() for c in event.citations]}
    return {"event": "done", "answer": answer_json(event.answer)}
