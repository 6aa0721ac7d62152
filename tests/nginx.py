"""nginx in front of `assistant serve` replicas, as the README's "More than one machine" shows, run unprivileged."""
from __future__ import annotations

import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from conftest import free_port
from processes import stop, wait_ready

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

# The README's configuration: the replicas in one upstream, a question that fails on one replica (refused, or
# not ready) goes to the next; answers stream (no buffering).
UPSTREAM = """\
upstream assistant {{
{servers}
    keepalive 16;
}}
server {{
    listen 127.0.0.1:{port};
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

# What running as an ordinary user in a scratch folder needs besides (paths nginx would otherwise put under /var).
SCAFFOLD = """\
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{upstream}
}}
"""


def nginx_config(replicas: list[str], port: int, prefix: Path) -> str:
    """The whole nginx.conf: UPSTREAM over the replicas' host:port, inside what an unprivileged nginx needs."""
    servers = "\n".join(f"    server {r.split('://', 1)[-1]};" for r in replicas)
    upstream = "    " + UPSTREAM.format(servers=servers, port=port).replace("\n", "\n    ").rstrip()
    return SCAFFOLD.format(prefix=prefix, upstream=upstream)


@contextmanager
def nginx(replicas: list[str], folder: Path) -> Iterator[str]:
    """nginx balancing over the replicas' base URLs; yields its own base URL."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(nginx_config(replicas, port, folder))
    log = folder / "nginx.out"
    with open(log, "wb") as out:
        proc = subprocess.Popen([NGINX, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf),
                                 "-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url + "/healthz", proc, log, timeout=30)
            yield url
        finally:
            stop(proc)
