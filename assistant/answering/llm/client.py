"""The OpenAI-compatible client: base URL, model name, and a server's failures as one-line AssistantErrors."""
from __future__ import annotations

from functools import lru_cache

from ...config import Settings
from ...schema import AssistantError


def base_url(settings: Settings) -> str:
    """The server's OpenAI base URL; a bare host:port gets the usual /v1."""
    from urllib.parse import urlsplit

    url = (settings.llm_base_url or "").strip().rstrip("/")
    if not url:
        raise AssistantError("no LLM server configured: set --llm-base-url (or ASSISTANT_LLM_BASE_URL)")
    if "://" not in url:
        url = "http://" + url
    if urlsplit(url).path in ("", "/"):
        url += "/v1"
    return url


@lru_cache(maxsize=8)
def _client(url: str, api_key: str, timeout: float, retries: int):
    import openai

    # read timeout bounds each wait for the next streamed chunk; the whole answer is bounded in LlmAnswerer.
    return openai.OpenAI(base_url=url, api_key=api_key, max_retries=retries,
                         timeout=openai.Timeout(timeout, connect=min(timeout, 10.0)))


def client(settings: Settings, retries: int | None = None):
    return _client(base_url(settings), settings.llm_api_key or "not-needed", float(settings.llm_timeout),
                   settings.llm_retries if retries is None else retries)


def server_error(exc: Exception, settings: Settings, answering: bool = False) -> AssistantError:
    """One line for the user that says what went wrong with the server (answering: after its answer had begun)."""
    import openai

    url = base_url(settings)
    if isinstance(exc, openai.APITimeoutError):
        return AssistantError(f"the LLM server at {url} did not answer within {settings.llm_timeout:g} s")
    if isinstance(exc, openai.APIConnectionError) and answering:
        return AssistantError(f"the LLM server at {url} broke off its answer ({_short(exc.__cause__ or exc)})")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return AssistantError(f"cannot reach the LLM server at {url} ({_short(cause)})")
    if isinstance(exc, openai.AuthenticationError):
        return AssistantError(f"the LLM server at {url} rejected the API key (HTTP 401)")
    if isinstance(exc, openai.NotFoundError):
        return AssistantError(f"the LLM server at {url} has no model {settings.llm_model!r} or no chat endpoint (HTTP 404)")
    if isinstance(exc, openai.APIStatusError):
        return AssistantError(f"the LLM server at {url} answered HTTP {exc.status_code}: {_short(exc)}")
    return AssistantError(f"the LLM server at {url} sent a response that could not be read ({_short(exc)})")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


_MODELS: dict[str, str] = {}


def model_name(settings: Settings) -> str:
    """--llm-model, else the first model the server lists (llama.cpp, vLLM and Ollama serve what they loaded)."""
    if settings.llm_model:
        return settings.llm_model
    url = base_url(settings)
    if url not in _MODELS:
        import openai

        try:
            models = client(settings).models.list().data
        except (openai.OpenAIError, ValueError) as exc:
            raise server_error(exc, settings) from exc
        if not models:
            raise AssistantError(f"the LLM server at {url} lists no model; set --llm-model")
        _MODELS[url] = models[0].id
    return _MODELS[url]
