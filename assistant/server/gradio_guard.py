"""The chat page's HTTP API (Gradio's /gradio_api/...) under the REST API's rules, checked before Gradio runs an event:
only public endpoints are callable by name, an unknown event is a 404, a question and its history obey the REST
limits (one-line 400/422, not a 500 from inside the event), events that answer or change the collection count
against the caller's rate limit, and uploading into Gradio's folder needs the right to change the collection."""
from __future__ import annotations

import inspect
import json
import re
from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from .access import change_refusal, page_caller
from .api.conversation import conversation
from .api.errors import ApiError, error_response, validation_problem
from .api.models import AskRequest
from ..config import Settings
from ..schema import QuestionError

# POST /gradio_api/run|api|call|call/v2/NAME, POST queue/join and upload, GET call[/v2]/NAME/EVENT_ID
BY_NAME = re.compile(r"/gradio_api/(?:run|api|call/v2|call)/([^/]+)/?$")
JOIN = re.compile(r"/gradio_api/queue/join/?$")
UPLOAD = re.compile(r"/gradio_api/upload/?$")
RESULTS = re.compile(r"/gradio_api/call(?:/v2)?/[^/]+/([^/]+)/?$")
# The events that answer a question, read a document or change the collection: each counts against the rate limit.
COUNTED = {"ask", "document", "respond", "upload", "reindex", "remove"}


class GradioGuard:
    """ASGI middleware in front of the mounted chat page (inside security.Guard, which bounds the body's size).

    blocks: the page (gr.Blocks); gradio_app: Gradio's server app (its sign-in tokens); limiter: the REST routes'
    RateLimiter, so that a client's questions count once whichever API it asks through.
    """

    def __init__(self, app, settings: Settings, state):
        self.app, self.settings, self.state = app, settings, state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or "/gradio_api/" not in scope["path"] or getattr(self.state, "chat_page", None) is None:
            return await self.app(scope, receive, send)
        path, method = scope["path"], scope["method"]
        try:
            if method == "GET" and (m := RESULTS.search(path)):
                self.check_event_id(m.group(1))
                return await self.app(scope, receive, send)
            if method != "POST" or not (BY_NAME.search(path) or JOIN.search(path) or UPLOAD.search(path)):
                return await self.app(scope, receive, send)
            request = Request(scope, receive)
            if UPLOAD.search(path):
                self.check_upload(request)
                self.count(request)
                return await self.app(scope, receive, send)
            body = await request.body()
            await self.check_event(request, path, body)
        except ApiError as exc:
            return await error_response(exc.status, exc.message, exc.kind, exc.headers)(scope, receive, send)
        except QuestionError as exc:
            return await error_response(400, str(exc), "invalid_request_error")(scope, receive, send)
        sent = False

        async def replay():  # the body was read here: hand it on once
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    # -- the checks --------------------------------------------------------------------------------------
    @property
    def blocks(self):
        return self.state.chat_page

    def caller(self, request: Request):
        client = request.client.host if request.client else ""
        headers = {k.lower(): v for k, v in request.headers.items()}
        return page_caller(self.settings, client, headers, self.username(request))

    def username(self, request: Request) -> str | None:
        """Who signed in to the page (Gradio's own cookie), or None."""
        server = getattr(self.state, "gradio_app", None)
        if server is None:
            return None
        token = (request.cookies.get(f"access-token-{server.cookie_id}")
                 or request.cookies.get(f"access-token-unsecure-{server.cookie_id}"))
        return server.tokens.get(token) if token else None

    def count(self, request: Request) -> None:
        client = request.client.host if request.client else ""
        self.state.keys.limiter.check("client:" + client)

    def check_signed_in(self, request: Request) -> None:
        """On a keyed server the page is for those signed in (Gradio's own rule): 401 before anything is checked."""
        if (self.settings.api_keys or self.settings.read_keys) and self.username(request) is None:
            raise ApiError(401, "sign in first (the chat page's password is an admin API key)", "authentication_error")

    def check_upload(self, request: Request) -> None:
        self.check_signed_in(request)
        if refusal := change_refusal(self.caller(request)):
            raise ApiError(403, refusal, "permission_error")

    def check_event_id(self, event_id: str) -> None:
        queue = self.blocks._queue
        known = event_id in queue.event_ids_to_events or any(
            event_id in ids for ids in getattr(queue, "pending_event_ids_session", {}).values())
        if not known:
            raise ApiError(404, f"no event {event_id[:64]!r} (it finished, or never started)", "not_found_error")

    async def check_event(self, request: Request, path: str, body: bytes) -> None:
        self.check_signed_in(request)
        try:
            payload = json.loads(body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"malformed JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise ApiError(422, "invalid request: the body must be a JSON object")
        fns = self.blocks.fns
        index = payload.get("fn_index")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool) or index not in fns):
            raise ApiError(404, f"no event {str(index)[:32]}", "not_found_error")
        if m := BY_NAME.search(path):
            name = m.group(1)
            fn = next((f for f in fns.values() if f.api_name == name and f.api_visibility != "private"), None)
            if fn is None or (index is not None and index != fn._id):
                raise ApiError(404, f"no API endpoint {name[:64]!r}", "not_found_error")
            data = self.v2_data(fn, payload) if "/call/v2/" in path else payload.get("data")
        elif index is None:
            raise ApiError(422, "invalid request: fn_index is required")
        else:
            fn, data = fns[index], payload.get("data")
        if not isinstance(data, list):
            raise ApiError(422, "invalid request: data must be a list of the event's inputs")
        name = fn.api_name or ""
        if name in COUNTED:
            self.count(request)
        if name == "ask":  # (the chat box's own event says what is wrong with a question in the chat)
            self.check_question(data)
        elif name == "document":
            await self.check_document(data)

    @staticmethod
    def v2_data(fn, payload: dict) -> list[Any]:
        """call/v2 takes the inputs by parameter name: as the list call/ takes."""
        names = [p for p in inspect.signature(fn.fn).parameters if p not in ("request", "progress", "evt")]
        return [payload.get(p) for p in names]

    def check_question(self, data: list) -> None:
        question, history = (data + [None, None])[:2]
        try:
            req = AskRequest.model_validate({"question": question, "history": history or []})
        except ValidationError as exc:
            raise ApiError(422, "invalid request: " + "; ".join(validation_problem(
                {**e, "loc": ("body", *e["loc"])}) for e in exc.errors()[:5])) from None
        conversation([(t.role, t.content) for t in req.history] + [("user", req.question)], self.settings)

    async def check_document(self, data: list) -> None:
        doc_id = data[0] if data else None
        if not isinstance(doc_id, str) or not doc_id or len(doc_id) > 200:
            raise ApiError(404, f"no document {str(doc_id)[:64]!r}", "not_found_error")
        assistant = self.state.assistant
        if await run_in_threadpool(assistant.document, doc_id) is None:
            raise ApiError(404, f"no document {doc_id}", "not_found_error")
