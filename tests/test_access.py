"""One access policy for every surface: every route of the app and every event of the chat page, tried by a reader
(a read key) and a remote visitor of a keyless --allow-remote server, leaves the collection as it was; the same
calls by an admin do change it (so the calls are real)."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from servers import ADMIN_KEY, READ_KEY, ThreadServer, build_index, copy_index

REMOTE = {"X-Forwarded-For": "203.0.113.7"}  # uvicorn trusts it from 127.0.0.1, as behind a local reverse proxy
NEW_ARTICLE = b"The Quillby ferry timetable changes in spring, the harbour office said.\n"
QUESTION = "When does the Quillby ferry timetable change?"


@pytest.fixture(scope="module")
def seed_index(seeds_dir: Path, tmp_path_factory) -> Path:
    return build_index(tmp_path_factory.mktemp("access-index") / "index", seeds_dir)


@pytest.fixture
def server(seed_index: Path, tmp_path: Path):
    """start(**settings): the whole app over a private copy of the seed index under uvicorn (rate limits off unless
    settings say); yields (url, app, assistant)."""
    from assistant.server.api import create_app
    from assistant.config import Settings
    from assistant.core import Assistant

    running = []

    def start(**settings):
        index = copy_index(seed_index, tmp_path / f"index-{len(running)}")
        assistant = Assistant(Settings(index_dir=index))
        app = create_app(Settings(**{"index_dir": index, "rate_limit_per_minute": 0, **settings}), assistant)
        running.append(ThreadServer(app))
        return running[-1].url, app, assistant

    yield start
    for s in running:
        s.stop()


def collection(assistant) -> list[tuple[str, str]]:
    return sorted((d.id, d.sha256) for d in assistant.documents())


# -- every route -----------------------------------------------------------------------------------

def call_every_route(client: httpx.Client, app, doc_id: str, headers: dict) -> dict[str, int]:
    """Each method of each API route once, with a plausible request; returns {'METHOD path': status}."""
    statuses = {}
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue  # the chat page (a mount) is tried event by event below; /docs/static serves files
        path = route.path.replace("{document_id}", doc_id)
        for method in sorted(route.methods - {"HEAD"}):
            kwargs: dict = {"headers": headers}
            if method == "POST" and route.path == "/api/documents":
                kwargs["files"] = {"file": ("ferry.txt", NEW_ARTICLE, "text/plain")}
            elif method == "POST" and "chat" in route.path:
                kwargs["json"] = {"model": "assistant", "messages": [{"role": "user", "content": QUESTION}]}
            elif method == "POST":
                kwargs["json"] = {"question": QUESTION}
            statuses[f"{method} {route.path}"] = client.request(method, path, **kwargs).status_code
    return statuses


def test_every_route_refuses_changes_by_a_reader_and_a_remote_keyless_visitor(server):
    url, app, assistant = server(api_keys=[ADMIN_KEY], read_keys=[READ_KEY])
    before = collection(assistant)
    with httpx.Client(base_url=url, timeout=120) as client:
        statuses = call_every_route(client, app, before[0][0], {"Authorization": f"Bearer {READ_KEY}"})
        assert statuses["DELETE /api/documents/{document_id}"] == 403 and statuses["POST /api/documents"] == 403
        assert statuses["POST /api/ask"] == 200  # a reader may ask
        assert collection(assistant) == before

        # the same calls with the admin key change it: the calls above were real attempts
        statuses = call_every_route(client, app, before[0][0], {"Authorization": f"Bearer {ADMIN_KEY}"})
        assert statuses["POST /api/documents"] == 201
        assert collection(assistant) != before

    url, app, assistant = server(allow_remote=True)
    before = collection(assistant)
    with httpx.Client(base_url=url, timeout=120) as client:
        statuses = call_every_route(client, app, before[0][0], REMOTE)
        assert statuses["DELETE /api/documents/{document_id}"] == 403 and statuses["POST /api/ask"] == 200
        assert collection(assistant) == before


# -- every event of the chat page ------------------------------------------------------------------

class Page:
    """A visitor of the chat page, speaking Gradio's own protocol (as its browser code does) in one session."""

    def __init__(self, client: httpx.Client, headers: dict | None = None):
        self.client, self.headers, self.session = client, headers or {}, uuid.uuid4().hex
        config = client.get("/config", headers=self.headers)
        self.config = config.json() if config.status_code == 200 else None

    def event(self, fn_index: int, data: list, event_data: dict | None = None) -> tuple[int, dict | None]:
        """Run one event (event_data: what a click sent, e.g. a row's Remove); (HTTP status of joining the queue,
        the completed message or None)."""
        r = self.client.post("/gradio_api/queue/join", headers=self.headers, json={
            "data": data, "fn_index": fn_index, "session_hash": self.session, "event_data": event_data, "trigger_id": None})
        if r.status_code != 200:
            return r.status_code, None
        with self.client.stream("GET", "/gradio_api/queue/data", params={"session_hash": self.session},
                                headers=self.headers) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    message = json.loads(line[6:])
                    if message.get("msg") == "process_completed":
                        return 200, message
        return 200, None

    def updates(self, fn_index: int, data: list) -> list[list]:
        """Run one event; every output it sent the page, in order (a generator's intermediate updates too)."""
        r = self.client.post("/gradio_api/queue/join", headers=self.headers, json={
            "data": data, "fn_index": fn_index, "session_hash": self.session, "event_data": None, "trigger_id": None})
        r.raise_for_status()
        sent = []
        with self.client.stream("GET", "/gradio_api/queue/data", params={"session_hash": self.session},
                                headers=self.headers) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    message = json.loads(line[6:])
                    if message.get("msg") in ("process_generating", "process_completed"):
                        sent.append((message.get("output") or {}).get("data") or [])
                    if message.get("msg") == "process_completed":
                        break
        return sent

    def upload(self, name: str, data: bytes) -> dict | None:
        """The file uploaded into Gradio's folder as an event's input, or None where the upload was refused."""
        r = self.client.post("/gradio_api/upload", headers=self.headers, files={"files": (name, data, "text/plain")})
        if r.status_code != 200:
            return None
        return {"path": r.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def every_event(page: Page, config: dict, doc_id: str) -> list[str]:
    """Every event of the page in order (the collection tab's refresh first, so that its list holds doc_id), with
    plausible inputs; returns the HTML the events answered."""
    kinds = {c["id"]: c["type"] for c in config["components"]}
    file_data = page.upload("ferry.txt", NEW_ARTICLE)
    values = {"textbox": QUESTION, "state": None, "file": [file_data] if file_data else None, "dropdown": doc_id, "api": QUESTION}
    answers = []
    deps = sorted(config["dependencies"], key=lambda d: (d["api_name"] or "") not in ("refresh",))
    for dep in deps:
        data = [values.get(kinds.get(i)) for i in dep["inputs"]]
        if dep["api_name"] == "ask":
            data = [QUESTION, []]
        status, message = page.event(dep["id"], data, {"remove": doc_id})  # a click on a row's Remove, too
        if message is not None and message.get("success"):
            answers.extend(str(v) for v in message["output"].get("data", []) if isinstance(v, str))
    return answers


def every_api_route(client: httpx.Client, config: dict, doc_id: str, headers: dict) -> dict[str, int]:
    """Every event of the page by name through each of Gradio's HTTP APIs (run, call, api), private ones included,
    and an upload into Gradio's folder; returns {'route': status}."""
    kinds = {c["id"]: c["type"] for c in config["components"]}
    values = {"textbox": QUESTION, "state": None, "file": None, "dropdown": doc_id, "api": QUESTION}
    statuses = {"upload": client.post("/gradio_api/upload", headers=headers,
                                      files={"files": ("ferry.txt", NEW_ARTICLE, "text/plain")}).status_code}
    for dep in config["dependencies"]:
        name = dep.get("api_name")
        if not name:
            continue
        data = [values.get(kinds.get(i)) for i in dep["inputs"]] or [QUESTION]
        if name == "document":
            data = [doc_id]
        for route in (f"/gradio_api/run/{name}", f"/gradio_api/api/{name}", f"/gradio_api/call/{name}"):
            r = client.post(route, headers=headers, json={"data": data})
            statuses[route] = r.status_code
            if route.startswith("/gradio_api/call/") and r.status_code == 200:
                event = r.json().get("event_id", "")
                statuses[route + "/{event_id}"] = client.get(f"{route}/{event}", headers=headers).status_code
    return statuses


def test_every_event_of_the_chat_page_refuses_changes_by_a_remote_keyless_visitor(server):
    url, app, assistant = server(allow_remote=True)
    before = collection(assistant)
    with httpx.Client(base_url=url, timeout=120) as client:
        remote = Page(client, REMOTE)
        names = {d["api_name"] for d in remote.config["dependencies"]}
        assert {"upload", "reindex", "remove"} <= names
        answers = every_event(remote, remote.config, before[0][0])
        assert collection(assistant) == before
        assert any("can only be changed from this machine" in a for a in answers), answers

        # the same events from this machine do change it: the refusal is the policy, not a broken call
        local = Page(client)
        every_event(local, local.config, before[0][0])
        assert collection(assistant) != before


def test_a_read_key_cannot_use_the_chat_page_of_a_keyed_server(server):
    url, app, assistant = server(api_keys=[ADMIN_KEY], read_keys=[READ_KEY])
    before = collection(assistant)
    with httpx.Client(base_url=url, timeout=120) as client:
        bearer = {"Authorization": f"Bearer {READ_KEY}"}
        assert client.post("/login", data={"username": "reader", "password": READ_KEY}).status_code >= 400
        reader = Page(client, bearer)
        for fn_index in range(20):
            status, _ = reader.event(fn_index, [None])
            assert status in (401, 403), (fn_index, status)
        assert collection(assistant) == before

    # signed in with the admin key, the page may change the collection
    with httpx.Client(base_url=url, timeout=120) as admin_client:
        assert admin_client.post("/login", data={"username": "admin", "password": ADMIN_KEY}).status_code < 400
        admin = Page(admin_client)
        every_event(admin, admin.config, before[0][0])
        assert collection(assistant) != before


# -- one Host rule on every server mode (DNS rebinding) -----------------------------------------------

MODES = {  # server settings, and what its admin sends
    "local-only": ({}, {}),
    "allow-remote": ({"allow_remote": True}, {}),
    "keyed": ({"api_keys": [ADMIN_KEY], "read_keys": [READ_KEY]}, {"Authorization": f"Bearer {ADMIN_KEY}"}),
}


def rebound(url: str, name: str = "rebind.evil.example") -> dict:
    """What a page at http://NAME:PORT sends once NAME resolves to this machine: its own name as Host and Origin."""
    port = url.rsplit(":", 1)[1]
    return {"Host": f"{name}:{port}", "Origin": f"http://{name}:{port}"}


@pytest.mark.parametrize("mode", MODES)
def test_a_page_at_a_foreign_name_changes_nothing_on_any_server_mode(server, mode):
    settings, admin = MODES[mode]
    url, app, assistant = server(**settings)
    before = collection(assistant)
    with httpx.Client(base_url=url, timeout=120) as client:
        if mode == "keyed":  # the page's own sign-in, so that its events run as an admin's
            assert client.post("/login", data={"username": "admin", "password": ADMIN_KEY}).status_code < 400
        headers = {**admin, **rebound(url)}
        statuses = call_every_route(client, app, before[0][0], headers)
        assert statuses["POST /api/documents"] == 403 and statuses["DELETE /api/documents/{document_id}"] == 403, statuses
        page = Page(client, {**admin})  # the page as served to this machine, its events sent from the rebound name
        page.headers = headers
        every_event(page, page.config, before[0][0])
        every_api_route(client, page.config, before[0][0], headers)
        for name in ("127.0.0.1.evil.example", "localhost.evil.example", "evil.example."):
            r = client.post("/api/documents", headers={**admin, **rebound(url, name)},
                            files={"file": ("ferry.txt", NEW_ARTICLE, "text/plain")})
            assert r.status_code == 403, (name, r.text)
        assert collection(assistant) == before

        # the same calls by this server's own names do change it: the refusals above were the Host rule
        statuses = call_every_route(client, app, before[0][0], {**admin, "Host": f"localhost:{url.rsplit(':', 1)[1]}"})
        assert statuses["POST /api/documents"] == 201, statuses
        assert collection(assistant) != before


def test_a_forwarded_name_is_not_this_machine(server):
    """X-Forwarded-For: localhost (from the local proxy, which passes on what its client wrote) is not this machine."""
    url, app, assistant = server(allow_remote=True)
    before = collection(assistant)
    with httpx.Client(base_url=url, timeout=120) as client:
        for forwarded in ("localhost", "LOCALHOST", "localhost, 127.0.0.1"):
            r = client.post("/api/documents", headers={"X-Forwarded-For": forwarded},
                            files={"file": ("ferry.txt", NEW_ARTICLE, "text/plain")})
            assert r.status_code == 403, (forwarded, r.status_code, r.text[:200])
    assert collection(assistant) == before
