"""Who may do what: one policy for every surface that can change the collection (REST and OpenAI routes,
uploads, the chat page's Collection tab)."""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from ..config import Settings
from .proxy import public_root


@dataclass
class Caller:
    role: str  # "admin" (may change the collection) | "read" (may ask)
    identity: str  # the rate-limit bucket: the key, or the client address when no key is configured
    origin: str | None  # a cross-origin page's Origin, None for same-origin and non-browser clients
    foreign_host: str | None = None  # the request's Host when it is none of this server's names (DNS rebinding)


def is_loopback(client: str | None) -> bool:
    """Whether a client address is this machine's. Only an address counts: a name ("localhost") can only have come
    from a forwarded header (X-Forwarded-For: localhost), which anyone behind the proxy writes."""
    if not client:
        return False
    try:
        return ipaddress.ip_address(client.removeprefix("::ffff:")).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=1)
def machine_names() -> frozenset[str]:
    """This machine's own host names (as a browser on the LAN may address it)."""
    names = {"localhost"}
    for name in (socket.gethostname(), socket.getfqdn()):
        if name:
            names.add(name.lower().rstrip("."))
    return frozenset(names)


def foreign_host(host_header: str, public_hostname: str = "") -> str | None:
    """The request's Host name when it is not one of this server's own names, else None.

    A page that rebinds its own DNS name to this machine sends its own name as Host; a browser that reached us by an
    address (127.0.0.1, 192.0.2.10, [::1]) or by this machine's name sends that. Behind a proxy, its public name is
    declared with a full-URL root path (public_hostname).
    """
    host = (urlsplit("//" + (host_header or "localhost")).hostname or "").rstrip(".")
    if not host:
        return host_header or "(none)"
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if host in machine_names() or (public_hostname and host == public_hostname.lower()):
        return None
    return host


def foreign_origin(headers: dict[str, str], public_netloc: str = "") -> str | None:
    """The Origin of a request sent by a page of another site, or None (headers: lower-case names).

    Our own pages are those at the request's Host, or at the public URL a reverse proxy serves us at (public_netloc).
    """
    origin = headers.get("origin")
    if not origin:
        return None
    netloc = urlsplit(origin).netloc.lower()
    if netloc == headers.get("host", "").lower() or (public_netloc and netloc == public_netloc):
        return None
    return origin


def keyless_caller(client: str, origin: str | None, host: str | None = None) -> Caller:
    """A server without keys: this machine may change the collection; others (--allow-remote) may only ask."""
    return Caller(role="admin" if is_loopback(client) else "read", identity="client:" + client, origin=origin,
                  foreign_host=host)


def page_caller(settings: Settings, client: str, headers: dict[str, str], username: str | None) -> Caller:
    """The caller behind an event of the chat page. On a keyed server the page signs its users in with an admin
    key (Gradio's login), so only a signed-in user is an admin there."""
    public = public_root(settings.root_path)
    origin = foreign_origin(headers, public.netloc)
    host = foreign_host(headers.get("host", ""), public.hostname)
    if settings.api_keys or settings.read_keys:
        return Caller(role="admin" if username else "read", identity="page:" + (username or client), origin=origin,
                      foreign_host=host)
    return keyless_caller(client, origin, host)


def change_refusal(caller: Caller) -> str | None:
    """Why caller may not change the collection (add, re-index, remove), or None when it may."""
    if caller.foreign_host is not None:
        return (f"the collection cannot be changed through the name {caller.foreign_host!r}: it is not this "
                "server's (behind a proxy, give its public URL as --root-path)")
    if caller.origin is not None:
        return "the collection cannot be changed from an embedding page"
    if caller.role == "admin":
        return None
    if caller.identity.startswith("client:"):
        return "without API keys the collection can only be changed from this machine"
    return "this key may only ask; changing the collection needs an admin key"
