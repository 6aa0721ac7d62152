"""Who may connect and how often: API keys, rate limits, allowed origins and body sizes (the policy itself is
assistant/server/access.py, shared with the chat page)."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections import deque

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ...config import Settings
from ..access import Caller, change_refusal, foreign_host, foreign_origin, is_loopback, keyless_caller
from ..proxy import public_root
from .errors import ApiError, error_response

RATE_WINDOW_S = 60.0

# auto_error off: the answer to a missing key is ours (401 with a message); this declares the scheme in /docs.
bearer = HTTPBearer(auto_error=False, description="an admin key (ASSISTANT_API_KEYS) or a read key (ASSISTANT_READ_KEYS)")


class RateLimiter:
    """At most `per_minute` requests per identity in any 60 s (sliding window); <= 0 turns it off."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self.hits: dict[str, deque[float]] = {}

    def check(self, identity: str) -> None:
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        hits = self.hits.setdefault(identity, deque())
        while hits and hits[0] <= now - RATE_WINDOW_S:
            hits.popleft()
        if len(hits) >= self.per_minute:
            retry = max(1, int(hits[0] + RATE_WINDOW_S - now) + 1)
            raise ApiError(429, f"rate limit exceeded ({self.per_minute} requests per minute); retry in {retry} s",
                           "rate_limit_error", {"Retry-After": str(retry)})
        hits.append(now)
        if len(self.hits) > 10_000:  # forget idle clients so the table cannot grow without bound
            for key in [k for k, v in self.hits.items() if not v or v[-1] <= now - RATE_WINDOW_S]:
                del self.hits[key]


