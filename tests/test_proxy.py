"""Behind a real nginx at /assistant/ (the README's block): the chat page, streaming, citations, uploads, API, docs, widget."""
from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from nginx import nginx, readme_block
from servers import assistant_serve, build_index

D02 = "How many US troops did General McKenzie say would remain in Iraq after the reduction?"
INTRANET_PAGE = """<!DOCTYPE html>
<html><head><title>Intranet</title></head><body><h1>Intranet home</h1>
<script src="/assistant/widget.js" data-title="Ask the articles"></script>
</body></html>
"""


@pytest.fixture(scope="module")
def proxied(seeds_dir: Path, tmp_path_factory):
    """`assistant serve --root-path /assistant` behind nginx, which also serves an intranet page at /intranet.html."""
    work = tmp_path_factory.mktemp("proxy")
    www = work / "www"
    www.mkdir()
    (www / "intranet.html").write_text(INTRANET_PAGE, encoding="utf-8")
    index = build_index(work / "index", seeds_dir)
    with assistant_serve(index, env={"ASSISTANT_ROOT_PATH": "/assistant"}) as app:
        body = readme_block(urlparse(app).netloc) + f"\nlocation = /intranet.html {{ root {www}; }}\n"
        with nginx(body, work / "nginx", ready_path="/assistant/healthz") as front:
            yield front


class Recorder:
    """A browser page that records every request's path and every error response."""

    def __init__(self, browser):
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.paths: list[str] = []
        self.failures: list[str] = []
        self.page.on("request", lambda r: self.paths.append(urlparse(r.url).path))
        self.page.on("response", self.failed)

    def failed(self, response) -> None:
        # /favicon.ico: the browser's own guess at the site root, not a request of the page's
        if response.status >= 400 and urlparse(response.url).path != "/favicon.ico":
            self.failures.append(f"{response.status} {response.url}")


def test_chat_page_at_a_sub_path_asks_streams_cites_and_uploads(browser, proxied, tmp_path):
    rec = Recorder(browser)
    page = rec.page
    page.goto(proxied + "/assistant/")
    page.wait_for_selector("#aui-question textarea")
    # styled: Gradio's theme and the page's stylesheet came through the proxy
    assert page.locator("#aui-ask").evaluate("b => getComputedStyle(b).backgroundColor") not in ("rgba(0, 0, 0, 0)", "")
    page.fill("#aui-question textarea", D02)
    page.press("#aui-question textarea", "Enter")
    turn = page.locator(".aui-turn").first
    turn.locator("xpath=self::*[@data-state='done']").wait_for(timeout=120_000)
    assert "3,000" in turn.inner_text()
    assert any(p.startswith("/assistant/gradio_api/queue/data") for p in rec.paths), "the answer did not stream via the proxy"
    turn.locator("button.aui-cite").first.click()
    mark = page.locator("#aui-viewer mark.aui-hl")
    mark.wait_for()
    assert mark.text_content().strip()
    # upload through the proxy, then ask about it
    article = tmp_path / "pelican-census.md"
    article.write_text("# Pelican census\n\nThe 2031 pelican census on Lake Orvel counted 377 pelicans.\n", encoding="utf-8")
    page.get_by_role("tab", name="Collection").click()
    page.set_input_files("#aui-upload input[type=file]", [str(article)])
    page.locator("#aui-upload").get_by_text("pelican-census").first.wait_for()
    page.click("#aui-add")
    page.locator("#aui-result").get_by_text("Uploaded").wait_for(timeout=60_000)
    assert "1 added" in page.locator("#aui-result").inner_text()
    assert any(p.startswith("/assistant/gradio_api/upload") for p in rec.paths)
    # everything the page asked for was under /assistant/, and nothing failed
    assert [p for p in rec.paths if not p.startswith("/assistant/") and p != "/favicon.ico"] == []
    assert rec.failures == []
    page.close()


def test_api_docs_and_widget_at_a_sub_path(browser, proxied):
    with httpx.Client(base_url=proxied, timeout=120) as http:
        assert http.get("/assistant", follow_redirects=False).headers["location"].endswith("/assistant/")
        answer = http.post("/assistant/api/ask", json={"question": D02}).json()
        assert "3,000" in answer["answer"] and answer["citations"]
        docs = http.get("/assistant/docs").text
        assert "/assistant/openapi.json" in docs and "/assistant/docs/static/swagger-ui-bundle.js" in docs
        assert http.get("/assistant/docs/static/swagger-ui-bundle.js").status_code == 200
        assert http.get("/assistant/openapi.json").json()["paths"]["/api/ask"]
    # the widget on an intranet page of the proxy's own site
    rec = Recorder(browser)
    page = rec.page
    page.goto(proxied + "/intranet.html")
    page.locator(".launcher").click()
    page.locator("textarea").fill(D02)
    page.locator("textarea").press("Enter")
    bubble = page.locator(".msg.bot").first
    bubble.locator("xpath=self::*[@data-done='true']").wait_for(timeout=120_000)
    assert "3,000" in bubble.inner_text()
    bubble.locator(".sentence .marker").first.click()
    assert page.locator(".doc mark").inner_text().strip()
    assert page.locator(".launcher").evaluate("b => getComputedStyle(b).borderRadius") == "50%"
    assert [p for p in rec.paths if not p.startswith("/assistant/") and p not in ("/intranet.html", "/favicon.ico")] == []
    assert rec.failures == []
    page.close()


def test_a_public_url_as_root_path_names_the_proxys_host_and_origin(tmp_path):
    """A keyless, this-machine-only server behind a proxy that passes its public name: that name is accepted, no other."""
    from assistant.server.api import create_app
    from assistant.config import Settings

    from servers import ThreadServer

    server = ThreadServer(create_app(Settings(index_dir=tmp_path / "index", root_path="https://intranet.example/assistant")))
    try:
        with httpx.Client(base_url=server.url) as http:
            deadline = time.monotonic() + 120  # /healthz is 503 "starting" until the models are warm
            while (health := http.get("/healthz", headers={"Host": "intranet.example"})).status_code == 503:
                assert health.json()["status"] == "starting" and time.monotonic() < deadline, health.text
                time.sleep(0.1)
            assert health.status_code == 200
            assert http.get("/healthz", headers={"Host": "attacker.example"}).status_code == 403
            # the page at the public URL is ours, wherever the proxy says the request went
            assert http.get("/v1/models", headers={"Origin": "https://intranet.example"}).status_code == 200
            assert http.get("/v1/models", headers={"Origin": "https://other.example"}).status_code == 403
    finally:
        server.stop()
