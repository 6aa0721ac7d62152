"""A real nginx (Debian's) in front of the servers the tests start: the README's proxy block, or any server body."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from conftest import REPO, free_port
from processes import stop, wait_ready

README_UPSTREAM = "127.0.0.1:7860"  # the address the README's block proxies to; tests put their server's in its place


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def readme_block(upstream: str) -> str:
    """The nginx `location` block the README gives for serving at /assistant/, proxying to upstream (host:port)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```nginx\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "README.md should hold exactly one ```nginx block"
    assert README_UPSTREAM in blocks[0], f"the README's nginx block should proxy to {README_UPSTREAM}"
    return blocks[0].replace(README_UPSTREAM, upstream)


@contextmanager
def nginx(server_body: str, workdir: Path, port: int | None = None, ready_path: str = "/") -> Iterator[str]:
    """nginx listening on 127.0.0.1:port (a free one by default) with server_body inside its `server {}`; yields its URL.

    For `upstream {}` blocks (replicas), use nginx_config() with the whole `http {}` body.
    """
    with nginx_config(f"server {{\n  listen 127.0.0.1:{{port}};\n{server_body}\n}}", workdir, port, ready_path) as url:
        yield url


@contextmanager
def nginx_config(http_body: str, workdir: Path, port: int | None = None, ready_path: str = "/") -> Iterator[str]:
    """nginx with http_body inside `http {}` ("{port}" in it becomes the listening port); yields http://127.0.0.1:port.

    Runs in the foreground as this user (master_process off), with its pid, logs and temp files under workdir.
    Without nginx, a developer's run skips; CI's (CI=true) fails, as with Chromium.
    """
    exe = nginx_binary()
    if exe is None:
        reason = "nginx not found (apt-get install nginx)"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"{reason}; CI runs the reverse-proxy tests")
        pytest.skip(reason)
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    temps = "\n".join(f"  {name}_temp_path {workdir / name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    config = (f"daemon off;\nmaster_process off;\npid {workdir / 'nginx.pid'};\nerror_log {workdir / 'error.log'} warn;\n"
              f"events {{ worker_connections 256; }}\n"
              f"http {{\n  access_log {workdir / 'access.log'};\n{temps}\n{http_body.replace('{port}', str(port))}\n}}\n")
    conf = workdir / "nginx.conf"
    conf.write_text(config, encoding="utf-8")
    log = workdir / "nginx.out"
    with open(log, "wb") as out:
        proc = subprocess.Popen([exe, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log")],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_ready(f"http://127.0.0.1:{port}{ready_path}", proc, log, timeout=30)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop(proc, timeout=10)


# Replicas: the README's "More than one machine" block (the replicas in one upstream; a question that fails on
# one replica, refused or not ready, goes to the next; answers stream, unbuffered).
REPLICAS = """\
upstream assistant {{
{servers}
    keepalive 16;
}}
server {{
    listen 127.0.0.1:{{port}};
    client_max_body_size 50m;
    location / {{
        proxy_pass http://assistant;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_buffering off;
        proxy_read_timeout 300s;
        proxy_next_upstream error timeout http_503;
    }}
}}
"""


@contextmanager
def replicas_nginx(replicas: list[str], workdir: Path) -> Iterator[str]:
    """nginx balancing over the replicas' base URLs (REPLICAS); yields its own base URL."""
    servers = "\n".join(f"    server {r.split('://', 1)[-1]};" for r in replicas)
    with nginx_config(REPLICAS.format(servers=servers), workdir, ready_path="/healthz") as url:
        yield url
