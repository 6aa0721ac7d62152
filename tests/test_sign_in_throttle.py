"""Guessing keys or the chat page's password, through a real server: wrong attempts are slowed, then refused with 429
per client address (another address, and the right key from it, still get in)."""
from __future__ import annotations

from pathlib import Path

import httpx

from servers import ADMIN_KEY, READ_KEY, ThreadServer


def test_wrong_keys_and_passwords_are_slowed_then_refused_per_address(tmp_path: Path):
    from assistant.server.api import create_app
    from assistant.config import Settings

    settings = Settings(index_dir=tmp_path / "index", api_keys=[ADMIN_KEY], read_keys=[READ_KEY], rate_limit_per_minute=0)
    server = ThreadServer(create_app(settings))
    attacker = {"X-Forwarded-For": "203.0.113.66"}
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            wrong = [client.get("/api/documents", headers={**attacker, "Authorization": f"Bearer guess-{n}"}).status_code
                     for n in range(6)]
            wrong += [client.post("/login", headers=attacker, data={"username": "admin", "password": f"guess-{n}"}).status_code
                      for n in range(4)]
            assert wrong == [401] * 6 + [400] * 4
            # the eleventh try is refused unheard, the right key and password too, from that address
            r = client.get("/api/documents", headers={**attacker, "Authorization": f"Bearer {ADMIN_KEY}"})
            assert r.status_code == 429 and "too many wrong keys" in r.json()["error"]["message"]
            assert int(r.headers["Retry-After"]) > 60
            assert client.post("/login", headers=attacker, data={"username": "a", "password": ADMIN_KEY}).status_code == 429
            # another address is not held back
            other = {"X-Forwarded-For": "203.0.113.67", "Authorization": f"Bearer {READ_KEY}"}
            assert client.get("/api/documents", headers=other).status_code == 200
    finally:
        server.stop()
