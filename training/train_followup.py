"""Fit the follow-up model (assistant/question/followup.py): P(a question leans on the previous turn).

Training pairs come from SQuAD conversations (training/followup_data.py) of the training articles; figures are
reported on pairs of the held-out articles (training/heldout_articles.txt) and on question sets nobody fitted on:
the hand-written follow-ups of bench/data (each after its own history) and their self-contained questions asked
after an unrelated one (a chat that changes topic must not be taken for a follow-up).

A logistic regression over the sparse features of followup.features, fitted by AdaGrad with L2; features seen
fewer than --min-count times are dropped, so the weights file stays small.

usage: python -m training.train_followup [--tiny] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.question.followup import WEIGHTS_FILE, FollowUpModel, features  # noqa: E402
from training.followup_data import Example, examples  # noqa: E402

BENCH_SETS = (ROOT / "bench" / "data" / "wiki_questions.jsonl", ROOT / "bench" / "data" / "seeds_extra.jsonl")


def fit(rows: list[tuple[dict[str, float], int]], epochs: int, l2: float, rate: float, seed: int = 0) -> dict[str, float]:
    weights: dict[str, float] = {}
    squares: dict[str, float] = {}
    order = list(range(len(rows)))
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(order)
        for k in order:
            x, y = rows[k]
            z = sum(weights.get(f, 0.0) * v for f, v in x.items())
            p = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
            for f, v in x.items():
                w = weights.get(f, 0.0)
                g = (p - y) * v + (l2 * w if f != "bias" else 0.0)
                squares[f] = squares.get(f, 0.0) + g * g
                weights[f] = w - rate * g / math.sqrt(squares[f] + 1e-8)
    return weights


def figures(model: FollowUpModel, cases: list[tuple[str, str, int]]) -> dict:
    tp = fp = tn = fn = 0
    for previous, question, y in cases:
        yes = model.probability(question, previous) >= model.threshold
        tp += yes and y == 1
        fp += yes and y == 0
        tn += (not yes) and y == 0
        fn += (not yes) and y == 1
    n = max(1, tp + fp + tn + fn)
    return {"pairs": tp + fp + tn + fn, "accuracy": round((tp + tn) / n, 3),
            "follow_ups_found": round(tp / max(1, tp + fn), 3),
            "self_contained_taken_for_follow_ups": round(fp / max(1, fp + tn), 3)}


def bench_cases(seed: int = 0) -> list[tuple[str, str, int]]:
    """The hand-written follow-ups after their history (1), and self-contained questions after an unrelated one (0)."""
    rows = [json.loads(line) for path in BENCH_SETS if path.exists() for line in open(path, encoding="utf-8")
            if line.strip()]
    followups = [(r["history"][-1], r["question"], 1) for r in rows if r.get("kind") == "followup" and r.get("history")]
    alone = [r for r in rows if r.get("kind") in ("factoid", "unanswerable", "adversarial") and not r.get("history")]
    rng = random.Random(seed)
    unrelated = []
    for r in alone:
        other = rng.choice(alone)
        if set(other.get("sources") or ["-"]) != set(r.get("sources") or ["+"]):
            unrelated.append((other["question"], r["question"], 0))
    return followups + unrelated


def as_cases(rows: list[Example]) -> list[tuple[str, str, int]]:
    return [(e.previous, e.question, e.depends) for e in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a few articles, one epoch: a smoke run")
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--l2", type=float, default=1e-4)
    parser.add_argument("--rate", type=float, default=0.1)
    parser.add_argument("--min-count", type=int, default=3)
    args = parser.parse_args()
    t0 = time.time()
    train = examples("train", limit_articles=8 if args.tiny else 0)
    report = examples("report", limit_articles=4 if args.tiny else 0, seed=1)
    counts = Counter(f for e in train for f in features(e.question, e.previous))
    rows = [({f: v for f, v in features(e.question, e.previous).items() if counts[f] >= args.min_count}, e.depends)
            for e in train]
    weights = fit(rows, 1 if args.tiny else args.epochs, args.l2, args.rate)
    weights = {f: round(w, 4) for f, w in sorted(weights.items()) if abs(w) >= 1e-3 or f == "bias"}
    model = FollowUpModel(weights=weights, threshold=0.5)
    kinds = Counter(e.kind for e in train)
    out = {
        "weights": weights,
        "threshold": model.threshold,
        "trained_on": {"pairs": len(train), "kinds": dict(kinds), "articles": "SQuAD 1.1 train, less "
                       "training/heldout_articles.txt"},
        "figures": {
            "heldout_articles": figures(model, as_cases(report)),
            "heldout_by_kind": {k: figures(model, as_cases([e for e in report if e.kind == k]))
                                for k in sorted({e.kind for e in report})},
            "bench_data_hand_written": figures(model, bench_cases()),
        },
        "seconds": round(time.time() - t0, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(out["figures"], indent=1))
    print(f"{len(weights)} weights -> {args.out}")


if __name__ == "__main__":
    main()