class FailedSignIns:
    """Wrong keys and refused sign-ins, per client address: each failure in the last `window_s` slows the answer to
    the next one (DELAY_S, doubling, at most MAX_DELAY_S); after `limit` of them, attempts are refused with 429 until
    the oldest leaves the window. A right key does not wipe the count: guessing between two right answers is still
    guessing."""

    DELAY_S = 0.1
    MAX_DELAY_S = 2.0

    def __init__(self, limit: int = 10, window_s: float = 600.0):
        self.limit, self.window_s = limit, window_s
        self.failures: dict[str, deque[float]] = {}

    def recent(self, client: str) -> deque[float]:
        now = time.monotonic()
        times = self.failures.get(client, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            self.failures.pop(client, None)
        return times

    def retry_after(self, client: str) -> int | None:
        """Seconds until client may try again, or None when it may now."""
        times = self.recent(client)
        if len(times) < self.limit:
            return None
        return max(1, int(times[0] + self.window_s - time.monotonic()) + 1)

    def fail(self, client: str) -> float:
        """Count a failure; returns how long to hold its answer."""
        times = self.failures.setdefault(client, self.recent(client))
        times.append(time.monotonic())
        if len(self.failures) > 10_000:  # forget quiet clients so the table cannot grow without bound
            for key in [k for k in self.failures if not self.recent(k)]:
                self.failures.pop(key, None)
        return min(self.MAX_DELAY_S, self.DELAY_S * 2 ** (len(times) - 1))


class Keys:
    """Authenticates a request by its key (or, without keys, by its address) and counts it against its rate limit."""

    def __init__(self, settings: Settings):
        self.admin_keys = list(settings.api_keys)
        self.read_keys = list(settings.read_keys)
        self.public = public_root(settings.root_path)
        self.limiter = RateLimiter(settings.rate_limit_per_minute)

    def role_of(self, key: str) -> str | None:
        role = None
        for k in self.admin_keys:  # every key compared, in constant time: no timing tells which matched
            if hmac.compare_digest(k.encode(), key.encode()):
                role = "admin"
        for k in self.read_keys:
            if role is None and hmac.compare_digest(k.encode(), key.encode()):
                role = "read"
        return role

    def caller(self, request: Request, credentials: HTTPAuthorizationCredentials | None) -> Caller:
        origin = foreign_origin({k.lower(): v for k, v in request.headers.items()}, self.public.netloc)
        host = foreign_host(request.headers.get("host", ""), self.public.hostname)
        client = request.client.host if request.client else ""
        if not (self.admin_keys or self.read_keys):
            keyless = keyless_caller(client, origin, host)
            self.limiter.check(keyless.identity)
            return keyless
        key = credentials.credentials.strip() if credentials else ""
        if not key:
            raise ApiError(401, "missing API key: send the header Authorization: Bearer <key>",
                           "authentication_error", {"WWW-Authenticate": "Bearer"})
        role = self.role_of(key)
        if role is None:
            raise ApiError(401, "invalid API key", "authentication_error", {"WWW-Authenticate": "Bearer"})
        if role == "admin" and origin is not None:
            raise ApiError(403, "admin keys are refused from web pages (they would be exposed to every visitor); "
                           "embed a read-only key", "permission_error")
        identity = "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
        if origin is not None:
            # A widget's key is shared by every visitor of its pages: each visitor gets the limit, not all together.
            identity += "|client:" + client
        self.limiter.check(identity)
        return Caller(role=role, identity=identity, origin=origin, foreign_host=host)


async def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
    """The dependency every API route takes: the authenticated, rate-counted caller. A wrong key counts against its
    address (FailedSignIns), and its answer is held a while."""
    try:
        return request.app.state.keys.caller(request, credentials)
    except ApiError as exc:
        if exc.status == 401 and credentials is not None and credentials.credentials.strip():
            await asyncio.sleep(request.app.state.sign_ins.fail(request.client.host if request.client else ""))
        raise


def admin_only(caller: Caller) -> None:
    refusal = change_refusal(caller)
    if refusal is not None:
        raise ApiError(403, refusal, "permission_error")


class Guard:
    """ASGI middleware in front of everything (the UI too): who may connect, from which page, with how big a body."""

    def __init__(self, app, settings: Settings, sign_ins: FailedSignIns):
        self.app = app
        self.settings = settings
        self.sign_ins = sign_ins
        self.local_only = not (settings.api_keys or settings.read_keys) and not settings.allow_remote
        self.public = public_root(settings.root_path)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self.refuse(scope, headers)
        if refusal is not None:
            return await refusal(scope, receive, send)
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.signs_in(scope, headers):
            client = (scope.get("client") or ("", 0))[0]
            if (retry := self.sign_ins.retry_after(client)) is not None:
                return await error_response(429, f"too many wrong keys or passwords from {client}; retry in {retry} s",
                                            "rate_limit_error", {"Retry-After": str(retry)})(scope, receive, send)
            if self.login(scope):
                send = self.counting_failures(send, client)
        limit = self.body_limit(headers)
        length = headers.get("content-length", "")
        if length.isdigit():
            if int(length) > limit:
                return await self.too_large(limit)(scope, receive, send)
            return await self.app(scope, receive, send)  # the server reads no more than Content-Length
        await self.chunked(scope, receive, send, limit)

    @staticmethod
    def login(scope) -> bool:
        return scope["method"] == "POST" and scope["path"].rstrip("/").endswith("/login")

    def signs_in(self, scope, headers: dict[str, str]) -> bool:
        """Whether the request tries a credential: an API key, or the chat page's sign-in form."""
        return "authorization" in headers or self.login(scope)

    def counting_failures(self, send, client: str):
        """send, counting a refused sign-in (the form's 4xx) and holding that answer a while; wrong API keys are
        counted where they are found wrong (caller)."""

        async def counted_send(message):
            if message["type"] == "http.response.start" and 400 <= message["status"] < 500 and message["status"] != 429:
                await asyncio.sleep(self.sign_ins.fail(client))
            await send(message)

        return counted_send

    async def chunked(self, scope, receive, send, limit: int) -> None:
        """No Content-Length: read the body here, up to the limit, and hand it on."""
        body, more = [], True
        received = 0
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            received += len(message.get("body", b""))
            if received > limit:
                return await self.too_large(limit)(scope, receive, send)
            body.append(message.get("body", b""))
            more = message.get("more_body", False)
        replayed = False

        async def replay_receive():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(body), "more_body": False}
            return await receive()

        await self.app(scope, replay_receive, send)

    def body_limit(self, headers: dict[str, str]) -> int:
        """Uploads may be large; a JSON request (a question and its history) is refused before it is parsed
        when it exceeds max_json_bytes: a million-turn history costs seconds to parse before it can be refused."""
        if headers.get("content-type", "").split(";")[0].strip().lower().endswith("json"):
            return min(self.settings.max_json_bytes, self.settings.max_body_bytes)
        return self.settings.max_body_bytes

    def too_large(self, limit: int) -> JSONResponse:
        return error_response(413, f"request body too large (the limit is {limit} bytes)", "invalid_request_error")

    def refuse(self, scope, headers: dict[str, str]) -> JSONResponse | None:
        client = (scope.get("client") or ("", 0))[0]
        if self.local_only:
            if not is_loopback(client):
                return error_response(403, "this server only answers this machine: configure API keys "
                                      "(ASSISTANT_API_KEYS / ASSISTANT_READ_KEYS) or start it with --allow-remote",
                                      "permission_error")
            host = foreign_host(headers.get("host", ""), self.public.hostname)
            if host is not None:
                # A page that rebinds its own DNS name to 127.0.0.1 must not reach a local, keyless server;
                # a proxy's own name is declared with a full-URL root path.
                return error_response(403, f"unexpected Host {host!r} for a local-only server (behind a proxy, "
                                      "give its public URL as --root-path)", "permission_error")
        origin = foreign_origin(headers, self.public.netloc)
        if origin is not None and origin not in self.settings.cors_origins and "*" not in self.settings.cors_origins:
            # Browsers send Origin on cross-site requests; refusing here (not only withholding CORS headers)
            # keeps other sites from making a visitor's browser ask or upload on their behalf.
            return error_response(403, f"origin {origin} is not allowed (ASSISTANT_CORS_ORIGINS)", "permission_error")
        return None


def secure(app: FastAPI, settings: Settings) -> None:
    """Keys and rate limits for the routes; the Guard and CORS in front of everything. Call it last: the middleware
    added last is outermost, so CORS headers go on every answer (errors included) and the widget can read them."""
    from ..gradio_guard import GradioGuard

    app.state.keys = Keys(settings)
    app.state.sign_ins = FailedSignIns()
    app.add_middleware(GradioGuard, settings=settings, state=app.state)  # inside the Guard: bodies already bounded
    app.add_middleware(Guard, settings=settings, sign_ins=app.state.sign_ins)
    app.add_middleware(
        CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"], max_age=600,
    )
