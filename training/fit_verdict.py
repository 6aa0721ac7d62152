"""Fit the thresholds behind the verdict a user sees, on the TUNING half of the bench question sets, and report
them on the REPORTING half; writes assistant/models/answer_bearing/verdict.json, which assistant/answering/verify.py
reads.

Two judgements are fitted:
- the badge of an extractive sentence: "supported" only when the answerer's calibrated probability (Draft.score)
  is at or above `answer_supported`, the lowest probability at which the shown sentences above it are right at
  least PRECISION_TARGET of the time;
- the span check of reworded (LLM) sentences: the answer-bearing model's logit for (question, cited span) is
  mapped to a probability (Platt scaling: `span_scale`, `span_shift`) on evidence spans of answerable questions
  (positives) against the best-looking span of each unanswerable question (negatives); a span below
  `span_floor` (the highest threshold keeping SPAN_RECALL_TARGET of the evidence spans) does not bear on the
  question, and a sentence resting on spans below `span_supported` (PRECISION_TARGET again) is "uncertain".
  The span goes to the model after its document's title (`span_titled`) only if that separates better on the
  tuning half.

The figures depend on the extractive answerer (its probabilities) and the retriever: after changing either, run
this again with a fresh --cache. Splitting is bench/split.py's rule; the reporting half is only reported.

usage: python training/fit_verdict.py [--cache DIR] [--quick N] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from assistant.evaluation.metrics import contains_any, norm  # noqa: E402  (the scorer's own matching: FORMAT.md)
from split import cases, half  # noqa: E402  (the one rule that splits the bench questions by article)

QUESTION_SETS = {  # question set -> the folder of articles it asks about
    ROOT / "bench" / "data" / "wiki_questions.jsonl": ROOT / "bench" / "data" / "wiki",
    ROOT / "bench" / "data" / "seeds_extra.jsonl": ROOT.parent / "shared" / "seeds",
}
OUT = ROOT / "assistant" / "models" / "answer_bearing" / "verdict.json"
PRECISION_TARGET = 0.9  # a "supported" badge is right at least this often on the tuning half
SPAN_RECALL_TARGET = 0.95  # the span check refuses at most 1 in 20 evidence spans on the tuning half
OLD_RELEVANCE_FLOOR = 0.05  # the check it replaces: relevance cross-encoder probability of (question, span)


@dataclass
class Collected:
    """What one half of the question sets gives to fit or report on."""

    shown: list[tuple[float, bool]] = field(default_factory=list)  # extractive sentence: (probability, right?)
    evidence: list[dict] = field(default_factory=list)  # logits of evidence spans of answerable questions
    best_wrong: list[dict] = field(default_factory=list)  # per unanswerable question: the highest logit of each scorer


def holds(text: str, needles: list[str]) -> bool:
    return contains_any(text, needles)


def span_logits(question: str, spans) -> dict[str, list[float]]:
    """Every scorer's logit for (question, span): the answer model on the span alone and after its title (the
    answerer's input format), and the relevance cross-encoder the old check used."""
    from assistant.onnx_models import answer_model, cross_encoder
    from assistant.answering.verify import model_input

    texts = [s.text for s in spans]
    return {"answer": answer_model().score(question, texts),
            "answer_titled": answer_model().score(question, [model_input(s) for s in spans]),
            "relevance": cross_encoder().score(question, texts)}


def sentence_spans_of(passages):
    from assistant.answering.drafts import Span
    from assistant.ingest.chunking import sentence_spans

    seen, spans = set(), []
    for p in passages:
        c = p.chunk
        for a, b in sentence_spans(c.text):
            if (c.document_id, c.start + a) not in seen and c.text[a:b].strip():
                seen.add((c.document_id, c.start + a))
                spans.append(Span.within(c, c.start + a, c.start + b))
    return spans


