"""Settings in one place: command-line flags override environment variables override defaults."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .schema import ConfigError


def offline_setup() -> None:
    """Point tiktoken and nltk at the data shipped inside llama-index-core (no download)."""
    import importlib.util

    spec = importlib.util.find_spec("llama_index.core")
    if not spec or not spec.submodule_search_locations:
        return
    static = Path(spec.submodule_search_locations[0]) / "_static"
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(static / "tiktoken_cache"))
    os.environ.setdefault("NLTK_DATA", str(static / "nltk_cache"))
    # Chroma and gradio phone home unless told not to; on an intranet that only produces errors.
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


ENV_PREFIX = "ASSISTANT_"


@dataclass
class StoreSettings:
    index_dir: Path = Path("index")
    chroma_url: str | None = None  # a Chroma server; none: the embedded index in index_dir
    collection: str = "articles"


@dataclass
class EmbeddingSettings:
    embedder: str = "bge-small"  # "bge-small" (packaged ONNX) or "openai" (any /v1/embeddings endpoint)
    embed_base_url: str | None = None
    embed_model: str | None = None
    embed_api_key: str | None = None


@dataclass
class LLMSettings:
    """Any OpenAI-compatible chat server, for answering and for condensing follow-ups."""

    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 60.0
    llm_retries: int = 2
    llm_fallback: bool = True  # the extractive answerer answers when the server fails or none of its sentences verify


@dataclass
class IngestSettings:
    """How documents are read and cut: chunk size and overlap, batch size, and the limits that refuse a hostile
    file before the work they bound (each refusal is that file's one-line reason; the ingest goes on)."""

    chunk_tokens: int = 250
    chunk_overlap_sentences: int = 1
    max_file_mb: float = 50.0
    # chunks embedded (sorted by length: 1,024 pad 2.6 % where 256 padded 7.7 %) and written together; a kill
    # loses at most one batch
    ingest_batch_chunks: int = 1024
    # limits on hostile files, each checked before the work it bounds and reported as the file's reason
    max_html_depth: int = 512  # elements nested deeper than this: refused (a parser bomb, not an article)
    max_unzipped_mb: float = 200.0  # a .docx whose parts declare more than this, inflated: refused (a zip bomb)
    max_document_chunks: int = 2000  # a document estimated to need more chunks than this: refused


@dataclass
class RetrievalSettings:
    top_k: int = 8
    candidates: int = 30
    fusion: str = "relative_score"  # or "rrf": how dense and BM25 rankings are merged (see retrieve.py)
    rrf_k: int = 60
    guaranteed_per_retriever: int = 2  # top hits of each retriever kept in the final passages whatever the fused rank


@dataclass
class AnsweringSettings:
    """Answering and verification."""

    answerer: str = "auto"  # "auto": llm when llm_base_url is set, else extractive
    max_answer_sentences: int = 3
    support_threshold: float = 0.5  # no source sentence this relevant to the question: the LLM is not asked (answering/policy.py)
    sentence_budget: int = 10  # sentences the answer model scores first per question (a cheap prior picks them) ...
    sentence_budget_max: int = 24  # ... and up to this many when none of the first is a confident answer
    follow_up_rereads: int = 4  # a follow-up's sentences the answer model reads again, the conversation model's best
    extra_sentence_min: float = 0.5  # a sentence beside the best is shown when its calibrated probability is this high

    @property
    def answerer_name(self) -> str:
        if self.answerer != "auto":
            return self.answerer
        return "llm" if getattr(self, "llm_base_url", None) else "extractive"

    @property
    def rewriter_name(self) -> str:
        """The LLM condenses follow-ups when it answers; otherwise the embedded rewriter resolves them."""
        return "llm" if self.answerer_name == "llm" and getattr(self, "llm_base_url", None) else "embedded"


@dataclass
class ApiSettings:
    api_keys: list[str] = field(default_factory=list)  # admin: ask and change the collection
    read_keys: list[str] = field(default_factory=list)  # ask only
    cors_origins: list[str] = field(default_factory=list)
    allow_remote: bool = False  # no key configured: serve non-loopback clients too (otherwise loopback only)
    # behind a reverse proxy: the public path ("/assistant") or URL ("https://intranet.example/assistant") it serves us at
    root_path: str = ""
    forwarded_allow_ips: list[str] = field(default_factory=lambda: ["127.0.0.1"])  # proxies whose X-Forwarded-* count
    rate_limit_per_minute: int = 60
    max_body_bytes: int = 60 * 1024 * 1024
    max_question_chars: int = 4000
    max_messages: int = 50
    max_json_bytes: int = 2 * 1024 * 1024  # a JSON request (question and history) larger than this: refused unread
    answer_cache: int = 256  # answers the server keeps for repeated questions (per collection revision; 0: off)
    use_running_server: bool = True  # `ask` sends its question to a `serve` running on the same index (server/running.py)


@dataclass
class Settings(ApiSettings, AnsweringSettings, RetrievalSettings, IngestSettings, LLMSettings, EmbeddingSettings,
               StoreSettings):
    """Every tunable of the assistant, grouped by the component that reads it (flat access: settings.top_k).

    Each field's environment variable is ASSISTANT_ + its name in capitals; ALIASES keeps the names documented
    before that rule (ASSISTANT_INDEX, ASSISTANT_RATE_LIMIT) working too.
    """

    ALIASES: ClassVar[dict[str, str]] = {"index_dir": "ASSISTANT_INDEX", "rate_limit_per_minute": "ASSISTANT_RATE_LIMIT"}

    @classmethod
    def env_name(cls, field_name: str) -> str:
        return ENV_PREFIX + field_name.upper()

    @classmethod
    def env_names(cls, field_name: str | None = None) -> list[str]:
        """The environment variables of one field (its derived name first), or of every field."""
        if field_name is None:
            return [var for f in dataclasses.fields(cls) for var in cls.env_names(f.name)]
        alias = cls.ALIASES.get(field_name)
        return [cls.env_name(field_name)] + ([alias] if alias else [])

    @classmethod
    def load(cls, **overrides: Any) -> "Settings":
        """Defaults, then environment variables, then the non-None overrides (flags)."""
        values: dict[str, Any] = {}
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        defaults = cls()
        for name in types:
            for var in cls.env_names(name):  # the derived name wins over a documented alias
                raw = _env(var)
                if raw is not None:
                    values[name] = _coerce(raw, getattr(defaults, name), var)
                    break
        for name, value in overrides.items():
            if name not in types:
                raise TypeError(f"unknown setting {name!r}")
            if value is not None:
                values[name] = value
        settings = cls(**values)
        settings.index_dir = Path(settings.index_dir).expanduser()
        if settings.chroma_url:
            settings.chroma_url = settings.chroma_url.rstrip("/")
        return settings


def _coerce(raw: str, default: Any, var: str) -> Any:
    try:
        if isinstance(default, bool):
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, list):
            return _split(raw)
        return raw
    except ValueError:
        raise ConfigError(f"{var}={raw!r} is not a valid {type(default).__name__}") from None
