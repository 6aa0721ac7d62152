"""How well a model picks the answer sentence and tells answerable from unanswerable questions, on held-out articles.

For each question, the paragraphs of the held-out articles that BM25 ranks highest are split into sentences (the
product's splitter) and every sentence is scored as "{title}. {sentence}"; the top-scored one is the answer.
- top-1: share of answerable questions whose top sentence holds the answer string;
- AUC: answerable vs unanswerable questions by their best score (real SQuAD 2.0 ones, and the synthetic kinds);
- abstention: share of unanswerable questions below the threshold that wrongly abstains on 10 % of answerable ones.
The same candidates are scored by the packaged relevance cross-encoder, the model the answer model replaces.

    python -m training.evaluate_model --model assistant/models/answer_bearing --questions 150
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import bm25s
import numpy as np

from assistant.onnx_models import ANSWER_MODEL_DIR, AnswerModel, CrossEncoder
from training.pairs import holds, read_heldout, second_segment
from training.squad import DATA_DIR, Article, read_articles
from training.synthetic import unanswerable_variant

PASSAGES = 4  # paragraphs a question's candidates come from
BASELINE = "relevance cross-encoder (packaged)"


@dataclass
class Case:
    question: str
    answers: list[str]  # empty: unanswerable
    kind: str  # answerable | unanswerable | a synthetic kind
    candidates: list[str]  # second segments, as scored


def held_out_cases(articles: list[Article], per_kind: int, seed: int = 0, context: bool = False) -> list[Case]:
    """per_kind answerable, per_kind real unanswerable and per_kind synthetic unanswerable questions, at most."""
    rng = random.Random(seed)
    units = [(a, p, i) for a in articles for p in a.paragraphs for i in range(len(p.sentences))]
    texts = [second_segment(a.title, p.sentences, i, context) for a, p, i in units]
    paragraphs = [(a, p) for a in articles for p in a.paragraphs]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([f"{a.title}. {p.context}" for a, p in paragraphs], stopwords="en", show_progress=False),
                    show_progress=False)
    start = {}
    for k, (a, p, i) in enumerate(units):
        start.setdefault(id(p), k)
    asked = [(a, p, q) for a in articles for p in a.paragraphs for q in p.questions]
    rng.shuffle(asked)
    answerable = [q for a, p, q in asked if q.answers and any(holds(s, q.answers) for s in p.sentences)]
    real = [q for a, p, q in asked if not q.answers]
    synthetic = [v for a, p, q in asked if q.answers for v in [unanswerable_variant(q, p, a, rng)] if v]
    chosen = answerable[:per_kind] + real[:per_kind] + synthetic[:per_kind]
    found, _ = retriever.retrieve(bm25s.tokenize([q.text for q in chosen], stopwords="en", show_progress=False),
                                  k=min(PASSAGES, len(paragraphs)), show_progress=False)
    cases = []
    for q, hits in zip(chosen, found):
        candidates = [texts[start[id(paragraphs[h][1])] + i] for h in hits for i in range(len(paragraphs[h][1].sentences))]
        cases.append(Case(q.text, q.answers, q.kind, candidates))
    return cases


def auc(positive: list[float], negative: list[float]) -> float:
    """The probability that a random positive outscores a random negative (ties count half)."""
    if not positive or not negative:
        return float("nan")
    p, n = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def measure(score: Callable[[str, list[str]], list[float]], cases: list[Case]) -> dict:
    started = time.perf_counter()
    best, right = {}, []
    for c in cases:
        scores = score(c.question, c.candidates)
        best.setdefault(c.kind, []).append(max(scores))
        if c.answers:
            right.append(holds(c.candidates[int(np.argmax(scores))], c.answers))
    answerable = best.pop("answerable", [])
    unanswerable = [s for v in best.values() for s in v]
    threshold = float(np.quantile(answerable, 0.10)) if answerable else float("nan")
    figures = {"top1": float(np.mean(right)) if right else float("nan"),
               "auc_all_unanswerable": auc(answerable, unanswerable),
               "abstains_at_10pct_false": float(np.mean([s < threshold for s in unanswerable])) if unanswerable else float("nan"),
               "pairs_per_s": sum(len(c.candidates) for c in cases) / (time.perf_counter() - started)}
    figures.update({f"auc_{kind}": auc(answerable, scores) for kind, scores in sorted(best.items())})
    return figures


def evaluate(model_dirs: list[Path], per_kind: int, data_dir: Path = DATA_DIR, heldout: set[str] | None = None,
             baseline: bool = True, seed: int = 0, context: bool = False) -> dict:
    """{scorer name: figures} on the same held-out cases; heldout defaults to heldout_articles.txt."""
    heldout = read_heldout() if heldout is None else heldout
    articles = read_articles(data_dir, keep=heldout.__contains__)
    cases = held_out_cases(articles, per_kind, seed, context)
    counts = {k: sum(c.kind == k for c in cases) for k in sorted({c.kind for c in cases})}
    results = {"cases": counts, "articles": len(articles),
               "median_candidates": float(np.median([len(c.candidates) for c in cases]))}
    if baseline:
        results[BASELINE] = measure(CrossEncoder().score, cases)
    for path in model_dirs:
        results[str(path)] = measure(AnswerModel(path).score, cases)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, action="append", help=f"a model folder (default {ANSWER_MODEL_DIR})")
    parser.add_argument("--questions", type=int, default=150, help="per kind: answerable, real and synthetic unanswerable")
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--no-baseline", action="store_true", help="skip the relevance cross-encoder")
    parser.add_argument("--context", action="store_true", help="the model reads ' || {previous sentence}' too")
    args = parser.parse_args()
    results = evaluate(args.model or [ANSWER_MODEL_DIR], args.questions, args.data, baseline=not args.no_baseline,
                       context=args.context)
    json.dump(results, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
