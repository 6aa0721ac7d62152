"""Latency of answers from an OpenAI-compatible LLM server over the seed questions: time to the first streamed
text, to the first complete sentence, and to the full answer (p50/p95), and what the answers came to.

    python bench/answer_llm.py                                  # starts xllamacpp with SmolLM2-135M (tests/llm_server.py)
    python bench/answer_llm.py --llm-base-url http://host:8000/v1 --llm-model NAME   # any other server
    python bench/answer_llm.py --repeat 2 --json out.json

Two clocks, both from the moment the question is asked (rewrite and retrieval included): the answerer's own stream
(what a front end could show as the model writes) and Assistant.stream()'s events (what front ends get, verification
included). Questions the evidence gate abstains on never reach the model;
they are counted apart so they do not flatter the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from assistant.config import Settings  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from assistant.schema import DoneEvent, SentenceEvent  # noqa: E402
from machine import machine  # noqa: E402

SHARED = ROOT.parent / "shared"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: -"
    return f"{name}: p50 {statistics.median(values):.0f} ms, p95 {pct(values, 0.95):.0f} ms (n={len(values)})"


class Timed:
    """The LLM answerer, noting when its first text, first sentence and end come (ms from the question)."""

    name = "llm"

    def __init__(self, inner):
        self.inner = inner
        self.reset(time.perf_counter())

    def reset(self, t0: float) -> None:
        self.t0, self.called, self.first_delta, self.first_sentence, self.done = t0, False, None, None, None

    def answer(self, question, query, passages, history):
        for draft in self.inner.answer(question, query, passages, history):
            now = (time.perf_counter() - self.t0) * 1000
            self.called = self.called or draft.kind != "abstain"
            if draft.kind == "delta" and self.first_delta is None:
                self.first_delta = now
            if draft.kind == "sentence" and self.first_sentence is None:
                self.first_sentence = now
            yield draft
        self.done = (time.perf_counter() - self.t0) * 1000


def bench_llm(base_url: str | None = None, model: str | None = None, repeat: int = 1,
              docs: Path = SHARED / "seeds", cases_path: Path = SHARED / "eval" / "dev.jsonl",
              index: Path | None = None, threads: int | None = None) -> dict:
    """Run every case `repeat` times against the server (started here when base_url is None); return the figures."""
    from llm_server import llm_server

    cases = [json.loads(line) for line in open(cases_path, encoding="utf-8") if line.strip()]
    server = nullcontext(base_url) if base_url else llm_server(threads=threads or os.cpu_count())
    with server as url, tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(index_dir=index or Path(tmp) / "index", answerer="llm", llm_base_url=url,
                                 llm_model=model, llm_fallback=False)
        assistant = Assistant(settings)
        assistant.ingest([docs])
        timed = Timed(assistant.answerer("llm"))
        assistant._answerers["llm"] = timed  # one pass gives both clocks
        assistant.ask(cases[0]["question"])  # load the models once
        rows = []
        for _ in range(repeat):
            for case in cases:
                history = [{"role": "user", "content": h} for h in case.get("history", [])]
                t0 = time.perf_counter()
                timed.reset(t0)
                first_event = None
                for event in assistant.stream(case["question"], history):
                    if isinstance(event, SentenceEvent) and first_event is None:
                        first_event = (time.perf_counter() - t0) * 1000
                    if isinstance(event, DoneEvent):
                        answer = event.answer
                total_ms = (time.perf_counter() - t0) * 1000
                text = answer.text.casefold()
                right = not answer.abstained and any(a.casefold() in text for a in case.get("answer_any", []))
                rows.append(dict(id=case["id"], called=timed.called, first_delta_ms=timed.first_delta,
                                 first_sentence_ms=timed.first_sentence, answerer_ms=timed.done,
                                 stream_first_sentence_ms=first_event, stream_total_ms=total_ms,
                                 answerable=case["answerable"], abstained=answer.abstained, correct=right,
                                 shown=[s.text for s in answer.sentences if s.verdict != "abstain"]))
    called = [r for r in rows if r["called"]]
    answerable = [r for r in rows if r["answerable"]]
    return {
        "machine": machine(), "server": base_url or "xllamacpp + SmolLM2-135M-Instruct Q4_1 (started here)",
        "cases": len(rows), "model_calls": len(called),
        "first_delta_ms": [r["first_delta_ms"] for r in called if r["first_delta_ms"] is not None],
        "first_sentence_ms": [r["first_sentence_ms"] for r in called if r["first_sentence_ms"] is not None],
        "answerer_ms": [r["answerer_ms"] for r in called if r["answerer_ms"] is not None],
        "stream_first_sentence_ms": [r["stream_first_sentence_ms"] for r in called if r["stream_first_sentence_ms"] is not None],
        "stream_total_ms": [r["stream_total_ms"] for r in called],
        "gate_abstain_ms": [r["stream_total_ms"] for r in rows if not r["called"]],
        "answered_correctly": sum(r["correct"] for r in answerable), "answerable": len(answerable),
        "abstained_answerable": sum(r["abstained"] for r in answerable),
        "abstained_unanswerable": sum(r["abstained"] for r in rows if not r["answerable"]),
        "unanswerable": len(rows) - len(answerable),
        "rows": rows,
    }


def report(result: dict) -> None:
    print(f"machine: {result['machine']}")
    print(f"server: {result['server']}")
    print(f"{result['cases']} cases, {result['model_calls']} reached the model (the rest abstained on the evidence)")
    print("  " + summary("answerer: first streamed text", result["first_delta_ms"]))
    print("  " + summary("answerer: first complete sentence (before verification)", result["first_sentence_ms"]))
    print("  " + summary("answerer: model done", result["answerer_ms"]))
    print("  " + summary("Assistant.stream: first sentence event", result["stream_first_sentence_ms"]))
    print("  " + summary("Assistant.stream: done", result["stream_total_ms"]))
    print("  " + summary("evidence-gate abstentions (no model call): done", result["gate_abstain_ms"]))
    print(f"answers: {result['answered_correctly']}/{result['answerable']} answerable right, "
          f"{result['abstained_answerable']} answerable abstained, "
          f"{result['abstained_unanswerable']}/{result['unanswerable']} unanswerable abstained")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llm-base-url")
    parser.add_argument("--llm-model")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threads", type=int, help="server threads when started here (default: all cores)")
    parser.add_argument("--json", type=Path, help="write every figure and every answer here")
    args = parser.parse_args()
    result = bench_llm(args.llm_base_url, args.llm_model, args.repeat, threads=args.threads)
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
