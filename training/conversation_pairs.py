"""(conversation + question, sentence, label) pairs: the answer model learns to read a follow-up after the turn it
leans on.

The conversations are training/followup_data.py's (SQuAD 1.1 paragraphs, CC BY-SA 4.0: a paragraph's consecutive
questions, a later one saying its repeated subject as a pronoun, a description or not at all; a question of another
article as a change of topic). Each question is read exactly as the product reads it: question.followup.understand
over [previous question, question] with the sentence that answered the previous one as the answer shown, and
question.rewrite.conversation_input of the question and the query it gives. A follow-up is then scored as
"{question} || {the subject of the turn it leans on}"; a question that stands alone as typed.

For each question: the sentences of its paragraph that hold its answer are positive; up to three others negative,
the sentence that answered the previous question always among them (the sentence a follow-up was drawn back to).
A bare follow-up ("Why?") has no answer of its own in SQuAD and is left out. bench/public.py's conversations come
from another generator (training/conversations.py) and from the held-out articles, which are never used here.
"""
from __future__ import annotations

import random

from assistant.answering.model_input import titled
from assistant.question.followup import understand
from assistant.question.rewrite import conversation_input
from training.followup_data import paragraph_examples
from training.pairs import Pair, holds
from training.squad import Article, Paragraph


def answer_sentence(paragraph: Paragraph, answers: list[str]) -> str | None:
    return next((s for s in paragraph.sentences if holds(s, answers)), None)


def conversation_pairs(articles: list[Article], rng: random.Random, negatives: int = 3) -> list[Pair]:
    """Pairs from the conversations of these articles (all of them training articles)."""
    where: dict[str, tuple[Article, Paragraph, list[str]]] = {}
    for article in articles:
        for paragraph in article.paragraphs:
            for q in paragraph.questions:
                if q.answers:
                    where.setdefault(q.text.strip(), (article, paragraph, q.answers))
    pairs: list[Pair] = []
    for article in articles:
        for example in paragraph_examples(article, articles, rng):
            if example.kind == "bare" or example.standalone not in where or example.previous not in where:
                continue
            own, paragraph, answers = where[example.standalone]
            _, previous_paragraph, previous_answers = where[example.previous]
            shown = answer_sentence(previous_paragraph, previous_answers) or ""
            query = understand([example.previous, example.question], [shown])[-1].query
            first = conversation_input(example.question, query)
            right = [s for s in paragraph.sentences if holds(s, answers)]
            wrong = [s for s in paragraph.sentences if not holds(s, answers)]
            if not right or not wrong:
                continue
            rng.shuffle(wrong)
            if shown in wrong:  # the last turn's answer: the sentence a follow-up is drawn back to
                wrong.remove(shown)
                wrong.insert(0, shown)
            kind = f"conversation_{example.kind}" + ("_read_as_follow_up" if first != example.question else "")
            pairs += [Pair(first, titled(s, own.title), 1.0, 1.0, kind, own.title) for s in right]
            pairs += [Pair(first, titled(s, own.title), 0.0, 1.0, kind, own.title) for s in wrong[:negatives]]
    return pairs
