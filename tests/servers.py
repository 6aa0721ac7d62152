"""The servers the tests start over real indexes: `assistant serve` in a subprocess, or an app under uvicorn in a thread."""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from conftest import REPO, assistant_cmd, clean_env, free_port, run_cli
from processes import stop, wait_ready

ADMIN_KEY = "admin-key-for-tests-0123456789"
READ_KEY = "read-key-for-tests-0123456789"


def build_index(index: Path, *paths: Path) -> Path:
    """Ingest paths (the seed articles, and extra files) into a fresh index with the real CLI."""
    result = run_cli("ingest", *paths, "--index", index, "--json")
    assert result.returncode == 0, result.stderr
    return index


def copy_index(src: Path, dest: Path) -> Path:
    """A private copy of a closed index, so that each server can change its own."""
    shutil.copytree(src, dest)
    return dest


@contextmanager
def assistant_serve(index: Path, env: dict[str, str] | None = None, port: int | None = None,
                    timeout: float = 180) -> Iterator[str]:
    """`assistant serve` over index on port (a free one by default), settings as ASSISTANT_* in env; yields its base URL."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = index.parent / f"serve-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*assistant_cmd(), "serve", "--host", "127.0.0.1", "--port", str(port), "--index", str(index)],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=clean_env(**(env or {})), cwd=str(REPO))
        try:
            wait_ready(url + "/healthz", proc, log_path, timeout=timeout)
            yield url
        finally:
            stop(proc)


class ThreadServer:
    """An app under uvicorn in a thread of the test process (as `assistant serve` runs it: proxy headers trusted from loopback)."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                proxy_headers=True, forwarded_allow_ips="127.0.0.1")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
