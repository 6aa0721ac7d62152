"""The HTTP server: an OpenAI-compatible chat endpoint and a REST API that keep the citations, the widget, and the chat UI."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import time
import uuid
from collections import OrderedDict, deque
from importlib import resources
from pathlib import Path
from typing import Any, AsyncIterator, Iterator, Literal
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .access import Caller, change_refusal, foreign_origin, is_loopback, keyless_caller
from .config import Settings
from .markdown import answer_markdown, sentence_markdown
from .proxy import public_root
from .schema import Answer, AssistantError, Message, is_text
from .warmup import Warmup

log = logging.getLogger("assistant.api")

MODEL_ID = "assistant"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
RATE_WINDOW_S = 60.0
# Answers computed at once: more only makes them take turns on the same cores (and fairly only in this queue).
ANSWER_SLOTS = max(2, os.cpu_count() or 1)


class ApiError(Exception):
    """An error answered as {"error": {"message", "type", "code"}} (the OpenAI shape, which its client reads)."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.headers = status, message, kind, headers or {}


def error_body(message: str, kind: str, status: int) -> dict:
    # "detail" too: the key FastAPI clients look for.
    return {"error": {"message": message, "type": kind, "code": status}, "detail": message}


def error_response(status: int, message: str, kind: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, kind, status), status_code=status, headers=headers)


# -- request and response models ---------------------------------------------------------------
class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


class ChatRequest(BaseModel):
    """OpenAI chat completion request: the last user message is the question, earlier turns the history."""

    model_config = ConfigDict(extra="allow")  # temperature, max_tokens... are accepted and ignored
    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    question: str
    history: list[Turn] = Field(default_factory=list, description="earlier turns, oldest first")


# -- access ------------------------------------------------------------------------------------
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


class AnswerCache:
    """Answers to repeated questions, per collection revision: intranet readers ask the same things again and again.

    Concurrent identical questions share one computation; any change of the collection starts afresh. The revision
    is read from Chroma for every question (one small read): replicas of this server on one Chroma server change
    the collection too, and none may answer from before a change another one has finished.
    """

    def __init__(self, assistant, size: int):
        self.assistant = assistant
        self.size = size
        self.answers: OrderedDict[tuple, Answer] = OrderedDict()
        self.pending: dict[tuple, asyncio.Future] = {}
        self._revision = None

    def stale(self) -> bool:
        return self.size > 0

    def refresh(self) -> None:
        """Read the collection's revision again (another process may have ingested); a blocking call."""
        try:
            revision = self.assistant.store.revision()
        except Exception:
            revision = None
        # odd: a writer is half way (Store.commit_start): what is answered now must not outlive it
        revision = revision if revision is not None and revision % 2 == 0 else None
        if revision != self._revision and revision is not None:
            for key in [k for k in self.answers if k[0] != revision]:
                del self.answers[key]  # answers from an older revision can never be asked for again
        self._revision = revision

    def invalidate(self) -> None:
        """This server changed the collection: forget the answers at once."""
        self.answers.clear()

    def key(self, question: str, history: list[Message]) -> tuple | None:
        revision = self._revision if self.size > 0 else None
        if revision is None:
            return None
        norm = lambda t: " ".join(t.split()).casefold()  # noqa: E731
        return (revision, self.assistant.settings.answerer_name, norm(question),
                tuple((m.role, norm(m.content)) for m in history))

    def get(self, key: tuple | None) -> Answer | None:
        if key is None or key not in self.answers:
            return None
        self.answers.move_to_end(key)
        return self.answers[key]

    def put(self, key: tuple | None, answer: Answer) -> None:
        if key is None or answer.answerer != self.assistant.settings.answerer_name or not answer.complete:
            return  # a fallback or broken-off answer (the LLM server was down) should not outlive the outage
        self.answers[key] = answer
        self.answers.move_to_end(key)
        while len(self.answers) > self.size:
            self.answers.popitem(last=False)


