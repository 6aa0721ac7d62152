"""An OpenAI-compatible server that streams a fixed reply slowly: what a prompt-injected or hostile LLM server would
send (the real test LLM cannot be made to say it). Runs under uvicorn in a thread of the test process."""
from __future__ import annotations

import asyncio
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from servers import ThreadServer


def scripted_llm(reply: str, seconds_per_word: float = 0.15) -> ThreadServer:
    async def models(request: Request):
        return JSONResponse({"object": "list", "data": [{"id": "scripted", "object": "model"}]})

    async def completions(request: Request):
        body = await request.json()

        def chunk(text: str | None, finish: str | None = None) -> str:
            delta = {"content": text} if text is not None else {}
            return "data: " + json.dumps({"id": "x", "object": "chat.completion.chunk", "model": "scripted",
                                          "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"

        async def words():
            for word in reply.split(" "):
                yield chunk(word + " ")
                await asyncio.sleep(seconds_per_word)
            yield chunk(None, "stop")
            yield "data: [DONE]\n\n"

        if body.get("stream"):
            return StreamingResponse(words(), media_type="text/event-stream")
        return JSONResponse({"id": "x", "object": "chat.completion", "model": "scripted", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}]})

    return ThreadServer(Starlette(routes=[Route("/v1/models", models), Route("/v1/chat/completions", completions, methods=["POST"])]))
