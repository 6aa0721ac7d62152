"""POST /api/check: which sentences of any text the sources back (answering/check.py), for read keys too."""
from __future__ import annotations

from fastapi import Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ..access import Caller
from . import deps
from .answering import Answering
from .routes import Routes
from .security import caller

routes = Routes(tags=["check"])


class CheckRequest(BaseModel):
    text: str = Field(description="the text to check: an answer from elsewhere, a summary, a draft")
    question: str | None = Field(None, description="the question it answers (helps find evidence for short sentences)")
    passages: list[str] | None = Field(None, description="check against these instead of searching the collection")


@routes.post("/api/check", summary="Check any text against the sources, sentence by sentence",
             description="Each sentence of `text` with its character offsets, whether the evidence backs it (the "
                         "support verifier's probability against policy.json's threshold) and its citations: spans "
                         "of the `passages` given (`passage`: their index), or of the collection's documents.")
async def check(req: CheckRequest, caller: Caller = Depends(caller), assistant=Depends(deps.assistant),
                answering: Answering = Depends(deps.answering)):
    await answering.ready()
    async with answering.slots:  # a check costs what an answer costs: it takes a slot among them
        result = await run_in_threadpool(assistant.check, req.text, req.question or "", req.passages)
    return JSONResponse(result.to_dict())
