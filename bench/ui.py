"""Chat page latency in a real browser: submit a question -> first verified sentence on screen -> whole answer shown.

    python bench/ui.py                                   # starts `assistant serve` over a fresh index of the seeds
    python bench/ui.py --url http://127.0.0.1:7860       # or measure a running server

Headless Chromium (Debian's) types each eval question into a fresh conversation; a MutationObserver in the page
timestamps the first `.aui-sent` of the new answer and the moment it is marked done, so the figures include the
queue, the streaming transport and the rendering, as a reader sees them. One warm-up question is not counted.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import ui_server  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from machine import machine as _machine  # noqa: E402

WATCH_JS = """() => {
  const n = document.querySelectorAll('.aui-turn').length;
  const t = window.__bench = {start: performance.now(), first: null, done: null};
  const obs = new MutationObserver(() => {
    const turn = document.querySelectorAll('.aui-turn')[n];
    if (!turn) return;
    const now = performance.now();
    if (t.first === null && turn.querySelector('.aui-sent')) t.first = now;
    if (t.done === null && turn.dataset.state === 'done') { t.done = now; obs.disconnect(); }
  });
  obs.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  document.querySelector('#aui-ask').click();
}"""


def machine() -> dict:
    import gradio

    return _machine(gradio=gradio.__version__)


def measure(url: str, questions: list[str]) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url + "/")
        page.wait_for_selector("#aui-question textarea")
        for i, q in enumerate(["What did Pompeo threaten to do on 27 September?"] + questions):
            page.click("#aui-new")
            page.locator(".aui-empty").wait_for()
            page.fill("#aui-question textarea", q)
            page.evaluate(WATCH_JS)
            page.wait_for_function("window.__bench.done !== null", timeout=120_000)
            t = page.evaluate("window.__bench")
            if i == 0:
                continue  # warm-up
            abstained = page.locator(".aui-turn .aui-abstain").count() > 0
            rows.append({"question": q, "first_ms": t["first"] - t["start"], "done_ms": t["done"] - t["start"], "abstained": abstained})
        browser.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running server (default: start one over the seed articles)")
    ap.add_argument("--questions", type=Path, default=ui_server.DEV, help="eval JSONL with a 'question' field")
    ap.add_argument("-n", type=int, default=20, help="questions to time")
    ap.add_argument("--json", action="store_true", help="print the per-question rows as JSON too")
    args = ap.parse_args()
    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines() if line.strip()][:args.n]
    if args.url:
        rows = measure(args.url.rstrip("/"), questions)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            with ui_server.start(Path(tmp)) as url:
                rows = measure(url, questions)
    first = [r["first_ms"] for r in rows]
    done = [r["done_ms"] for r in rows]
    print(f"machine: {json.dumps(machine())}")
    print(f"questions: {len(rows)} ({sum(r['abstained'] for r in rows)} abstained)")
    print(f"submit -> first sentence: p50 {statistics.median(first):.0f} ms, max {max(first):.0f} ms")
    print(f"submit -> full answer:    p50 {statistics.median(done):.0f} ms, max {max(done):.0f} ms")
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
