"""The HTTP API against real servers: the official openai client, REST with httpx, access control and every bad input."""
from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from conftest import free_port
from servers import ADMIN_KEY, READ_KEY, ThreadServer, assistant_serve, build_index, copy_index

D02 = "How many US troops did General McKenzie say would remain in Iraq after the reduction?"
D04 = "When was the Canadian-led NATO mission in Iraq set up?"
UNANSWERABLE = "Who won the 2020 US presidential election?"
ALLOWED = "http://intranet.example"
FESTIVAL = (
    "# Quillby River Festival\n\n"
    "The Quillby river festival drew 4,812 visitors on Saturday, the organisers said.\n\n"
    "Boat races on the Wend ran all afternoon and the lantern parade started at nine.\n"
)
FESTIVAL_Q = "How many visitors did the Quillby river festival draw?"
MARKER = re.compile(r"\[(\d+)\]")


@pytest.fixture(scope="module")
def seed_index(seeds_dir: Path, tmp_path_factory) -> Path:
    return build_index(tmp_path_factory.mktemp("api-index") / "index", seeds_dir)


@pytest.fixture(scope="module")
def keyed(seed_index: Path, tmp_path_factory):
    """`assistant serve` as an intranet would run it: an admin key, a read key, one allowed origin."""
    index = copy_index(seed_index, tmp_path_factory.mktemp("keyed") / "index")
    with assistant_serve(index, {"ASSISTANT_API_KEYS": ADMIN_KEY, "ASSISTANT_READ_KEYS": READ_KEY,
                                 "ASSISTANT_CORS_ORIGINS": ALLOWED, "ASSISTANT_RATE_LIMIT": "0"}) as url:
        yield url


@pytest.fixture(scope="module")
def assistant(seed_index: Path, tmp_path_factory):
    """One Assistant on a private copy of the index, shared by the in-process servers below."""
    from assistant.config import Settings
    from assistant.core import Assistant

    index = copy_index(seed_index, tmp_path_factory.mktemp("local") / "index")
    return Assistant(Settings(index_dir=index, max_file_mb=0.05))  # ingestion limits are the Assistant's


def serve(assistant, **settings):
    """create_app() with these settings (no keys unless given) under uvicorn in a thread."""
    from assistant.server.api import create_app
    from assistant.config import Settings

    settings = Settings(index_dir=assistant.settings.index_dir, **settings)
    return ThreadServer(create_app(settings, assistant))


@pytest.fixture(scope="module")
def local(assistant):
    """A keyless server (this machine only) with small limits, so that each limit is cheap to reach."""
    server = serve(assistant, cors_origins=[ALLOWED], max_body_bytes=200_000, max_messages=6,
                   max_question_chars=300, rate_limit_per_minute=0)
    yield server.url
    server.stop()


