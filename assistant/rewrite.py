"""Turn a follow-up question into a standalone query, from the earlier turns (and the passages that answered them)."""
from __future__ import annotations


def rewrite_query(question: str, history: list[dict], assistant) -> str:
    if not history:
        return question
    previous = [m.get("content", "") for m in history if m.get("role") == "user"]
    if not previous:
        return question
    return f"{question} {previous[-1]}"
