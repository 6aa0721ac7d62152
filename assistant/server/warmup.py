"""A server's start-up: every model loaded and run once before /healthz says ready, so the first answer is as
fast as the rest (loading the cross-encoders on the first question made it take three times as long)."""
from __future__ import annotations

import logging
import threading
import time
from contextlib import asynccontextmanager

from .. import onnx_models
from ..question import disfluency

log = logging.getLogger("assistant.warmup")

PROBE = "When was it founded?"  # any question: only the models' first run is wanted, not its answer


class Warmup:
    """Loads and runs the embedder, both cross-encoders, BM25 and the answerer in a thread; ready once done."""

    def __init__(self, assistant):
        self.assistant = assistant
        self.done = threading.Event()
        self.error: str | None = None
        self.loaded: list[str] = []
        self.seconds: float | None = None
        self._started = threading.Lock()

    @property
    def ready(self) -> bool:
        return self.done.is_set() and self.error is None

    def run(self) -> None:
        t0 = time.perf_counter()
        try:
            passages = self.assistant.retriever.retrieve(PROBE)  # embedder, BM25, Chroma
            self.loaded += ["embedder", "bm25"]
            disfluency.tagger()  # its weights (~1 MB) are read once, here rather than on the first question
            self.loaded.append("disfluency")
            for name, model in (("cross-encoder", onnx_models.cross_encoder), ("answer-model", onnx_models.answer_model),
                                ("conversation-model", onnx_models.conversation_model)):  # read on a first follow-up
                model().score(PROBE, [PROBE])
                self.loaded.append(name)
            # the extractive answerer (the LLM answerer's fallback too) with what it loads on first use (nltk's
            # sentence splitter, the vocabulary); its answer is thrown away. An LLM is not asked.
            for _ in self.assistant.answerer("extractive").answer(PROBE, PROBE, passages, []):
                pass  # (verify is imported with core: nothing is left to load on the first verified sentence)
            self.loaded.append("answerer")
        except Exception as exc:  # reported by /healthz; a question would fail the same way and say so
            log.exception("warm-up failed")
            self.error = f"warm-up failed: {exc}"
        finally:
            self.seconds = time.perf_counter() - t0
            self.done.set()

    def start(self) -> None:
        """Start the warm-up thread (once: later calls do nothing)."""
        if self._started.acquire(blocking=False):
            # not a daemon: a server stopped during its warm-up lets the models finish loading (a second or two)
            # rather than exiting under onnxruntime, which aborts ("terminate called without an active exception")
            threading.Thread(target=self.run, name="warmup").start()

    def wait(self) -> None:
        self.start()  # an app run without its lifespan (a test client) warms up on its first question
        self.done.wait()

    def health(self) -> dict:
        """The readiness part of /healthz."""
        state = "ok" if self.ready else ("error" if self.done.is_set() else "starting")
        return {"status": state, "ready": self.ready, "loaded": list(self.loaded),
                **({"error": self.error} if self.error else {}),
                **({"warmup_s": round(self.seconds, 2)} if self.seconds is not None else {})}

    @asynccontextmanager
    async def lifespan(self, app):
        """FastAPI lifespan: the warm-up starts with the server, which listens (and says "starting") meanwhile."""
        self.start()
        yield