def collect_case(assistant, case: dict) -> dict:
    """One case's figures: the extractive answerer's sentences (probability, right?), the logits of its evidence
    spans (answerable) or the highest logit of each scorer over every retrieved sentence (unanswerable)."""
    from assistant.evaluation.run import replay

    history = replay(assistant, case.get("history") or [])
    question = case["question"]
    query = assistant.rewrite(question, history)
    passages = assistant.retriever.retrieve(query)
    asked = question if query == question else f"{question} {query}"  # what the Assistant verifies against
    row = {"id": case["id"], "half": half(case), "shown": [], "evidence": [], "best_wrong": None}
    for draft in assistant.answerer("extractive").answer(question, query, passages, history):
        if draft.kind == "sentence" and draft.score is not None:
            right = case.get("answerable", True) and (holds(draft.text, case.get("answer_any", []))
                                                     or holds(draft.text, case.get("evidence_any", [])))
            row["shown"].append((float(draft.score), bool(right)))
    spans = sentence_spans_of(passages)
    if case.get("answerable", True):
        evidence = case.get("evidence_any", [])
        spans = [s for s in spans if holds(s.text, evidence) or any(len(s.text) > 20 and norm(s.text) in norm(e) for e in evidence)]
        if spans:
            scores = span_logits(asked, spans)
            row["evidence"] = [{k: v[i] for k, v in scores.items()} for i in range(len(spans))]
    elif spans:
        row["best_wrong"] = {k: max(v) for k, v in span_logits(asked, spans).items()}
    return row


def collect(cache: Path, quick: int = 0) -> list[dict]:
    """Every case's figures, computed once and kept in the cache (delete it after changing the answerer)."""
    kept = cache / f"collected{f'-quick{quick}' if quick else ''}.json"
    if kept.exists():
        return json.loads(kept.read_text(encoding="utf-8"))
    from assistant.config import Settings
    from assistant.core import Assistant

    rows = []
    for questions, docs in QUESTION_SETS.items():
        if quick and docs.name == "wiki":
            continue  # a quick run: the five seed articles only
        assistant = Assistant(Settings(index_dir=cache / docs.name / "index"))  # not Settings.load: no ASSISTANT_*
        assistant.ingest([docs])  # unchanged files are skipped
        chosen = cases(questions)
        for case in chosen[:quick] if quick else chosen:
            rows.append(collect_case(assistant, case))
            print(f"{len(rows)} {case['id']}", file=sys.stderr, flush=True)
    kept.write_text(json.dumps(rows), encoding="utf-8")
    return rows


def of_half(rows: list[dict], which: str) -> Collected:
    out = Collected()
    for row in rows:
        if row["half"] == which:
            out.shown += [tuple(x) for x in row["shown"]]
            out.evidence += row["evidence"]
            out.best_wrong += [row["best_wrong"]] if row["best_wrong"] else []
    return out


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def platt(positives: list[float], negatives: list[float]) -> tuple[float, float]:
    """scale, shift of p = sigmoid(scale * logit + shift), fitted by Newton's method on the log loss."""
    x = np.array(positives + negatives, dtype=float)
    # Platt's targets: (n+1)/(n+2) and 1/(n+2) rather than 1 and 0, so that separable data still has a fit
    y = np.array([(len(positives) + 1) / (len(positives) + 2)] * len(positives)
                 + [1 / (len(negatives) + 2)] * len(negatives))
    w = np.array([1.0, 0.0])
    features = np.stack([x, np.ones_like(x)], axis=1)
    for _ in range(50):
        p = sigmoid(features @ w)
        gradient = features.T @ (p - y)
        hessian = features.T @ (features * (p * (1 - p))[:, None]) + 1e-6 * np.eye(2)
        w -= np.linalg.solve(hessian, gradient)
    return float(w[0]), float(w[1])


def lowest_precise(scored: list[tuple[float, bool]], target: float) -> float:
    """The lowest threshold at which the items at or above it are right at least target of the time (1.0 when no
    threshold is)."""
    for t in sorted({s for s, _ in scored}):
        above = [right for s, right in scored if s >= t]
        if above and sum(above) / len(above) >= target:
            return t
    return 1.0


def highest_recalling(positives: list[float], target: float) -> float:
    """The highest threshold that keeps at least target of the positives."""
    ranked = sorted(positives, reverse=True)
    return ranked[max(0, math.ceil(target * len(ranked)) - 1)] if ranked else 0.0


