"""Fit the extractive answerer's one combination (assistant/answering/calibration.py) on the TUNING half of bench/data.

For every tuning question (bench/split.py) the product itself retrieves passages and picks the candidate sentences
the answer model would score (the same prior and budget as at run time); each sentence gets the model's logit and
the evidence features (assistant/answering/evidence.py), and the label "it holds an answer string of the case". A plain
numpy logistic regression (L2, Newton steps) turns them into P(sentence answers); the abstention threshold is chosen
on out-of-fold probabilities (--folds, by article): the one that gets most tuning questions right while false
abstention stays under --false-abstention in 90 % of the tuning articles resampled (choose_threshold). Weights,
and the figures they were fitted with go to assistant/models/answer_bearing/answerer.json; the threshold and the
first round's confidence go to policy.json beside it (assistant/answering/policy.py reads every threshold there).

With --compare-context both shared models (model.onnx: "{title}. {sentence}"; model-context.onnx: "... || {previous
sentence}") are scored on the same candidates, and the one that ranks and separates better on the tuning half is
used (the shipped file is then replaced by hand, and the card says so).

Model logits are cached on disk per (model, query, input), so re-fitting is instant.

usage: python training/fit_answerer.py [--tiny] [--compare-context] [--out FILE] [--index-cache DIR] [--harvested FILE]
                                      [--sets public seeds wiki]
bench/public.py --dump FILE writes the harvested candidates of the public sets in the --harvested format.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from assistant.answering.evidence import FEATURES  # noqa: E402
from assistant.answering.calibration import WEIGHTS_FILE  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.answering.policy import POLICY_FILE, write_fitted  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from assistant.evaluation.metrics import contains_any  # noqa: E402  (the scorer's own matching: FORMAT.md)
from assistant.question.normalize import normalize_question  # noqa: E402
from assistant.schema import Message  # noqa: E402
from assistant.onnx_models import ANSWER_MODEL_DIR, AnswerModel  # noqa: E402
from assistant.question.rewrite import scoring_query  # noqa: E402
from split import article, cases  # noqa: E402

SHARED_MODELS = ROOT.parent / "shared" / "models" / "answer-bearing-minilm"
PUBLIC = ROOT / "bench" / "data" / "public"
SETS = {"seeds": (ROOT.parent / "shared" / "seeds", ROOT / "bench" / "data" / "seeds_extra.jsonl"),
        "wiki": (ROOT / "bench" / "data" / "wiki", ROOT / "bench" / "data" / "wiki_questions.jsonl"),
        # thousands of questions of every kind made from public data (training/public_sets.py): the fit
        "public": (PUBLIC / "articles", PUBLIC / "questions.jsonl")}
FITTED_ON = ("public",)  # bench/data's hand-written tuning questions are a check of the fit, not part of it


def holds_answer(case: dict, span) -> bool:
    if not case.get("answerable", True):
        return False
    sources = case.get("sources") or []
    if sources and Path(span.source).name not in sources:
        return False
    return contains_any(span.text, case.get("answer_any"))


class CachedModel:
    """An answer model whose logits are kept on disk by (model, query, input)."""

    def __init__(self, name: str, model: AnswerModel, cache: Path):
        self.name, self.model, self.path = name, model, cache / f"{name}.json"
        self.memo = json.loads(self.path.read_text()) if self.path.exists() else {}

    def score(self, query: str, texts: list[str]) -> list[float]:
        keys = [hashlib.sha1(f"{query}\0{t}".encode()).hexdigest() for t in texts]
        todo = [(k, t) for k, t in zip(keys, texts) if k not in self.memo]
        for (k, _), logit in zip(todo, self.model.score(query, [t for _, t in todo])):
            self.memo[k] = logit
        return [self.memo[k] for k in keys]

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.memo))


def context_model() -> AnswerModel:
    """model-context.onnx from the shared folder, loaded through the same class (it expects model.onnx)."""
    folder = Path(tempfile.mkdtemp(prefix="context-model-"))
    (folder / "model.onnx").symlink_to(SHARED_MODELS / "model-context.onnx")
    (folder / "tokenizer.json").symlink_to(SHARED_MODELS / "tokenizer.json")
    return AnswerModel(folder)


def cheap_history(assistant: Assistant, turns: list[str]) -> list[Message]:
    """The chat history as the follow-up model reads it, for one ask instead of one per turn: earlier turns as the
    user's words, the last one asked (after them) so its answer is what the user saw."""
    history = [Message("user", t) for t in turns[:-1]]
    return history + replay_after(assistant, turns[-1:], history) if turns else []


def replay_after(assistant: Assistant, turns: list[str], before: list[Message]) -> list[Message]:
    out: list[Message] = []
    for turn in turns:
        out += Message.exchange(turn, assistant.ask(turn, before + out))
    return out


