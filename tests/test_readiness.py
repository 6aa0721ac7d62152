"""A server says it is ready (/healthz 200, ready: true) only once every model is loaded and warm; questions
asked before wait for that instead of loading the models themselves."""
from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from servers import ThreadServer, build_index


@pytest.fixture(scope="module")
def seed_index(seeds_dir: Path, tmp_path_factory) -> Path:
    return build_index(tmp_path_factory.mktemp("ready-index") / "index", seeds_dir)


def test_healthz_is_not_ready_until_the_models_are_loaded(seed_index: Path, monkeypatch):
    from assistant import onnx_models
    from assistant.server.api import create_app
    from assistant.config import Settings
    from assistant.core import Assistant

    # The answer-bearing model is loaded last; holding its loader back holds the server in its warm-up.
    gate = threading.Event()
    real = onnx_models.answer_model

    def held_back():
        gate.wait(60)
        return real()

    monkeypatch.setattr(onnx_models, "answer_model", held_back)
    settings = Settings(index_dir=seed_index)
    server = ThreadServer(create_app(settings, Assistant(settings)))
    try:
        early = httpx.get(server.url + "/healthz", timeout=30)
        assert early.status_code == 503
        assert early.json()["ready"] is False and early.json()["status"] == "starting"
        assert "answer-model" not in early.json()["loaded"]

        asked: dict = {}
        question = threading.Thread(target=lambda: asked.update(r=httpx.post(
            server.url + "/api/ask", json={"question": "When was the Canadian-led NATO mission in Iraq set up?"},
            timeout=120)))
        question.start()
        question.join(1.0)
        assert question.is_alive(), "a question asked during the warm-up was answered before the models were ready"

        gate.set()
        deadline = time.monotonic() + 120
        while (health := httpx.get(server.url + "/healthz", timeout=30)).status_code != 200:
            assert health.json()["ready"] is False
            assert time.monotonic() < deadline, health.json()
            time.sleep(0.1)
        body = health.json()
        assert body["ready"] is True and body["status"] == "ok" and body["documents"] == 5
        assert {"embedder", "bm25", "cross-encoder", "answer-model", "conversation-model", "answerer"} <= set(body["loaded"])
        assert real.loaded() and onnx_models.cross_encoder.loaded()

        question.join(120)
        assert asked["r"].status_code == 200 and asked["r"].json()["citations"]
    finally:
        gate.set()
        server.stop()


def test_ask_on_an_index_a_server_runs_on_is_answered_by_that_server(seed_index: Path, tmp_path: Path, cli):
    from servers import assistant_serve, copy_index

    question = "How many US troops will remain in Iraq?"
    here = cli("ask", question, "--index", str(seed_index), "--json")
    with assistant_serve(seed_index) as url:
        served = cli("ask", question, "--index", str(seed_index), "-v")
        assert f"answered by the server at {url}" in served.stdout
        assert json.loads(cli("ask", question, "--index", str(seed_index), "--json").stdout)["citations"] == \
            json.loads(here.stdout)["citations"]
        # the same question with --no-server, or on a copy of the index (another folder), is answered in-process
        assert "answered in this process" in cli("ask", question, "--index", str(seed_index), "-v", "--no-server").stdout
        copy = copy_index(seed_index, tmp_path / "copy")
        assert "answered in this process" in cli("ask", question, "--index", str(copy), "-v").stdout
        # a setting that shapes answers differs from the server's: this process answers by its own
        other = cli("ask", question, "--index", str(seed_index), "-v", env={"ASSISTANT_TOP_K": "3"})
        assert "answered in this process" in other.stdout
        record = (seed_index / "serve.json").read_text()
    assert not (seed_index / "serve.json").exists()  # gone with the server (stopped by SIGTERM)
    assert "answered in this process" in cli("ask", question, "--index", str(seed_index), "-v").stdout

    # The server was killed and left its file, and something else listens on its port now: not asked, no traceback.
    port = json.loads(record)["port"]
    with socket.create_server(("127.0.0.1", port)) as listener:
        def garbage() -> None:
            for _ in range(3):
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    conn.recv(4096)
                    conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
        threading.Thread(target=garbage, daemon=True).start()
        (seed_index / "serve.json").write_text(record)
        try:
            stale = cli("ask", question, "--index", str(seed_index), "-v")
        finally:
            (seed_index / "serve.json").unlink()
    assert stale.returncode == 0 and "answered in this process" in stale.stdout, stale.stderr
