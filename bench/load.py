"""Load test: N concurrent clients ask seed questions against a running `assistant serve` for a fixed time.

    ASSISTANT_RATE_LIMIT=0 assistant serve --index /tmp/idx --port 7860 &
    python bench/load.py --url http://127.0.0.1:7860 --clients 10 50 --duration 60

Each client loops: POST a question (round-robin over the eval questions), wait for the whole answer, repeat.
Reports per client count: requests, errors (by status), throughput, p50/p95/max latency; and the machine.
Start the server with rate limiting off (ASSISTANT_RATE_LIMIT=0) or every client shares one bucket and gets 429s.

    python bench/load.py --replicas 1 2 --clients 8 --duration 30

starts everything itself instead: a `chroma run` server holding the seed articles, then for each count N, N
`assistant serve` replicas on it behind nginx (tests/nginx.py's configuration, the README's), answer cache off
(every answer computed), and reports answers/s and the CPU-seconds each answer cost (replicas and Chroma, from
/proc), from which what N machines would give follows.
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
from replicas import cpu_seconds, replica_set  # noqa: E402

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
    parser.add_argument("--replicas", type=int, nargs="+", help="start this many replicas behind nginx (one run each)")
    args = parser.parse_args()

    questions = load_questions(args.questions)
    if args.replicas:
        return replicated(args, questions)
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


def replicated(args, questions: list[str]) -> None:
    """Answers/s and CPU-seconds per answer for each replica count (all on this machine's cores)."""
    report = {"machine": machine(), "endpoint": args.endpoint, "questions": len(questions), "replicas": []}
    print(f"machine: {report['machine']}")
    for n in args.replicas:
        with replica_set(n) as (url, pids):
            before = cpu_seconds(pids)
            runs = []
            for clients in args.clients:
                t0 = cpu_seconds(pids)
                result = asyncio.run(run(url, clients, args.duration, questions, args.endpoint, args.key, args.timeout))
                used = {name: cpu_seconds(pids)[name] - t0[name] for name in t0}
                result["cpu_s_per_answer"] = {k: round(v / max(result["ok"], 1), 3) for k, v in used.items()}
                result["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
                runs.append(result)
                per = result["cpu_s_per_answer"]
                total = sum(per.values())
                print(f"{n} replica(s), {clients:>3} clients: {result['throughput_rps']} answers/s, p50 {result['p50_s']} s, "
                      f"p95 {result['p95_s']} s, errors {result['errors']}; CPU per answer {total:.3f} s "
                      f"(replicas {per['replicas']:.3f}, chroma {per['chroma']:.3f}, nginx {per['nginx']:.3f}); "
                      f"load {result['load_avg_at_end']}")
            report["replicas"].append({"replicas": n, "runs": runs, "cpu_s_total": {k: cpu_seconds(pids)[k] - before[k] for k in before}})
    best = min((sum(r["cpu_s_per_answer"].values()), r["cpu_s_per_answer"]) for x in report["replicas"] for r in x["runs"])
    cores = report["machine"]["cores"]
    print(f"what N machines give: an answer costs {best[0]:.3f} CPU-s ({best[1]['chroma']:.3f} of it Chroma's): a machine of "
          f"{cores} cores answers at most {cores / max(best[0] - best[1]['chroma'], 1e-9):.1f}/s, N machines N times that, "
          f"until the one Chroma server's {best[1]['chroma']:.3f} CPU-s per answer fills its cores "
          f"({cores / max(best[1]['chroma'], 1e-9):.0f}/s on {cores} cores)")
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
