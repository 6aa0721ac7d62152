"""Peak memory and time of `assistant ingest` over a folder of hostile files (tests/hostile.py) mixed with the five
seed articles, and over 1,000 ordinary documents.

    python bench/hostile.py [--docs 1000] [--json OUT]

Targets (issue 13): the hostile folder in <= 2 minutes and <= 1.5 GB peak RSS on 2 cores, no good document lost;
1,000 ordinary documents in <= 1 GB peak RSS. Each ingest runs as the CLI under GNU time (its own peak RSS).
Also: how long the API takes to refuse a 39 MB conversation (413, refused unread rather than parsed first; target
<= 2 s; tests/test_hostile.py checks the refusal itself).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "bench"), str(REPO / "tests"), str(REPO)]

from ingest import articles, write_documents  # noqa: E402  (bench/ingest.py)
from machine import machine  # noqa: E402

SEEDS = REPO.parent / "shared" / "seeds"


def cli_ingest(folder: Path, index: Path, env: dict[str, str] | None = None) -> dict:
    """`assistant ingest --json` under GNU time: seconds, peak RSS, exit code and the summary."""
    exe = Path(sys.executable).parent / "assistant"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "assistant.cli"]
    timer = ["/usr/bin/time", "-f", "MAXRSS_KB=%M"] if Path("/usr/bin/time").exists() else []
    t = time.perf_counter()
    run = subprocess.run(timer + cmd + ["ingest", str(folder), "--index", str(index), "--json"], capture_output=True,
                         text=True, env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - t
    rss = int(run.stderr.rsplit("MAXRSS_KB=", 1)[1].split()[0]) / 1024 if "MAXRSS_KB=" in run.stderr else None
    try:
        summary = json.loads(run.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"ingest printed no JSON (exit {run.returncode}): {run.stderr[-2000:]}") from None
    return {"seconds": seconds, "peak_rss_mb": rss, "exit": run.returncode, "summary": summary}


def make_hostile(folder: Path, outside: Path):
    """tests/hostile.py's generator (imported by path: this script is `hostile` too)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("hostile_files", REPO / "tests" / "hostile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_hostile(folder, outside)


def hostile(work: Path) -> dict:
    folder, outside = work / "hostile", work / "outside"
    folder.mkdir()
    outside.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    for seed in seeds:
        (folder / seed.name).write_bytes(seed.read_bytes())
    bad, good = make_hostile(folder, outside)
    result = cli_ingest(folder, work / "hostile-index")
    summary = result.pop("summary")
    lost = len(seeds) + len(good) - summary["added"]
    return {**result, "files": len(bad) + len(good) + len(seeds), "bad_files": len(bad),
            "failed_reported": len(summary["failed"]), "good_documents": len(seeds) + len(good),
            "good_documents_lost": lost, "crashed": result["exit"] not in (0, 3)}


def ordinary(work: Path, n: int) -> dict:
    described, items = articles(None)
    folder = work / "ordinary"
    folder.mkdir()
    written = write_documents(items, folder, n, 150)
    result = cli_ingest(folder, work / "ordinary-index")
    summary = result.pop("summary")
    return {**result, "corpus": described, "documents": written, "added": summary["added"],
            "failed": len(summary["failed"]), "chunks": summary["chunks"]}


def oversized_history(work: Path) -> dict:
    """Seconds until the API refuses a conversation over its body limit (an empty index: nothing is answered)."""
    import httpx
    from servers import ThreadServer  # tests/servers.py: uvicorn in a thread, as `assistant serve` runs it

    from assistant.config import Settings
    from assistant.core import Assistant
    from assistant.server.api import create_app

    index = work / "oversized-index"
    assistant = Assistant(Settings(index_dir=index))
    server = ThreadServer(create_app(Settings(index_dir=index, rate_limit_per_minute=0), assistant))
    turns = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}] * 500_000
    body = json.dumps({"question": "What happened?", "history": turns})
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            t = time.perf_counter()
            r = client.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
            seconds = time.perf_counter() - t
    finally:
        server.stop()
    return {"status": r.status_code, "megabytes": round(len(body) / 1e6, 1), "seconds": round(seconds, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=1000, help="ordinary documents (default 1000)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    info = {"machine": machine()}
    print(f"machine: {info['machine']}")
    work = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    b = info["oversized_history"] = oversized_history(work)
    print(f"a {b['megabytes']} MB conversation refused with {b['status']} in {b['seconds']:.2f} s "
          f"(target <= 2 s: {'met' if b['seconds'] <= 2 else 'MISSED'})")
    h = info["hostile"] = hostile(work)
    print(f"hostile folder: {h['files']} files ({h['bad_files']} bad, {h['good_documents']} good) in {h['seconds']:.1f} s, "
          f"peak RSS {h['peak_rss_mb']:.0f} MB, exit {h['exit']}; {h['failed_reported']} failures reported, "
          f"{h['good_documents_lost']} good documents lost "
          f"(target <= 120 s: {'met' if h['seconds'] <= 120 else 'MISSED'}; "
          f"<= 1500 MB: {'met' if h['peak_rss_mb'] <= 1500 else 'MISSED'})")
    o = info["ordinary"] = ordinary(work, args.docs)
    print(f"ordinary: {o['documents']} documents ({o['chunks']} chunks) in {o['seconds']:.1f} s, peak RSS "
          f"{o['peak_rss_mb']:.0f} MB, {o['failed']} failed (target <= 1000 MB: {'met' if o['peak_rss_mb'] <= 1000 else 'MISSED'})"
          f"; corpus: {o['corpus']}")
    info["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"load average {info['machine']['load_avg_at_start']} -> {info['machine']['load_avg_at_end']}")
    if args.json:
        args.json.write_text(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
