"""The OpenAI-compatible routes: /v1/chat/completions (citations in `message.citations` and in the last stream
chunk's `delta.citations`, and by default as a Sources list ending the content; `usage` counted with tiktoken) and
/v1/models."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import AsyncIterator

from fastapi import Depends
from fastapi.responses import JSONResponse

from ..access import Caller
from ...config import Settings
from ...ingest.chunking import count_tokens
from ...schema import Answer, Message
from ..markdown import answer_markdown, sentence_markdown, sources_markdown, without_sources
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
    prompt_tokens: int = 0
    source_list: bool = True  # end the content with the Sources list
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex[:24]}")
    created: int = field(default_factory=lambda: int(time.time()))
    answer: Answer | None = None  # once streamed to the end
    content: list[str] = field(default_factory=list)  # what the stream sent so far

    def usage(self, content: str) -> dict[str, int]:
        completion = count_tokens(content)
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": completion,
                "total_tokens": self.prompt_tokens + completion}

    def sources(self, answer: Answer) -> str:
        return sources_markdown(answer.citations) if self.source_list else ""

    def whole(self, answer: Answer) -> dict:
        content = answer_markdown(answer) + self.sources(answer)
        message = {"role": "assistant", "content": content, **answer_extras(answer)}
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
                "usage": self.usage(content)}

    def chunk(self, delta: dict, finish: str | None = None) -> str:
        if delta.get("content"):
            self.content.append(delta["content"])
        return sse({"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]})

    def usage_chunk(self) -> str:
        """The chunk OpenAI sends last under stream_options.include_usage: no choices, the whole stream's usage."""
        return sse({"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                    "choices": [], "usage": self.usage("".join(self.content))})

    async def sentences(self, stream: AsyncIterator[dict]) -> AsyncIterator[str]:
        """Verified sentences only, with their markers: raw text could still be dropped by verification."""
        n = 0
        async for event in stream:
            if event["event"] == "sentence":
                yield self.chunk({"content": (" " if n else "") + sentence_markdown(event["sentence"])})
                n += 1
            elif event["event"] == "done":
                self.answer = event["answer"]

    async def chunks(self, stream: AsyncIterator[dict], include_usage: bool = False) -> AsyncIterator[str]:
        yield self.chunk({"role": "assistant", "content": ""})
        async for line in sent(self.sentences(stream), openai_error):
            yield line
        if self.answer is not None:
            if sources := self.sources(self.answer):
                yield self.chunk({"content": sources})
            yield self.chunk(answer_extras(self.answer), "stop")
            if include_usage:
                yield self.usage_chunk()
        yield "data: [DONE]\n\n"


def openai_error(message: str, status: int) -> dict:
    return {"error": {"message": message, "type": "server_error", "code": status}}


def chat_conversation(req: ChatRequest, settings: Settings) -> tuple[str, list[Message]]:
    # an earlier reply comes back with the Sources list this server added: the follow-up rewriter reads the answer
    return conversation([(m.role, without_sources(m.text()) if m.role == "assistant" else m.text()) for m in req.messages],
                        settings)


def prompt_tokens(req: ChatRequest) -> int:
    """The request's messages in tiktoken tokens, as OpenAI counts a prompt (its few tokens of framing aside)."""
    return sum(count_tokens(m.text()) for m in req.messages)


@routes.post("/v1/chat/completions", summary="Chat completion with citations (stream or not)")
async def chat_completions(req: ChatRequest, caller: Caller = Depends(caller), settings: Settings = Depends(deps.settings),
                           answering: Answering = Depends(deps.answering)):
    question, history = chat_conversation(req, settings)
    completion = Completion(req.model, prompt_tokens(req), req.source_list)
    if not req.stream:
        # JSONResponse directly: FastAPI's generic encoder walks every value and costs more than the answer.
        return JSONResponse(completion.whole(await answering.whole(question, history)))
    stream = await answering.events(question, history)
    include_usage = bool(req.stream_options and req.stream_options.include_usage)
    return event_stream(completion.chunks(stream, include_usage))


@routes.get("/v1/models", summary="The one model this server offers")
async def models(caller: Caller = Depends(caller)):
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "assistant"}]}
