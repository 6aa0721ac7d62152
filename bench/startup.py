"""Start-up: a cold `assistant ask` and `assistant status`, and `assistant serve` until /healthz says ready, each
in a fresh process, with the first answer's time beside the next ones' (a warm server answers its first question as
fast as the rest).

    python bench/startup.py                         # this checkout, over the seed articles (else bench/data/wiki)
    python bench/startup.py --runs 9 --json out.json
    python bench/startup.py --repo ../old-checkout  # another checkout of the project, with this environment

Targets (issue 15): cold ask <= 1.0 s and status <= 1.0 s; serve ready <= 2.5 s with every model warm. Also timed:
a cold `assistant ingest` of one article into a new index (imports, the embedder, the first write).
--repo runs `python -m assistant.cli` from that folder, so its package is the one imported: before/after figures
from one run on one machine, one after the other. The index is built once, by this checkout.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from conftest import clean_env, free_port  # noqa: E402
from machine import machine  # noqa: E402
from processes import stop  # noqa: E402

SEEDS = REPO.parent / "shared" / "seeds"
WIKI = REPO / "bench" / "data" / "wiki"
QUESTION = "How many US troops will remain in Iraq?"
QUESTIONS = [QUESTION, "When was the Canadian-led NATO mission in Iraq set up?", "Who leads the coalition?"]


# run from the checkout's folder, `-m` imports that checkout's package (the folder comes first on sys.path)
CLI = [sys.executable, "-m", "assistant.cli"]


def timed(cmd: list[str], cwd: Path) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                   timeout=120)
    return time.perf_counter() - t


def summary(values: list[float]) -> dict:
    return {"median_s": round(statistics.median(values), 3), "min_s": round(min(values), 3),
            "max_s": round(max(values), 3), "runs": len(values)}


# A bare process that loads the answer model and scores one pair: the floor a cold `ask` is measured against (issue 27:
# a cold ask within 2x of it).
BARE_LOAD = ("from assistant.onnx_models import answer_model; "
             "answer_model().score('How many troops remain?', ['About 2,500 troops remain.'])")


def ask_beside_server(repo: Path, index: Path, runs: int) -> list[float]:
    """Cold `assistant ask` processes while `assistant serve` runs on the same index (the question goes to it)."""
    port = free_port()
    proc = subprocess.Popen([*CLI, "serve", "--index", str(index), "--port", str(port)], cwd=repo,
                            env=clean_env(ASSISTANT_ANSWER_CACHE="0"),  # each ask is answered, not read from a cache
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.perf_counter() + 120
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError("serve did not become ready")
            time.sleep(0.05)
        timed([*CLI, "ask", QUESTION, "--index", str(index)], repo)  # files cached, as for the in-process asks
        return [timed([*CLI, "ask", QUESTION, "--index", str(index)], repo) for _ in range(runs)]
    finally:
        stop(proc)


def serve_once(repo: Path, index: Path) -> dict:
    """Seconds from launch until /healthz is 200 (ready), then the first three answers' seconds."""
    port = free_port()
    t = time.perf_counter()
    proc = subprocess.Popen([*CLI, "serve", "--index", str(index), "--port", str(port)], cwd=repo,
                            env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    listening = None
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited with {proc.returncode}")
            try:
                health = httpx.get(url + "/healthz", timeout=5)
                listening = listening or time.perf_counter() - t  # any reply: the app is built and uvicorn listens
                # before issue 15 /healthz had no readiness and said 200 as soon as it answered
                if health.status_code == 200 and health.json().get("ready", True):
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() - t > 120:
                raise RuntimeError("serve was not ready after 120 s")
            time.sleep(0.02)
        ready = time.perf_counter() - t
        answers = []
        for q in QUESTIONS:
            a = time.perf_counter()
            httpx.post(url + "/api/ask", json={"question": q}, timeout=120).raise_for_status()
            answers.append(time.perf_counter() - a)
        return {"ready_s": ready, "listening_s": listening, "warmup_s": health.json().get("warmup_s"), "answers_s": answers}
    finally:
        stop(proc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, default=REPO, help="the checkout whose package is timed (default: this one)")
    ap.add_argument("--runs", type=int, default=7, help="fresh processes per figure (default 7)")
    ap.add_argument("--serve-runs", type=int, default=3, help="server starts (default 3)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    repo = args.repo.resolve()
    info = {"machine": machine(), "repo": str(repo)}
    try:
        info["commit"] = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                                        text=True).stdout.strip()
    except OSError:
        pass
    print("machine:", json.dumps(info["machine"]))
    print(f"checkout: {repo} ({info.get('commit', '?')})")
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        articles = SEEDS if SEEDS.is_dir() else WIKI
        subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(articles), "--index", str(index)],
                       cwd=REPO, env=clean_env(), stdout=subprocess.DEVNULL, check=True, timeout=600)
        timed([*CLI, "status", "--index", str(index)], repo)  # byte-compiles and caches files: not timed
        status = [timed([*CLI, "status", "--index", str(index)], repo) for _ in range(args.runs)]
        bare = [timed([sys.executable, "-c", BARE_LOAD], repo) for _ in range(args.runs)]
        # what a server imports before it listens, each alone in a fresh process: the floor under "serve ready"
        parts = {name: summary([timed([sys.executable, "-c", f"import {name}"], repo) for _ in range(args.runs)])
                 for name in ("gradio", "chromadb", "fastapi", "uvicorn", "onnxruntime")}
        ask = [timed([*CLI, "ask", QUESTION, "--index", str(index)], repo) for _ in range(args.runs)]  # no server yet
        beside = ask_beside_server(repo, index, args.runs)
        one = next(iter(sorted(articles.glob("*.txt"))))
        ingest = [timed([*CLI, "ingest", str(one), "--index", str(Path(tmp) / f"new{k}")], repo) for k in range(args.runs)]
        serves = [serve_once(repo, index) for _ in range(args.serve_runs)]
    info["status"] = summary(status)
    info["bare_model_load"] = summary(bare)
    info["ask"] = summary(ask)
    info["ask_beside_server"] = summary(beside)
    info["ingest_one"] = summary(ingest)
    info["serve_ready"] = summary([s["ready_s"] for s in serves])
    info["serve_listening"] = summary([s["listening_s"] for s in serves])
    info["serve_warmup_s"] = [s["warmup_s"] for s in serves]
    info["imports_alone"] = parts
    info["serve_answers_s"] = [[round(x, 3) for x in s["answers_s"]] for s in serves]
    info["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"cold `assistant status`: median {info['status']['median_s']:.2f} s (min {info['status']['min_s']:.2f}, "
          f"max {info['status']['max_s']:.2f}; target <= 1.0 s)")
    print(f"cold `assistant ask`:    median {info['ask']['median_s']:.2f} s (min {info['ask']['min_s']:.2f}, "
          f"max {info['ask']['max_s']:.2f}; target <= 1.0 s)")
    bare_s = info["bare_model_load"]["median_s"]
    print(f"bare process loading the answer model and scoring once: median {bare_s:.2f} s")
    print(f"  cold ask / bare: {info['ask']['median_s'] / bare_s:.2f}x in-process; "
          f"{info['ask_beside_server']['median_s'] / bare_s:.2f}x with `serve` running on the index "
          f"(median {info['ask_beside_server']['median_s']:.2f} s; target <= 2x)")
    print(f"cold `assistant ingest` of one article into a new index: median {info['ingest_one']['median_s']:.2f} s "
          f"(min {info['ingest_one']['min_s']:.2f}, max {info['ingest_one']['max_s']:.2f})")
    print(f"`assistant serve` ready: median {info['serve_ready']['median_s']:.2f} s (min {info['serve_ready']['min_s']:.2f}, "
          f"max {info['serve_ready']['max_s']:.2f}; target <= 2.5 s)")
    print(f"  listening (app built: imports, index, chat page) after median {info['serve_listening']['median_s']:.2f} s; "
          f"warm-up (in a thread from the start) {info['serve_warmup_s']} s")
    print("  a fresh process importing only (median s): " + ", ".join(f"{k} {v['median_s']:.2f}" for k, v in parts.items()))
    print("  then the first three answers (s): " + "; ".join(", ".join(f"{x:.3f}" for x in run) for run in info["serve_answers_s"]))
    print(f"load average at the end: {info['load_avg_at_end']}")
    if args.json:
        args.json.write_text(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
