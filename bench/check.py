"""How long checking a pasted text takes: a 10-sentence text against 3 passages (the issue's bar: under 1 s on this
machine), and the same text against the seed collection (searched sentence by sentence), warm, p50 and p95.

usage: python bench/check.py [--repeat N] [--index DIR]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from assistant.config import Settings  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from machine import machine  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"


def seed_text() -> tuple[str, list[str]]:
    """Ten sentences: five taken from the seeds, five reworded or changed; the three seeds they come from."""
    passages = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))[:3]]
    taken = []
    for text in passages:
        lines = [s.strip() for s in text.replace("\n", " ").split(". ") if 40 < len(s.strip()) < 200]
        taken += lines[2:4]
    sentences = taken[:5] + [f"It is not true that {s[0].lower()}{s[1:]}" for s in taken[:3]] + [
        "The mission was praised by every member of the parliament.", "Fighting ended in 2021."]
    return " ".join(s.rstrip(".") + "." for s in sentences), passages


def timed(call, repeat: int) -> dict:
    call()  # warm: the models load once per process
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[max(0, int(0.95 * len(times)) - 1)], 1),
            "runs": repeat}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--index", type=Path, help="an index of the seeds (made in a temporary folder otherwise)")
    args = parser.parse_args()
    print(json.dumps({"machine": machine()}))
    text, passages = seed_text()
    with tempfile.TemporaryDirectory() as tmp:
        assistant = Assistant(Settings.load(index_dir=args.index or Path(tmp) / "index"))
        if not args.index:
            assistant.ingest([SEEDS])
        result = assistant.check(text, passages=passages).to_dict()
        print(json.dumps({"sentences": len(result["sentences"]), "supported": result["supported"],
                          "characters": len(text), "passages": len(passages)}))
        print(json.dumps({"against 3 passages": timed(lambda: assistant.check(text, passages=passages), args.repeat)}))
        print(json.dumps({"against the collection": timed(lambda: assistant.check(text), args.repeat)}))


if __name__ == "__main__":
    main()
