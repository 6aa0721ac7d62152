"""The LLM backend: an answerer and a follow-up rewriter for any OpenAI-compatible chat server (vLLM, Ollama,
llama.cpp, OpenAI); what the model writes is only a claim, verified like any answerer's sentences.

client.py (the client, a server's failures as one-line errors), prompts.py (prompts/*.txt as messages),
answerer.py (LlmAnswerer), stream.py (its stream parsed into sentences and deltas), rewriter.py (LlmRewriter).
"""
from __future__ import annotations

from .answerer import LlmAnswerer
from .rewriter import LlmRewriter


def register(registry) -> None:
    registry.answerers.add("llm", LlmAnswerer)
    registry.rewriters.add("llm", LlmRewriter)
