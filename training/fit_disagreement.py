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
Neighbours (build_neighbours, label 0) are fitted on too, the tuning half's, and reported per asked kind.
A check never fitted on: definitional questions ("Who was <a person of the article>?") answered by two sentences about
that person that name others; a disagreement said there is invented (build_definitional).

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


def dates_of_two(rng: random.Random) -> tuple[str, str]:
    """Two documents' dates, different 60 % of the time: as build() dates its pairs (there the first is drawn before
    the case, so it keeps its own two lines and its draws)."""
    date_a = rng.choice(DATES)
    return date_a, rng.choice([d for d in DATES if d != date_a]) if rng.random() < 0.6 else date_a


def build_definitional(articles, rng: random.Random, limit: int) -> list[dict]:
    """A check of its own, never fitted on: "Who was <a person named in the article>?", answered by two sentences
    that both speak of that person and name other people or places (as every report on Soleimani names Iran and
    al-Muhandis). The sources do not disagree: they describe the same person (label 0)."""
    rows = []
    for article in articles:
        sentences = [s for p in article.paragraphs for s in p.sentences]
        named = {}
        for s in sentences:
            for v in values(s, "name"):
                if " " in v.shown:
                    named.setdefault(v.shown, []).append(s)
        for name, said in named.items():
            if len(said) < 2 or len(rows) >= limit:
                continue
            lead, *rest = said
            own = {v.key for v in values(lead, "name")}
            others = [s for s in rest if {v.key for v in values(s, "name")} - own - {name.lower()}]
            if not others:
                continue
            date_a, date_b = dates_of_two(rng)
            rows.append({"question": f"Who was {name}?", "kind": asked_kind(f"Who was {name}?"), "title": article.title,
                         "lead": lead, "other": rng.choice(others), "date_lead": date_a, "date_other": date_b,
                         "label": 0, "case": "definitional"})
    return rows


def build_neighbours(articles, rng: random.Random, limit: int) -> list[dict]:
    """A harder "no disagreement" case, as news reports of one event read: for a question whose answer sentence is
    the lead, the other is the sentence of the same paragraph that the answer model finds most likely to answer
    besides it and that gives other values of the asked kind (SQuAD paragraphs do not contradict themselves: label 0)."""
    model = answer_model()
    rows = []
    for article in articles:
        for paragraph in article.paragraphs:
            for q in paragraph.questions:
                kind = asked_kind(q.text)
                if kind in ("any", "description") or not q.answers or len(rows) >= limit:
                    continue
                answer = q.answers[0]
                lead = next((s for s in paragraph.sentences if answer in s), None)
                pool = [s for s in paragraph.sentences if s != lead and answer not in s and values(s, kind)]
                if lead is None or not values(answer, kind) or not pool:
                    continue
                logits = model.score(q.text, [titled(s, article.title) for s in pool])
                other = pool[max(range(len(pool)), key=logits.__getitem__)]
                date_a, date_b = dates_of_two(rng)
                rows.append({"question": q.text, "kind": kind, "title": article.title, "lead": lead, "other": other,
                             "date_lead": date_a, "date_other": date_b, "label": 0, "case": "neighbour"})
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
                          r["date_other"], r["similarity"], r["question"])
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


def invented_definitional(rows: list[dict], w: np.ndarray, b: float, threshold: float) -> dict:
    """How often a disagreement is said for a definitional question (it never should be): as asked_kind reads the
    question, and as the model did before it told a description from a name (every "who" asked for a name)."""
    if not rows:
        return {"questions": 0}
    kinds = [asked_kind(r["question"]) for r in rows]
    now = [0.0 if kind == "description" else float(1 / (1 + np.exp(-(x @ w + b))) >= threshold)
           for kind, x in zip(kinds, featurise([{**r, "kind": "name" if kind == "description" else kind}
                                                  for r, kind in zip(rows, kinds)]))]
    before = 1 / (1 + np.exp(-(featurise([{**r, "kind": "name", "question": ""} for r in rows]) @ w + b))) >= threshold
    return {"invented": round(float(np.mean(now)), 3), "invented_when_every_who_asked_a_name": round(float(np.mean(before)), 3),
            "read_as_description": round(kinds.count("description") / len(kinds), 3), "questions": len(rows)}


def invented_by_kind(rows: list[dict], w: np.ndarray, b: float, threshold: float) -> dict:
    """How often a disagreement is said where there is none, per asked kind (number, date, name)."""
    said = 1 / (1 + np.exp(-(featurise(rows) @ w + b))) >= threshold if rows else np.array([])
    out = {}
    for kind in ("number", "date", "name"):
        mine = [bool(s) for r, s in zip(rows, said) if r["kind"] == kind]
        out[kind] = {"invented": round(float(np.mean(mine)), 3) if mine else None, "questions": len(mine)}
    return out


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

    halves = json.loads(args.cache.read_text()) if args.cache and args.cache.exists() else {}
    if "definitional" not in halves:
        articles = read_articles(keep=keep)
        if "tune" not in halves:
            halves.update({side: build([a for a in articles if squad_article_half(a.title) == side], rng, limit)
                           for side in ("tune", "report")})
        definitional_rng = random.Random(2201)  # its own draws: the fitted cases stay those of earlier fits
        halves["definitional"] = {side: build_definitional([a for a in articles if squad_article_half(a.title) == side],
                                                           definitional_rng, limit // 3) for side in ("tune", "report")}
    if "neighbour" not in halves:
        articles = articles if "articles" in locals() else read_articles(keep=keep)
        neighbour_rng = random.Random(2202)
        halves["neighbour"] = {side: build_neighbours([a for a in articles if squad_article_half(a.title) == side],
                                                      neighbour_rng, limit // 3) for side in ("tune", "report")}
    checks = halves.pop("definitional")
    neighbours = halves.pop("neighbour")
    for rows in [*halves.values(), *checks.values(), *neighbours.values()]:
        measure(rows)
    if args.cache:
        args.cache.write_text(json.dumps({**halves, "definitional": checks, "neighbour": neighbours}))
    xs = {side: featurise(rows) for side, rows in halves.items()}
    # the tuning half's neighbours are fitted on too: without them, a sentence of the same event that names others
    # (every news report does) was taken for a disagreement
    fitted_rows = halves["tune"] + neighbours["tune"]
    y = np.array([r["label"] for r in fitted_rows], dtype=float)
    w, b = fit(featurise(fitted_rows), y)
    threshold = 0.5
    p = {side: 1.0 / (1.0 + np.exp(-(xs[side] @ w + b))) for side in halves}
    report = rates(halves["report"], p["report"], threshold)
    tune = rates(halves["tune"], p["tune"], threshold)
    result = {"weights": {name: round(float(v), 4) for name, v in zip(FEATURES, w)}, "bias": round(b, 4),
              "threshold": threshold, "pool": 6,
              "fitted_on": "SQuAD articles of the tune half (bench/split.py squad_article_half), changed/restated/other "
                           "values, and neighbours" + (" (--tiny)" if args.tiny else ""),
              "tune": tune, "report": report,
              "neighbour_check": {side: invented_by_kind(rows, w, b, threshold) for side, rows in neighbours.items()},
              "definitional_check": {side: invented_definitional(rows, w, b, threshold) for side, rows in checks.items()}}
    print(json.dumps(result, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
