"""Routes declared next to their functions, as on an APIRouter, and added to the app as its own routes.

Not an APIRouter: FastAPI 0.163 keeps an included router as one opaque entry of app.routes, and whatever walks
app.routes for every route (the access tests, OpenAPI tools) would miss them."""
from __future__ import annotations

from typing import Any, Callable

from fastapi import FastAPI


class Routes:
    def __init__(self, tags: list[str]):
        self.tags = tags
        self.table: list[tuple[str, str, Callable, dict[str, Any]]] = []

    def route(self, method: str, path: str, **options: Any) -> Callable[[Callable], Callable]:
        def declare(endpoint: Callable) -> Callable:
            self.table.append((method, path, endpoint, options))
            return endpoint
        return declare

    def get(self, path: str, **options: Any) -> Callable[[Callable], Callable]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[Callable], Callable]:
        return self.route("POST", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[Callable], Callable]:
        return self.route("DELETE", path, **options)

    def add_to(self, app: FastAPI) -> None:
        for method, path, endpoint, options in self.table:
            app.add_api_route(path, endpoint, methods=[method], tags=self.tags, **options)
