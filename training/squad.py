"""The SQuAD files of ../shared/data/qa/ as articles, paragraphs (split into the product's sentences) and questions."""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from assistant.ingest.chunking import sentence_spans

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "qa"
SQUAD_FILES = ("squad-1.1-train.json.gz", "squad-2.0-dev-unanswerable-19-articles.json.gz",
               "squad-2.0-train-first-10-articles.json.gz")


@dataclass
class Question:
    text: str
    answers: list[str]  # empty: unanswerable
    plausible: list[str] = field(default_factory=list)  # what looks like an answer (SQuAD 2.0, synthetic ones)
    kind: str = "answerable"  # answerable | unanswerable (real SQuAD 2.0) | a kind of synthetic.KINDS
    mentions: list[str] = field(default_factory=list)  # a synthetic question's new words: who mentions them may answer


@dataclass
class Paragraph:
    context: str
    sentences: list[str]
    questions: list[Question]


@dataclass
class Article:
    title: str  # as a reader writes it: "2008 Sichuan earthquake", not "2008_Sichuan_earthquake"
    paragraphs: list[Paragraph]


def read_articles(data_dir: Path = DATA_DIR, keep: Callable[[str], bool] = lambda title: True) -> list[Article]:
    """The articles of the three files whose title keep() accepts, merged by title (SQuAD 2.0's training
    paragraphs are SQuAD 1.1's). keep() runs before the sentence splitting, which takes most of the time."""
    by_title: dict[str, dict[str, list[Question]]] = {}
    for name in SQUAD_FILES:
        with gzip.open(data_dir / name, "rt", encoding="utf-8") as f:
            data = json.load(f)["data"]
        for article in data:
            if not keep(reader_title(article["title"])):
                continue
            paragraphs = by_title.setdefault(article["title"], {})
            for p in article["paragraphs"]:
                questions = paragraphs.setdefault(p["context"], [])
                seen = {q.text for q in questions}
                questions += [_question(qa) for qa in p["qas"] if qa["question"] not in seen]
    return [Article(reader_title(title), [Paragraph(context, sentences(context), qs)
                                              for context, qs in paragraphs.items()])
            for title, paragraphs in by_title.items()]


def reader_title(title: str) -> str:
    return title.replace("_", " ")


def _question(qa: dict) -> Question:
    if qa.get("is_impossible"):
        return Question(qa["question"], [], [a["text"] for a in qa.get("plausible_answers", [])], "unanswerable")
    return Question(qa["question"], sorted({a["text"] for a in qa["answers"]}))


def sentences(context: str) -> list[str]:
    return [context[a:b] for a, b in sentence_spans(context)]
