"""The embeddable widget in headless Chromium: a host page on one port, the assistant on another."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from servers import ADMIN_KEY, READ_KEY, ThreadServer, build_index

D02 = "How many US troops did General McKenzie say would remain in Iraq after the reduction?"
UNANSWERABLE = "Who won the 2020 US presidential election?"
XSS_TEXT = (
    "Zorblat lantern report\n\n"
    "The Zorblat lantern festival <img src=x onerror=\"window.__xss='img'\"> in Quillby drew 4,812 visitors "
    "<script>window.__xss='script'</script> this spring.\n\n"
    "Organisers of the Zorblat festival said the lanterns were made of recycled paper.\n"
)
XSS_Q = "How many visitors did the Zorblat lantern festival in Quillby draw?"
# A hostile host page: its rules must not reach into the widget, and the widget's must not reach out.
HOST_PAGE = """<!DOCTYPE html>
<html><head><title>Intranet</title>
<style>* {{ font-size: 40px !important; }} button {{ display: none !important; }} mark {{ background: black !important; }}</style>
</head><body>
<h1>Intranet home</h1>
<p class="msg user" id="host-paragraph">A paragraph of the host page.</p>
<script src="{app}/widget.js" data-key="{key}" data-title="Ask the articles"></script>
</body></html>
"""


# An intranet page with a strict policy: nothing inline, scripts, styles and requests only from itself and the assistant.
STRICT_PAGE = """<!DOCTYPE html>
<html><head><title>Strict intranet</title></head><body>
<h1>Intranet home</h1>
<script src="{app}/widget.js" data-key="{key}" data-title="Ask the articles"></script>
</body></html>
"""
STRICT_CSP = "default-src 'self'; script-src 'self' {app}; style-src 'self' {app}; connect-src {app}"


class HostPage:
    """A plain web server on its own port (its own origin) serving one page with the widget's script tag."""

    def __init__(self, key: str = READ_KEY, template: str = HOST_PAGE, csp: str = ""):
        self.app_url = ""  # set once the assistant runs: its allowed origins need this page's port first
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                page = template.format(app=host.app_url, key=key).encode()
                self.send_response(200)
                if csp:
                    self.send_header("Content-Security-Policy", csp.format(app=host.app_url))
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def sites(seeds_dir: Path, tmp_path_factory):
    """The assistant (keys configured, one allowed origin), an allowed host page and a host page not on the list."""
    from assistant.server.api import create_app
    from assistant.config import Settings

    work = tmp_path_factory.mktemp("widget")
    xss = work / "files" / "zorblat.txt"
    xss.parent.mkdir()
    xss.write_text(XSS_TEXT, encoding="utf-8")
    index = build_index(work / "index", seeds_dir, xss)
    allowed, blocked, strict = HostPage(), HostPage(), HostPage(template=STRICT_PAGE, csp=STRICT_CSP)
    settings = Settings(index_dir=index, api_keys=[ADMIN_KEY], read_keys=[READ_KEY], cors_origins=[allowed.url, strict.url],
                        rate_limit_per_minute=0)
    app = ThreadServer(create_app(settings))
    allowed.app_url = blocked.app_url = strict.app_url = app.url
    yield {"app": app.url, "allowed": allowed.url, "blocked": blocked.url, "strict": strict.url}
    for site in (allowed, blocked, strict):
        site.stop()
    app.stop()


class Widget:
    """A host page in a fresh browser page, recording requests, responses and dialogs."""

    def __init__(self, browser, url: str):
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        self.requests: list[str] = []
        self.streams: list[dict] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("response", lambda r: self.streams.append(r.headers) if r.url.endswith("/api/ask/stream") else None)
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.console: list[str] = []
        self.page.on("console", lambda m: self.console.append(m.text))
        self.page.goto(url)
        self.page.locator(".launcher").click()
        self.page.locator("textarea").wait_for()

    def ask(self, question: str):
        n = self.page.locator(".msg.bot").count()
        self.page.locator("textarea").fill(question)
        self.page.locator("textarea").press("Enter")
        bubble = self.page.locator(".msg.bot").nth(n)
        bubble.locator("xpath=self::*[@data-done='true']").wait_for(timeout=120_000)
        return bubble


def cited(app: str, question: str) -> dict:
    """The citations the API gives for question (the same answer the widget got)."""
    r = httpx.post(app + "/api/ask", json={"question": question}, headers={"Authorization": f"Bearer {READ_KEY}"},
                   timeout=120)
    return {c["marker"]: c for c in r.json()["citations"]}


