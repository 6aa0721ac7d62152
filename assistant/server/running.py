"""A running `assistant serve` that `assistant ask` on the same machine asks instead of starting everything itself.

A cold `ask` spends most of its time before the question: importing chromadb and onnxruntime, opening the index and
loading three models (bench/startup.py). A server has all of that warm. While `serve` listens, it writes
<index>/serve.json: its URL on this machine, its process id, the index folder and what answers (Chroma server,
collection, answerer, LLM). An `ask` over the same index folder with the same answering settings sends its question
there (POST /api/ask, with the first configured key when the server wants one) and prints the answer as if it had
made it; anything else (no file, a dead process, other settings, a refusal, an error) and it answers in-process as
before. ASSISTANT_USE_RUNNING_SERVER=false or `ask --no-server` always answers in-process.

Only the standard library is imported here: this is the path that must start at once.
"""
from __future__ import annotations

import json
import os
import signal
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

SERVER_FILE = "serve.json"
ASK_TIMEOUT_S = 300.0  # a server still warming up answers after its warm-up; an LLM's answer takes its time


def answering_settings(settings) -> dict[str, str]:
    """What decides an answer besides the question: a server answers for a command only when these are equal."""
    return {"index": str(Path(settings.index_dir).resolve()), "chroma_url": settings.chroma_url or "",
            "collection": settings.collection, "answerer": settings.answerer_name,
            "llm_base_url": settings.llm_base_url or "", "llm_model": settings.llm_model or ""}


def local_url(host: str, port: int) -> str:
    """The URL a process on this machine reaches a server listening on host:port at."""
    if host in ("", "0.0.0.0", "localhost"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


@contextmanager
def announced(settings, host: str, port: int) -> Iterator[None]:
    """While the block runs (the server listens), <index>/serve.json says where it is; removed after, if still ours."""
    path = Path(settings.index_dir) / SERVER_FILE
    record = {"url": local_url(host, port), "pid": os.getpid(), **answering_settings(settings)}
    written = False
    if path.parent.is_dir():
        try:
            tmp = path.with_name(f".{SERVER_FILE}.{os.getpid()}")
            tmp.write_text(json.dumps(record), encoding="utf-8")
            os.replace(tmp, path)  # whole or not at all: a reader never sees half a file
            written = True
        except OSError:  # a read-only index folder: commands answer in-process, as they did
            pass
    previous = None
    if written and threading.current_thread() is threading.main_thread():
        # uvicorn re-raises the SIGTERM it stopped on once it has shut down: exit through the finally below
        previous = signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        yield
    finally:
        if written and _read(path).get("pid") == os.getpid():  # a later server on the same index wrote its own
            path.unlink(missing_ok=True)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _exit_on_signal(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


def running_server(settings) -> str | None:
    """The URL of a live `serve` on settings' index that answers as settings would, else None."""
    record = _read(Path(settings.index_dir) / SERVER_FILE)
    url = record.get("url")
    if not isinstance(url, str) or not url.startswith(("http://127.", "http://[::1]")) or not _alive(record.get("pid")):
        return None
    if any(record.get(k) != v for k, v in answering_settings(settings).items()):
        return None
    return url


def ask_running(settings, question: str) -> tuple[str, dict] | None:
    """(the server's URL, its answer JSON: /api/ask's, the `ask --json` shape) from a running server on this index,
    or None when there is none or it does not answer (the caller then answers in-process)."""
    url = running_server(settings)
    if url is None:
        return None
    headers = {"Content-Type": "application/json"}
    key = next(iter(settings.read_keys or settings.api_keys or []), None)
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url + "/api/ask", data=json.dumps({"question": question}).encode("utf-8"),
                                     headers=headers, method="POST")
    try:
        # no proxy: an intranet's HTTP_PROXY would send a loopback request to the proxy
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=ASK_TIMEOUT_S) as response:
            data = json.loads(response.read().decode("utf-8"))
    except (OSError, ValueError):  # refused, closed, timed out, not JSON: URLError and HTTPError are OSErrors
        return None
    return (url, data) if isinstance(data, dict) and isinstance(data.get("sentences"), list) else None
