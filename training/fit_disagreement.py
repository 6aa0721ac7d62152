"""Fit the disagreement model (assistant/disagreement.py) and report it on held-out articles; writes
assistant/models/disagreement.json.

The held-out set is built from public data: SQuAD paragraphs (../shared/data/qa) whose questions ask for a number,
a date or a name. For each question, the sentence holding its answer is document A's; document B holds one of:
- changed: the same statement with the asked value changed (a figure that moved between dated versions, or a
  planted wrong value under the same date), often cut to the words around the value (a report that words it
  differently) -> the sources disagree (label 1);
- restated: the same statement with the same value, dated the same or not -> they do not (label 0);
- other: another sentence of the article that gives a value of the same kind for something else -> they do not.
Articles are split in halves by bench/split.py's rule (squad_article_half): weights are fitted on the tuning half and
the rates printed are the reporting half's, per question: a disagreement reported for the changed case, invented for
the restated and other cases.

usage: python training/fit_disagreement.py [--tiny] [--per-half N] [--articles N] [--out FILE] [--cache FILE]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from assistant.answering.disagreement import FEATURES, WEIGHTS_FILE, asked_kind, pair_features, similarities, values  # noqa: E402
from assistant.answering.extractive import titled  # noqa: E402  (sentences are scored after their title, as the answerer does)
from assistant.onnx_models import answer_model  # noqa: E402
from split import squad_article_half  # noqa: E402
from training.squad import read_articles  # noqa: E402

DATES = ["2019-03", "2020-01", "2020-09", "2021-06", "2022-11", "2024-01", "2024"]
CASES = ("changed", "restated", "other")


def changed_value(shown: str, kind: str, rng: random.Random, names: list[str]) -> str | None:
    """shown (a value as written) changed to another of its kind, written the same way."""
    if kind == "name":
        others = [n for n in names if n.lower() != shown.lower()]
        return rng.choice(others) if others else None
    m = re.search(r"\d[\d,]*(?:\.\d+)?", shown)
    if not m:
        return None
    digits = m.group(0)
    if kind == "date":
        year = re.search(r"\d{4}", shown)
        if not year:
            return None
        new = str(int(year.group(0)) + rng.choice([-12, -7, -3, -2, -1, 1, 2, 4, 9]))
        return shown[:year.start()] + new + shown[year.end():]
    number = float(digits.replace(",", ""))
    new = number * rng.choice([0.4, 0.6, 0.75, 0.8, 1.2, 1.3, 1.6, 2.5])
    new = round(new) if "." not in digits else round(new, len(digits.split(".")[1]))
    if new == number:
        new = number + 1
    text = f"{new:,}" if "," in digits else f"{new:g}" if isinstance(new, float) else str(new)
    return shown[:m.start()] + text + shown[m.end():]


def window(sentence: str, value: str, rng: random.Random) -> str:
    """The words around value (a shorter report of the same statement), or the whole sentence."""
    at = sentence.find(value)
    if at < 0 or rng.random() < 0.4:
        return sentence
    words_before = sentence[:at].split()[-rng.randint(4, 9):]
    words_after = sentence[at + len(value):].split()[:rng.randint(3, 8)]
    return " ".join([*words_before, value, *words_after])


def build(articles, rng: random.Random, limit: int) -> list[dict]:
    """Cases: (question, kind, title, lead sentence, other sentence, dates, label, case)."""
    rows = []
    for article in articles:
        sentences = [s for p in article.paragraphs for s in p.sentences]
        names = [a for p in article.paragraphs for q in p.questions for a in q.answers[:1]
                 if values(a, "name") and asked_kind(q.text) == "name"]
        for paragraph in article.paragraphs:
            for q in paragraph.questions:
                kind = asked_kind(q.text)
                if kind == "any" or not q.answers:
                    continue
                answer = q.answers[0]
                lead = next((s for s in paragraph.sentences if answer in s), None)
                found = values(answer, kind)
                if lead is None or not found:
                    continue
                case = CASES[len(rows) % 3]
                date_a = rng.choice(DATES)
                if case == "changed":
                    new = changed_value(answer, kind, rng, names)
                    if new is None or new == answer:
                        continue
                    other = window(lead, answer, rng).replace(answer, new)
                elif case == "restated":
                    other = window(lead, answer, rng)
                else:
                    keys = {v.key for v in found}
                    pool = [s for s in sentences if s != lead and values(s, kind)
                            and not keys & {v.key for v in values(s, kind)}]
                    if not pool:
                        continue
                    other = rng.choice(pool)
                # dated alike in every case (a figure that moved between versions, a wrong value planted under the
                # same date, a restatement a year later): the date alone never says the sources disagree
                date_b = rng.choice([d for d in DATES if d != date_a]) if rng.random() < 0.6 else date_a
                rows.append({"question": q.text, "kind": kind, "title": article.title, "lead": lead, "other": other,
                             "date_lead": date_a, "date_other": date_b, "label": int(case == "changed"), "case": case})
                if len(rows) >= limit:
                    return rows
    return rows


def measure(rows: list[dict]) -> None:
    """Add the answer model's logits and the embedder's similarity to each row (the slow part; --cache keeps them)."""
    model = answer_model()
    for r in rows:
        if "similarity" not in r:
            r["logit_lead"], r["logit_other"] = model.score(r["question"], [titled(r["lead"], r["title"]),
                                                                          titled(r["other"], r["title"])])
            r["similarity"] = similarities(r["lead"], [r["other"]])[0]


def featurise(rows: list[dict]) -> np.ndarray:
    out = []
    for r in rows:
        f = pair_features(r["kind"], r["lead"], r["other"], r["logit_lead"], r["logit_other"], r["date_lead"],
                          r["date_other"], r["similarity"])
        out.append([f[name] for name in FEATURES])
    return np.array(out, dtype=float)


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 3000, rate: float = 0.5) -> tuple[np.ndarray, float]:
    """Logistic regression by gradient descent (a few features: nothing more is needed)."""
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        w -= rate * ((x.T @ (p - y)) / len(y) + l2 * w)
        b -= rate * float(np.mean(p - y))
    return w, b


def rates(rows: list[dict], p: np.ndarray, threshold: float) -> dict[str, float]:
    said = p >= threshold
    by_case = {c: [bool(s) for r, s in zip(rows, said) if r["case"] == c] for c in CASES}
    return {"reported_when_real": float(np.mean(by_case["changed"])) if by_case["changed"] else float("nan"),
            "invented_restated": float(np.mean(by_case["restated"])) if by_case["restated"] else float("nan"),
            "invented_other": float(np.mean(by_case["other"])) if by_case["other"] else float("nan"),
            "invented_when_none": float(np.mean(by_case["restated"] + by_case["other"])) if by_case["restated"] or by_case["other"] else float("nan"),
            "questions": {c: len(v) for c, v in by_case.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="a few questions: checks the script runs")
    parser.add_argument("--per-half", type=int, default=450, help="questions per half")
    parser.add_argument("--articles", type=int, default=40, help="SQuAD articles per half")
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    parser.add_argument("--cache", type=Path, help="keep the built cases and their model scores here (refits in seconds)")
    args = parser.parse_args()
    limit = 24 if args.tiny else args.per_half
    rng = random.Random(22)
    kept = {"tune": 0, "report": 0}

    def keep(title: str) -> bool:  # a few articles per half: sentence splitting is the slow part
        side = squad_article_half(title)
        kept[side] += 1
        return kept[side] <= (4 if args.tiny else args.articles)

    if args.cache and args.cache.exists():
        halves = json.loads(args.cache.read_text())
    else:
        articles = read_articles(keep=keep)
        halves = {side: build([a for a in articles if squad_article_half(a.title) == side], rng, limit)
                  for side in ("tune", "report")}
    for side, rows in halves.items():
        measure(rows)
    if args.cache:
        args.cache.write_text(json.dumps(halves))
    xs = {side: featurise(rows) for side, rows in halves.items()}
    y = np.array([r["label"] for r in halves["tune"]], dtype=float)
    w, b = fit(xs["tune"], y)
    threshold = 0.5
    p = {side: 1.0 / (1.0 + np.exp(-(xs[side] @ w + b))) for side in halves}
    report = rates(halves["report"], p["report"], threshold)
    tune = rates(halves["tune"], p["tune"], threshold)
    result = {"weights": {name: round(float(v), 4) for name, v in zip(FEATURES, w)}, "bias": round(b, 4),
              "threshold": threshold, "pool": 6,
              "fitted_on": "SQuAD articles of the tune half (bench/split.py squad_article_half), changed/restated/other "
                           "values" + (" (--tiny)" if args.tiny else ""),
              "tune": tune, "report": report}
    print(json.dumps(result, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
