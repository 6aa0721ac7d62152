"""/healthz: liveness and the collection's size, for load balancers and monitors (no key needed)."""
from __future__ import annotations

from fastapi import Depends
from starlette.concurrency import run_in_threadpool

from . import deps
from .routes import Routes

routes = Routes(tags=["server"])


@routes.get("/healthz", summary="Liveness and collection size (no key needed)")
async def healthz(assistant=Depends(deps.assistant)):
    info = await run_in_threadpool(assistant.status)
    return {"status": "ok", "documents": info["documents"], "chunks": info["chunks"], "answerer": info["answerer"]}
