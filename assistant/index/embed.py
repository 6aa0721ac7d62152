"""Embedders behind one small interface, found by name in registry.registry.embedders (the built-ins registered below)."""
from __future__ import annotations

from typing import Protocol

from ..config import Settings
from ..onnx_models import bge_small
from ..registry import registry
from ..schema import AssistantError


class Embedder(Protocol):
    name: str
    dim: int

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


def get_embedder(settings: Settings) -> Embedder:
    return registry.embedders.create(settings.embedder, settings)


class BgeSmallEmbedder:
    """BAAI/bge-small-en-v1.5, int8 ONNX, shipped in a wheel: no download, no server."""

    name = "bge-small-en-v1.5-int8"
    dim = 384

    def __init__(self, settings: Settings | None = None):
        self._model = None

    @property
    def model(self):
        # loaded on the first embedding: `status`, `sources` and a no-change ingest never need onnxruntime
        if self._model is None:
            self._model = bge_small()
        return self._model

    def load(self) -> None:
        """Load the model now (ahead of the first embedding)."""
        self.model  # noqa: B018

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.embed(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed([text], query=True)[0]


class OpenAIEmbedder:
    """Any OpenAI-compatible /v1/embeddings endpoint (OpenAI, vLLM, Ollama, llama.cpp, TEI)."""

    def __init__(self, settings: Settings):
        from openai import OpenAI

        if not settings.embed_base_url or not settings.embed_model:
            raise AssistantError("the openai embedder needs ASSISTANT_EMBED_BASE_URL and ASSISTANT_EMBED_MODEL")
        self.client = OpenAI(base_url=settings.embed_base_url, api_key=settings.embed_api_key or "none",
                             timeout=settings.llm_timeout, max_retries=settings.llm_retries)
        self.model = settings.embed_model
        self.name = f"openai:{self.model}"
        self.dim = len(self.embed_query("dimension probe"))

    def _embed(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for k in range(0, len(texts), 64):
            try:
                response = self.client.embeddings.create(model=self.model, input=texts[k:k + 64])
            except Exception as exc:
                raise AssistantError(f"embedding server failed: {exc}") from None
            out.extend(d.embedding for d in sorted(response.data, key=lambda d: d.index))
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embed(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._embed([text])[0]


def register(registry) -> None:
    registry.embedders.add("bge-small", BgeSmallEmbedder)
    registry.embedders.add("openai", OpenAIEmbedder)
