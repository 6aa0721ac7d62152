"""(question, sentence, label) pairs for the answer-bearing model, from the SQuAD files in ../shared/data/qa/.

Paragraphs are split with the product's own splitter (assistant.ingest.chunking.sentence_spans), so the model is
trained on the sentences it will score. For each answerable question every sentence that contains the answer
string is positive (README: answer_start may point at the wrong occurrence) and up to three other sentences of
its paragraph are negative. Unanswerable questions — real SQuAD 2.0 ones and synthetic ones made from answerable
questions (synthetic.py) — give up to six negatives of their paragraph, the sentence that looks like it answers
always among them, weighted more because they are the scarce, hard kind.

The split is by article: the held-out titles are written to heldout_articles.txt so that evaluation
(evaluate_model.py) only asks about articles the model never saw.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from training.squad import DATA_DIR, Article, Paragraph, Question, read_articles
from training.synthetic import unanswerable_variant

HELDOUT_FILE = Path(__file__).resolve().parent / "heldout_articles.txt"
HELDOUT_PERCENT = 8  # of the articles: ~35 of 442, with their questions, never trained on
# ... and of the 29 articles with real unanswerable questions, the scarce kind evaluation most needs
UNANSWERABLE_HELDOUT_PERCENT = 25
SECOND_SEGMENT_TOKENS = 128  # the second segment is cut here in training and in assistant.onnx_models.AnswerModel


@dataclass
class Pair:
    question: str
    text: str  # the second segment, formatted as in MODEL_CARD.md
    label: float
    weight: float
    kind: str
    article: str


def is_heldout(title: str, percent: int = HELDOUT_PERCENT) -> bool:
    """A stable split: the same article is held out on every machine and in every run."""
    return int(hashlib.sha1(title.encode()).hexdigest(), 16) % 100 < percent


def write_heldout(articles: list[Article], path: Path = HELDOUT_FILE) -> list[str]:
    real = {a.title for a in articles if any(not q.answers for p in a.paragraphs for q in p.questions)}
    titles = sorted(a.title for a in articles
                    if is_heldout(a.title, UNANSWERABLE_HELDOUT_PERCENT if a.title in real else HELDOUT_PERCENT))
    path.write_text("\n".join(titles) + "\n", encoding="utf-8")
    return titles


def read_heldout(path: Path = HELDOUT_FILE) -> set[str]:
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def second_segment(title: str, sentences: list[str], i: int, context: bool) -> str:
    """"{title}. {sentence}", and with context " || {previous sentence}" (none for a first sentence)."""
    text = f"{title}. {sentences[i]}"
    return f"{text} || {sentences[i - 1]}" if context and i > 0 else text


def holds(sentence: str, answers: list[str]) -> bool:
    return any(a and a in sentence for a in answers)


@dataclass
class PairOptions:
    negatives: int = 3  # other sentences of an answerable question's paragraph
    unanswerable_negatives: int = 6
    unanswerable_weight: float = 2.0
    synthetic_share: float = 0.35  # of answerable questions that also give a synthetic unanswerable variant
    context: bool = False  # the model-context variant: the previous sentence after " || "


def article_pairs(article: Article, options: PairOptions, rng: random.Random) -> list[Pair]:
    pairs: list[Pair] = []
    for p in article.paragraphs:
        for q in p.questions:
            if q.answers:
                pairs += _answerable(article, p, q, options, rng)
                if rng.random() < options.synthetic_share:
                    variant = unanswerable_variant(q, p, article, rng)
                    if variant:
                        pairs += _unanswerable(article, p, variant, options, rng)
            else:
                pairs += _unanswerable(article, p, q, options, rng)
    return pairs


def _answerable(article: Article, p: Paragraph, q: Question, options: PairOptions, rng: random.Random) -> list[Pair]:
    positive = [i for i, s in enumerate(p.sentences) if holds(s, q.answers)]
    if not positive:  # the answer crosses a sentence boundary: no sentence holds it alone
        return []
    others = [i for i in range(len(p.sentences)) if i not in positive]
    negative = rng.sample(others, min(options.negatives, len(others)))
    return ([_pair(article, p, q, i, 1.0, 1.0, options) for i in positive]
            + [_pair(article, p, q, i, 0.0, 1.0, options) for i in negative])


def _unanswerable(article: Article, p: Paragraph, q: Question, options: PairOptions, rng: random.Random) -> list[Pair]:
    # the sentence that looked like the answer is the hardest negative: always kept
    lookalike = [i for i, s in enumerate(p.sentences) if holds(s, q.plausible)]
    # a synthetic question names something new: a sentence that mentions it might answer it, so it is no negative
    others = [i for i, s in enumerate(p.sentences) if i not in lookalike and not holds(s, q.mentions)]
    chosen = lookalike[:options.unanswerable_negatives]
    chosen += rng.sample(others, min(options.unanswerable_negatives - len(chosen), len(others)))
    return [_pair(article, p, q, i, 0.0, options.unanswerable_weight, options) for i in chosen]


def _pair(article: Article, p: Paragraph, q: Question, i: int, label: float, weight: float,
          options: PairOptions) -> Pair:
    return Pair(q.text, second_segment(article.title, p.sentences, i, options.context), label, weight, q.kind,
                article.title)


def build_pairs(articles: list[Article], heldout: set[str], options: PairOptions, seed: int = 0
                ) -> tuple[list[Pair], list[Pair]]:
    """(training pairs, validation pairs): validation only from held-out articles."""
    rng = random.Random(seed)
    train: list[Pair] = []
    validation: list[Pair] = []
    for article in articles:
        (validation if article.title in heldout else train).extend(article_pairs(article, options, rng))
    rng.shuffle(train)
    return train, validation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument("--out", type=Path, help="write train.jsonl.gz and validation.jsonl.gz here")
    parser.add_argument("--context", action="store_true", help="the model-context variant of the second segment")
    parser.add_argument("--write-heldout", action="store_true", help=f"rewrite {HELDOUT_FILE.name} from the split")
    args = parser.parse_args()
    articles = read_articles(args.data)
    if args.write_heldout:
        print(f"{len(write_heldout(articles))} held-out articles written to {HELDOUT_FILE}")
    train, validation = build_pairs(articles, read_heldout(), PairOptions(context=args.context))
    for name, pairs in (("train", train), ("validation", validation)):
        counts = Counter((p.kind, int(p.label)) for p in pairs)
        print(name, len(pairs), "pairs;", ", ".join(f"{k} {'+' if y else '-'} {n}" for (k, y), n in sorted(counts.items())))
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            with gzip.open(args.out / f"{name}.jsonl.gz", "wt", encoding="utf-8") as f:
                f.writelines(json.dumps(asdict(p)) + "\n" for p in pairs)


if __name__ == "__main__":
    main()
