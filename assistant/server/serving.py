"""Checks before `assistant serve` announces an address: can it listen there at all."""
from __future__ import annotations

import errno
import socket


def port_problem(host: str, port: int) -> str | None:
    """A one-line reason why host:port cannot be listened on (busy, not an address here, no permission), or None."""
    if not 0 < port < 65536:
        return f"port {port} is not a TCP port (1-65535)"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot listen on {host}: {exc.strerror}"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: SO_REUSEADDR, so a port in TIME_WAIT after a restart is not reported busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use (another server?): choose another with --port"
            if exc.errno == errno.EACCES:
                return f"no permission to listen on port {port} (ports below 1024 need privileges): choose another with --port"
            return f"cannot listen on {host}:{port}: {exc.strerror}"
    return None
