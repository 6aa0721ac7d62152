"""The OpenAI-compatible routes: /v1/chat/completions (citations in `message.citations` and in the last stream
chunk's `delta.citations`) and /v1/models."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import AsyncIterator

from fastapi import Depends
from fastapi.responses import JSONResponse

from ..access import Caller
from ...config import Settings
from ..markdown import answer_markdown, sentence_markdown
from ...schema import Answer, Message
from . import deps
from .answering import Answering
from .conversation import conversation
from .models import MODEL_ID, ChatRequest
from .routes import Routes
from .security import caller
from .shapes import answer_extras, sse
from .streams import event_stream, sent

routes = Routes(tags=["openai"])


@dataclass
class Completion:
    """One chat completion's identity, repeated in each of its chunks."""

    model: str
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex[:24]}")
    created: int = field(default_factory=lambda: int(time.time()))
    answer: Answer | None = None  # once streamed to the end

    def whole(self, answer: Answer) -> dict:
        message = {"role": "assistant", "content": answer_markdown(answer), **answer_extras(answer)}
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}]}

    def chunk(self, delta: dict, finish: str | None = None) -> str:
        return sse({"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]})

    async def sentences(self, stream: AsyncIterator[dict]) -> AsyncIterator[str]:
        """Verified sentences only, with their markers: raw text could still be dropped by verification."""
        n = 0
        async for event in stream:
            if event["event"] == "sentence":
                yield self.chunk({"content": (" " if n else "") + sentence_markdown(event["sentence"])})
                n += 1
            elif event["event"] == "done":
                self.answer = event["answer"]

    async def chunks(self, stream: AsyncIterator[dict]) -> AsyncIterator[str]:
        yield self.chunk({"role": "assistant", "content": ""})
        async for line in sent(self.sentences(stream), openai_error):
            yield line
        if self.answer is not None:
            yield self.chunk(answer_extras(self.answer), "stop")
        yield "data: [DONE]\n\n"


def openai_error(message: str, status: int) -> dict:
    return {"error": {"message": message, "type": "server_error", "code": status}}


def chat_conversation(req: ChatRequest, settings: Settings) -> tuple[str, list[Message]]:
    return conversation([(m.role, m.text()) for m in req.messages], settings)


@routes.post("/v1/chat/completions", summary="Chat completion with citations (stream or not)")
async def chat_completions(req: ChatRequest, caller: Caller = Depends(caller), settings: Settings = Depends(deps.settings),
                           answering: Answering = Depends(deps.answering)):
    question, history = chat_conversation(req, settings)
    completion = Completion(req.model)
    if not req.stream:
        # JSONResponse directly: FastAPI's generic encoder walks every value and costs more than the answer.
        return JSONResponse(completion.whole(await answering.whole(question, history)))
    stream = await answering.events(question, history)
    return event_stream(completion.chunks(stream))


@routes.get("/v1/models", summary="The one model this server offers")
async def models(caller: Caller = Depends(caller)):
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "assistant"}]}
