"""A request's messages as the question and its history, within the server's limits."""
from __future__ import annotations

from ...config import Settings
from ...schema import check_question
from ...schema import Message, is_text
from .errors import ApiError


def conversation(turns: list[tuple[str, str]], settings: Settings) -> tuple[str, list[Message]]:
    """(role, text) messages, oldest first, as (question, history); ApiError 400 (or QuestionError, also a 400)
    when they break a limit or the last is not a user's question."""
    if len(turns) > settings.max_messages:
        raise ApiError(400, f"too many messages ({len(turns)}; the limit is {settings.max_messages})")
    for n, (_, text) in enumerate(turns, 1):
        if len(text) > settings.max_question_chars:
            raise ApiError(400, f"message {n} is too long ({len(text)} characters; the limit is {settings.max_question_chars})")
        if not is_text(text):
            raise ApiError(400, f"message {n} is not valid text (it holds a lone UTF-16 surrogate)")
    chat = [(r, t) for r, t in turns if r in ("user", "assistant")]
    if not chat or chat[-1][0] != "user":
        raise ApiError(400, "the last message must be the user's question")
    question = check_question(chat[-1][1], settings.max_question_chars)
    return question, [Message(r, t) for r, t in chat[:-1]]
