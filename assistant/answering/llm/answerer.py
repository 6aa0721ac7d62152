"""The answerer backed by any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp, OpenAI).

The model sees the most relevant source sentences, each with an id ([S1], [S2], ...), fenced as untrusted data.
It writes short sentences ending with the ids they rest on; each id maps back to an exact document span, so a
citation is never text the model produced. What the model writes is only a claim: the Assistant verifies every
sentence against its spans and drops what they do not support.

Deltas are streamed with the [S#] ids taken out: the ids are the prompt's numbering, not the answer's citation
markers ([1], [2] in order of first use), which the Assistant assigns when a sentence is complete.
"""
from __future__ import annotations

import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Iterator

from .. import policy
from ..drafts import Draft, Span
from ...ingest.chunking import chunk_sentences
from ...config import Settings
from ...ingest.metadata import shown_date
from ...onnx_models import cross_encoder, sigmoid
from ...question.rewrite import scoring_query
from ...schema import AssistantError, Message, Passage, messages
from .prompts import as_data, render
from .client import base_url, client, model_name, server_error
from .stream import ABSTAIN_RE, DeltaFilter, MARKER_RE, SentenceParser, _chunks, _plain_words, clean

log = logging.getLogger(__name__)

# The phrase the prompt asks for when the sources do not answer; detected (loosely) in the output.
ABSTAIN_PHRASE = "The sources do not contain the answer."
# Sizes of the prompt: the most relevant sentences (and the one before each, for context) go in.
MAX_PROMPT_SENTENCES = 12
# ... of those, only sentences the relevance cross-encoder does not rate as unrelated (a prompt budget: whether a
# cited sentence bears on the question is the verifier's answer-bearing check)
PROMPT_RELEVANCE_FLOOR = 0.05
OUTPUT_TOKENS_PER_SENTENCE = 60  # a short sentence and its ids, with room; bounds a small model's loops


@dataclass
class Source:
    """One numbered sentence of the prompt."""

    span: Span
    relevance: float  # cross-encoder probability that it answers the question


