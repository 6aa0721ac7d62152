"""Answers to repeated questions, per collection revision: intranet readers ask the same things again and again."""
from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Iterator

from ...schema import Answer, Message


class AnswerCache:
    """Answers keyed by (collection revision, answerer, question, history), least recently used dropped first.

    Concurrent identical questions share one computation (`pending`); any change of the collection starts afresh.
    The revision is read from Chroma for every question (one small read): replicas of this server on one Chroma
    server change the collection too, and none may answer from before a change another one has finished.
    """

    def __init__(self, assistant, size: int):
        self.assistant = assistant
        self.size = size
        self.answers: OrderedDict[tuple, Answer] = OrderedDict()
        self.pending: dict[tuple, asyncio.Future] = {}
        self._revision = None

    def stale(self) -> bool:
        return self.size > 0

    def refresh(self) -> None:
        """Read the collection's revision again (another process may have ingested); a blocking call."""
        try:
            revision = self.assistant.revision()
        except Exception:  # an unreadable collection caches nothing rather than failing the question
            revision = None
        # odd: a writer is half way (Store.commit_start): what is answered now must not outlive it
        revision = revision if revision is not None and revision % 2 == 0 else None
        if revision != self._revision and revision is not None:
            for key in [k for k in self.answers if k[0] != revision]:
                del self.answers[key]  # answers from an older revision can never be asked for again
        self._revision = revision

    def invalidate(self) -> None:
        """This server changed the collection: forget the answers at once."""
        self.answers.clear()

    def key(self, question: str, history: list[Message]) -> tuple | None:
        revision = self._revision if self.size > 0 else None
        if revision is None:
            return None
        norm = lambda t: " ".join(t.split()).casefold()  # noqa: E731
        return (revision, self.assistant.settings.answerer_name, norm(question),
                tuple((m.role, norm(m.content)) for m in history))

    def get(self, key: tuple | None) -> Answer | None:
        if key is None or key not in self.answers:
            return None
        self.answers.move_to_end(key)
        return self.answers[key]

    def put(self, key: tuple | None, answer: Answer) -> None:
        if key is None or answer.answerer != self.assistant.settings.answerer_name or not answer.complete:
            return  # a fallback or broken-off answer (the LLM server was down) should not outlive the outage
        self.answers[key] = answer
        self.answers.move_to_end(key)
        while len(self.answers) > self.size:
            self.answers.popitem(last=False)


def cached_events(answer: Answer) -> Iterator[dict]:
    """The stream events of an answer already made."""
    yield {"event": "query", "rewritten_query": answer.rewritten_query}
    seen: set[int] = set()
    by_marker = {c.marker: c for c in answer.citations}
    for sentence in answer.sentences:
        new = [by_marker[m] for m in sentence.citations if m not in seen and m in by_marker]
        seen.update(sentence.citations)
        yield {"event": "delta", "text": sentence.text}
        yield {"event": "sentence", "sentence": sentence, "citations": new}
    yield {"event": "done", "answer": answer}
