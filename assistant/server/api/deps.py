"""What a route needs from the app it is part of (set by create_app on app.state), as FastAPI dependencies."""
from __future__ import annotations

from fastapi import Request

from ...config import Settings
from ..warmup import Warmup
from .answering import Answering


def assistant(request: Request):
    return request.app.state.assistant


def answering(request: Request) -> Answering:
    return request.app.state.answering


def settings(request: Request) -> Settings:
    """The server's settings (keys, origins, limits); the assistant answers by its own."""
    return request.app.state.settings


def warmup(request: Request) -> Warmup:
    return request.app.state.warmup
