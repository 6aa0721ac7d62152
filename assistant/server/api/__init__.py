"""The HTTP server: an OpenAI-compatible chat endpoint and a REST API that keep the citations, the widget, and the
chat UI. create_app() assembles the routers (openai, rest, check, documents, health), security and pages."""
from __future__ import annotations

from fastapi import FastAPI

from ...config import Settings
from ...core import Assistant
from ..running import new_instance
from ..warmup import Warmup
from . import check, documents, health, openai, rest
from .answering import Answering
from .errors import ApiError, add_error_handlers
from .head import HeadAsGet
from .pages import mount_docs, mount_ui, mount_widget
from .security import secure


__all__ = ["create_app", "ApiError"]

DESCRIPTION = ("OpenAI-compatible `/v1/chat/completions` (citations in `message.citations` and in the last stream "
               "chunk's `delta.citations`) and a REST API. Authenticate with `Authorization: Bearer <key>` when keys "
               "are configured: read keys may ask, admin keys may also change the collection.")


def create_app(settings: Settings | None = None, assistant=None, warmup: Warmup | None = None) -> FastAPI:
    """Build the whole server (API, widget, chat UI at "/") without starting it.

    settings govern the server (keys, origins, limits); a given assistant answers and ingests by its own settings.
    warmup: the assistant's warm-up, when the caller started it already (`serve` does, so that the models warm up
    while the chat UI is built); else one that starts with the server.
    """
    settings = settings or Settings.load()
    assistant = assistant if assistant is not None else Assistant(settings)
    warmup = warmup if warmup is not None else Warmup(assistant)
    app = FastAPI(
        docs_url=None, redoc_url=None,  # FastAPI's own pages load Swagger from a CDN; mount_docs serves it locally
        lifespan=warmup.lifespan,
        title="assistant", version="1", description=DESCRIPTION,
        summary="Answers from your articles; every sentence cites an exact span of a document and is verified against it.",
    )
    app.state.assistant = assistant
    app.state.settings = settings
    app.state.warmup = warmup
    app.state.instance = new_instance()
    app.state.answering = Answering(assistant, settings.answer_cache, warmup)
    mount_docs(app)
    add_error_handlers(app)
    for module in (openai, rest, check, documents, health):
        module.routes.add_to(app)
    mount_widget(app)
    mount_ui(app, assistant, settings)
    secure(app, settings)
    app.add_middleware(HeadAsGet)  # outermost: a HEAD is checked and answered exactly as its GET
    return app
