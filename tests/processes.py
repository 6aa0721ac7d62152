"""Waiting for and stopping the servers the tests start."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx


def wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll url until it answers 200; fail early, with the end of log, if the process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}: {log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s; see {log}")


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Terminate, then kill if it has not exited within timeout; always reap it."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