def read(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {READ_KEY}"}, timeout=120)


def admin(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=120)


def assert_citations_resolve(client: httpx.Client, text: str, citations: list[dict]) -> None:
    """Every marker in the text has a citation whose span is exactly that stretch of its document's text."""
    assert citations, "no citations"
    markers = {int(m) for m in MARKER.findall(text)}
    assert markers == {c["marker"] for c in citations}
    for c in citations:
        doc = client.get(f"/api/documents/{c['document_id']}").json()
        assert doc["text"][c["start"]:c["end"]] == c["text"]
        assert c["source"] == doc["source"]
        assert c["verdict"] in ("supported", "uncertain", "weak", "note")


# -- the official openai client --------------------------------------------------------------------
def test_openai_client_gets_answer_with_markers_and_citations(keyed):
    from openai import OpenAI

    client = OpenAI(base_url=keyed + "/v1", api_key=READ_KEY)
    response = client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": D02}])
    message = response.choices[0].message
    assert response.choices[0].finish_reason == "stop"
    assert "3,000" in message.content and MARKER.search(message.content)
    assert message.abstained is False
    assert all(s["verdict"] in ("supported", "uncertain", "weak", "note") for s in message.sentences)
    with read(keyed) as http:
        assert_citations_resolve(http, message.content, message.citations)


def test_openai_client_streams_sentences_then_citations(keyed):
    from openai import OpenAI

    client = OpenAI(base_url=keyed + "/v1", api_key=READ_KEY)
    stream = client.chat.completions.create(model="assistant", stream=True, messages=[
        {"role": "system", "content": "You are helpful."}, {"role": "user", "content": D04}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "2018" in text and MARKER.search(text)
    assert [c.choices[0].finish_reason for c in chunks].count("stop") == 1
    final = chunks[-1].choices[0]
    assert final.finish_reason == "stop"
    assert sum(1 for c in chunks if c.choices[0].delta.content) >= 1
    with read(keyed) as http:
        assert_citations_resolve(http, text, final.delta.citations)


def test_openai_client_passes_history(keyed):
    from openai import OpenAI

    client = OpenAI(base_url=keyed + "/v1", api_key=READ_KEY)
    first = client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": D04}])
    follow_up = "How many forces does it have?"
    second = client.chat.completions.create(model="assistant", messages=[
        {"role": "user", "content": D04}, {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": follow_up}])
    alone = client.chat.completions.create(model="assistant", messages=[{"role": "user", "content": follow_up}])
    # The earlier turns reach the rewriter: with them, "it" becomes what the first question was about; without them
    # the question is asked as typed.
    assert alone.choices[0].message.rewritten_query == follow_up
    rewritten = second.choices[0].message.rewritten_query
    assert re.search(r"NATO|Iraq|mission", rewritten, re.I) and "forces" in rewritten.lower(), rewritten


def test_openai_client_models_and_key_errors(keyed):
    import openai

    models = openai.OpenAI(base_url=keyed + "/v1", api_key=READ_KEY).models.list()
    assert [m.id for m in models.data] == ["assistant"]
    with pytest.raises(openai.AuthenticationError, match="invalid API key"):
        openai.OpenAI(base_url=keyed + "/v1", api_key="wrong").chat.completions.create(
            model="assistant", messages=[{"role": "user", "content": D02}])


# -- REST ------------------------------------------------------------------------------------------
def test_rest_ask_has_the_ask_json_shape(keyed):
    with read(keyed) as http:
        r = http.post("/api/ask", json={"question": D02})
        assert r.status_code == 200
        answer = r.json()
        assert {"answer", "abstained", "sentences", "citations", "contexts", "rewritten_query", "answerer", "notice",
                "timings"} <= set(answer)
        assert "3,000" in answer["answer"]
        assert_citations_resolve(http, answer["answer"], answer["citations"])


def test_rest_stream_sends_query_sentences_then_the_answer(keyed):
    with read(keyed) as http, http.stream("POST", "/api/ask/stream", json={"question": D04}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "query" and kinds[-1] == "done" and "sentence" in kinds
    answer = events[-1]["answer"]
    assert " ".join(e["sentence"]["text"] for e in events if e["event"] == "sentence") == answer["answer"]
    introduced = [c["marker"] for e in events if e["event"] == "sentence" for c in e["citations"]]
    assert introduced == [c["marker"] for c in answer["citations"]]


def test_rest_abstains_clearly(keyed):
    with read(keyed) as http:
        answer = http.post("/api/ask", json={"question": UNANSWERABLE}).json()
    assert answer["abstained"] is True and answer["citations"] == []
    assert not MARKER.search(answer["answer"])


def test_documents_list_and_text(keyed):
    with read(keyed) as http:
        docs = http.get("/api/documents").json()["documents"]
        assert len(docs) == 5 and all("text" not in d for d in docs)
        doc = http.get(f"/api/documents/{docs[0]['id']}").json()
        assert doc["source"] == docs[0]["source"] and len(doc["text"]) > 500
        missing = http.get("/api/documents/nope")
        assert missing.status_code == 404 and "no document" in missing.json()["error"]["message"]


def test_health_and_docs_need_no_key(keyed):
    assert httpx.get(keyed + "/healthz").json()["documents"] == 5
    docs = httpx.get(keyed + "/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text  # Swagger UI from this server: intranets are offline
    assert httpx.get(keyed + "/docs/static/swagger-ui-bundle.js").status_code == 200
    assert "HTTPBearer" in httpx.get(keyed + "/openapi.json").json()["components"]["securitySchemes"]
    paths = httpx.get(keyed + "/openapi.json").json()["paths"]
    assert {"/v1/chat/completions", "/v1/models", "/api/ask", "/api/ask/stream", "/api/documents",
            "/api/documents/{document_id}", "/healthz"} <= set(paths)


# -- keys ------------------------------------------------------------------------------------------
def test_missing_and_wrong_keys_are_refused(keyed):
    r = httpx.post(keyed + "/api/ask", json={"question": D02})
    assert r.status_code == 401 and "missing API key" in r.json()["error"]["message"]
    assert r.headers["www-authenticate"] == "Bearer"
    r = httpx.get(keyed + "/api/documents", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["error"]["message"] == "invalid API key"


def test_read_key_cannot_change_the_collection_admin_key_can(keyed):
    with read(keyed) as http:
        r = http.post("/api/documents", files={"file": ("festival.md", FESTIVAL.encode())})
        assert r.status_code == 403 and "admin key" in r.json()["error"]["message"]
        doc_id = http.get("/api/documents").json()["documents"][0]["id"]
        assert http.delete(f"/api/documents/{doc_id}").status_code == 403
        assert len(http.get("/api/documents").json()["documents"]) == 5
    with admin(keyed) as http:
        r = http.post("/api/documents", files={"file": ("festival.md", FESTIVAL.encode())})
        assert r.status_code == 201 and r.json()["added"] == 1 and r.json()["documents"] == 6
        new = [d for d in http.get("/api/documents").json()["documents"] if d["source"] == "festival.md"]
        r = http.delete(f"/api/documents/{new[0]['id']}")
        assert r.status_code == 200 and r.json()["documents"] == 5


def test_admin_key_is_refused_from_a_web_page(keyed):
    with admin(keyed) as http:
        r = http.get("/api/documents", headers={"Origin": ALLOWED})
        assert r.status_code == 403 and "read-only key" in r.json()["error"]["message"]
    with read(keyed) as http:
        r = http.get("/api/documents", headers={"Origin": ALLOWED})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == ALLOWED


# -- bad input -------------------------------------------------------------------------------------
def error(r: httpx.Response) -> str:
    return r.json()["error"]["message"]


def test_malformed_json_and_wrong_types_are_422(local):
    with httpx.Client(base_url=local) as http:
        r = http.post("/api/ask", content=b'{"question": "x",', headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and "malformed JSON" in error(r)
        r = http.post("/api/ask", json={"question": 5})
        assert r.status_code == 422 and "question" in error(r) and "string" in error(r)
        r = http.post("/api/ask", json={"question": "x", "history": [{"role": "robot", "content": "hi"}]})
        assert r.status_code == 422 and "history.0.role" in error(r)
        r = http.post("/v1/chat/completions", json={"model": "assistant", "messages": "hello"})
        assert r.status_code == 422 and "messages" in error(r)
        r = http.post("/v1/chat/completions", json={"model": "assistant", "messages": []})
        assert r.status_code == 422 and "messages" in error(r)
        r = http.post("/v1/chat/completions", json=[1, 2])
        assert r.status_code == 422


def test_bodies_over_the_limit_are_413(local):
    big = {"question": "x" * 250_000}
    with httpx.Client(base_url=local) as http:
        r = http.post("/api/ask", json=big)
        assert r.status_code == 413 and "too large" in error(r)

        def chunks():  # no Content-Length: the limit holds on the bytes actually received
            data = json.dumps(big).encode()
            for k in range(0, len(data), 16_384):
                yield data[k:k + 16_384]

        r = http.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413


def test_too_many_or_too_long_messages_are_400(local):
    with httpx.Client(base_url=local, timeout=60) as http:
        turns = [{"role": "user", "content": "a?"}, {"role": "assistant", "content": "b."}] * 3
        r = http.post("/api/ask", json={"question": D02, "history": turns})
        assert r.status_code == 400 and error(r) == "too many messages (7; the limit is 6)"
        r = http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "why " * 100}]})
        assert r.status_code == 400 and "too long (400 characters; the limit is 300)" in error(r)
        r = http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": D02},
                                                                 {"role": "assistant", "content": "ok"}]})
        assert r.status_code == 400 and "last message must be the user's question" in error(r)
        r = http.post("/api/ask", json={"question": "   "})
        assert r.status_code == 400 and error(r) == "the question is empty"
        r = http.post("/api/ask", json={"question": "???"})
        assert r.status_code == 400 and error(r) == "the question has no words"


def test_a_question_the_assistant_refuses_is_400_and_an_assistant_that_cannot_answer_503(seed_index, tmp_path):
    """The asker's fault is a 400 whichever layer finds it (here the assistant's own, lower limit); the server's
    (its LLM server is down) a 503."""
    from assistant.config import Settings
    from assistant.core import Assistant

    index = copy_index(seed_index, tmp_path / "index")
    down = Assistant(Settings(index_dir=index, answerer="llm", llm_base_url=f"http://127.0.0.1:{free_port()}/v1",
                              llm_fallback=False, llm_retries=0, max_question_chars=60))
    server = serve(down, rate_limit_per_minute=0)  # the server's limit: 4000 characters
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            r = http.post("/api/ask", json={"question": "why " * 20})
            assert r.status_code == 400 and error(r) == "the question is too long (79 characters; the limit is 60)"
            for path, body in (("/api/ask", {"question": D04}),
                               ("/v1/chat/completions", {"messages": [{"role": "user", "content": D04}]})):
                r = http.post(path, json=body)
                assert r.status_code == 503 and r.json()["error"]["type"] == "server_error"
                assert "cannot reach the LLM server" in error(r)
    finally:
        server.stop()


def test_bad_uploads_give_the_ingest_reason_and_lose_nothing(local):
    with httpx.Client(base_url=local, timeout=120) as http:
        before = http.get("/api/documents").json()["documents"]
        png = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(range(256))
        cases = [("photo.txt", png, "binary file"), ("empty.md", b"  \n", "empty file"),
                 ("huge.txt", b"word " * 20_000, "file too large"), ("tool.exe", b"MZ\x90", "unsupported file type")]
        for name, data, reason in cases:
            r = http.post("/api/documents", files={"file": (name, data)})
            assert r.status_code == 422, name
            assert error(r).startswith(f"{name}: {reason}")
            assert r.json()["failed"][0]["reason"].startswith(reason)
        r = http.post("/api/documents")
        assert r.status_code == 422 and "file" in error(r)
        assert http.get("/api/documents").json()["documents"] == before


def test_upload_ask_delete_round_trip(local):
    with httpx.Client(base_url=local, timeout=120) as http:
        r = http.post("/api/documents", files={"file": ("festival.md", FESTIVAL.encode())})
        assert r.status_code == 201 and r.json()["added"] == 1
        answer = http.post("/api/ask", json={"question": FESTIVAL_Q}).json()
        assert "4,812" in answer["answer"]
        cited = {c["document_id"] for c in answer["citations"]}
        doc = [d for d in http.get("/api/documents").json()["documents"] if d["source"] == "festival.md"][0]
        assert doc["id"] in cited
        assert http.post("/api/documents", files={"file": ("festival.md", FESTIVAL.encode())}).json()["unchanged"] == 1
        # the same file under another name is not a second document: the upload says which one holds it
        copy = http.post("/api/documents", files={"file": ("festival (1).md", FESTIVAL.encode())})
        assert copy.status_code == 201 and copy.json()["added"] == 0
        assert copy.json()["duplicates"] == [{"path": "festival (1).md", "same_as": "festival.md", "document_id": doc["id"],
                                              "folder": ""}]
        assert [d["source"] for d in http.get("/api/documents").json()["documents"]].count("festival.md") == 1
        assert "festival (1).md" not in [d["source"] for d in http.get("/api/documents").json()["documents"]]
        assert http.delete(f"/api/documents/{doc['id']}").status_code == 200
        assert http.delete(f"/api/documents/{doc['id']}").status_code == 404
        # The answer given before is not served again from the cache: the article is gone.
        again = http.post("/api/ask", json={"question": FESTIVAL_Q}).json()
        assert doc["id"] not in {c["document_id"] for c in again["citations"]} and "4,812" not in again["answer"]


# -- who may connect -------------------------------------------------------------------------------
def test_keyless_server_answers_this_machine_only(local):
    with httpx.Client(base_url=local) as http:
        assert http.get("/v1/models").status_code == 200
        # Through a proxy on this machine, the client is the forwarded address: another machine.
        r = http.get("/v1/models", headers={"X-Forwarded-For": "10.1.2.3"})
        assert r.status_code == 403 and "only answers this machine" in error(r)
        # A page whose DNS name was rebound to 127.0.0.1 is not this machine either.
        r = http.get("/v1/models", headers={"Host": "attacker.example"})
        assert r.status_code == 403
        # ... nor one whose name merely starts like a loopback address
        assert http.get("/v1/models", headers={"Host": "127.0.0.1.attacker.example"}).status_code == 403
        assert http.get("/v1/models", headers={"Host": "127.0.0.1"}).status_code == 200
        assert http.get("/v1/models", headers={"Host": "[::1]:8080"}).status_code == 200


def test_opened_keyless_server_lets_others_ask_but_not_change(assistant):
    server = serve(assistant, allow_remote=True)
    try:
        remote = {"X-Forwarded-For": "10.1.2.3"}
        assert httpx.get(server.url + "/v1/models", headers=remote).status_code == 200
        r = httpx.delete(server.url + "/api/documents/whatever", headers=remote)
        assert r.status_code == 403 and "only be changed from this machine" in error(r)
    finally:
        server.stop()


def test_cors_allow_list(local):
    with httpx.Client(base_url=local) as http:
        ok = http.get("/v1/models", headers={"Origin": ALLOWED})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == ALLOWED
        r = http.get("/v1/models", headers={"Origin": "http://evil.example"})
        assert r.status_code == 403 and "not allowed" in error(r) and "access-control-allow-origin" not in r.headers
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
        r = http.options("/api/ask", headers={"Origin": "http://evil.example", **preflight})
        assert "access-control-allow-origin" not in r.headers
        r = http.options("/api/ask", headers={"Origin": ALLOWED, **preflight})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == ALLOWED
        # Even an allowed page cannot change the collection.
        r = http.post("/api/documents", headers={"Origin": ALLOWED}, files={"file": ("a.md", b"# A\n\nSome text here.")})
        assert r.status_code == 403 and "embedding page" in error(r)


def test_rate_limit_is_per_key(assistant):
    server = serve(assistant, read_keys=["k1", "k2"], rate_limit_per_minute=3)
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer k1"}) as http:
            assert [http.get("/v1/models").status_code for _ in range(3)] == [200, 200, 200]
            r = http.get("/v1/models")
            assert r.status_code == 429 and "rate limit" in error(r) and int(r.headers["retry-after"]) >= 1
        assert httpx.get(server.url + "/v1/models", headers={"Authorization": "Bearer k2"}).status_code == 200
    finally:
        server.stop()


def test_widget_script_is_served(local):
    r = httpx.get(local + "/widget.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "attachShadow" in r.text and "innerHTML" not in r.text


def test_head_is_answered_wherever_get_is(local):
    """Link checkers and proxies probe with HEAD: the same status and headers as GET, no body."""
    for path in ("/widget.js", "/widget.css", "/", "/docs", "/openapi.json", "/healthz", "/v1/models", "/api/documents",
                 "/api/documents/no-such-id", "/no-such-page"):
        got, head = httpx.get(local + path), httpx.head(local + path)
        assert head.status_code == got.status_code, path
        assert head.content == b"" and head.headers["content-type"] == got.headers["content-type"], path
        if "content-length" in got.headers and path != "/healthz":  # (readiness figures may differ between the two)
            assert head.headers["content-length"] == got.headers["content-length"], path
    assert httpx.head(local + "/widget.js").status_code == 200


def test_keyed_server_asks_an_admin_key_to_open_the_chat_page(keyed):
    # The page can change the collection, so its data and actions need a login with an admin key as password.
    assert httpx.get(keyed + "/config").status_code == 401
    assert httpx.post(keyed + "/login", data={"username": "me", "password": READ_KEY}).status_code == 400
    with httpx.Client(base_url=keyed) as browser:
        assert browser.post("/login", data={"username": "me", "password": ADMIN_KEY}).status_code == 200
        assert browser.get("/config").status_code == 200
