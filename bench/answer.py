"""Latency of `ask` on the embedded default: p50/p95 over question sets, on the seeds and on the Wikipedia corpus.

usage: python bench/answer.py [--repeat N] [--skip-wiki] [--llm]   (--llm also runs bench/answer_llm.py)
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from machine import machine  # noqa: E402


def questions(path: Path) -> list[str]:
    return [json.loads(line)["question"] for line in open(path, encoding="utf-8") if line.strip()]


def run(name: str, docs: Path, qs: list[str], repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        assistant = Assistant(Settings.load(index_dir=Path(tmp) / "index"))
        t0 = time.perf_counter()
        summary = assistant.ingest([docs])
        ingest_s = time.perf_counter() - t0
        assistant.ask(qs[0])  # load the models once
        times = []
        for _ in range(repeat):
            for q in qs:
                t = time.perf_counter()
                assistant.ask(q)
                times.append((time.perf_counter() - t) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        print(f"{name}: {summary.documents} documents, {summary.chunks} chunks (indexed in {ingest_s:.1f} s); "
              f"{len(times)} asks: p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms, max {times[-1]:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-wiki", action="store_true")
    parser.add_argument("--llm", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    seeds = ROOT.parent / "shared" / "seeds"
    dev = ROOT.parent / "shared" / "eval" / "dev.jsonl"
    run("seeds (dev.jsonl questions)", seeds, questions(dev), args.repeat)
    if not args.skip_wiki:
        run("wikipedia corpus (bench/data/wiki_questions.jsonl)", ROOT / "bench" / "data" / "wiki",
            questions(ROOT / "bench" / "data" / "wiki_questions.jsonl"), 1)
    if args.llm:
        subprocess.run([sys.executable, str(ROOT / "bench" / "answer_llm.py")], check=False)


if __name__ == "__main__":
    main()
