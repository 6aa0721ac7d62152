"""HEAD answered wherever GET is: link checkers, uptime monitors and some proxies probe with HEAD, and a 404 or 405
where GET gives 200 reads as a broken link. Starlette answers HEAD only on its plain routes, not on FastAPI's API
routes, the widget's files or the mounted chat page."""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware: a HEAD request is served as the GET it stands for, with the same status and headers
    (Content-Length included) and no body."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False

        async def headers_only(message: Message) -> None:
            nonlocal ended
            if message["type"] == "http.response.body":
                if ended:
                    return  # the rest of a body the client did not ask for
                ended = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
