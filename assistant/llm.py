"""An answerer backed by any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp, OpenAI)."""
from __future__ import annotations