def fit(tuning: Collected) -> dict:
    # the span is scored after its title (as the answerer scores sentences) only if that separates better here
    titled = auc(tuning, "answer_titled") >= auc(tuning, "answer")
    scorer = "answer_titled" if titled else "answer"
    pos = [e[scorer] for e in tuning.evidence]
    neg = [b[scorer] for b in tuning.best_wrong]
    scale, shift = platt(pos, neg)
    calibrated = lambda xs: [float(v) for v in sigmoid(scale * np.asarray(xs) + shift)]  # noqa: E731
    spans = [(p, True) for p in calibrated(pos)] + [(p, False) for p in calibrated(neg)]
    return {
        "answer_supported": round(lowest_precise(tuning.shown, PRECISION_TARGET), 4),
        "span_scale": round(scale, 4), "span_shift": round(shift, 4),
        "span_floor": round(highest_recalling(calibrated(pos), SPAN_RECALL_TARGET), 4),
        "span_supported": round(lowest_precise(spans, PRECISION_TARGET), 4),
        "span_titled": titled,
    }


def span_check_figures(data: Collected, passes) -> dict:
    """Precision and recall of a span check: evidence spans kept against unanswerable questions' best spans kept."""
    kept = sum(1 for e in data.evidence if passes(e))
    wrong = sum(1 for b in data.best_wrong if passes(b))
    return {"recall": kept / max(1, len(data.evidence)), "precision": kept / max(1, kept + wrong),
            "unanswerable refused": 1 - wrong / max(1, len(data.best_wrong)),
            "evidence spans": len(data.evidence), "unanswerable questions": len(data.best_wrong)}


def report(fitted: dict, data: Collected) -> dict:
    scorer = "answer_titled" if fitted["span_titled"] else "answer"

    def calibrated(logit: float) -> float:
        return float(sigmoid(fitted["span_scale"] * logit + fitted["span_shift"]))

    badge = [right for p, right in data.shown if p >= fitted["answer_supported"]]
    return {
        "span check, answer model (new)": span_check_figures(data, lambda r: calibrated(r[scorer]) >= fitted["span_floor"]),
        "span check, relevance floor (old)": span_check_figures(data, lambda r: sigmoid(r["relevance"]) >= OLD_RELEVANCE_FLOOR),
        "LLM sentence shown supported": span_check_figures(data, lambda r: calibrated(r[scorer]) >= fitted["span_supported"]),
        "extractive supported badge": {"sentences shown": len(data.shown), "badged supported": len(badge),
                                       "precision": sum(badge) / max(1, len(badge)),
                                       "precision of all shown": sum(r for _, r in data.shown) / max(1, len(data.shown))},
    }


def auc(data: Collected, scorer: str) -> float:
    pos = [e[scorer] for e in data.evidence]
    neg = [b[scorer] for b in data.best_wrong]
    pairs = [(p > n) + 0.5 * (p == n) for p in pos for n in neg]
    return sum(pairs) / max(1, len(pairs))


def fitted_with() -> str:
    """A fingerprint of the packaged answer-bearing files the probabilities come from (the model, the answerer's
    fitted weights): thresholds fitted on other files are stale (tests/test_verdict.py checks)."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(OUT.parent.iterdir()):
        if path.suffix in (".onnx", ".json") and path.name != OUT.name:
            digest.update(path.name.encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/assistant-fit-verdict"),
                        help="where the bench corpora are indexed (reused when already there)")
    parser.add_argument("--quick", type=int, default=0, help="only the first N cases of the seed articles' set (a smoke run)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rows = collect(args.cache, args.quick)
    tuning, reporting = of_half(rows, "tune"), of_half(rows, "report")
    fitted = fit(tuning)
    figures = {"tuning": report(fitted, tuning), "reporting": report(fitted, reporting),
               "AUC on reporting, evidence span vs best unanswerable span": {
                   s: round(auc(reporting, s), 3) for s in ("answer", "answer_titled", "relevance")}}
    result = {**fitted, "precision_target": PRECISION_TARGET, "span_recall_target": SPAN_RECALL_TARGET,
              "fitted_on": "tuning half of bench/data (bench/split.py)", "fitted_with": fitted_with(),
              "figures": figures}
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))
    print(f"wrote {args.out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
