"""Server-sent event responses: a stream of answer events turned into `data:` lines, with errors as a last event."""
from __future__ import annotations

import logging
from typing import AsyncIterator, Callable

from fastapi.responses import StreamingResponse

from ...schema import AssistantError
from ..outages import chroma_unreachable, unreachable
from .shapes import sse

log = logging.getLogger("assistant.api")


async def sent(lines: AsyncIterator[str], error: Callable[[str, int], dict]) -> AsyncIterator[str]:
    """lines, then error(message, status) as one more event if answering fails part way (the response has begun)."""
    try:
        async for line in lines:
            yield line
    except AssistantError as exc:
        yield sse(error(str(exc), 503))
    except Exception as exc:
        if unreachable(exc):
            yield sse(error(chroma_unreachable(exc), 503))
            return
        log.exception("answering failed")
        yield sse(error("internal error while answering", 500))


def event_stream(body: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(body, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
