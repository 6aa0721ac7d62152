"""The query a question is searched with after the earlier turns of a conversation.

With an LLM backend the condense prompt does it; the embedded default asks the learned follow-up model
(followup.py): a self-contained question is searched as typed, a follow-up with the subject of the turn it refers to.
find_person stays here for the answerers' sentence inputs (answering/model_input.py) (a quote's "he" is the person named before).
"""
from __future__ import annotations

import re
from typing import Iterable

from .followup import understand
from .normalize import Cleaned, clean_question
from ..schema import Message, messages

TITLES = r"(?:General|Gen\.|Lieutenant|Colonel|Col\.|Major|Captain|Admiral|President|Vice President|Prime Minister|" \
         r"Secretary|Minister|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Professor|Prof\.|Ayatollah|Sheikh|King|Queen|Prince|Princess|" \
         r"Senator|Sen\.|Governor|Gov\.|Judge|Justice|Pope|Chancellor|Commander|Spokesman|Spokeswoman|Sir|Lord|Lady)"
NAME = r"[A-Z][a-zA-Z'\-]+(?:\s+(?:al-|Al\s|bin\s|de\s|van\s|von\s)?[A-Z][a-zA-Z'\-]+){0,3}"


def user_turns(history: list[Message]) -> list[str]:
    return [m.content for m in history if m.role == "user" and m.content]


def with_abandoned(history: list[Message], cleaned: Cleaned) -> list[Message]:
    """The conversation a question is read after: the earlier turns, then what the question itself abandoned, as a
    turn of its own that the question may lean on ("How many troops does the US have in Iraq, uh, I mean how many
    did it have in 2020?": the "it" is the US)."""
    return [*history, Message(role="user", content=cleaned.abandoned)] if cleaned.abandoned else history


def rewrite_query(question: str, history: Iterable[Message | dict], store=None) -> str:
    """The embedded rewriter: the query a (cleaned) question is searched with after the earlier turns; the question
    itself unless the learned follow-up model (followup.py) says it leans on the turn before. An earlier question
    that abandoned a start ("Who founded the Royal Society, sorry, when was it founded?") is read as two turns,
    the start it abandoned and what it meant."""
    history = messages(history)
    questions, answers = [], []
    for k, message in enumerate(history):
        if message.role == "user" and message.content:
            reply = history[k + 1] if k + 1 < len(history) and history[k + 1].role == "assistant" else None
            said = clean_question(message.content, store)
            if said.abandoned:
                questions.append(said.abandoned)
                answers.append("")
            questions.append(said.text)
            answers.append(reply.content if reply else "")
    if not questions:
        return question
    return understand(questions + [question], answers)[-1].query


def find_person(text: str) -> str | None:
    """The first person named in text: a titled name, else a name followed by a role or 'said'."""
    m = re.search(rf"\b{TITLES}\s+({NAME})", text)
    if m:
        return m.group(0)
    m = re.search(rf"({NAME}),\s+(?:the\s+)?(?:[a-z]+\s+){{0,3}}(?:commander|minister|spokesman|spokeswoman|"
                  rf"president|secretary|leader|chief|head|professor|director|general|official|ambassador)", text)
    if m:
        return m.group(1)
    m = re.search(rf"({NAME})\s+(?:said|says|told|added|argued|warned)", text)
    return m.group(1) if m and " " in m.group(1) else None


def scoring_query(question: str, query: str) -> str:
    """What the answer model scores sentences against: the user's question (cleaned), not the query a follow-up is
    searched with (query, unused here). That query carries the subject of the turn it leans on (its words, the names
    its answer gave) so that retrieval finds the passages; read by the answer model, trained on single questions,
    those words drew it to the sentence that had answered that turn. Follow-ups of the public sets (bench/public.py),
    right with the query scored: tune half 0.72, report half 0.66; with the question: 0.83 and 0.74."""
    return question


def conversation_input(question: str, query: str) -> str:
    """A follow-up as the conversation-reading answer model reads it: "{question} || {the subject of the turn it
    leans on}" (the words of that turn and the names its answer gave, as the query carries them in brackets); a
    question that stands alone, as typed."""
    subject = query[len(question):].strip() if query.startswith(question) else ""
    if subject.startswith("(") and subject.endswith(")") and subject[1:-1].strip():
        return f"{question} || {subject[1:-1].strip()}"
    return question


def register(registry) -> None:
    registry.rewriters.add("embedded", lambda settings: rewrite_query)
