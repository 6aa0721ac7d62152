"""Load test: N concurrent clients ask seed questions against a running `assistant serve` for a fixed time.

    ASSISTANT_RATE_LIMIT=0 assistant serve --index /tmp/idx --port 7860 &
    python bench/load.py --url http://127.0.0.1:7860 --clients 10 50 --duration 60

Each client loops: POST a question (round-robin over the eval questions), wait for the whole answer, repeat.
Reports per client count: requests, errors (by status), throughput, p50/p95/max latency; and the machine.
Start the server with rate limiting off (ASSISTANT_RATE_LIMIT=0) or every client shares one bucket and gets 429s.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections import Counter
from pathlib import Path

import httpx
from machine import machine  # noqa: E402

DEFAULT_QUESTIONS = Path("/work/shared/eval/dev.jsonl")


def load_questions(path: Path) -> list[str]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            questions.append(row["question"])
    if not questions:
        raise SystemExit(f"no questions in {path}")
    return questions


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def run(url: str, clients: int, duration: float, questions: list[str], endpoint: str, key: str | None,
              timeout: float) -> dict:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    latencies: list[float] = []
    errors: Counter = Counter()
    counter = 0
    deadline = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout, limits=limits) as http:

        async def client(n: int) -> None:
            nonlocal counter
            while time.perf_counter() < deadline:
                question = questions[counter % len(questions)]
                counter += 1
                body = ({"model": "assistant", "messages": [{"role": "user", "content": question}]}
                        if endpoint == "openai" else {"question": question})
                path = "/v1/chat/completions" if endpoint == "openai" else "/api/ask"
                t0 = time.perf_counter()
                try:
                    response = await http.post(path, json=body)
                    elapsed = time.perf_counter() - t0
                    if response.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        errors[str(response.status_code)] += 1
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        wall = time.perf_counter() - t0
    done = len(latencies)
    return {
        "clients": clients, "duration_s": round(wall, 1), "ok": done, "errors": sum(errors.values()),
        "errors_by_kind": dict(errors), "throughput_rps": round(done / wall, 2),
        "p50_s": round(percentile(latencies, 50), 3), "p95_s": round(percentile(latencies, 95), 3),
        "max_s": round(max(latencies), 3) if latencies else None,
        "mean_s": round(statistics.fmean(latencies), 3) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:7860", help="the running server")
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50], help="concurrent clients (one run each)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="JSONL with a 'question' field")
    parser.add_argument("--endpoint", choices=["rest", "openai"], default="rest", help="/api/ask or /v1/chat/completions")
    parser.add_argument("--key", default=os.environ.get("ASSISTANT_BENCH_KEY"), help="API key, if the server wants one")
    parser.add_argument("--timeout", type=float, default=120.0, help="per-request timeout (s); a timeout counts as an error")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    questions = load_questions(args.questions)
    health = httpx.get(f"{args.url}/healthz", timeout=10).json()
    report = {"machine": machine(), "server": health, "endpoint": args.endpoint, "questions": len(questions), "runs": []}
    if not args.json:
        m = report["machine"]
        print(f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; server: {health}")
    for clients in args.clients:
        result = asyncio.run(run(args.url, clients, args.duration, questions, args.endpoint, args.key, args.timeout))
        report["runs"].append(result)
        if not args.json:
            print(f"{clients:>4} clients: {result['ok']} answers in {result['duration_s']} s = {result['throughput_rps']} /s, "
                  f"p50 {result['p50_s']} s, p95 {result['p95_s']} s, max {result['max_s']} s, errors {result['errors']} "
                  f"{result['errors_by_kind'] or ''}")
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
