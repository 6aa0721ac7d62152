"""Re-run the attacks of issue 23 against servers this script starts on 127.0.0.1 (nothing else is contacted), and
print tried/held/failed per suite, with the timings the tests leave out.

    python bench/attack.py [--json OUT]

Bounded: each request has a timeout, the brute-force and rate suites stop at their limits, and every server (uvicorn
in this process, a `chroma run`, a scripted LLM server) is stopped at the end. Exit status 1 when any attack got
through. Suites: rebinding (every server mode), outage (Chroma killed under a server), gradio (the page's API under
the REST rules and bad input), html (a parser bomb), reindex (a planted uploads/ file), bruteforce (keys and the
page's password), stream (an injected LLM reply while it streams), forwarded (X-Forwarded-For: localhost).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "bench"), str(REPO / "tests"), str(REPO)]

import httpx  # noqa: E402

from conftest import free_port, run_cli, start_chroma  # noqa: E402
from machine import machine  # noqa: E402
from processes import stop  # noqa: E402
from scripted_llm import scripted_llm  # noqa: E402
from servers import ADMIN_KEY, READ_KEY, ThreadServer, build_index, copy_index  # noqa: E402
from test_access import NEW_ARTICLE, REMOTE, Page  # noqa: E402

SEEDS = REPO.parent / "shared" / "seeds"
QUESTION = "When does the Quillby ferry timetable change?"
TIMEOUT = 120


class Tally:
    def __init__(self):
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.failures: list[str] = []
        self.timings: dict[str, float] = {}

    def check(self, suite: str, what: str, held: bool) -> None:
        self.counts[suite][0] += 1
        self.counts[suite][1] += bool(held)
        if not held:
            self.failures.append(f"{suite}: {what}")
            print(f"  FAILED {suite}: {what}", flush=True)


class Servers:
    """Apps under uvicorn over private copies of the seed index; all stopped by close()."""

    def __init__(self, work: Path):
        self.work, self.running = work, []
        self.seed = build_index(work / "seed-index", SEEDS)

    def start(self, **settings):
        from assistant.server.api import create_app
        from assistant.config import Settings
        from assistant.core import Assistant

        index = copy_index(self.seed, self.work / f"index-{len(self.running)}")
        assistant = Assistant(Settings(index_dir=index, **{k: v for k, v in settings.items() if k.startswith("llm") or k == "answerer"}))
        server = ThreadServer(create_app(Settings(index_dir=index, **settings), assistant))
        self.running.append(server)
        return server.url, assistant

    def close(self):
        for s in self.running:
            s.stop()


def documents(assistant) -> list[tuple[str, str]]:
    return sorted((d.id, d.sha256) for d in assistant.documents())


def upload(client: httpx.Client, headers: dict | None = None) -> httpx.Response:
    return client.post("/api/documents", headers=headers or {}, files={"file": ("ferry.txt", NEW_ARTICLE, "text/plain")})


def rebound(url: str, name: str) -> dict:
    port = url.rsplit(":", 1)[1]
    return {"Host": f"{name}:{port}", "Origin": f"http://{name}:{port}"}


def suite_rebinding(t: Tally, servers: Servers) -> None:
    modes = {"local-only": ({}, {}), "allow-remote": ({"allow_remote": True}, {}),
             "keyed": ({"api_keys": [ADMIN_KEY], "read_keys": [READ_KEY]}, {"Authorization": f"Bearer {ADMIN_KEY}"})}
    for mode, (settings, admin) in modes.items():
        url, assistant = servers.start(rate_limit_per_minute=0, **settings)
        before = documents(assistant)
        with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
            for name in ("rebind.evil.example", "127.0.0.1.evil.example", "localhost.evil.example"):
                headers = {**admin, **rebound(url, name)}
                t.check("rebinding", f"{mode} upload as {name}", upload(client, headers).status_code == 403)
                r = client.delete(f"/api/documents/{before[0][0]}", headers=headers)
                t.check("rebinding", f"{mode} delete as {name}", r.status_code == 403)
                r = client.post("/gradio_api/upload", headers=headers, files={"files": ("x.txt", NEW_ARTICLE, "text/plain")})
                t.check("rebinding", f"{mode} Gradio upload as {name}", r.status_code in (401, 403))
                for event in ("upload", "remove", "reindex"):
                    r = client.post(f"/gradio_api/run/{event}", headers=headers, json={"data": [before[0][0]]})
                    t.check("rebinding", f"{mode} run/{event} as {name}", r.status_code in (401, 403, 404))
        t.check("rebinding", f"{mode} collection unchanged", documents(assistant) == before)


def suite_outage(t: Tally, work: Path) -> None:
    from assistant.server.api import create_app
    from assistant.config import Settings

    port = free_port()
    chroma_dir = work / "chroma"
    chroma_dir.mkdir()
    chroma = start_chroma(chroma_dir, port)
    env = {"ASSISTANT_CHROMA_URL": f"http://127.0.0.1:{port}", "ASSISTANT_COLLECTION": "attack"}
    server = None
    try:
        assert run_cli("ingest", SEEDS, "--index", work / "chroma-index", env=env).returncode == 0
        settings = Settings(index_dir=work / "chroma-index", chroma_url=env["ASSISTANT_CHROMA_URL"], collection="attack",
                            rate_limit_per_minute=0, answer_cache=0)
        server = ThreadServer(create_app(settings))
        with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
            deadline = time.monotonic() + 180
            while client.get("/healthz").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.5)
            stop(chroma)
            health = client.get("/healthz")
            t.check("outage", "/healthz", health.status_code == 503 and health.json().get("chroma") == "unreachable")
            for n in range(10):
                r = client.post("/api/ask", json={"question": f"{QUESTION} ({n})"})
                t.check("outage", "/api/ask", r.status_code == 503 and r.json().get("error", {}).get("type") == "server_error")
            r = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]})
            t.check("outage", "/v1/chat/completions", r.status_code == 503 and "error" in r.json())
            chroma = start_chroma(chroma_dir, port)
            t0 = time.monotonic()
            while client.get("/healthz").status_code != 200 and time.monotonic() < t0 + 30:
                time.sleep(0.2)
            t.timings["outage: healthy again after Chroma returned (s)"] = round(time.monotonic() - t0, 2)
            t.check("outage", "recovers", client.post("/api/ask", json={"question": QUESTION}).status_code == 200)
    finally:
        if server:
            server.stop()
        stop(chroma)


def suite_gradio(t: Tally, servers: Servers) -> None:
    url, assistant = servers.start(allow_remote=True, rate_limit_per_minute=60)
    doc_id = documents(assistant)[0][0]
    with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
        statuses = [client.post("/gradio_api/run/document", headers=REMOTE, json={"data": [doc_id]}).status_code
                    for _ in range(70)]
        t.check("gradio", "70 run/document: 429 after 60", statuses[:60] == [200] * 60 and set(statuses[60:]) == {429})
        other = {"X-Forwarded-For": "203.0.113.9"}

        def run(name, data, headers=other):
            return client.post(f"/gradio_api/run/{name}", headers=headers, json={"data": data})

        cases = {
            "1,000-message history": run("ask", [QUESTION, [{"role": "user", "content": "hi"}] * 1000]),
            "a number as the question": run("ask", [123, "x"]),
            "10,000-character question": run("ask", ["why " * 2500, []]),
            "history [1, 'x', null]": run("ask", [QUESTION, [1, "x", None]]),
            "lone surrogate": client.post("/gradio_api/run/ask", headers={**other, "Content-Type": "application/json"},
                                          content=b'{"data": ["why \\ud800?", []]}'),
            "unknown document": run("document", ["0123456789abcdef"]),
            "call/v2/ask with a number": client.post("/gradio_api/call/v2/ask", headers=other, json={"question": 5}),
            "queue/join fn_index 999": client.post("/gradio_api/queue/join", headers=other, json={
                "data": [], "fn_index": 999, "session_hash": "x", "event_data": None, "trigger_id": None}),
            "GET call/ask/abc": client.get("/gradio_api/call/ask/abc", headers=other),
        }
        for what, r in cases.items():
            t.check("gradio", what, 400 <= r.status_code < 500 and r.headers.get("content-type", "").startswith("application/json"))
        for name in ("upload", "reindex", "remove", "respond", "refresh"):
            t.check("gradio", f"private event {name} by name", run(name, [doc_id], {"X-Forwarded-For": "203.0.113.10"}).status_code == 404)
        r = client.post("/gradio_api/upload", headers={"X-Forwarded-For": "203.0.113.11"},
                        files={"files": ("x.txt", NEW_ARTICLE, "text/plain")})
        t.check("gradio", "remote upload into Gradio's folder", r.status_code == 403)


def suite_html(t: Tally, servers: Servers) -> None:
    url, _ = servers.start(rate_limit_per_minute=0)
    bomb = b"<html><body>" + b"<div>" * 100_000 + b"x" + b"</div>" * 100_000 + b"</body></html>"
    with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
        t0 = time.perf_counter()
        r = client.post("/api/documents", files={"file": ("bomb.html", bomb, "text/html")})
        seconds = time.perf_counter() - t0
    t.timings["html: 100,000 nested <div> (1.1 MB) refused in (s)"] = round(seconds, 3)
    t.check("html", "parser bomb refused", r.status_code == 422 and "nested too deeply" in r.text)
    t.check("html", "refused in under a second", seconds < 1.0)


def suite_reindex(t: Tally, servers: Servers, work: Path) -> None:
    url, assistant = servers.start(rate_limit_per_minute=0)
    cwd = Path.cwd()
    planted = work / "cwd"
    (planted / "uploads").mkdir(parents=True)
    (planted / "uploads" / "ferry.txt").write_text("A planted file in the server's working directory.\n")
    os.chdir(planted)
    try:
        with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
            upload(client)
            before = documents(assistant)
            page = Page(client)
            reindex = next(d for d in page.config["dependencies"] if d.get("api_name") == "reindex")
            status, message = page.event(reindex["id"], [])
            shown = json.dumps((message or {}).get("output", {}).get("data", []))
        t.check("reindex", "uploads not listed as failed", status == 200 and "ferry.txt" not in shown)
        t.check("reindex", "no planted document", documents(assistant) == before)
    finally:
        os.chdir(cwd)


def suite_bruteforce(t: Tally, servers: Servers) -> None:
    url, _ = servers.start(api_keys=[ADMIN_KEY], read_keys=[READ_KEY], rate_limit_per_minute=0)
    with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
        for kind in ("key", "password"):
            attacker = {"X-Forwarded-For": f"203.0.113.{20 + (kind == 'password')}"}
            t0, refused_at = time.perf_counter(), None
            for n in range(100):
                if kind == "key":
                    r = client.get("/api/documents", headers={**attacker, "Authorization": f"Bearer guess-{n}"})
                else:
                    r = client.post("/login", headers=attacker, data={"username": "admin", "password": f"guess-{n}"})
                if r.status_code == 429:
                    refused_at = n + 1
                    break
            t.timings[f"bruteforce: wrong {kind}s until 429 (s)"] = round(time.perf_counter() - t0, 2)
            t.check("bruteforce", f"wrong {kind}s refused with 429", refused_at is not None and refused_at <= 11)
            right = client.get("/api/documents", headers={**attacker, "Authorization": f"Bearer {ADMIN_KEY}"})
            t.check("bruteforce", f"the right key from the guessing address after wrong {kind}s", right.status_code == 429)


def suite_stream(t: Tally, servers: Servers) -> None:
    from test_unverified_text import INJECTED, strings

    llm = scripted_llm(INJECTED)
    try:
        url, _ = servers.start(llm_base_url=llm.url + "/v1", llm_model="scripted", answerer="llm", answer_cache=0,
                               rate_limit_per_minute=0)
        with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
            page = Page(client)
            respond = next(d for d in page.config["dependencies"] if d.get("api_name") == "respond")
            updates = page.updates(respond["id"], ["What did the report say about the coalition?"]
                                   + [None] * (len(respond["inputs"]) - 1))
        forming = []
        for update in updates:
            sent = " ".join(strings(update))
            if 'data-state="done"' in sent:
                break
            forming.append(sent)
        t.check("stream", "updates seen while the answer formed", bool(forming))
        t.check("stream", "injected text never shown unverified", not any("PWNED" in s for s in forming))
    finally:
        llm.stop()


def suite_forwarded(t: Tally, servers: Servers) -> None:
    url, assistant = servers.start(allow_remote=True, rate_limit_per_minute=0)
    before = documents(assistant)
    with httpx.Client(base_url=url, timeout=TIMEOUT) as client:
        for forwarded in ("localhost", "LOCALHOST"):
            t.check("forwarded", f"X-Forwarded-For: {forwarded}", upload(client, {"X-Forwarded-For": forwarded}).status_code == 403)
    t.check("forwarded", "collection unchanged", documents(assistant) == before)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    t = Tally()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="attack-") as tmp:
        work = Path(tmp)
        servers = Servers(work)
        try:
            suites = [("rebinding", lambda: suite_rebinding(t, servers)), ("outage", lambda: suite_outage(t, work)),
                      ("gradio", lambda: suite_gradio(t, servers)), ("html", lambda: suite_html(t, servers)),
                      ("reindex", lambda: suite_reindex(t, servers, work)), ("bruteforce", lambda: suite_bruteforce(t, servers)),
                      ("stream", lambda: suite_stream(t, servers)), ("forwarded", lambda: suite_forwarded(t, servers))]
            for name, run in suites:
                print(f"{name}…", flush=True)
                try:
                    run()
                except Exception as exc:  # an attack that breaks the suite is a failure, not a crash of the bench
                    t.check(name, f"suite raised {type(exc).__name__}: {exc}", False)
        finally:
            servers.close()
    print(f"\n{'suite':<12}{'tried':>7}{'held':>7}{'failed':>8}")
    for suite, (tried, held) in t.counts.items():
        print(f"{suite:<12}{tried:>7}{held:>7}{tried - held:>8}")
    total_tried = sum(c[0] for c in t.counts.values())
    total_held = sum(c[1] for c in t.counts.values())
    print(f"{'total':<12}{total_tried:>7}{total_held:>7}{total_tried - total_held:>8}")
    for what, value in t.timings.items():
        print(f"{what}: {value}")
    info = machine(seconds=round(time.perf_counter() - started, 1))
    print("machine:", json.dumps(info))
    if args.json:
        args.json.write_text(json.dumps({"suites": {k: {"tried": v[0], "held": v[1]} for k, v in t.counts.items()},
                                         "failures": t.failures, "timings": t.timings, "machine": info}, indent=2))
    return 1 if t.failures else 0


if __name__ == "__main__":
    sys.exit(main())
