"""What the server shows besides the API: the widget's files, the OpenAPI docs page, and the chat UI at "/"."""
from __future__ import annotations

import hmac
import logging
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.routing import Mount

from ...config import Settings

log = logging.getLogger("assistant.api")


def mount_widget(app: FastAPI) -> None:
    """/widget.js and the stylesheet it links, /widget.css (a file, not inline: host pages may forbid inline styles)."""

    def static_file(name: str, media_type: str):
        async def serve_file():
            body = resources.files("assistant.server.static").joinpath(name).read_text(encoding="utf-8")
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
    try:  # lazily: gradio takes seconds to import, and a server without it still answers the API
        from ..ui import ChatUI, mount_options
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
    options: dict[str, Any] = mount_options()
    if settings.root_path:
        options["root_path"] = settings.root_path  # the page's own URLs (queue, uploads, theme.css) under the proxy's path
    page = ChatUI(assistant, settings).create_app()
    gr.mount_gradio_app(app, page, path="/", auth=auth,
                        auth_message="Sign in with an admin API key as the password." if auth else None, **options)
    # For gradio_guard: the page's events, and Gradio's server (who signed in)
    app.state.chat_page = page
    app.state.gradio_app = next(r.app for r in reversed(app.routes) if isinstance(r, Mount))