def cached_events(answer: Answer) -> Iterator[dict]:
    """The stream events of an answer already made."""
    yield {"event": "query", "rewritten_query": answer.rewritten_query}
    seen: set[int] = set()
    by_marker = {c.marker: c for c in answer.citations}
    for sentence in answer.sentences:
        new = [by_marker[m] for m in sentence.citations if m not in seen and m in by_marker]
        seen.update(sentence.citations)
        yield {"event": "delta", "text": sentence.text}
        yield {"event": "sentence", "sentence": sentence, "citations": new}
    yield {"event": "done", "answer": answer}


class Guard:
    """ASGI middleware in front of everything (the UI too): who may connect, from which page, with how big a body."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.settings = settings
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
        limit = self.body_limit(headers)
        length = headers.get("content-length", "")
        if length.isdigit():
            if int(length) > limit:
                return await self.too_large(limit)(scope, receive, send)
            return await self.app(scope, receive, send)  # the server reads no more than Content-Length
        # No Content-Length (chunked): read the body here, up to the limit, and hand it on.
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
            host = urlsplit("//" + headers.get("host", "localhost")).hostname or ""
            if host not in LOCAL_HOSTS and not host.startswith("127.") and host != self.public.hostname:
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


def make_caller(settings: Settings, limiter: RateLimiter):
    """The dependency that authenticates a request and counts it against its rate limit."""
    # auto_error off: the answer to a missing key is ours (401 with a message); this declares the scheme in /docs.
    bearer = HTTPBearer(auto_error=False, description="an admin key (ASSISTANT_API_KEYS) or a read key (ASSISTANT_READ_KEYS)")
    admin_keys = list(settings.api_keys)
    read_keys = list(settings.read_keys)
    public_netloc = public_root(settings.root_path).netloc

    async def caller(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Caller:
        origin = foreign_origin({k.lower(): v for k, v in request.headers.items()}, public_netloc)
        client = request.client.host if request.client else ""
        if admin_keys or read_keys:
            key = credentials.credentials.strip() if credentials else ""
            if not key:
                raise ApiError(401, "missing API key: send the header Authorization: Bearer <key>",
                               "authentication_error", {"WWW-Authenticate": "Bearer"})
            role = None
            for k in admin_keys:
                if hmac.compare_digest(k.encode(), key.encode()):
                    role = "admin"
            for k in read_keys:
                if role is None and hmac.compare_digest(k.encode(), key.encode()):
                    role = "read"
            if role is None:
                raise ApiError(401, "invalid API key", "authentication_error", {"WWW-Authenticate": "Bearer"})
            if role == "admin" and origin is not None:
                raise ApiError(403, "admin keys are refused from web pages (they would be exposed to every visitor); "
                               "embed a read-only key", "permission_error")
            identity = "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
            if origin is not None:
                # A widget's key is shared by every visitor of its pages: each visitor gets the limit, not all together.
                identity += "|client:" + client
        else:
            keyless = keyless_caller(client, origin)
            limiter.check(keyless.identity)
            return keyless
        limiter.check(identity)
        return Caller(role=role, identity=identity, origin=origin)

    return caller


def admin_only(caller: Caller) -> None:
    refusal = change_refusal(caller)
    if refusal is not None:
        raise ApiError(403, refusal, "permission_error")


# -- answers as JSON ---------------------------------------------------------------------------
def citation_dicts(answer: Answer) -> list[dict]:
    """Each citation with the verdict, support and probability of the least sure sentence that cites it: a
    citation is "supported" only when every sentence resting on it is."""
    out = []
    for c in answer.citations:
        citing = sorted((s for s in answer.sentences if c.marker in s.citations), key=lambda s: s.verdict == "supported")
        d = c.to_dict()
        d["verdict"] = citing[0].verdict if citing else ""
        d["support"] = citing[0].support if citing else 0.0
        d["probability"] = citing[0].probability if citing else None
        out.append(d)
    return out


def answer_extras(answer: Answer) -> dict[str, Any]:
    """The fields an OpenAI message gains: structured citations and per-sentence verdicts."""
    return {
        "citations": citation_dicts(answer),
        "sentences": [s.to_dict() for s in answer.sentences],
        "abstained": answer.abstained,
        "rewritten_query": answer.rewritten_query,
        "notice": answer.notice,
    }


def sse(data: Any) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def event_json(event: dict) -> dict:
    """A core stream event as JSON."""
    kind = event["event"]
    if kind == "sentence":
        return {"event": kind, "sentence": event["sentence"].to_dict(), "citations": [c.to_dict() for c in event["citations"]]}
    if kind == "done":
        answer: Answer = event["answer"]
        return {"event": kind, "answer": {**answer.to_dict(), "citations": citation_dicts(answer)}}
    return dict(event)


# -- the app -----------------------------------------------------------------------------------
def create_app(settings: Settings | None = None, assistant=None) -> FastAPI:
    """Build the whole server (API, widget, chat UI at "/") without starting it.

    settings govern the server (keys, origins, limits); a given assistant answers and ingests by its own settings.
    """
    settings = settings or Settings.load()
    if assistant is None:
        from .core import Assistant

        assistant = Assistant(settings)
    limiter = RateLimiter(settings.rate_limit_per_minute)
    caller_dep = make_caller(settings, limiter)
    cache = AnswerCache(assistant, settings.answer_cache)
    slots = asyncio.Semaphore(ANSWER_SLOTS)
    warmup = Warmup(assistant)

    app = FastAPI(
        docs_url=None, redoc_url=None,  # FastAPI's own pages load Swagger from a CDN; mount_docs serves it locally
        lifespan=warmup.lifespan,
        title="assistant",
        version="1",
        summary="Answers from your articles; every sentence cites an exact span of a document and is verified against it.",
        description="OpenAI-compatible `/v1/chat/completions` (citations in `message.citations` and in the last stream "
                    "chunk's `delta.citations`) and a REST API. Authenticate with `Authorization: Bearer <key>` when keys "
                    "are configured: read keys may ask, admin keys may also change the collection.",
    )
    app.state.assistant = assistant
    app.state.settings = settings
    mount_docs(app)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return error_response(exc.status, exc.message, exc.kind, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        problems = []
        for e in exc.errors()[:5]:
            if e.get("type") == "json_invalid":
                reason = (e.get("ctx") or {}).get("error", "")
                problems.append(f"malformed JSON: {reason} (at character {e['loc'][-1]})" if reason else "malformed JSON")
                continue
            where = ".".join(str(p) for p in e.get("loc", ())[1:])
            problems.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
        message = "invalid request: " + "; ".join(problems)
        body = error_body(message, "invalid_request_error", 422)
        # Without the offending input: it may be large, and it is the caller's own anyway.
        body["errors"] = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()[:20]]
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return error_response(exc.status_code, str(exc.detail), "invalid_request_error", getattr(exc, "headers", None))

    @app.exception_handler(AssistantError)
    async def _assistant_error(request: Request, exc: AssistantError):
        return error_response(503, str(exc), "server_error")

    # -- conversation helpers ------------------------------------------------------------------
    def check_turns(turns: list[tuple[str, str]]) -> tuple[str, list[Message]]:
        """Limits on the conversation; returns (question, history)."""
        if len(turns) > settings.max_messages:
            raise ApiError(400, f"too many messages ({len(turns)}; the limit is {settings.max_messages})")
        for n, (_, text) in enumerate(turns, 1):
            if len(text) > settings.max_question_chars:
                raise ApiError(400, f"message {n} is too long ({len(text)} characters; the limit is {settings.max_question_chars})")
            if not is_text(text):
                raise ApiError(400, f"message {n} is not valid text (it holds a lone UTF-16 surrogate)")
        chat = [(r, t) for r, t in turns if r in ("user", "assistant")]
        if not chat or chat[-1][0] != "user":
            raise ApiError(400, "the last message must be the user's question")
        question = chat[-1][1].strip()
        if not question:
            raise ApiError(400, "the question is empty")
        if not re.search(r"[^\W_]", question):
            raise ApiError(400, "the question has no words")
        return question, [Message(r, t) for r, t in chat[:-1]]

    def chat_turns(req: ChatRequest) -> tuple[str, list[Message]]:
        turns = []
        for m in req.messages:
            if isinstance(m.content, list):
                text = "\n".join(p.text or "" for p in m.content if p.type in ("text", "input_text"))
            else:
                text = m.content or ""
            turns.append((m.role, text))
        return check_turns(turns)

    async def answer_of(question: str, history: list[Message]) -> Answer:
        """The whole answer: from the cache, from an identical question being answered now, or computed."""
        await ready(warmup)
        if cache.stale():
            await run_in_threadpool(cache.refresh)
        key = cache.key(question, history)
        hit = cache.get(key)
        if hit is not None:
            return hit
        waiting = cache.pending.get(key) if key is not None else None
        if waiting is not None:
            try:
                return await asyncio.shield(waiting)
            except asyncio.CancelledError:
                if not waiting.cancelled():
                    raise  # this request was cancelled, not the one it waited for
            # the request it waited for went away: answer it here
        future = asyncio.get_running_loop().create_future()
        if key is not None:
            cache.pending[key] = future
        try:
            async with slots:
                answer = await run_in_threadpool(assistant.ask, question, history)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # marked retrieved: no warning when nobody else waited
            raise
        except BaseException:
            future.cancel()
            raise
        else:
            cache.put(key, answer)
            future.set_result(answer)
            return answer
        finally:
            if cache.pending.get(key) is future:
                del cache.pending[key]

    async def events(question: str, history: list[Message]) -> AsyncIterator[dict]:
        """Stream events (replayed from the cache or produced in worker threads); errors before the first raise here."""
        await ready(warmup)
        if cache.stale():
            await run_in_threadpool(cache.refresh)
        key = cache.key(question, history)
        hit = cache.get(key)
        if hit is not None:
            async def cached() -> AsyncIterator[dict]:
                for event in cached_events(hit):
                    yield event

            return cached()
        gen: Iterator[dict] = assistant.stream(question, history)

        async def step() -> dict | None:
            # A slot per step, not per stream: a slow reader (or one that never starts reading) holds none.
            async with slots:
                return await run_in_threadpool(next, gen, None)

        first = await step()

        async def rest() -> AsyncIterator[dict]:
            event = first
            while event is not None:
                if event["event"] == "done":
                    cache.put(key, event["answer"])
                yield event
                event = await step()

        return rest()

    # -- OpenAI-compatible ---------------------------------------------------------------------
    @app.post("/v1/chat/completions", tags=["openai"], summary="Chat completion with citations (stream or not)")
    async def chat_completions(req: ChatRequest, caller: Caller = Depends(caller_dep)):
        question, history = chat_turns(req)
        cid, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        if not req.stream:
            answer = await answer_of(question, history)
            message = {"role": "assistant", "content": answer_markdown(answer), **answer_extras(answer)}
            # JSONResponse directly: FastAPI's generic encoder walks every value and costs more than the answer.
            return JSONResponse({"id": cid, "object": "chat.completion", "created": created, "model": req.model,
                                 "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}]})
        stream = await events(question, history)

        def chunk(delta: dict, finish: str | None = None) -> str:
            return sse({"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]})

        async def body() -> AsyncIterator[str]:
            yield chunk({"role": "assistant", "content": ""})
            answer, n = None, 0
            try:
                # Verified sentences only, with their markers: raw text could still be dropped by verification.
                async for event in stream:
                    if event["event"] == "sentence":
                        yield chunk({"content": (" " if n else "") + sentence_markdown(event["sentence"])})
                        n += 1
                    elif event["event"] == "done":
                        answer = event["answer"]
            except AssistantError as exc:
                yield sse({"error": {"message": str(exc), "type": "server_error", "code": 503}})
            except Exception:
                log.exception("answering failed")
                yield sse({"error": {"message": "internal error while answering", "type": "server_error", "code": 500}})
            if answer is not None:
                yield chunk(answer_extras(answer), "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.get("/v1/models", tags=["openai"], summary="The one model this server offers")
    async def models(caller: Caller = Depends(caller_dep)):
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "assistant"}]}

    # -- REST ----------------------------------------------------------------------------------
    @app.post("/api/ask", tags=["ask"], summary="Ask a question (with history); the `ask --json` shape")
    async def ask(req: AskRequest, caller: Caller = Depends(caller_dep)):
        question, history = check_turns([(t.role, t.content) for t in req.history] + [("user", req.question)])
        answer = await answer_of(question, history)
        return JSONResponse({**answer.to_dict(), "citations": citation_dicts(answer)})

    @app.post("/api/ask/stream", tags=["ask"], summary="Ask, streamed as server-sent events",
              description="Each `data:` line is one JSON event: `query` (rewritten_query), `delta` (raw text), "
                          "`sentence` (a verified sentence with its markers and the citations it introduces), "
                          "`done` (the whole answer, as /api/ask), or `error` (message).")
    async def ask_stream(req: AskRequest, caller: Caller = Depends(caller_dep)):
        question, history = check_turns([(t.role, t.content) for t in req.history] + [("user", req.question)])
        stream = await events(question, history)

        async def body() -> AsyncIterator[str]:
            try:
                async for event in stream:
                    yield sse(event_json(event))
            except AssistantError as exc:
                yield sse({"event": "error", "message": str(exc)})
            except Exception:
                log.exception("answering failed")
                yield sse({"event": "error", "message": "internal error while answering"})

        return StreamingResponse(body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.get("/api/documents", tags=["documents"], summary="The indexed documents")
    async def list_documents(caller: Caller = Depends(caller_dep)):
        docs = await run_in_threadpool(assistant.documents)
        return {"documents": [d.summary() for d in docs]}

    @app.get("/api/documents/{document_id}", tags=["documents"], summary="One document with its text",
             description="Citation `start`/`end` offsets index into `text`; `pages` holds each PDF page's start offset.")
    async def get_document(document_id: str, caller: Caller = Depends(caller_dep)):
        doc = await run_in_threadpool(assistant.document, document_id)
        if doc is None:
            raise ApiError(404, f"no document {document_id}", "not_found_error")
        return {**doc.summary(), "text": doc.text, "pages": doc.pages}

    @app.post("/api/documents", tags=["documents"], summary="Upload and ingest files (admin)", status_code=201)
    async def upload(file: list[UploadFile] = File(..., description="one or more files: txt, md, html, pdf, docx"),
                     caller: Caller = Depends(caller_dep)):
        admin_only(caller)
        total: dict[str, Any] = {"added": 0, "updated": 0, "unchanged": 0, "removed": 0, "failed": []}
        for f in file:
            data = await f.read()
            summary = (await run_in_threadpool(assistant.add_bytes, data, f.filename or "upload")).to_dict()
            cache.invalidate()
            for key in ("added", "updated", "unchanged", "removed"):
                total[key] += summary[key]
            total["failed"] += summary["failed"]
            total["documents"], total["chunks"] = summary["documents"], summary["chunks"]
        if total["failed"] and not (total["added"] or total["updated"] or total["unchanged"]):
            first = total["failed"][0]
            body = error_body(f"{first['path']}: {first['reason']}", "invalid_request_error", 422)
            return JSONResponse({**body, **total}, status_code=422)
        return total

    @app.delete("/api/documents/{document_id}", tags=["documents"], summary="Remove a document (admin)")
    async def delete_document(document_id: str, caller: Caller = Depends(caller_dep)):
        admin_only(caller)
        found = await run_in_threadpool(assistant.remove, document_id)
        cache.invalidate()
        if not found:
            raise ApiError(404, f"no document {document_id}", "not_found_error")
        info = await run_in_threadpool(assistant.status)
        return {"removed": document_id, "documents": info["documents"], "chunks": info["chunks"]}

    @app.get("/healthz", tags=["server"], summary="Readiness and collection size (no key needed)",
             description="200 with `ready: true` once every model is loaded and warm; 503 with `ready: false` (and "
                         "`status`: starting or error) before: a load balancer sends no question here until then.")
    async def healthz():
        return await health(assistant, warmup)

    mount_widget(app)
    mount_ui(app, assistant, settings)
    # Added last = outermost: CORS headers go on every answer (errors included) so the widget can read them.
    app.add_middleware(Guard, settings=settings)
    app.add_middleware(
        CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"], max_age=600,
    )
    return app


async def ready(warmup: Warmup) -> None:
    """Wait for the warm-up (a question that comes first would only load the same models at the same time)."""
    if not warmup.done.is_set():
        await run_in_threadpool(warmup.wait)


async def health(assistant, warmup: Warmup) -> JSONResponse:
    """/healthz: readiness (the warm-up's state) and the collection's size."""
    body = warmup.health()
    if warmup.ready:
        info = await run_in_threadpool(assistant.status)
        body.update(documents=info["documents"], chunks=info["chunks"], answerer=info["answerer"])
    return JSONResponse(body, status_code=200 if warmup.ready else 503)

def mount_widget(app: FastAPI) -> None:
    """/widget.js and the stylesheet it links, /widget.css (a file, not inline: host pages may forbid inline styles)."""

    def static_file(name: str, media_type: str):
        async def serve_file():
            body = resources.files("assistant.static").joinpath(name).read_text(encoding="utf-8")
            return Response(body, media_type=media_type,
                            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})
        return serve_file

    app.get("/widget.js", include_in_schema=False)(static_file("widget.js", "text/javascript; charset=utf-8"))
    app.get("/widget.css", include_in_schema=False)(static_file("widget.css", "text/css; charset=utf-8"))


def mount_docs(app: FastAPI) -> None:
    """OpenAPI docs at /docs with Swagger UI's files served from the swagger-ui-py wheel: intranets are often offline."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    try:
        import swagger_ui
    except ImportError:  # the files are missing: FastAPI's page (from its CDN) is better than none
        app.get("/docs", include_in_schema=False)(lambda: get_swagger_ui_html(openapi_url="/openapi.json", title="assistant API"))
        return
    static = Path(swagger_ui.__file__).parent / "static"
    app.mount("/docs/static", StaticFiles(directory=static), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request):
        root = request.scope.get("root_path", "").rstrip("/")  # behind a proxy at a sub-path, the page's links carry it
        return get_swagger_ui_html(openapi_url=root + "/openapi.json", title="assistant API",
                                   swagger_js_url=root + "/docs/static/swagger-ui-bundle.js",
                                   swagger_css_url=root + "/docs/static/swagger-ui.css",
                                   swagger_favicon_url=root + "/docs/static/favicon-32x32.png")


def mount_ui(app: FastAPI, assistant, settings: Settings) -> None:
    """Mount the Gradio chat at "/" (after the API routes, which therefore take precedence)."""
    try:
        from .ui import build_ui
    except ImportError as exc:
        log.warning("chat UI not mounted: %s", exc)

        @app.get("/", include_in_schema=False)
        async def index():
            return JSONResponse({"message": "assistant API: see /docs"})

        return
    import gradio as gr

    auth = None
    if settings.api_keys or settings.read_keys:
        # The UI can change the collection, so on a keyed server it asks for an admin key (any user name).
        keys = list(settings.api_keys)
        auth = lambda _user, password: any(hmac.compare_digest(k.encode(), (password or "").encode()) for k in keys)  # noqa: E731
    try:
        from .ui import mount_options
    except ImportError:
        options: dict[str, Any] = {}
    else:
        options = mount_options()
    if settings.root_path:
        options["root_path"] = settings.root_path  # the page's own URLs (queue, uploads, theme.css) under the proxy's path
    gr.mount_gradio_app(app, build_ui(assistant, settings), path="/", auth=auth,
                        auth_message="Sign in with an admin API key as the password." if auth else None, **options)
