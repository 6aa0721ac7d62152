"""Follow-up rewriting by the LLM (the condense prompt): a standalone question, or the question unchanged."""
from __future__ import annotations

import logging
import re
import secrets
from typing import Iterable

from ...config import Settings
from ...question.followup import leans_on
from ...question.normalize import normalize_question
from ...question.rewrite import rewrite_query, user_turns
from ...schema import AssistantError, Message, messages
from ...lexicon import STOPWORDS
from .prompts import as_data, render
from .client import client, model_name
from .stream import ABSTAIN_RE, MARKER_RE

log = logging.getLogger(__name__)


def condense_with_llm(question: str, history: Iterable[Message | dict], settings: Settings) -> str:
    """A standalone form of a follow-up question, written by the LLM from the conversation; on any failure the
    question unchanged (rewriting helps retrieval, it must never stop an answer)."""
    import openai

    turns = [m for m in messages(history) if m.role in ("user", "assistant") and m.content.strip()]
    if not turns or not settings.llm_base_url:
        return question
    lines = []
    for m in turns[-6:]:
        content = as_data(MARKER_RE.sub("", m.content))
        if len(content) > 600:
            content = content[:600] + "..."
        lines.append(f"{'User' if m.role == 'user' else 'Assistant'}: {content}")
    values = {"history": "\n".join(lines), "question": as_data(question), "tag": secrets.token_hex(4)}
    try:
        response = client(settings, retries=min(1, settings.llm_retries)).chat.completions.create(
            model=model_name(settings), temperature=0.0, max_tokens=64, messages=render("condense", values),
        )
        text = (response.choices[0].message.content or "") if response.choices else ""
    except (openai.OpenAIError, AssistantError, ValueError) as exc:
        log.info("the follow-up was not rewritten: %s", exc)
        return question
    return _standalone(text, question)


def _standalone(text: str, question: str) -> str:
    """The model's rewrite if it looks like a rewrite of this question, else the question."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return question
    line = re.sub(r"^(?:standalone question|question|rewritten question)\s*:\s*", "", lines[0], flags=re.I)
    line = line.strip().strip('"“”').strip()
    if not re.search(r"[A-Za-z]{2}", line) or len(line) > 3 * len(question) + 200 or ABSTAIN_RE.search(line):
        return question
    words = {w for w in re.findall(r"[a-z0-9]+", question.casefold()) if w not in STOPWORDS and len(w) > 2}
    if words and not words & set(re.findall(r"[a-z0-9]+", line.casefold())):
        return question  # shares no content word with the question: an answer or a ramble, not a rewrite
    return line


class LlmRewriter:
    """The LLM's condense prompt for a (cleaned) follow-up question. Whether a question is one is the learned
    follow-up model's judgement, as for the embedded rewriter: a question that stands alone is searched as typed,
    whatever came before, and costs no call (a small LLM asked to condense it may hand back the last answer). A
    follow-up the LLM does not rewrite (the call failed, or its reply was no rewrite of the question) is searched as
    the embedded rewriter would search it, with the subject of the turn it leans on."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def __call__(self, question: str, history: list[Message], store=None) -> str:
        asked = user_turns(history)
        if not asked or not leans_on(question, normalize_question(asked[-1], store)):
            return question
        rewritten = condense_with_llm(question, history, self.settings)
        return rewritten if rewritten != question else rewrite_query(question, history, store)