def test_widget_streams_a_cited_answer_and_opens_the_span(browser, sites):
    from playwright.sync_api import expect

    w = Widget(browser, sites["allowed"])
    bubble = w.ask(D02)
    assert "error" not in bubble.get_attribute("class")
    assert "3,000" in bubble.inner_text()
    assert w.streams and w.streams[0]["content-type"].startswith("text/event-stream")
    markers = bubble.locator(".sentence .marker")
    assert markers.count() >= 1
    citations = cited(sites["app"], D02)
    first = int(markers.first.get_attribute("data-marker"))
    markers.first.click()
    mark = w.page.locator(".doc mark")
    expect(mark).to_be_in_viewport()
    expect(w.page.locator(".log")).to_be_hidden()  # the document replaces the chat until "Back to chat"
    assert mark.inner_text() == citations[first]["text"]
    # The page's CSS stayed outside: its 40px and black marks did not reach the widget ...
    assert mark.evaluate("m => getComputedStyle(m).backgroundColor") != "rgb(0, 0, 0)"
    assert bubble.evaluate("b => getComputedStyle(b).fontSize") == "14px"
    # ... and the widget's stayed inside: the page's own .msg.user paragraph is unstyled by it.
    assert w.page.evaluate("getComputedStyle(document.getElementById('host-paragraph')).backgroundColor") == "rgba(0, 0, 0, 0)"
    assert all(urlparse(u).hostname == "127.0.0.1" for u in w.requests)
    w.page.close()


def test_widget_shows_an_abstention_as_such(browser, sites):
    w = Widget(browser, sites["allowed"])
    bubble = w.ask(UNANSWERABLE)
    assert "abstained" in bubble.get_attribute("class")
    assert bubble.locator(".label").inner_text() == "Not in the articles"
    assert bubble.locator(".marker").count() == 0
    w.page.close()


def test_widget_renders_article_text_as_text(browser, sites):
    w = Widget(browser, sites["allowed"])
    bubble = w.ask(XSS_Q)
    assert "4,812" in bubble.inner_text() and "<img src=x" in bubble.inner_text()
    bubble.locator(".sentence .marker").first.click()
    assert "<img src=x" in w.page.locator(".doc mark").inner_text()
    assert "<script>" in w.page.locator(".doc").inner_text()
    assert w.page.locator("assistant-widget").evaluate("h => h.shadowRoot.querySelectorAll('img, script').length") == 0
    assert w.page.evaluate("window.__xss") is None and w.dialogs == []
    w.page.close()


def test_page_not_on_the_allow_list_cannot_use_the_assistant(browser, sites):
    w = Widget(browser, sites["blocked"])  # the script itself loads: a <script> tag is not subject to CORS
    bubble = w.ask(D02)
    assert "error" in bubble.get_attribute("class")
    assert "cannot reach the assistant" in bubble.inner_text()
    outcome = w.page.evaluate("""url => fetch(url + '/v1/models', {headers: {Authorization: 'Bearer KEY'}})
        .then(r => 'read ' + r.status, e => 'blocked: ' + e.name)""".replace("KEY", READ_KEY), sites["app"])
    assert outcome == "blocked: TypeError"
    w.page.close()


def test_widget_is_styled_and_answers_under_a_strict_content_security_policy(browser, sites):
    from playwright.sync_api import expect

    w = Widget(browser, sites["strict"])
    panel = w.page.locator(".panel")
    # Styled by /widget.css: the panel is a fixed-size white card, the launcher a round button in the accent colour.
    assert panel.evaluate("p => getComputedStyle(p).display") == "flex"
    assert panel.evaluate("p => getComputedStyle(p).borderRadius") == "12px"
    assert w.page.locator(".launcher").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(36, 87, 197)"
    # The launcher is a chat bubble (an SVG drawn by the script), not an envelope that reads as "email us".
    assert w.page.locator(".launcher svg path").count() == 1 and "\u2709" not in w.page.locator(".launcher").inner_text()
    bubble = w.ask(D02)
    assert "error" not in bubble.get_attribute("class") and "3,000" in bubble.inner_text()
    assert bubble.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(244, 245, 247)"
    bubble.locator(".sentence .marker").first.click()
    expect(w.page.locator(".doc mark")).to_be_in_viewport()
    assert w.page.locator(".doc mark").evaluate("m => getComputedStyle(m).backgroundColor") == "rgb(255, 224, 102)"
    # The browser refused nothing the widget needs: no CSP violation was reported.
    assert [m for m in w.console if "Content Security Policy" in m] == []
    w.page.close()