class LlmAnswerer:
    name = "llm"
    uses_store = False
    may_fall_back = True  # a server that fails before its first sentence: the extractive answerer answers

    def __init__(self, settings: Settings):
        self.settings = settings
        base_url(settings)  # a missing URL is a configuration error, said now
        self.model = cross_encoder()

    def select(self, query: str, passages: list[Passage]) -> list[Source]:
        """The sentences worth showing the model: the most relevant ones and the sentence before each, grouped by
        document (best document first) in document order."""
        spans: list[Span] = []
        seen: set[tuple[str, int]] = set()
        for p in passages:
            c = p.chunk
            for a, b in chunk_sentences(c):
                key = (c.document_id, c.start + a)
                if key not in seen and c.text[a:b].strip():
                    seen.add(key)
                    spans.append(Span.within(c, c.start + a, c.start + b))
        if not spans:
            return []
        relevance = [sigmoid(x) for x in self.model.score(query, [s.text for s in spans])]
        ranked = sorted(range(len(spans)), key=lambda i: -relevance[i])
        keep = {i for i in ranked[:MAX_PROMPT_SENTENCES] if relevance[i] >= PROMPT_RELEVANCE_FLOOR} or {ranked[0]}
        # the sentence before a chosen one often names who "he" or "it" is
        by_position = sorted(range(len(spans)), key=lambda i: (spans[i].document_id, spans[i].start))
        for prev, cur in zip(by_position, by_position[1:]):
            if cur in keep and spans[prev].document_id == spans[cur].document_id:
                keep.add(prev)
        best_in_doc: dict[str, float] = {}
        for i in keep:
            best_in_doc[spans[i].document_id] = max(best_in_doc.get(spans[i].document_id, 0.0), relevance[i])
        order = sorted(keep, key=lambda i: (-best_in_doc[spans[i].document_id], spans[i].document_id, spans[i].start))
        return [Source(spans[i], relevance[i]) for i in order]

    def messages(self, question: str, query: str, sources: list[Source]) -> list[dict]:
        tag = secrets.token_hex(4)  # a fence an article cannot guess, so it cannot close the data block early
        lines, doc, n = [], None, 0
        for k, s in enumerate(sources, 1):
            if s.span.document_id != doc:
                doc, n = s.span.document_id, n + 1
                dated = f", dated {shown_date(s.span.date)}" if s.span.date else ", undated"
                lines.append(f'Document {n}: "{as_data(s.span.title or s.span.source)}"{dated}')
            # the id after the sentence, where the answer's ids go: small models copy the pattern they see
            lines.append(f"{as_data(s.span.text)} [S{k}]")
        asked = question if query.strip() == question.strip() else f"{question} (meaning: {query})"
        return render("answer", {"sources": "\n".join(lines), "question": as_data(asked), "tag": tag,
                                 "abstain": ABSTAIN_PHRASE, "max_sentences": str(self.settings.max_answer_sentences)})

    def answer(self, question: str, query: str, passages: list[Passage], history: list[Message]) -> Iterator[Draft]:
        # history reaches the model only through the standalone query: earlier answers are not evidence.
        # Sentences are scored as the extractive answerer scores them, so both abstain on the same evidence.
        sources = self.select(scoring_query(question, query), passages)
        if not policy.sources_answer([s.relevance for s in sources], self.settings):
            # abstention driven by the evidence: no sentence answers the question, so no model call at all
            yield Draft("abstain", "no passage answers the question")
            return
        yield from self.generate(self.messages(question, query, sources), sources)

    def generate(self, messages: list[dict], sources: list[Source]) -> Iterator[Draft]:
        """Stream the model's answer: deltas as they come, each sentence with its spans once it is complete.

        Sentences are claims, verified by the Assistant, which also stops reading (closing this generator and so the
        stream) once it has shown enough of them."""
        import openai

        settings = self.settings
        deadline = time.monotonic() + settings.llm_timeout
        parser, deltas = SentenceParser(), DeltaFilter()
        shown, parsed, seen_text = 0, 0, set()
        stream = None
        try:
            stream = client(settings).chat.completions.create(
                model=model_name(settings), messages=messages, stream=True, temperature=0.0,
                max_tokens=OUTPUT_TOKENS_PER_SENTENCE * settings.max_answer_sentences + 20,
            )
            for chunk in _chunks(stream, parser):
                for text in ([deltas.feed(chunk)] if chunk is not None else [deltas.flush()]):
                    if text:
                        yield Draft("delta", text)
                for raw in parser.sentences(final=chunk is None):
                    parsed += 1
                    if parsed > settings.max_answer_sentences + 3:
                        return  # a model that keeps going (small ones loop) has said what it will say
                    draft = self.draft(raw, sources)
                    if draft is None or draft.text.casefold() in seen_text:
                        continue  # empty, or a small model repeating itself
                    seen_text.add(draft.text.casefold())
                    if draft.kind == "abstain":
                        if shown == 0:
                            yield draft
                            return
                        continue  # "...the rest is not in the sources" after an answer: nothing to show
                    yield draft
                    shown += 1
                if time.monotonic() > deadline:
                    if shown:
                        return  # keep what was said in time
                    raise AssistantError(f"the LLM server at {base_url(settings)} did not answer within {settings.llm_timeout:g} s")
        except AssistantError:
            raise
        # the client wraps transport errors in OpenAIError, those while streaming too (APIConnectionError)
        except (openai.OpenAIError, ValueError) as exc:
            raise server_error(exc, settings, answering=stream is not None) from exc
        finally:
            if stream is not None:
                stream.close()  # stop the server generating what we no longer read
        if not parser.usable:
            raise AssistantError(f"the LLM server at {base_url(settings)} returned no usable text")

    def draft(self, raw: str, sources: list[Source]) -> Draft | None:
        """One finished answer sentence: its text without ids, and the spans its ids point to."""
        ids: list[int] = []
        for marker in MARKER_RE.findall(raw):
            for n in re.findall(r"\d+", marker):
                if 1 <= int(n) <= len(sources) and int(n) not in ids:
                    ids.append(int(n))
        text = clean(raw)
        if not re.search(r"\w", text):
            return None
        if _plain_words(ABSTAIN_PHRASE) in _plain_words(text) or (not ids and ABSTAIN_RE.search(text)):
            # a sentence with ids is a claim ("the report did not mention casualties [S3]"), not an abstention
            return Draft("abstain", "the LLM found no answer in the sources")
        # a claim resting on these spans: the verifier checks that each bears on the question (citing an unrelated
        # line, an injected "ignore previous instructions", supports no answer) and that they back its wording
        log.debug("sentence %r: ids %s", raw, ids)
        return Draft("sentence", text, [sources[n - 1].span for n in ids])