def harvest(assistant: Assistant, case: dict, models: dict[str, CachedModel], memo: dict | None = None) -> dict:
    """The candidates the answerer would score for one case: logits of each model, features, labels (memo: kept
    for bench/public.py's callers; a case's history costs one ask, see cheap_history)."""
    answerer = assistant.answerer("extractive")
    history = cheap_history(assistant, case.get("history") or [])
    query = assistant.rewrite(case["question"], history)
    passages = assistant.retriever.retrieve(query)
    question = normalize_question(case["question"], assistant.store)
    budget = max(assistant.settings.sentence_budget_max, assistant.settings.sentence_budget)
    cands = answerer.prior_order(query, answerer.candidates(passages))[:budget]
    scoring = scoring_query(question, query)
    logits = {}
    for name, model in models.items():
        answerer.combination = dataclasses.replace(answerer.combination, context_input=name == "context")
        logits[name] = model.score(scoring, [answerer.model_input(c) for c in cands])
    for c, logit in zip(cands, logits["plain"]):
        c.score = logit
    rows = answerer.evidence.features(question, query, cands, passages)
    return {"id": case["id"], "article": article(case), "kind": case.get("kind"),
            "answerable": case.get("answerable", True),
            "labels": [holds_answer(case, c.span) for c in cands], "logits": logits, "features": rows}


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression (Newton's method; the bias is not penalised)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    penalty = np.eye(xb.shape[1]) * l2
    penalty[-1, -1] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -50, 50)))
        grad = xb.T @ (p - y) + penalty @ w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + penalty + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def auc(pos: list[float], neg: list[float]) -> float | None:
    if not pos or not neg:
        return None
    return float(np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg]))


def model_figures(harvested: list[dict], name: str) -> dict:
    """How one model alone ranks (top sentence holds the answer) and separates answerable from not (AUC of max)."""
    answerable = [h for h in harvested if h["answerable"] and any(h["labels"])]
    top1 = np.mean([h["labels"][int(np.argmax(h["logits"][name]))] for h in answerable]) if answerable else float("nan")
    best = lambda hs: [max(h["logits"][name]) for h in hs if h["logits"][name]]  # noqa: E731
    separation = auc(best([h for h in harvested if h["answerable"]]), best([h for h in harvested if not h["answerable"]]))
    return {"top1": round(float(top1), 3), "auc": None if separation is None else round(separation, 3)}


