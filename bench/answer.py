"""The embedded answerer on the REPORTING half of bench/data (bench/split.py): answer quality beside the hand-written
rules it replaced, and the latency of `ask` (p50/p95) on the seeds and on the Wikipedia corpus.

usage: python bench/answer.py [--half report|tune] [--index-cache DIR] [--skip-wiki] [--skip-latency]
                              [--record FILE] [--repeat N] [--llm]

--record FILE writes the quality figures as JSON (bench/data/answers_rules.json holds those of the rules, measured
once on main at db9a007 with --record). --index-cache keeps the indexes between runs (ingesting the Wikipedia corpus
takes minutes on 2 cores).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from assistant.config import Settings  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from assistant.evaluation.run import replay  # noqa: E402
from machine import machine  # noqa: E402
from split import cases  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
WIKI = ROOT / "bench" / "data" / "wiki"
SETS = {"seeds": (SEEDS, ROOT / "bench" / "data" / "seeds_extra.jsonl"),
        "wiki": (WIKI, ROOT / "bench" / "data" / "wiki_questions.jsonl")}
RULES = ROOT / "bench" / "data" / "answers_rules.json"
FIGURES = ("answer_accuracy", "false_abstention", "adversarial_abstention", "unanswerable_abstention",
           "followups_answered", "median_words")


def scorer():
    spec = importlib.util.spec_from_file_location("shared_score", ROOT.parent / "shared" / "eval" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def open_assistant(docs: Path, cache: Path | None, tmp: Path) -> Assistant:
    index = (cache / docs.name) if cache else tmp / docs.name
    assistant = Assistant(Settings.load(index_dir=index))
    assistant.ingest([docs])
    return assistant


def quality(assistant: Assistant, rows: list[dict]) -> dict:
    """The figures a user feels: right answers, wrong abstentions, abstentions where nothing answers, words read."""
    correct = scorer().answer_correct
    outcome = []
    for case in rows:
        answer = assistant.ask(case["question"], replay(assistant, case.get("history") or []))
        outcome.append((case, {"answer": answer.text, "abstained": answer.abstained}))

    def share(kinds: set[str] | None, test, answerable: bool) -> float | None:
        picked = [(c, r) for c, r in outcome if c.get("answerable", True) == answerable and (kinds is None or c.get("kind") in kinds)]
        return round(sum(test(c, r) for c, r in picked) / len(picked), 3) if picked else None

    words = [len(r["answer"].split()) for _, r in outcome if not r["abstained"]]
    return {
        "cases": len(outcome),
        "answer_accuracy": share(None, correct, True),
        "false_abstention": share(None, lambda c, r: r["abstained"], True),
        "adversarial_abstention": share({"adversarial"}, lambda c, r: r["abstained"], False),
        "unanswerable_abstention": share({"unanswerable"}, lambda c, r: r["abstained"], False),
        "followups_answered": share({"followup"}, correct, True),
        "median_words": statistics.median(words) if words else 0,
        "wrong_ids": [c["id"] for c, r in outcome if c.get("answerable", True) != (not r["abstained"]) or
                      (c.get("answerable", True) and not correct(c, r))],
    }


def latency(assistant: Assistant, qs: list[str], repeat: int) -> str:
    assistant.ask(qs[0])  # load the models once
    times = []
    for _ in range(repeat):
        for q in qs:
            t = time.perf_counter()
            assistant.ask(q)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return f"{len(times)} asks: p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms, max {times[-1]:.0f} ms"


def table(figures: dict[str, dict], before: dict[str, dict]) -> None:
    print(f"{'set':<8} {'figure':<26} {'rules (main)':>13} {'learned':>9}")
    for name, now in figures.items():
        old = before.get(name, {})
        for key in FIGURES:
            fmt = lambda v: "-" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))  # noqa: E731
            print(f"{name:<8} {key:<26} {fmt(old.get(key)):>13} {fmt(now.get(key)):>9}")
        print(f"{name:<8} {'cases':<26} {old.get('cases', '-'):>13} {now['cases']:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--half", choices=("report", "tune"), default="report")
    parser.add_argument("--index-cache", type=Path)
    parser.add_argument("--record", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-wiki", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--llm", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    figures: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (docs, questions) in SETS.items():
            if name == "wiki" and args.skip_wiki:
                continue
            assistant = open_assistant(docs, args.index_cache, Path(tmp))
            figures[name] = quality(assistant, cases(questions, args.half))
            if not args.skip_latency:
                asked = [c["question"] for c in cases(DEV if name == "seeds" else questions)]
                print(f"latency, {name} ({'dev.jsonl' if name == 'seeds' else questions.name} questions): "
                      f"{latency(assistant, asked, args.repeat if name == 'seeds' else 1)}")
    before = json.loads(RULES.read_text(encoding="utf-8")).get(args.half, {}) if RULES.exists() else {}
    print(f"answer quality, {args.half} half (bench/split.py):")
    table(figures, before)
    for name, f in figures.items():
        print(f"{name}: wrong {' '.join(f['wrong_ids'])}")
    if args.record:
        recorded = json.loads(args.record.read_text(encoding="utf-8")) if args.record.exists() else {}
        recorded[args.half] = figures
        args.record.write_text(json.dumps(recorded, indent=1) + "\n", encoding="utf-8")
    if args.llm:
        subprocess.run([sys.executable, str(ROOT / "bench" / "answer_llm.py")], check=False)


if __name__ == "__main__":
    main()
