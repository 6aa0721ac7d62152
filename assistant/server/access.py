"""Who may do what: one policy for every surface that can change the collection (REST and OpenAI routes,
uploads, the chat page's Collection tab)."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..config import Settings
from .proxy import public_root


@dataclass
class Caller:
    role: str  # "admin" (may change the collection) | "read" (may ask)
    identity: str  # the rate-limit bucket: the key, or the client address when no key is configured
    origin: str | None  # a cross-origin page's Origin, None for same-origin and non-browser clients


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.removeprefix("::ffff:")).is_loopback
    except ValueError:
        return host == "localhost"


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


def keyless_caller(client: str, origin: str | None) -> Caller:
    """A server without keys: this machine may change the collection; others (--allow-remote) may only ask."""
    return Caller(role="admin" if is_loopback(client) else "read", identity="client:" + client, origin=origin)


def page_caller(settings: Settings, client: str, headers: dict[str, str], username: str | None) -> Caller:
    """The caller behind an event of the chat page. On a keyed server the page signs its users in with an admin
    key (Gradio's login), so only a signed-in user is an admin there."""
    origin = foreign_origin(headers, public_root(settings.root_path).netloc)
    if settings.api_keys or settings.read_keys:
        return Caller(role="admin" if username else "read", identity="page:" + (username or client), origin=origin)
    return keyless_caller(client, origin)


def change_refusal(caller: Caller) -> str | None:
    """Why caller may not change the collection (add, re-index, remove), or None when it may."""
    if caller.origin is not None:
        return "the collection cannot be changed from an embedding page"
    if caller.role == "admin":
        return None
    if caller.identity.startswith("client:"):
        return "without API keys the collection can only be changed from this machine"
    return "this key may only ask; changing the collection needs an admin key"