def matrix(harvested: list[dict], model: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
    xs, ys, owner = [], [], []
    for k, h in enumerate(harvested):
        for row, logit, label in zip(h["features"], h["logits"][model], h["labels"]):
            xs.append([logit if f == "logit" else row[f] for f in FEATURES])
            ys.append(float(label))
            owner.append(k)
    return np.array(xs, dtype=float), np.array(ys), owner


def best_sentences(harvested: list[dict], p: np.ndarray, y: np.ndarray, owner: list[int]) -> tuple[list, list]:
    """Per question: the highest probability of its candidates, and whether that sentence holds the answer."""
    best_p, best_ok = [0.0] * len(harvested), [False] * len(harvested)
    for k, (pk, yk) in enumerate(zip(p, y)):
        if pk > best_p[owner[k]]:
            best_p[owner[k]], best_ok[owner[k]] = float(pk), bool(yk)
    return best_p, best_ok


def out_of_fold(harvested: list[dict], x: np.ndarray, y: np.ndarray, owner: list[int], folds: int) -> np.ndarray:
    """Each sentence's probability from a regression fitted without its article's fold (folds by article, as
    bench/split.py splits), so the threshold is chosen on probabilities the way unseen articles will get them."""
    articles = sorted({h["article"] for h in harvested})
    fold_of = {a: int(hashlib.sha1(a.encode()).hexdigest(), 16) % folds for a in articles}
    fold = np.array([fold_of[harvested[o]["article"]] for o in owner])
    w, b = fit_logistic(x, y)
    p = 1.0 / (1.0 + np.exp(-(x @ w + b)))  # kept where a fold holds every article (a --tiny run)
    for f in range(folds):
        held = fold == f
        if held.any() and (~held).any():
            w, b = fit_logistic(x[~held], y[~held])
            p[held] = 1.0 / (1.0 + np.exp(-(x[held] @ w + b)))
    return p


def choose_threshold(harvested: list[dict], best_p: list[float], best_ok: list[bool], false_abstention: float,
                     confidence: float = 0.9, resamples: int = 400) -> float:
    """The threshold that gets most tuning questions right (an answerable one answered by a sentence holding its
    answer, an unanswerable one abstained on), among those whose false abstention stays within the cap in
    `confidence` of the tuning half's articles resampled with replacement: a cap met only on the exact 70-odd
    tuning questions is broken by the next few articles."""
    if not harvested:
        return 0.5
    articles = sorted({h["article"] for h in harvested})
    index = {a: i for i, a in enumerate(articles)}
    where = np.array([index[h["article"]] for h in harvested])
    draws = np.random.default_rng(0).integers(0, len(articles), (resamples, len(articles)))
    drawn = np.stack([np.bincount(d, minlength=len(articles))[where] for d in draws])
    # the cap holds for each kind of answerable question on its own (a kind wrongly refused 40 % of the time is not
    # hidden by the others), for the kinds with enough questions to measure it
    kinds = [k for k in {h.get("kind") or "answerable" for h in harvested if h["answerable"]}
             if sum(h["answerable"] and (h.get("kind") or "answerable") == k for h in harvested) >= 20] or [None]
    weights = [drawn * np.array([h["answerable"] and (kind is None or (h.get("kind") or "answerable") == kind)
                                 for h in harvested]) for kind in kinds]
    p = np.array(best_p)
    lowest = float(p.min()) / 2  # abstains on nothing
    best, chosen = -1, lowest
    for t in sorted({lowest, *(float(q) + 1e-6 for q in p)}):
        rates = [(w * (p < t)).sum(1) / np.maximum(1, w.sum(1)) for w in weights]
        if max(np.quantile(r, confidence) for r in rates) > false_abstention:
            break
        right = sum((ok and q >= t) if h["answerable"] else q < t for h, q, ok in zip(harvested, p, best_ok))
        if right > best:
            best, chosen = right, t
    return float(chosen)


def outcome_figures(harvested: list[dict], best_p: list[float], best_ok: list[bool], threshold: float) -> dict:
    def share(picked: list[bool]) -> float | None:
        return round(sum(picked) / len(picked), 3) if picked else None

    rows = list(zip(harvested, best_p, best_ok))
    return {"answer_accuracy": share([ok and p >= threshold for h, p, ok in rows if h["answerable"]]),
            "false_abstention": share([p < threshold for h, p, ok in rows if h["answerable"]]),
            "adversarial_abstention": share([p < threshold for h, p, ok in rows if h["kind"] == "adversarial"]),
            "unanswerable_abstention": share([p < threshold for h, p, ok in rows if h["kind"] == "unanswerable"]),
            "questions": len(rows),
            "by_kind": {kind: {"questions": len(of_kind),
                               "answered_right" if of_kind[0][0]["answerable"] else "abstained":
                               share([ok and p >= threshold for h, p, ok in of_kind]) if of_kind[0][0]["answerable"]
                               else share([p < threshold for h, p, ok in of_kind]),
                               **({"wrongly_refused": share([p < threshold for h, p, ok in of_kind])}
                                  if of_kind[0][0]["answerable"] else {})}
                        for kind in sorted({h.get("kind") or "answerable" for h in harvested})
                        for of_kind in [[r for r in rows if (r[0].get("kind") or "answerable") == kind]]}}


def first_round_confidence(harvested: list[dict], p: np.ndarray, owner: list[int], budget: int) -> dict:
    """The lowest probability at which the first round's best sentence (the prior's first `budget`) may end the
    search: above it, scoring the rest never changed whether the best sentence held the answer on the tuning half."""
    per_question: dict[int, list[tuple[float, bool]]] = {}
    labels = [label for h in harvested for label in h["labels"]]
    for k, (pk, label) in enumerate(zip(p, labels)):
        per_question.setdefault(owner[k], []).append((float(pk), bool(label)))
    rounds = []
    for rows in per_question.values():
        first = max(rows[:budget])
        every = max(rows)
        rounds.append((first[0], first[1] != every[1]))
    for c in np.arange(0.30, 1.0, 0.05):
        if not any(changed for best, changed in rounds if best >= c):
            stopped = sum(best >= c for best, _ in rounds) / max(1, len(rounds))
            return {"confident_answer": round(float(c), 2), "questions_decided_in_one_round": round(stopped, 3)}
    return {"confident_answer": 1.0, "questions_decided_in_one_round": 0.0}


def collect(args, models: dict[str, CachedModel]) -> list[dict]:
    harvested = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (docs, questions) in SETS.items():
            if name not in args.sets and not (args.tiny and name == "seeds"):
                continue
            picked = cases(questions, args.half)
            if args.per_kind:
                seen: dict = {}
                picked = [c for c in picked if seen.setdefault(c.get("kind"), []).append(c) or
                          len(seen[c.get("kind")]) <= args.per_kind]
            if args.tiny:
                if name != "seeds":
                    continue
                picked = picked[:args.tiny_cases]
            index = args.index if (args.index and name == "seeds") else (args.index_cache or Path(tmp)) / docs.name
            assistant = Assistant(Settings.load(index_dir=index))
            assistant.ingest([docs])
            memo: dict = {}
            for case in picked:
                harvested.append(harvest(assistant, case, models, memo))
            print(f"{name}: {len(picked)} tuning questions harvested", flush=True)
    for m in models.values():
        m.save()
    return harvested


def check(harvested: list[dict], fitted: Path) -> dict:
    """A fitted file's outcome on harvested questions (the reporting half): what bench/answer.py would count."""
    data = json.loads(fitted.read_text(encoding="utf-8"))
    x, y, owner = matrix(harvested, "context" if data.get("context_input") else "plain")
    w = np.array([data["weights"].get(f, 0.0) for f in FEATURES])
    p = 1.0 / (1.0 + np.exp(-(x @ w + data["bias"])))
    policy_file = fitted.parent / POLICY_FILE.name
    threshold = json.loads(policy_file.read_text(encoding="utf-8"))["answer_threshold"] if policy_file.exists() \
        else data["threshold"]
    return outcome_figures(harvested, *best_sentences(harvested, p, y, owner), threshold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiny", action="store_true", help="a few seed questions only: checks the script runs")
    parser.add_argument("--tiny-cases", type=int, default=6)
    parser.add_argument("--per-kind", type=int, default=0, help="at most this many questions of each kind a set")
    parser.add_argument("--sets", nargs="+", default=list(FITTED_ON), choices=sorted(SETS), help="question sets to fit on")
    parser.add_argument("--half", default="tune", choices=("tune", "report"), help="report: harvest the reporting "
                        "half to measure a fitted file (--check FILE), never to fit")
    parser.add_argument("--check", type=Path, help="measure this fitted file on the harvested questions; fit nothing")
    parser.add_argument("--compare-context", action="store_true")
    parser.add_argument("--false-abstention", type=float, default=0.10, help="the cap on tuning false abstention")
    parser.add_argument("--folds", type=int, default=5, help="folds by article for the out-of-fold threshold")
    parser.add_argument("--harvested", type=Path, help="keep the harvested candidates in this file between runs (delete it after changing the retriever)")
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    parser.add_argument("--index", type=Path, help="an index of the seed articles to reuse")
    parser.add_argument("--index-cache", type=Path, help="keep the indexes here between runs")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "assistant-fit-cache")
    args = parser.parse_args()
    t0 = time.perf_counter()
    models = {"plain": CachedModel("model", AnswerModel(ANSWER_MODEL_DIR), args.cache)}
    if args.compare_context:
        models["context"] = CachedModel("model-context", context_model(), args.cache)
    if args.harvested and args.harvested.exists():
        harvested = json.loads(args.harvested.read_text())
    else:
        harvested = collect(args, models)
        if args.harvested:
            args.harvested.write_text(json.dumps(harvested))
    if args.check:
        print(json.dumps(check(harvested, args.check), indent=1))
        return
    compared = {name: model_figures(harvested, name) for name in models}
    print(f"models alone on the tuning half: {compared}")
    chosen = max(compared, key=lambda n: (compared[n]["auc"] or 0) + compared[n]["top1"]) if args.compare_context else "plain"
    x, y, owner = matrix(harvested, chosen)
    weights, bias = fit_logistic(x, y)
    p = 1.0 / (1.0 + np.exp(-(x @ weights + bias)))
    oof = out_of_fold(harvested, x, y, owner, args.folds)
    oof_p, oof_ok = best_sentences(harvested, oof, y, owner)
    threshold = choose_threshold(harvested, oof_p, oof_ok, args.false_abstention)
    figures = {"out_of_fold": outcome_figures(harvested, oof_p, oof_ok, threshold),
               "in_sample": outcome_figures(harvested, *best_sentences(harvested, p, y, owner), threshold)}
    figures |= first_round_confidence(harvested, p, owner, Settings.load().sentence_budget)
    data = {"weights": {f: round(float(w), 5) for f, w in zip(FEATURES, weights)}, "bias": round(bias, 5),
            "context_input": chosen == "context",
            "fitted_on": f"the tune half of {', '.join(args.sets)} (bench/split.py)" + (" (--tiny)" if args.tiny else ""),
            "sentences": int(len(y)), "answer_sentences": int(y.sum()), "models_alone": compared,
            "tuning_figures": figures}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    thresholds = {"answer_threshold": float(f"{threshold:.5g}"), "confident_answer": figures["confident_answer"]}
    write_fitted(args.out.parent / POLICY_FILE.name, thresholds)
    print(json.dumps(data | thresholds, indent=1))
    print(f"wrote {args.out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
