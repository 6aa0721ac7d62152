"""Start `assistant serve` on a free localhost port over a fresh index of the seed articles (UI tests, bench, screenshot)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from processes import stop

ROOT = Path(__file__).resolve().parent.parent
# The shared data sits next to the checkout (as quickstart.sh expects it); the environment can point elsewhere.
SHARED = ROOT.parent / "shared" if (ROOT.parent / "shared").is_dir() else Path("/work/shared")
SEEDS = Path(os.environ.get("ASSISTANT_SEEDS", SHARED / "seeds"))
DEV = Path(os.environ.get("ASSISTANT_DEV", SHARED / "eval" / "dev.jsonl"))


def clean_env() -> dict[str, str]:
    """This environment without the caller's ASSISTANT_* settings: the server runs on its flags alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return {**env, "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assistant_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("assistant")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "assistant.cli"]


def build_index(index: Path, extra: list[Path] = ()) -> None:
    """Ingest the seed articles (and extra files) into index with the real CLI."""
    subprocess.run([*assistant_cmd(), "ingest", str(SEEDS), *map(str, extra), "--index", str(index), "--json"],
                   check=True, capture_output=True, cwd=ROOT, timeout=600, env=clean_env())


def serve_command(index: Path, port: int) -> list[str]:
    return [*assistant_cmd(), "serve", "--host", "127.0.0.1", "--port", str(port), "--index", str(index)]


class Server:
    """A running web app process; stop() ends it."""

    def __init__(self, index: Path, port: int | None = None, log: Path | None = None):
        self.index, self.port = index, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log or index.parent / "server.log", "wb")
        self.proc = subprocess.Popen(serve_command(index, self.port), stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     env=clean_env())
        self.wait()

    def wait(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log.name}")
            try:
                if httpx.get(self.url + "/", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"server did not start within {timeout:.0f} s; see {self.log.name}")

    def stop(self) -> None:
        stop(self.proc)
        self.log.close()


def start(workdir: Path, extra: list[Path] = ()) -> Server:
    index = workdir / "index"
    shutil.rmtree(index, ignore_errors=True)
    build_index(index, list(extra))
    return Server(index)
