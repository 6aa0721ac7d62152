"""Regenerate docs/screenshot.png (the chat page with a cited answer and its source span highlighted) and
docs/widget.png (the widget on an intranet page with a strict Content-Security-Policy, a citation opened).

    python scripts/screenshot.py                 # starts `assistant serve` over a fresh index of the seed articles
    python scripts/screenshot.py --url http://127.0.0.1:7860   # or shoot a running server's chat page only
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import ui_server  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

QUESTION = "How many US troops did General McKenzie say would remain in Iraq after the reduction?"


def shoot(url: str, out: Path, question: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 860}, device_scale_factor=1)
        page.goto(url + "/")
        page.wait_for_selector("#aui-question textarea")
        page.locator("button.aui-example").first.wait_for()
        page.fill("#aui-question textarea", question)
        page.press("#aui-question textarea", "Enter")
        page.locator(".aui-turn[data-state=done]").wait_for(timeout=60_000)
        page.locator("button.aui-cite").first.click()
        page.locator("#aui-viewer mark.aui-hl").wait_for()
        page.mouse.move(0, 0)  # no hover effects in the picture
        page.wait_for_timeout(800)  # the viewer's smooth scroll
        page.evaluate("window.scrollTo(0, 0)")
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=False)
        browser.close()


INTRANET_PAGE = """<!DOCTYPE html>
<html><head><title>Intranet</title><link rel="stylesheet" href="/page.css"></head><body>
<h1>Team intranet</h1><p>News, forms and the archive of articles. Ask the articles with the button below right.</p>
<script src="{app}/widget.js" data-title="Ask the articles"></script>
</body></html>
"""
PAGE_CSS = "body { font: 16px/1.5 system-ui, sans-serif; margin: 40px; color: #222; background: #f6f7f9; }"
CSP = "default-src 'self'; script-src 'self' {app}; style-src 'self' {app}; connect-src {app}"


@contextmanager
def intranet_page(app_holder: dict) -> "Iterator[str]":  # noqa: F821
    """A page on its own origin with a strict CSP that embeds the widget of app_holder["url"]; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            css = self.path == "/page.css"
            body = (PAGE_CSS if css else INTRANET_PAGE.format(app=app_holder["url"])).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/css" if css else "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", CSP.format(app=app_holder["url"]))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def shoot_widget(page_url: str, out: Path, question: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 900, "height": 720}, device_scale_factor=1)
        page.goto(page_url)
        page.locator(".launcher").click()
        page.locator("textarea").fill(question)
        page.locator("textarea").press("Enter")
        page.locator(".msg.bot[data-done=true]").wait_for(timeout=60_000)
        page.locator(".sentence .marker").first.click()
        page.locator(".doc mark").wait_for()
        page.mouse.move(0, 0)
        page.screenshot(path=str(out), full_page=False)
        browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running server (default: start one over the seed articles)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    ap.add_argument("--widget-out", type=Path, default=ROOT / "docs" / "widget.png")
    ap.add_argument("--question", default=QUESTION)
    args = ap.parse_args()
    if args.url:
        shoot(args.url.rstrip("/"), args.out, args.question)
    else:
        app: dict = {}
        with tempfile.TemporaryDirectory() as tmp, intranet_page(app) as page_url:
            with ui_server.start(Path(tmp), env={"ASSISTANT_CORS_ORIGINS": page_url}) as url:
                app["url"] = url
                shoot(url, args.out, args.question)
                shoot_widget(page_url, args.widget_out, args.question)
        print(f"wrote {args.widget_out}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
