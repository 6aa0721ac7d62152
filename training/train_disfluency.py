"""Train the disfluency tagger of assistant/question/disfluency.py: two stages of averaged structured perceptron
(first-order Viterbi over keep/delete), the second also reading the first's tags, on synthetic disfluent SQuAD
questions (training/disfluency.py); numpy only, minutes on 2 CPU cores.

    python -m training.train_disfluency [--tiny] [--out assistant/models/disfluency]

The articles of heldout_articles.txt are never trained on: the figures of the model card are measured on them,
beside the regular expressions the tagger replaced (bench/disfluency_rules.py). A slice of the training articles
(the tuning slice) picks the epoch of each stage and the delete bias; the reporting articles pick nothing.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from assistant.question.disfluency import (DELETE, FEATURE_BITS, Tagger, clean,  # noqa: E402
                                           context_features, features, hashed, tokenize, viterbi)
from training.disfluency import (EDITS, UNCHANGED, UNSEEN_EDITS, Example, examples, read_heldout,  # noqa: E402
                                 read_sources, split_sources)

OUT = ROOT / "assistant" / "models" / "disfluency"
MAX_DAMAGE = 0.01  # of the fluent tuning questions, at most this share may be changed
WIKI = ROOT / "bench" / "data" / "wiki_questions.jsonl"
WIKI_CLEANED = ROOT / "bench" / "data" / "disfluent_cleaned.jsonl"


class Perceptron:
    """Weights of the delete score of each hashed feature, and of label transitions; averaged over all updates."""

    def __init__(self, bits: int):
        self.bits = bits
        self.w = np.zeros(1 << bits, dtype=np.float64)
        self.t = np.zeros((3, 2), dtype=np.float64)  # rows: previous KEEP, DELETE, start
        self.w_sum = np.zeros_like(self.w)
        self.t_sum = np.zeros_like(self.t)
        self.step = 1

    def predict(self, flat: np.ndarray, starts: np.ndarray) -> list[int]:
        return viterbi(np.add.reduceat(self.w[flat], starts), self.t)

    def update(self, flat: np.ndarray, starts: np.ndarray, gold: np.ndarray, pred: list[int]) -> None:
        ends = np.append(starts[1:], len(flat))
        previous_gold = previous_pred = 2
        for i, (g, p) in enumerate(zip(gold, pred)):
            if g != p:
                sign = 1.0 if g == DELETE else -1.0
                feats = flat[starts[i]:ends[i]]
                np.add.at(self.w, feats, sign)
                np.add.at(self.w_sum, feats, sign * self.step)
            if g != p or previous_gold != previous_pred:
                self.t[previous_gold, g] += 1
                self.t[previous_pred, p] -= 1
                self.t_sum[previous_gold, g] += self.step
                self.t_sum[previous_pred, p] -= self.step
            previous_gold, previous_pred = g, p
        self.step += 1

    def averaged(self) -> tuple[np.ndarray, np.ndarray]:
        return self.w - self.w_sum / self.step, self.t - self.t_sum / self.step


@dataclass
class Encoded:
    tokens: list[str]
    rows: list[list[int]]  # the first stage's hashed features of each token
    gold: np.ndarray


def encode(example: Example, bits: int) -> Encoded:
    tokens = [example.text[a:b] for a, b in tokenize(example.text)]
    return Encoded(tokens, hashed(features(tokens), bits), np.array(example.labels, dtype=np.int64))


def flatten(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    starts = np.cumsum([0] + [len(r) for r in rows[:-1]]).astype(np.int64)
    return np.array([f for r in rows for f in r], dtype=np.int64), starts


def second_rows(e: Encoded, first: list[int], bits: int) -> list[list[int]]:
    return [a + b for a, b in zip(e.rows, hashed(context_features(e.tokens, first), bits))]


def fit_stage(items: list[tuple[np.ndarray, np.ndarray, np.ndarray]], epochs: int, bits: int, seed: int,
              judge=None, name: str = "") -> tuple[tuple[np.ndarray, np.ndarray], list[dict]]:
    """One stage's weights; judge(weights, transition) -> tuning exact match picks the epoch when given."""
    model = Perceptron(bits)
    rng = random.Random(seed)
    order = list(range(len(items)))
    best, history = None, []
    for epoch in range(1, epochs + 1):
        rng.shuffle(order)
        mistakes = 0
        for k in order:
            flat, starts, gold = items[k]
            pred = model.predict(flat, starts)
            if any(int(g) != p for g, p in zip(gold, pred)):
                mistakes += 1
                model.update(flat, starts, gold, pred)
        averaged = model.averaged()
        score = judge(*averaged) if judge else 0.0
        history.append({"stage": name, "epoch": epoch, "wrong_sentences": mistakes, "tuning_exact": round(score, 4)})
        print(f"{name} epoch {epoch}: {mistakes} of {len(order)} training questions mis-tagged; tuning exact "
              f"{score:.4f}", flush=True)
        if judge is None or best is None or score > best[0]:
            best = (score, averaged, epoch)
    history.append({"stage": name, "best_epoch": best[2]})
    return best[1], history


