"""Conversations as the chat page keeps them in the browser, and as it exports them.

A finished answer is stored as the API's JSON (api.shapes.answer_json), trimmed to the passages the page still
shows, and read back into an Answer when a conversation is reopened, so that follow-ups and the sources panel work
as they did. Exports: Markdown for people (answer text with its markers, then every quoted span with its source)
and JSON in the API's shape (every citation with document id, source, title, date, start, end and text).
"""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from ..answering.policy import ABSTAIN_TEXT
from .api.shapes import answer_json
from .markdown import escape, sentence_markdown
from ..schema import Answer, Citation

MAX_CONVERSATIONS = 50  # kept in the browser, newest first; older ones are dropped (localStorage holds a few MB)
MAX_STORE_CHARS = 1_000_000  # ... and about 1 MB of JSON, sent with each question and answer
MAX_TITLE_CHARS = 80
CLOSEST_PASSAGES = 2  # an abstention shows this many of the closest passages


def stored_answer(answer: Answer) -> dict:
    """The answer as the API sends it, with only the passages the page shows again: those cited, and the closest
    ones (an abstention lists them)."""
    data = answer_json(answer)
    cited = {c.chunk_id for c in answer.citations}
    data["contexts"] = [c for i, c in enumerate(data["contexts"]) if c.get("id") in cited or i < CLOSEST_PASSAGES]
    return data


def short_title(text: str) -> str:
    """text on one line, at most MAX_TITLE_CHARS, cut between words."""
    text = " ".join(text.split())
    if len(text) <= MAX_TITLE_CHARS:
        return text
    return text[:MAX_TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def new_conversation(question: str) -> dict:
    now = time.time()
    return {"id": uuid.uuid4().hex[:12], "title": short_title(question), "created": now, "updated": now, "turns": []}


def saved(store: Any, conversation: dict) -> dict:
    """The browser's store with conversation put first (replacing its older copy): at most MAX_CONVERSATIONS and
    MAX_STORE_CHARS of JSON (the store travels with every question), the oldest dropped first."""
    kept = [conversation, *(c for c in listed(store) if c.get("id") != conversation["id"])][:MAX_CONVERSATIONS]
    sizes = [len(json.dumps(c, ensure_ascii=False)) for c in kept]
    while len(kept) > 1 and sum(sizes) > MAX_STORE_CHARS:
        kept.pop()
        sizes.pop()
    return {"conversations": kept}


def listed(store: Any) -> list[dict]:
    """The conversations in the browser's store, newest first (anything unreadable is ignored: the store is the
    browser's, and may be from an older page)."""
    if not isinstance(store, dict) or not isinstance(store.get("conversations"), list):
        return []
    return [c for c in store["conversations"] if isinstance(c, dict) and isinstance(c.get("id"), str)
            and isinstance(c.get("turns"), list)]


def find(store: Any, conversation_id: str) -> dict | None:
    return next((c for c in listed(store) if c["id"] == conversation_id), None)


def without(store: Any, conversation_id: str) -> dict:
    return {"conversations": [c for c in listed(store) if c["id"] != conversation_id]}


def renamed(store: Any, conversation_id: str, title: str) -> dict:
    title = short_title(title)
    return {"conversations": [{**c, "title": title} if c["id"] == conversation_id and title else c for c in listed(store)]}


# -- exports -------------------------------------------------------------------------------------
def when(timestamp: float | None) -> str:
    if not timestamp:
        return ""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def source_line(c: Citation) -> str:
    """"[1] Title (file.txt, 2024-05-01), characters 120–180": the citation's source in words."""
    title = c.title or c.source
    about = ", ".join(x for x in (c.source if c.source != title else "", getattr(c, "date", None) or "") if x)
    where = f", page {c.page}" if c.page else ""
    return f"[{c.marker}] {escape(title)}{f' ({escape(about)})' if about else ''}{where}, characters {c.start}–{c.end}"


def answer_markdown(answer: Answer) -> str:
    """An answer with its markers, then each cited span quoted under its source: what "Copy" puts on the clipboard."""
    said = [s for s in answer.sentences if s.verdict != "abstain"]
    lines = []
    if answer.abstained:
        lines.append(" ".join(s.text for s in answer.sentences if s.verdict == "abstain") or ABSTAIN_TEXT)
        if said:
            lines += ["", "What the articles do say: " + " ".join(sentence_markdown(s) for s in said)]
    else:
        lines.append(" ".join(sentence_markdown(s) for s in said))
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            quote = " ".join(c.text.split())
            lines.append(f"- {source_line(c)}: “{escape(quote)}”")
    return "\n".join(lines)


def conversation_markdown(conversation: dict) -> str:
    out = [f"# {escape(conversation.get('title') or 'Conversation')}", "",
           f"Exported {when(time.time())} from “Ask your articles”; every quoted span is the article's own text.", ""]
    for turn in conversation.get("turns", []):
        out += [f"## {escape(turn.get('question', ''))}", ""]
        if turn.get("answer"):
            out.append(answer_markdown(Answer.from_dict(turn["answer"], turn.get("question", ""))))
        else:
            out.append(f"Could not answer: {turn.get('error') or 'no answer'}")
        out.append("")
    return "\n".join(out)


def conversation_json(conversation: dict) -> str:
    """The conversation with each answer in the API's shape (/api/ask: citations with document id, source, title,
    date, start, end, text and verdict)."""
    turns = [{"question": t.get("question", ""), **({"answer": t["answer"]} if t.get("answer") else {"error": t.get("error", "")})}
             for t in conversation.get("turns", [])]
    return json.dumps({"title": conversation.get("title", ""), "created": when(conversation.get("created")),
                       "exported": when(time.time()), "turns": turns}, ensure_ascii=False, indent=1)
