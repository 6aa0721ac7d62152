"""Real servers for the API and widget tests: `assistant serve` in a subprocess, or create_app() under uvicorn in a thread."""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import httpx

from conftest import BIN, REPO, clean_env, free_port, run_cli
from processes import stop

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


def wait_healthy(url: str, timeout: float = 180, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log.read_text()[-3000:] if log else ''}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not become healthy within {timeout:.0f} s")


class CliServer:
    """`assistant serve` in a subprocess on a free port; env holds the ASSISTANT_* settings."""

    def __init__(self, index: Path, env: dict[str, str], *flags: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = index.parent / f"serve-{self.port}.log"
        self.log = open(self.log_path, "wb")
        exe = BIN / "assistant"
        cmd = [str(exe)] if exe.exists() else [str(BIN / "python"), "-m", "assistant.cli"]
        self.proc = subprocess.Popen([*cmd, "serve", "--port", str(self.port), "--index", str(index), *flags],
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=clean_env(**env), cwd=str(REPO))
        try:
            wait_healthy(self.url, proc=self.proc, log=self.log_path)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        stop(self.proc)
        self.log.close()


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