def tag_with(weights: np.ndarray, transition: np.ndarray, e: Encoded) -> list[int]:
    flat, starts = flatten(e.rows)
    return viterbi(np.add.reduceat(weights[flat], starts), transition)


def train(data: list[Example], epochs: int, bits: int, seed: int, tune: list[Example]) -> tuple[Tagger, list]:
    """Stage one on the words; stage two on the words and stage one's tags, those of the training questions
    made by a stage one that never saw them (two halves, each tagged by a model of the other half), so that
    stage two learns from tags as wrong as they will be on new questions."""
    encoded = [encode(e, bits) for e in data]
    first_items = [(*flatten(e.rows), e.gold) for e in encoded]
    half = len(encoded) // 2
    first_tags: list[list[int] | None] = [None] * len(encoded)
    history = []
    for part, (lo, hi) in enumerate(((0, half), (half, len(encoded)))):
        rest = first_items[:lo] + first_items[hi:]
        (w, t), h = fit_stage(rest, epochs, bits, seed + part, name=f"stage 1, half {part + 1}")
        history += h
        for k in range(lo, hi):
            first_tags[k] = tag_with(w, t, encoded[k])

    def judge_first(w, t):
        return figures(Tagger(w[None], t[None], bits), tune)["exact"]

    (w1, t1), h = fit_stage(first_items, epochs, bits, seed, judge_first, name="stage 1")
    history += h
    second_items = [(*flatten(second_rows(e, tags, bits)), e.gold) for e, tags in zip(encoded, first_tags)]

    def judge_second(w, t):
        return figures(Tagger(np.stack([w1, w]), np.stack([t1, t]), bits), tune)["exact"]

    (w2, t2), h = fit_stage(second_items, epochs, bits, seed + 7, judge_second, name="stage 2")
    history += h
    return Tagger(np.stack([w1, w2]), np.stack([t1, t2]), bits), history


def with_bias(tagger: Tagger, bias: float) -> Tagger:
    """The same tagger with the last stage's delete scores shifted (negative: fewer deletions, fewer damaged
    questions)."""
    shifted = tagger.transitions.copy()
    shifted[-1, :, DELETE] += bias
    return Tagger(tagger.weights, shifted, tagger.bits)


def same(cleaned: str, fluent: str) -> bool:
    """Token for token the same question, whatever the spacing, the first letter's case aside."""
    a = [cleaned[x:y] for x, y in tokenize(cleaned)]
    b = [fluent[x:y] for x, y in tokenize(fluent)]
    return a[1:] == b[1:] and [t.lower() for t in a[:1]] == [t.lower() for t in b[:1]]


def figures(cleaner, data: list[Example]) -> dict:
    """Exact match of the cleaned question with the fluent one (all, disfluent only, per kind) and the damage rate:
    the share of fluent questions the cleaner changed. cleaner is a Tagger or a function str -> str."""
    run = cleaner if callable(cleaner) and not isinstance(cleaner, Tagger) else (lambda q: clean(q, cleaner))
    per_kind: dict[str, list[bool]] = {}
    for e in data:
        per_kind.setdefault(e.kind, []).append(same(run(e.text), e.fluent))
    disfluent = [ok for kind, oks in per_kind.items() if kind not in UNCHANGED for ok in oks]
    everything = [ok for oks in per_kind.values() for ok in oks]
    fluent = per_kind.get("fluent", [])
    unchanged = [ok for kind in UNCHANGED for ok in per_kind.get(kind, [])]
    return {"questions": len(everything),
            "exact": sum(everything) / max(1, len(everything)),
            "exact_disfluent": sum(disfluent) / max(1, len(disfluent)),
            "damage_fluent": (len(fluent) - sum(fluent)) / max(1, len(fluent)),
            "damage_unchanged": (len(unchanged) - sum(unchanged)) / max(1, len(unchanged)),
            "per_kind": {kind: {"n": len(oks), "exact": round(sum(oks) / len(oks), 4)}
                         for kind, oks in sorted(per_kind.items())}}


def wiki_check(cleaner) -> dict | None:
    """The hand-written disfluent questions of bench/data (a check, never trained or tuned on): the share cleaned
    to one of the accepted forms of disfluent_cleaned.jsonl, and the questions that were not."""
    if not WIKI_CLEANED.exists():
        return None
    accepted = {row["id"]: row["cleaned_any"] for row in map(json.loads, WIKI_CLEANED.open(encoding="utf-8"))}
    questions = {row["id"]: row["question"] for row in map(json.loads, WIKI.open(encoding="utf-8"))
                 if row["id"] in accepted}
    run = cleaner if callable(cleaner) and not isinstance(cleaner, Tagger) else (lambda q: clean(q, cleaner))
    missed = {}
    for key, question in questions.items():
        out = run(question)
        if not any(same(out, a) for a in accepted[key]):
            missed[key] = out
    return {"questions": len(questions), "accepted": round(1 - len(missed) / max(1, len(questions)), 4),
            "missed": missed}


