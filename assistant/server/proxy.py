"""Serving behind a reverse proxy: the public sub-path (and, optionally, public address) the proxy serves us at."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class PublicRoot:
    """Where users reach the server: path "/assistant" (or ""), and the public host[:port] when a full URL was given."""

    path: str
    netloc: str = ""

    @property
    def hostname(self) -> str:
        return urlsplit("//" + self.netloc).hostname or "" if self.netloc else ""


def public_root(root_path: str) -> PublicRoot:
    """Parse ASSISTANT_ROOT_PATH / --root-path: "/assistant", "/assistant/", or "https://intranet.example/assistant".

    Raises ValueError with a one-line reason for anything else.
    """
    value = (root_path or "").strip()
    if not value:
        return PublicRoot("")
    if value.startswith(("http://", "https://")):
        parts = urlsplit(value)
        if not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"root path {value!r} is not a URL like https://intranet.example/assistant")
        return PublicRoot(_path(parts.path or "/", value), parts.netloc.lower())
    if not value.startswith("/"):
        raise ValueError(f"root path {value!r} must start with / (e.g. /assistant) or be a full http(s) URL")
    return PublicRoot(_path(value, value))


def _path(path: str, original: str) -> str:
    if any(c in path for c in "?#\\ ") or "//" in path or "/../" in path + "/":
        raise ValueError(f"root path {original!r} is not a plain path like /assistant")
    return path.rstrip("/")
