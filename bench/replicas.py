"""A replica set for the load bench: one `chroma run` server with the seed articles, N `assistant serve` on it,
nginx in front (the configuration tests/nginx.py writes, the README's); and the CPU time each part used."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from conftest import assistant_cmd, clean_env, free_port  # noqa: E402
from nginx import replicas_nginx  # noqa: E402
from processes import stop, wait_ready  # noqa: E402

SEEDS = REPO.parent / "shared" / "seeds"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: dict[str, list[int]]) -> dict[str, float]:
    """User + system CPU seconds each group of processes has used so far (with their reaped children)."""
    out = {}
    for name, group in pids.items():
        total = 0.0
        for pid in group:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += sum(int(f) for f in fields[11:15]) / TICKS  # utime stime cutime cstime
        out[name] = total
    return out


@contextmanager
def _process(cmd: list[str], log: Path, ready_url: str, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=str(REPO))
        try:
            wait_ready(ready_url, proc, log, timeout=300)
            yield proc
        finally:
            stop(proc)


@contextmanager
def replica_set(n: int) -> Iterator[tuple[str, dict[str, list[int]]]]:
    """Yields (nginx's URL, {"replicas": pids, "chroma": [pid], "nginx": [pid]}); everything is stopped after."""
    work = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    chroma_exe = Path(sys.executable).parent / "chroma"
    port = free_port()
    chroma_url = f"http://127.0.0.1:{port}"
    try:
        with ExitStack() as stack:
            chroma = stack.enter_context(_process(
                [str(chroma_exe if chroma_exe.exists() else "chroma"), "run", "--path", str(work / "chroma"),
                 "--host", "127.0.0.1", "--port", str(port)], work / "chroma.log", chroma_url + "/api/v2/heartbeat", clean_env()))
            env = clean_env(ASSISTANT_CHROMA_URL=chroma_url, ASSISTANT_RATE_LIMIT="0", ASSISTANT_ANSWER_CACHE="0")
            subprocess.run(assistant_cmd() + ["ingest", str(SEEDS), "--index", str(work / "ingest"), "--json"],
                           env=env, check=True, capture_output=True)
            replicas = []
            for k in range(n):
                rport = free_port()
                url = f"http://127.0.0.1:{rport}"
                replicas.append((url, stack.enter_context(_process(
                    assistant_cmd() + ["serve", "--host", "127.0.0.1", "--port", str(rport), "--index", str(work / f"r{k}")],
                    work / f"serve{k}.log", url + "/healthz", env))))
            balanced = stack.enter_context(replicas_nginx([u for u, _ in replicas], work / "nginx"))
            nginx_pids = [int(p) for p in [(work / "nginx" / "nginx.pid").read_text().strip()] if p]
            nginx_pids += _children(nginx_pids[0])
            yield balanced, {"replicas": [p.pid for _, p in replicas], "chroma": [chroma.pid], "nginx": nginx_pids}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
