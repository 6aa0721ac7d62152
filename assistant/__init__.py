"""assistant: a conversational retrieval assistant whose every sentence cites an exact, verified span.

    from assistant import Assistant, Settings
    answer = Assistant(Settings.load(index_dir="index")).ask("Who founded the company?")

The names below are loaded on first use, so that `assistant status` and other light commands do not import the
whole pipeline.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

from .config import offline_setup

__version__ = "0.1.0"

# once, before any submodule runs: tiktoken, nltk, Chroma and gradio read these when first imported
offline_setup()

_EXPORTS = {
    "Assistant": "core",
    "Settings": "config",
    "ConfigError": "schema",
    "AssistantError": "schema",
    "Answer": "schema",
    "Document": "schema",
    "Chunk": "schema",
    "Passage": "schema",
    "Citation": "schema",
    "Sentence": "schema",
    "Message": "schema",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value
