"""An answerer backed by any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp, OpenAI).

The model sees the most relevant source sentences, each with an id ([S1], [S2], ...), fenced as untrusted data.
It writes short sentences ending with the ids they rest on; each id maps back to an exact document span, so a
citation is never text the model produced. What the model writes is only a claim: the Assistant verifies every
sentence against its spans and drops what they do not support.

Deltas are streamed with the [S#] ids taken out: the ids are the prompt's numbering, not the answer's citation
markers ([1], [2] in order of first use), which the Assistant assigns when a sentence is complete.

The package: client.py (the OpenAI-compatible client, errors), prompts.py (prompts/*.txt as messages), answerer.py
(LlmAnswerer), stream.py (parsing its stream into sentences and deltas), rewriter.py (LlmRewriter).
"""
from __future__ import annotations

from .answerer import LlmAnswerer
from .rewriter import LlmRewriter


def register(registry) -> None:
    registry.answerers.add("llm", LlmAnswerer)
    registry.rewriters.add("llm", LlmRewriter)
