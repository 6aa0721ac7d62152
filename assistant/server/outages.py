"""A dependency that is down (the Chroma server unreachable): told apart from a bug, answered as 503, and logged
once a minute rather than as a traceback per request."""
from __future__ import annotations

import logging
import threading
import time

import httpx

log = logging.getLogger("assistant.outages")

LOG_EVERY_S = 60.0


def unreachable(exc: BaseException) -> bool:
    """Whether exc (or what caused it) is a connection that failed: the Chroma server down or unreachable. The LLM
    client's own failures arrive as AssistantError, already worded."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, (httpx.TransportError, ConnectionError)):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


class OutageLog:
    """One warning per dependency a minute while it is down, saying how many failures it stands for."""

    def __init__(self, every_s: float = LOG_EVERY_S):
        self.every_s = every_s
        self.last: dict[str, float] = {}
        self.missed: dict[str, int] = {}
        self.lock = threading.Lock()

    def report(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        with self.lock:
            if now - self.last.get(what, -self.every_s) < self.every_s:
                self.missed[what] = self.missed.get(what, 0) + 1
                return
            self.last[what] = now
            missed = self.missed.pop(what, 0)
        also = f" ({missed} more failures in the last minute)" if missed else ""
        log.warning("%s: %s: %s%s", what, type(exc).__name__, str(exc)[:200], also)


outages = OutageLog()


def chroma_unreachable(exc: BaseException) -> str:
    """The message a client sees (the log says it once a minute, with the error)."""
    outages.report("the Chroma server is unreachable", exc)
    return "the Chroma server is unreachable; retry when it is back"
