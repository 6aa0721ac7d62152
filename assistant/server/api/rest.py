"""The REST routes for questions: /api/ask (the `ask --json` shape) and /api/ask/stream (server-sent events)."""
from __future__ import annotations

from typing import AsyncIterator

from fastapi import Depends
from fastapi.responses import JSONResponse

from ..access import Caller
from ...config import Settings
from ...schema import Message
from . import deps
from .answering import Answering
from .conversation import conversation
from .models import AskRequest
from .routes import Routes
from .security import caller
from .shapes import answer_json, event_json, sse
from .streams import event_stream, sent

routes = Routes(tags=["ask"])


def ask_conversation(req: AskRequest, settings: Settings) -> tuple[str, list[Message]]:
    return conversation([(t.role, t.content) for t in req.history] + [("user", req.question)], settings)


@routes.post("/api/ask", summary="Ask a question (with history); the `ask --json` shape")
async def ask(req: AskRequest, caller: Caller = Depends(caller), settings: Settings = Depends(deps.settings),
              answering: Answering = Depends(deps.answering)):
    question, history = ask_conversation(req, settings)
    return JSONResponse(answer_json(await answering.whole(question, history)))


async def event_lines(stream: AsyncIterator[dict]) -> AsyncIterator[str]:
    async for event in stream:
        yield sse(event_json(event))


def rest_error(message: str, status: int) -> dict:
    return {"event": "error", "message": message}


@routes.post("/api/ask/stream", summary="Ask, streamed as server-sent events",
             description="Each `data:` line is one JSON event: `query` (rewritten_query), `delta` (raw text), "
                         "`sentence` (a verified sentence with its markers and the citations it introduces), "
                         "`done` (the whole answer, as /api/ask), or `error` (message).")
async def ask_stream(req: AskRequest, caller: Caller = Depends(caller), settings: Settings = Depends(deps.settings),
                     answering: Answering = Depends(deps.answering)):
    question, history = ask_conversation(req, settings)
    stream = await answering.events(question, history)
    return event_stream(sent(event_lines(stream), rest_error))
