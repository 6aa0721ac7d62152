"""Errors as the OpenAI shape {"error": {"message", "type", "code"}} (which its client reads), for every route."""
from __future__ import annotations

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ...schema import QuestionError
from ...schema import AssistantError
from ..outages import chroma_unreachable


class ApiError(Exception):
    """An error answered as {"error": {"message", "type", "code"}}."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.headers = status, message, kind, headers or {}


def error_body(message: str, kind: str, status: int) -> dict:
    # "detail" too: the key FastAPI clients look for.
    return {"error": {"message": message, "type": kind, "code": status}, "detail": message}


def error_response(status: int, message: str, kind: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, kind, status), status_code=status, headers=headers)


async def api_error(request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.message, exc.kind, exc.headers)


def validation_problem(e: dict) -> str:
    """One of a request's validation errors in a line."""
    if e.get("type") == "json_invalid":
        reason = (e.get("ctx") or {}).get("error", "")
        return f"malformed JSON: {reason} (at character {e['loc'][-1]})" if reason else "malformed JSON"
    where = ".".join(str(p) for p in e.get("loc", ())[1:])
    return f"{where}: {e.get('msg')}" if where else str(e.get("msg"))


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    message = "invalid request: " + "; ".join(validation_problem(e) for e in exc.errors()[:5])
    body = error_body(message, "invalid_request_error", 422)
    # Without the offending input: it may be large, and it is the caller's own anyway.
    body["errors"] = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()[:20]]
    return JSONResponse(body, status_code=422)


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return error_response(exc.status_code, str(exc.detail), "invalid_request_error", getattr(exc, "headers", None))


async def question_error(request: Request, exc: QuestionError) -> JSONResponse:
    return error_response(400, str(exc), "invalid_request_error")


async def assistant_error(request: Request, exc: AssistantError) -> JSONResponse:
    """The assistant could not answer (index unreadable, LLM server down): the server's fault, not the request's."""
    return error_response(503, str(exc), "server_error")


async def dependency_down(request: Request, exc: Exception) -> JSONResponse:
    """A raw connection failure reaching a route is the Chroma server (the LLM client words its own): 503, so that a
    load balancer tells "down" from "broken", and one log line a minute instead of a traceback per request."""
    return error_response(503, chroma_unreachable(exc), "server_error", {"Retry-After": "5"})


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(QuestionError, question_error)  # the more specific class: Starlette looks up the MRO
    app.add_exception_handler(AssistantError, assistant_error)
    for kind in (httpx.TransportError, ConnectionError):
        app.add_exception_handler(kind, dependency_down)
