"""The real assistant on the public question sets (bench/data/public/, made by training/public_sets.py), per kind of
question and per half of bench/split.py: how often it answers right, wrongly refuses, and refuses where the articles
hold no answer, and how long `ask` takes.

The collection is ingested once into --index (kept between runs: unchanged files are skipped; another checkout's
copy of the articles is listed as a copy, not indexed again; an index made before that, holding more documents than
articles, is refused). Every case is asked as shared/eval/FORMAT.md
says: the history turns first, in order, the assistant's own answers becoming the chat history
(assistant.evaluation.run.replay; a conversation's turns are replayed once for all its cases), then the question.
Latency is that of the final question only.

    python bench/public.py --index /tmp/public-index --half report
    python bench/public.py --index /tmp/public-index --half tune --json tune.json --dump tune-candidates.json

--json FILE: every case's outcome (kind, half, article, abstained, correct, confidence, latency) and the summary.
--dump FILE: per case, the candidate sentences the extractive answerer scores, with the answer model's logit, the
evidence features and the label "holds an answer string": training/fit_answerer.py's --harvested format, so
`python training/fit_answerer.py --harvested FILE` fits on these sets.
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
from assistant.evaluation.run import replay  # noqa: E402
from assistant.evaluation.metrics import answer_correct  # noqa: E402
from machine import machine  # noqa: E402
from split import article, cases, half  # noqa: E402

PUBLIC = ROOT / "bench" / "data" / "public"
KINDS = ("fluent", "followup", "topic_change", "disfluent", "adversarial", "unanswerable", "restart_followup")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def pick(rows: list[dict], kinds: list[str], limit: int | None) -> list[dict]:
    """The first `limit` cases of each chosen kind, taken in turn from each kind, so that a run broken off has
    figures for every kind (a conversation's history is replayed once whatever the order: replay's memo)."""
    by_kind = {kind: [c for c in rows if c.get("kind") == kind][:limit] for kind in kinds}
    longest = max((len(v) for v in by_kind.values()), default=0)
    return [cases[i] for i in range(longest) for cases in by_kind.values() if i < len(cases)]


def outcome(assistant: Assistant, case: dict, memo: dict) -> dict:
    history = replay(assistant, case.get("history") or [], memo)
    t0 = time.perf_counter()
    answer = assistant.ask(case["question"], history)
    latency = (time.perf_counter() - t0) * 1000
    answerable = case.get("answerable", True)
    return {"id": case["id"], "kind": case.get("kind"), "half": half(case), "article": article(case),
            "answerable": answerable, "abstained": answer.abstained,
            "correct": answer_correct(case, {"answer": answer.text, "abstained": answer.abstained}) if answerable
            else answer.abstained,
            "confidence": None if answer.confidence is None else round(answer.confidence, 6),
            "latency_ms": round(latency, 1), "answer": answer.text, "rewritten_query": answer.rewritten_query,
            "cited": sorted({Path(c.source).name for c in answer.citations})}


def summary(results: list[dict]) -> dict[str, dict]:
    """Per "kind/half": cases, answered right and wrongly refused (answerable kinds), refused (unanswerable ones),
    latency p50/p95 of the final question."""
    groups: dict[str, list[dict]] = {}
    for r in results:
        for key in (f"{r['kind']}/{r['half']}", f"{r['kind']}/all"):
            groups.setdefault(key, []).append(r)
    table = {}
    for key, rows in groups.items():
        latencies = [r["latency_ms"] for r in rows]
        answerable = [r for r in rows if r["answerable"]]
        share = lambda picked, of: round(len(picked) / len(of), 3) if of else None  # noqa: E731
        table[key] = {"cases": len(rows),
                      "answered_correctly": share([r for r in answerable if r["correct"]], answerable),
                      "wrongly_refused": share([r for r in answerable if r["abstained"]], answerable),
                      "refused_unanswerable": share([r for r in rows if not r["answerable"] and r["abstained"]],
                                                    [r for r in rows if not r["answerable"]]),
                      "p50_ms": round(percentile(latencies, 0.5), 1), "p95_ms": round(percentile(latencies, 0.95), 1)}
    return table


def print_table(table: dict[str, dict], halves: list[str]) -> None:
    fmt = lambda v: "-" if v is None else f"{v:.2f}" if isinstance(v, float) and v <= 1 else str(v)  # noqa: E731
    print(f"{'kind':<13} {'half':<7} {'cases':>5} {'right':>6} {'wrongly':>8} {'refused':>8} {'p50 ms':>7} {'p95 ms':>7}")
    print(f"{'':<13} {'':<7} {'':>5} {'':>6} {'refused':>8} {'unansw.':>8}")
    for kind in KINDS:
        for which in halves:
            row = table.get(f"{kind}/{which}")
            if row:
                print(f"{kind:<13} {which:<7} {row['cases']:>5} {fmt(row['answered_correctly']):>6} "
                      f"{fmt(row['wrongly_refused']):>8} {fmt(row['refused_unanswerable']):>8} "
                      f"{row['p50_ms']:>7.0f} {row['p95_ms']:>7.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=PUBLIC, help="a folder with articles/ and questions.jsonl")
    parser.add_argument("--index", type=Path, help="the index folder (kept: later runs skip the ingest)")
    parser.add_argument("--half", choices=("tune", "report", "all"), default="report")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated")
    parser.add_argument("--limit", type=int, help="at most this many cases of each kind")
    parser.add_argument("--json", type=Path, help="write every case's outcome and the summary here")
    parser.add_argument("--dump", type=Path, help="write the answerer's candidates (training/fit_answerer.py --harvested)")
    args = parser.parse_args()
    print(f"machine: {machine()}", flush=True)
    index = args.index or Path(tempfile.mkdtemp(prefix="public-index-"))
    assistant = Assistant(Settings.load(index_dir=index))
    t0 = time.perf_counter()
    report = assistant.ingest([args.set / "articles"])
    print(f"ingest of {args.set / 'articles'} into {index}: {time.perf_counter() - t0:.0f} s "
          f"({report.to_dict()})", flush=True)
    articles = sum(1 for f in (args.set / "articles").iterdir() if f.is_file())
    if report.documents > articles:
        # another checkout's copy of the articles was ingested here too (a document is its folder and path): the
        # duplicates change ranking and abstention, so the figures would not be this code's
        sys.exit(f"error: {index} holds {report.documents} documents for {articles} articles: another folder's copy "
                 "was ingested into it; give each checkout its own --index")
    picked = pick(cases(args.set / "questions.jsonl", None if args.half == "all" else args.half),
                  args.kinds.split(","), args.limit)
    dumping = None
    if args.dump:
        from training.fit_answerer import CachedModel, harvest  # noqa: PLC0415  (numpy and the fit only when asked)
        from assistant.onnx_models import ANSWER_MODEL_DIR, AnswerModel  # noqa: PLC0415
        models = {"plain": CachedModel("model", AnswerModel(ANSWER_MODEL_DIR), Path(tempfile.gettempdir()) / "assistant-fit-cache")}
        dumping = []
    memo: dict = {}
    results = []
    assistant.ask(picked[0]["question"] if picked else "warm-up")  # loads the models: not a question's latency
    t0 = time.perf_counter()
    for n, case in enumerate(picked, 1):
        results.append(outcome(assistant, case, memo))
        if dumping is not None:
            dumping.append(harvest(assistant, case, models, memo))
        if n % 25 == 0 or n == len(picked):
            print(f"  {n}/{len(picked)} cases, {time.perf_counter() - t0:.0f} s", flush=True)
            if args.json:  # kept as it goes: a run broken off still leaves its figures
                args.json.write_text(json.dumps({"machine": machine(), "half": args.half, "summary": summary(results),
                                                 "cases": results}, ensure_ascii=False, indent=1) + "\n",
                                     encoding="utf-8")
    print(f"{len(picked)} cases ({len(memo)} history turns replayed) in {time.perf_counter() - t0:.0f} s")
    print_table(summary(results), ["tune", "report"] if args.half == "all" else [args.half])
    if dumping is not None:
        args.dump.write_text(json.dumps(dumping))
        print(f"candidates of {len(dumping)} cases written to {args.dump}")


if __name__ == "__main__":
    main()
