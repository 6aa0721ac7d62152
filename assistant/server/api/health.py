"""/healthz: readiness (the warm-up's state) and the collection's size, for load balancers and monitors (no key
needed)."""
from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..outages import chroma_unreachable, unreachable
from ..warmup import Warmup
from . import deps
from .routes import Routes

routes = Routes(tags=["server"])


@routes.get("/healthz", summary="Readiness and collection size (no key needed)",
            description="200 with `ready: true` once every model is loaded and warm (`instance`: this server process's id); 503 with `ready: false` (and "
                        "`status`: starting or error) before: a load balancer sends no question here until then. 503 with "
                        '`"chroma": "unreachable"` while the Chroma server cannot be reached.')
async def healthz(request: Request, assistant=Depends(deps.assistant), warmup: Warmup = Depends(deps.warmup)):
    # instance: this process's id, the same across its answers (tells replicas apart; `assistant ask` checks it)
    body = {**warmup.health(), "instance": request.app.state.instance}
    if warmup.ready:
        try:
            info = await run_in_threadpool(assistant.status)
        except Exception as exc:
            if not unreachable(exc):
                raise
            chroma_unreachable(exc)
            return JSONResponse({**body, "status": "error", "ready": False, "chroma": "unreachable"}, status_code=503)
        body.update(documents=info["documents"], chunks=info["chunks"], answerer=info["answerer"], chroma="ok")
    return JSONResponse(body, status_code=200 if warmup.ready else 503)
