"""Which of a sentence's values answers the question (assistant/answering/disagreement.asked_value), on SQuAD.

For SQuAD questions asking for a number, a date or a name (asked_kind) whose answer sentence gives two or more values
of that kind (the question's own values left out) and one of them is the answer, how often the value picked is the
answer: assistant.answering.disagreement.asked_value (the one whose removal, said as MASK, lowers the answer model's
score most), against the sentence's first value. Articles of one half of bench/split.py's rule (squad_article_half):
the mask word is chosen on "tune", the figures reported are "report"'s.

    python bench/asked_value.py --half tune --masks "it|...|someone|"
    python bench/asked_value.py --half report
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from assistant.answering.disagreement import REMOVED_VALUE, answer_values, asked_kind, asked_value, name_key, values  # noqa: E402
from assistant.answering.extractive import titled  # noqa: E402
from machine import machine  # noqa: E402
from split import squad_article_half  # noqa: E402
from training.squad import read_articles  # noqa: E402


def answer_keys(answer: str, kind: str) -> set[str]:
    keys = {v.key for v in values(answer, kind)}
    return keys | {name_key(answer)} | set(answer.lower().split()) if kind == "name" else keys


def cases(half: str, kind: str, per_kind: int, seed: int = 1) -> list[tuple]:
    rng = random.Random(seed)
    articles = read_articles(keep=lambda t: squad_article_half(t) == half and rng.random() < 0.5)
    out = []
    for article in articles:
        for paragraph in article.paragraphs:
            for q in paragraph.questions:
                if not q.answers or asked_kind(q.text) != kind:
                    continue
                sentence = next((s for s in paragraph.sentences if q.answers[0] in s), None)
                if sentence is None:
                    continue
                found = {}
                for v in answer_values(sentence, kind, q.text):
                    found.setdefault(v.key, v)
                keys = answer_keys(q.answers[0], kind)
                if len(found) >= 2 and keys & set(found):
                    out.append((article.title, q.text, sentence, list(found.values()), keys))
    return out[:per_kind]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=("tune", "report"), default="report")
    parser.add_argument("--masks", default=REMOVED_VALUE, help='"|"-separated words a removed value is said as')
    parser.add_argument("--per-kind", type=int, default=300)
    args = parser.parse_args()
    print("machine:", machine())
    for kind in ("number", "date", "name"):
        chosen = cases(args.half, kind, args.per_kind)
        first = sum(found[0].key in keys for *_, found, keys in chosen)
        for mask in args.masks.split("|"):
            right = 0
            for title, question, sentence, found, keys in chosen:
                scored = titled(sentence, title)
                picked = asked_value(question, scored, [v.shown for v in found], removed=mask)
                right += any(v.key in keys for v in found if v.shown == picked)
            print(f"{args.half} {kind:<6} {len(chosen)} questions: first value {first / len(chosen):.3f}, "
                  f"removal read by the answer model (as {mask!r}) {right / len(chosen):.3f}")


if __name__ == "__main__":
    main()
