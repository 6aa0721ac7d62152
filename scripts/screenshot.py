"""Regenerate docs/screenshot.png: the chat page with a cited answer and its source span highlighted.

    python scripts/screenshot.py                 # starts `assistant serve` over a fresh index of the seed articles
    python scripts/screenshot.py --url http://127.0.0.1:7860   # or shoot a running server
"""
from __future__ import annotations

import argparse
import sys
import tempfile
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running server (default: start one over the seed articles)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    ap.add_argument("--question", default=QUESTION)
    args = ap.parse_args()
    if args.url:
        shoot(args.url.rstrip("/"), args.out, args.question)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            with ui_server.start(Path(tmp)) as url:
                shoot(url, args.out, args.question)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
