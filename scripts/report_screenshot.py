"""Regenerate docs/eval-report.png: the top of the `assistant eval` report of bench/data's Wikipedia question set.

    python scripts/report_screenshot.py                          # answers the set first (minutes: ingest + 177 questions)
    python scripts/report_screenshot.py --report /tmp/report.html   # or shoot a report already written
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_ARGS, assistant_cmd  # noqa: E402

DATA = ROOT / "bench" / "data"


def write_report(folder: Path) -> Path:
    report = folder / "report.html"
    subprocess.run(assistant_cmd() + ["eval", str(DATA / "wiki_questions.jsonl"), "--docs", str(DATA / "wiki"),
                                      "--out", str(folder / "results.jsonl"), "--index", str(folder / "index"),
                                      "--report", str(report)], check=True)
    return report


def shoot(report: Path, out: Path, height: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1240, "height": height}, device_scale_factor=1)
        page.goto(report.resolve().as_uri())
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=False)
        browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--report", type=Path, help="an HTML report already written (default: write one)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "eval-report.png")
    ap.add_argument("--height", type=int, default=1500, help="how much of the page's top to show, in pixels")
    args = ap.parse_args()
    if args.report:
        shoot(args.report, args.out, args.height)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            shoot(write_report(Path(tmp)), args.out, args.height)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