def rules_cleaner():
    try:
        from disfluency_rules import clean_disfluency
    except ImportError:
        return None
    return clean_disfluency


def rounded(f: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in f.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a few articles and one epoch: a smoke run")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--per-question", type=float, default=0.8, help="share of SQuAD questions made into examples")
    parser.add_argument("--copies", type=int, default=1, help="examples made of each chosen training question")
    parser.add_argument("--bits", type=int, default=FEATURE_BITS)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    started = time.time()

    heldout = read_heldout()
    keep = (lambda title: title in heldout or hash_pick(title)) if args.tiny else None
    sources = read_sources(keep=keep)
    train_sources, report_sources = split_sources(sources, heldout)
    tune_sources = [s for s in train_sources if hash_pick(s.title, 10)]
    fit_sources = [s for s in train_sources if s not in tune_sources] if not args.tiny else train_sources
    epochs = 1 if args.tiny else args.epochs
    limit = 600 if args.tiny else None

    data = [e for copy in range(args.copies)
            for e in examples(fit_sources, args.per_question, args.seed + copy, limit=limit)]
    tune = examples(tune_sources or fit_sources[:1], 0.5, args.seed + 100, limit=300 if args.tiny else 4000)
    report = examples(report_sources, 1.0, args.seed + 200, limit=300 if args.tiny else None)
    unseen = [e for e in examples(report_sources, 1.0, args.seed + 300, edits=UNSEEN_EDITS,
                                  limit=300 if args.tiny else None) if e.kind in ("restart", "correction")]
    assert not {e.article for e in data + tune} & heldout, "a reporting article in the training data"
    print(f"{len(data)} training questions ({len(fit_sources)} articles), {len(tune)} tuning, {len(report)} reporting "
          f"({len(report_sources)} held-out articles), {len(unseen)} with editing phrases training never shows",
          flush=True)

    tagger, history = train(data, epochs, args.bits, args.seed, tune)
    # the delete bias: the most exact tuning questions with at most MAX_DAMAGE of the fluent ones changed; where
    # no bias gets there, the one that changes fewest
    tried = {bias: figures(with_bias(tagger, bias), tune) for bias in (0.0, -1.0, -2.0, -3.0, -5.0, -8.0, -12.0)}
    within = [b for b, f in tried.items() if f["damage_fluent"] <= MAX_DAMAGE]
    best_bias = max(within, key=lambda b: tried[b]["exact"]) if within else \
        min(tried, key=lambda b: (tried[b]["damage_fluent"], -tried[b]["exact"]))
    tagger = with_bias(tagger, best_bias)
    run = {"history": history, "delete_bias": best_bias,
           "best_epoch": [h["best_epoch"] for h in history if h.get("stage") == "stage 2" and "best_epoch" in h][0]}

    def measured(cleaner) -> dict:
        return {"report": rounded(figures(cleaner, report)), "unseen_phrases": rounded(figures(cleaner, unseen)),
                "wiki_disfluent": wiki_check(cleaner)}

    evaluation = {"tagger": measured(tagger)}
    rules = rules_cleaner()
    if rules is not None:
        evaluation["rules"] = measured(rules)
    timing = speed(tagger, [e.text for e in report[:2000]])
    args.out.mkdir(parents=True, exist_ok=True)
    weights = tagger.weights.astype(np.float16)
    np.savez_compressed(args.out / "tagger.npz", weights=weights, transitions=tagger.transitions,
                        bits=np.int64(args.bits))
    summary = {"tiny": args.tiny, "recipe": {"epochs": epochs, "copies": args.copies, "per_question": args.per_question,
                                             "bits": args.bits, "seed": args.seed, "edits": len(EDITS)},
               "data": {"training": len(data), "training_articles": len(fit_sources), "tuning": len(tune),
                        "reporting": len(report), "reporting_articles": len(report_sources), "unseen": len(unseen)},
               "training": run, "evaluation": evaluation, "ms_per_question": timing,
               "seconds": round(time.time() - started, 1)}
    (args.out / "figures.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    from training.disfluency_card import write_card
    write_card(args.out, summary)
    print(json.dumps(evaluation, indent=1))
    print(f"model written to {args.out}")


def hash_pick(title: str, percent: int = 3) -> bool:
    import hashlib
    return int(hashlib.sha1(("disfluency:" + title).encode()).hexdigest(), 16) % 100 < percent


def speed(tagger: Tagger, questions: list[str]) -> dict:
    if not questions:
        return {}
    times = []
    for q in questions:
        t = time.perf_counter()
        clean(q, tagger)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"p50": round(times[len(times) // 2], 3), "p95": round(times[int(len(times) * 0.95)], 3)}


if __name__ == "__main__":
    main()
