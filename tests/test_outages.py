"""A dependency that goes down, through real servers: `assistant serve --chroma-url` over a real `chroma run` that is
killed answers 503 with the JSON error shape (REST, OpenAI, /healthz says "chroma": "unreachable"), logs the outage
once rather than a traceback per request, and answers again once Chroma is back."""
from __future__ import annotations

import time
from pathlib import Path

import httpx

from conftest import free_port, run_cli, start_chroma
from processes import stop
from servers import assistant_serve

QUESTIONS = [f"What did the report say about item {n}?" for n in range(12)]


def test_a_chroma_outage_is_a_503_in_the_json_shape_logged_once(seeds_dir: Path, tmp_path: Path):
    chroma_dir, port = tmp_path / "chroma", free_port()
    chroma_dir.mkdir()
    chroma_url = f"http://127.0.0.1:{port}"
    env = {"ASSISTANT_CHROMA_URL": chroma_url, "ASSISTANT_COLLECTION": "outage"}
    chroma = start_chroma(chroma_dir, port)
    try:
        ingest = run_cli("ingest", seeds_dir, "--index", tmp_path / "index", "--json", env=env)
        assert ingest.returncode == 0, ingest.stderr
        with assistant_serve(tmp_path / "index", env=env) as url, httpx.Client(base_url=url, timeout=60) as client:
            assert client.get("/healthz").json()["chroma"] == "ok"
            stop(chroma)  # Chroma goes away under a ready server

            health = client.get("/healthz")
            assert health.status_code == 503 and health.json()["chroma"] == "unreachable", health.text
            for q in QUESTIONS:
                r = client.post("/api/ask", json={"question": q})
                assert r.status_code == 503, (r.status_code, r.text[:300])
                assert r.json()["error"] == {"message": "the Chroma server is unreachable; retry when it is back",
                                             "type": "server_error", "code": 503}
            r = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTIONS[0]}]})
            assert r.status_code == 503 and r.json()["error"]["type"] == "server_error"
            stream = client.post("/api/ask/stream", json={"question": QUESTIONS[1]})
            assert stream.status_code in (200, 503)
            assert "unreachable" in stream.text

            log = next((tmp_path / "index").parent.glob("serve-*.log")).read_text(errors="replace")
            assert "Traceback" not in log, log[-3000:]
            assert log.count("the Chroma server is unreachable") == 1, log[-3000:]

            chroma = start_chroma(chroma_dir, port)  # back: the server answers again by itself
            deadline = time.monotonic() + 30
            while client.get("/healthz").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert client.get("/healthz").json()["chroma"] == "ok"
            assert client.post("/api/ask", json={"question": QUESTIONS[2]}).status_code == 200
    finally:
        stop(chroma)
