"""The embedded default answerer: no LLM; selects and cites the source sentences that answer the question."""
from __future__ import annotations

from typing import Iterator

from .answer import Draft, Span, register
from .chunking import sentence_spans
from .config import Settings
from .onnx_models import cross_encoder, sigmoid
from .schema import Passage


@register("extractive")
class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.model = cross_encoder()

    def candidates(self, passages: list[Passage]) -> list[Span]:
        seen, spans = set(), []
        for p in passages:
            c = p.chunk
            for a, b in sentence_spans(c.text):
                key = (c.document_id, c.start + a)
                if key in seen or len(c.text[a:b].split()) < 3:
                    continue
                seen.add(key)
                spans.append(Span.within(c, c.start + a, c.start + b))
        return spans

    def answer(self, question: str, query: str, passages: list[Passage], history: list[dict]) -> Iterator[Draft]:
        spans = self.candidates(passages)
        if not spans:
            return
        scores = self.model.score(query, [s.text for s in spans])
        ranked = sorted(zip(scores, range(len(spans))), reverse=True)
        best = ranked[0][0]
        if sigmoid(best) < self.settings.support_threshold:
            yield Draft("abstain", "no sentence answers the question")
            return
        for score, i in ranked[: self.settings.max_answer_sentences]:
            if score < best - 2.0:
                break
            text = spans[i].text.strip()
            yield Draft("delta", text)
            yield Draft("sentence", text, [spans[i]], sigmoid(score))
