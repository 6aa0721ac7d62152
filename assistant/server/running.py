"""A running `assistant serve` that `assistant ask` on the same machine asks instead of starting everything itself.

A cold `ask` spends most of its time before the question: importing chromadb and onnxruntime, opening the index and
loading three models (bench/startup.py). A server has all of that warm. While `serve` listens, it writes
<index>/serve.json (readable by its user only): its port, its process id, its instance id (which its /healthz also
gives) and a digest of every setting that shapes an answer. An `ask` over the same index folder with the same digest
checks that the listener on that port is that server (its /healthz gives the same instance id, and it is ready),
sends its question there (POST /api/ask, with the first configured key when the server wants one) and prints the
answer as if it had made it. Anything else (no file, another digest, a dead or different listener, a refusal, an
error) and it answers in-process as before. ASSISTANT_USE_RUNNING_SERVER=false or `ask --no-server` always answers
in-process.

Only the standard library is imported here: this is the path that must start at once.
"""
from __future__ import annotations

import dataclasses
import hashlib
import http.client
import json
import os
import secrets
import signal
import threading
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

SERVER_FILE = "serve.json"
PROBE_TIMEOUT_S = 2.0  # /healthz of a live local server answers in milliseconds; a hung one is passed over
ASK_TIMEOUT_S = 300.0  # then the answer itself: an LLM's answer takes its time


def new_instance() -> str:
    """An id for one server process (in its /healthz): tells it apart from another listener on the same port."""
    return secrets.token_hex(8)


def answering_digest(settings) -> str:
    """A digest of every setting that shapes an answer (the index folder included; not the API's keys, limits and
    access, nor how files are read): a server answers for a command only when its digest is the command's."""
    from ..config import ApiSettings, IngestSettings

    skip = {f.name for f in dataclasses.fields(ApiSettings)} | {f.name for f in dataclasses.fields(IngestSettings)}
    skip.add("llm_api_key")
    shaping = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings) if f.name not in skip}
    shaping["index_dir"] = Path(settings.index_dir).resolve()
    return hashlib.sha256(json.dumps(shaping, sort_keys=True, default=str).encode()).hexdigest()


def local_host(host: str) -> str:
    """The address a process on this machine reaches a server listening on host at."""
    return "::1" if ":" in host else "127.0.0.1"  # "0.0.0.0" and every IPv4 address answer on 127.0.0.1 too


@contextmanager
def announced(settings, host: str, port: int, instance: str) -> Iterator[None]:
    """While the block runs (the server listens), <index>/serve.json says where it is; removed after, if still ours
    (also when the server stops on SIGTERM)."""
    path = Path(settings.index_dir) / SERVER_FILE
    record = {"host": local_host(host), "port": port, "pid": os.getpid(), "instance": instance,
              "digest": answering_digest(settings)}
    written = False
    if path.parent.is_dir():
        tmp = path.with_name(f".{SERVER_FILE}.{os.getpid()}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record, f)
            os.replace(tmp, path)  # whole or not at all: a reader never sees half a file
            written = True
        except OSError:  # a read-only index folder: commands answer in-process, as they did
            pass

    def withdraw() -> None:
        if written and _read(path).get("instance") == instance:  # a later server on this index wrote its own
            path.unlink(missing_ok=True)

    previous = None
    if written and threading.current_thread() is threading.main_thread():
        def on_sigterm(signum: int, _frame) -> None:
            # uvicorn re-raises the SIGTERM it stopped on once it has shut down: withdraw, then die of it as before
            withdraw()
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

        previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        withdraw()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _request(method: str, host: str, port: int, path: str, timeout: float, body: dict | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """(status, parsed JSON body) of one request to this machine; OSError or ValueError on any failure."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)  # no proxy: the request stays on this machine
    try:
        data = None if body is None else json.dumps(body).encode("utf-8")
        conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, json.loads(response.read().decode("utf-8"))
    except http.client.HTTPException as exc:  # not HTTP, or cut off: the caller answers in-process
        raise OSError(str(exc)) from exc
    finally:
        conn.close()


def running_server(settings) -> tuple[str, int] | None:
    """(host, port) of the live `serve` on settings' index that answers as settings would, else None."""
    record = _read(Path(settings.index_dir) / SERVER_FILE)
    host, port, instance = record.get("host"), record.get("port"), record.get("instance")
    if host not in ("127.0.0.1", "::1") or not isinstance(port, int) or not 0 < port < 65536 or not instance:
        return None
    if record.get("digest") != answering_digest(settings):
        return None
    try:
        status, health = _request("GET", host, port, "/healthz", PROBE_TIMEOUT_S)
    except (OSError, ValueError):
        return None
    if status != 200 or not isinstance(health, dict) or health.get("instance") != instance:
        return None  # another listener on that port (the server died and its file stayed), or not ready yet
    return host, port


def ask_running(settings, question: str) -> tuple[str, dict] | None:
    """(the server's URL, its answer JSON: /api/ask's, the `ask --json` shape) from a running server on this index,
    or None when there is none or it does not answer (the caller then answers in-process)."""
    found = running_server(settings)
    if found is None:
        return None
    host, port = found
    key = next(iter(settings.read_keys or settings.api_keys or []), None)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        status, data = _request("POST", host, port, "/api/ask", ASK_TIMEOUT_S, {"question": question}, headers)
    except (OSError, ValueError):
        return None
    if status != 200 or not isinstance(data, dict) or not isinstance(data.get("sentences"), list):
        return None
    return f"http://{f'[{host}]' if ':' in host else host}:{port}", data
