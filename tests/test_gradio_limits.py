"""The chat page's HTTP API (/gradio_api/...) under the REST API's rules, through a real server: the same rate limit,
message and question limits, one-line 4xx for bad input (never a 500 or a dropped connection), private events not
callable by name, and uploads into Gradio's folder only for those who may change the collection, removed after use."""
from __future__ import annotations

import json
from pathlib import Path

import httpx

from test_access import NEW_ARTICLE, REMOTE, Page, collection, seed_index, server  # noqa: F401  (fixtures)

QUESTION = "When does the Quillby ferry timetable change?"


def error_of(r: httpx.Response) -> str:
    assert r.headers["content-type"].startswith("application/json"), r.text[:200]
    return r.json()["error"]["message"]


def test_bad_input_to_the_gradio_api_is_a_one_line_4xx(server):
    url, app, assistant = server(rate_limit_per_minute=0)
    doc_id = collection(assistant)[0][0]
    with httpx.Client(base_url=url, timeout=120) as client:
        def run(name: str, data) -> httpx.Response:
            return client.post(f"/gradio_api/run/{name}", json={"data": data})

        cases = {
            "a number as the question": (run("ask", [123, "x"]), 422, "question"),
            "a 10,000-character question": (run("ask", ["why " * 2500, []]), 400, "too long"),
            "a history of non-messages": (run("ask", [QUESTION, [1, "x", None]]), 422, "history"),
            "1,000 messages": (run("ask", [QUESTION, [{"role": "user", "content": "hi"}] * 1000]), 400, "too many messages"),
            "an unknown document": (run("document", ["0123456789abcdef"]), 404, "no document"),
            "a document id that is a list": (run("document", [[1]]), 404, "no document"),
            "v2 with a number": (client.post("/gradio_api/call/v2/ask", json={"question": 5}), 422, "question"),
            "an unknown event index": (client.post("/gradio_api/queue/join", json={
                "data": [], "fn_index": 999, "session_hash": "abc", "event_data": None, "trigger_id": None}), 404, "no event"),
            "results of an unknown event": (client.get("/gradio_api/call/ask/abc"), 404, "no event"),
        }
        # a lone surrogate, as JSON can carry it
        lone = client.post("/gradio_api/run/ask", content=b'{"data": ["why \\ud800 is it?", []]}',
                           headers={"Content-Type": "application/json"})
        cases["a lone surrogate"] = (lone, 400, "surrogate")
        for what, (r, status, words) in cases.items():
            assert r.status_code == status and words in error_of(r), (what, r.status_code, r.text[:300])

        # the same routes with good input answer: the refusals above are the checks, not a broken route
        r = run("document", [doc_id])
        assert r.status_code == 200 and r.json()["data"][0]["id"] == doc_id


def test_private_events_are_not_callable_by_name(server):
    url, app, assistant = server(rate_limit_per_minute=0)
    before = collection(assistant)
    with httpx.Client(base_url=url, timeout=120) as client:
        page = Page(client)
        private = [d for d in page.config["dependencies"] if d.get("api_visibility") == "private" and d.get("api_name")]
        assert {"upload", "reindex", "remove", "respond"} <= {d["api_name"] for d in private}
        for dep in private:
            for route in ("run", "call", "api", "call/v2"):
                r = client.post(f"/gradio_api/{route}/{dep['api_name']}", json={"data": [before[0][0]]})
                assert r.status_code == 404, (route, dep["api_name"], r.status_code, r.text[:200])
            # nor by a public name with a private event's index
            r = client.post("/gradio_api/run/document", json={"data": [before[0][0]], "fn_index": dep["id"]})
            assert r.status_code == 404, (dep["api_name"], r.text[:200])
    assert collection(assistant) == before


def test_the_gradio_api_counts_against_the_rest_rate_limit(server):
    url, app, assistant = server(allow_remote=True, rate_limit_per_minute=5)
    doc_id = collection(assistant)[0][0]
    with httpx.Client(base_url=url, timeout=120) as client:
        statuses = [client.post("/gradio_api/run/document", headers=REMOTE, json={"data": [doc_id]}).status_code
                    for _ in range(5)]
        assert statuses == [200] * 5
        r = client.post("/gradio_api/run/ask", headers=REMOTE, json={"data": [QUESTION, []]})
        assert r.status_code == 429 and "rate limit" in error_of(r) and int(r.headers["Retry-After"]) >= 1
        # one bucket for both APIs: REST is refused too, and another client is not
        assert client.get("/api/documents", headers=REMOTE).status_code == 429
        assert client.post("/gradio_api/run/document", headers={"X-Forwarded-For": "203.0.113.8"},
                           json={"data": [doc_id]}).status_code == 200


def test_uploads_into_gradios_folder_need_the_upload_right_and_are_removed(server):
    url, app, assistant = server(allow_remote=True, rate_limit_per_minute=0)
    before = collection(assistant)
    with httpx.Client(base_url=url, timeout=120) as client:
        files = {"files": ("ferry.txt", NEW_ARTICLE, "text/plain")}
        r = client.post("/gradio_api/upload", headers=REMOTE, files=files)
        assert r.status_code == 403 and "this machine" in error_of(r)

        page = Page(client)  # this machine may upload: the file is added, and Gradio's copy removed
        file_data = page.upload("ferry.txt", NEW_ARTICLE)
        assert Path(file_data["path"]).is_file()
        add = next(d for d in page.config["dependencies"] if d.get("api_name") == "upload")
        status, message = page.event(add["id"], [[file_data]])
        assert status == 200 and message["success"], message
        assert "Uploaded" in json.dumps(message["output"]["data"])
        assert not Path(file_data["path"]).exists()
    assert len(collection(assistant)) == len(before) + 1


def test_reindex_leaves_uploaded_documents_as_they_are(server, tmp_path: Path, monkeypatch):
    """Re-index re-reads source files; an upload has none (its text is in the index). It must neither fail on them
    nor read a same-named file from the server's working directory."""
    url, app, assistant = server(rate_limit_per_minute=0)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "ferry.txt").write_text("A planted file in the server's working directory.\n")
    with httpx.Client(base_url=url, timeout=120) as client:
        r = client.post("/api/documents", files={"file": ("ferry.txt", NEW_ARTICLE, "text/plain")})
        assert r.status_code == 201
        before = collection(assistant)
        page = Page(client)
        reindex = next(d for d in page.config["dependencies"] if d.get("api_name") == "reindex")
        status, message = page.event(reindex["id"], [])
        assert status == 200 and message["success"], message
        shown = json.dumps(message["output"]["data"])
        assert "1 uploaded documents kept as they are" in shown and "ferry.txt" not in shown, shown
    assert collection(assistant) == before
