"""The Assistant every front end calls: ingest, list and remove documents, ask with history, stream answers."""
from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .config import Settings
from .answering.disagreement import disagreement_note
from .ingest.metadata import shown_date
from .question.normalize import Cleaned, clean_question, normalize_question
from .question.rewrite import with_abandoned
from .registry import registry
from .index.retrieve import Retriever
from .schema import (Answer, AssistantError, Citation, DeltaEvent, Document, DoneEvent, Message, Passage, QueryEvent,
                     Sentence, SentenceEvent, StreamEvent, check_question, messages)
from .index.store import Store
from .answering import policy
from .answering.policy import ABSTAIN_TEXT
from .answering.verify import verify_sentence

History = Iterable["Message | dict"] | None
FALLBACK_ANSWERER = "extractive"  # embedded, needs no server: answers when one that may_fall_back fails


class Assistant:
    """One collection, one retriever, one answerer: ask(question, history) -> Answer.

    history: the earlier Messages, oldest first (an assistant Message may carry the Answer it showed, which the
    follow-up rewriter uses); OpenAI-style {"role", "content"} dicts are taken too. The question is cleaned
    (normalize.clean_question) once, here: the rewriter and the answerer get the cleaned question, and the rewriter
    the start it took back as the turn before it.
    """

    def __init__(self, settings: Settings | None = None, preload: bool = False):
        """preload: load the embedder's and the answerer's models in a thread while the index opens (for a process
        that is about to answer: opening the index imports chromadb, half a second of one core, and loading the
        models takes as long; on two cores the two overlap)."""
        self.settings = settings or Settings.load()
        self.check_settings(self.settings)
        self.embedder = registry.embedders.create(self.settings.embedder, self.settings)
        self._answerers: dict[str, Any] = {}
        self._made: dict[str, Any] = {}  # answerers made by the preload thread, not yet bound to the store
        self._preloading = self._preload() if preload else None
        self.store = Store(self.settings, self.embedder)
        self.retriever = Retriever(self.store, self.settings)
        self.rewriter = registry.rewriters.create(self.settings.rewriter_name, self.settings)
        self._write_lock = threading.Lock()

    def _preload(self) -> threading.Thread:
        def load() -> None:
            try:
                load_embedder = getattr(self.embedder, "load", None)
                if load_embedder is not None:
                    load_embedder()
                name = self.settings.answerer_name
                self._made[name] = registry.answerers.create(name, self.settings)
            except Exception:  # noqa: BLE001 - the same error comes back, and is reported, when the answer needs it
                pass

        # not a daemon: a process that exits while onnxruntime is still building a session (an ask that fails at
        # once) waits for it (a fraction of a second) instead of tearing the runtime down under it (abort)
        thread = threading.Thread(target=load, name="preload")
        thread.start()
        return thread

    @staticmethod
    def check_settings(settings: Settings) -> None:
        """ConfigError for a setting naming a part that is not registered, before any index is opened."""
        registry.fusions.factory(settings.fusion)

    # -- collection ----------------------------------------------------------------------------
    # ingesting imports the extractors: a process that only answers never loads them
    def ingest(self, paths: list[Path], progress: Callable[[int, int, str], None] | None = None, prune: bool = True,
               metadata: Path | None = None):
        """metadata: a metadata file (path,title,date,url) besides each folder's own metadata.csv / .jsonl."""
        from .ingest.pipeline import ingest

        with self._write_lock:
            return ingest([Path(p) for p in paths], self.store, self.settings, progress=progress, prune=prune,
                          metadata=Path(metadata) if metadata else None)

    def add_bytes(self, data: bytes, name: str):
        """Ingest one uploaded file (no folder to mirror); returns the ingest summary."""
        from .ingest.extract import SUPPORTED
        from .ingest.pipeline import FoundFile, ingest, upload_name
        from .server.uploads import UPLOAD_ROOT

        source = upload_name(name)  # '..' or a 300-byte name must not become the file's path: only its suffix does
        suffix = Path(source).suffix.lower()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / ("upload" + (suffix if suffix in SUPPORTED else ""))
            path.write_bytes(data)
            with self._write_lock:
                return ingest([], self.store, self.settings, files=[FoundFile(path, UPLOAD_ROOT, source)])

    def documents(self) -> list[Document]:
        return self.store.list_documents()

    def document(self, document_id: str) -> Document | None:
        return self.store.get_document(document_id)

    def remove(self, document_id: str) -> bool:
        with self._write_lock:
            self.store.commit_start()
            found = self.store.remove_document(document_id)
            self.store.commit()
            return found

    def revision(self) -> int:
        """The collection's revision: it changes whenever any process changes the collection (answers cached
        under one revision hold until the next)."""
        return self.store.revision()

    def status(self) -> dict[str, Any]:
        size = self.store.size_on_disk()
        return {
            "location": self.store.location,
            "backend": self.store.backend,
            "collection": self.settings.collection,
            "embedder": self.store.embedder_name or self.embedder.name,
            "dim": self.embedder.dim,
            "answerer": self.settings.answerer_name,
            "documents": self.store.documents.count(),
            "chunks": self.store.count_chunks(),
            "size_bytes": size,
        }

    # -- answering -----------------------------------------------------------------------------
    def answerer(self, name: str | None = None):
        name = name or self.settings.answerer_name
        if self._preloading is not None:
            self._preloading.join()
            self._preloading = None
        if name not in self._answerers:
            answerer = self._made.pop(name, None) or registry.answerers.create(name, self.settings)
            if answerer.uses_store:
                answerer.bind(self.store)
            self._answerers[name] = answerer
        return self._answerers[name]

    def clean(self, question: str) -> str:
        """The question without disfluencies, its misspelled words matched to the collection."""
        return normalize_question(question, self.store)

    def rewrite(self, question: str, history: History = None) -> str:
        """The standalone query retrieval uses for question after history."""
        return self._rewritten(clean_question(question, self.store), messages(history))

    def _rewritten(self, cleaned: Cleaned, history: list[Message]) -> str:
        """The query for a cleaned question, read after the earlier turns and the start it abandoned, if any."""
        return self.rewriter(cleaned.text, with_abandoned(history, cleaned), self.store)

    def retrieve(self, query: str, k: int | None = None) -> list[Passage]:
        """The passages for a standalone query (cleaned as a question is), best first: what a pipeline built around
        this index retrieves (assistant.llamaindex.AssistantRetriever)."""
        return self.retriever.retrieve(self.clean(check_question(query, self.settings.max_question_chars)), k)

    def check(self, text: str, question: str = "", passages: list[str] | None = None):
        """Which sentences of text the evidence backs: the passages given, else the collection (answering/check.py)."""
        from .answering.check import check_collection, check_passages, checked_input

        text, passages = checked_input(text, passages)
        if passages is not None:
            return check_passages(text, passages)
        return check_collection(text, lambda query, k: self.retriever.retrieve(self.clean(query), k), question)

    def ask(self, question: str, history: History = None) -> Answer:
        answer = None
        for event in self._events(question, history, live=False):
            if isinstance(event, DoneEvent):
                answer = event.answer
        assert answer is not None
        return answer

    def stream(self, question: str, history: History = None) -> Iterator[StreamEvent]:
        """Yield events as the answer forms: a QueryEvent, DeltaEvents (raw text as it is produced), a SentenceEvent
        once a sentence is complete and verified (its citations: those it introduces), and last a DoneEvent.
        Events come as the answerer produces them. An LLM that fails before its first event hands over to the
        extractive answerer (when configured to, said in answer.notice); one that fails later ends the answer with
        the sentences already shown and a notice, or raises AssistantError when none was.
        """
        return self._events(question, history, live=True)

    def _events(self, question: str, history: History, live: bool) -> Iterator[StreamEvent]:
        """stream()'s events; live: each is shown as it comes (else only the answer at the end counts)."""
        question = check_question(question, self.settings.max_question_chars)
        history = messages(history)
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        said = clean_question(question, self.store)
        cleaned = said.text
        query = self._rewritten(said, history)
        timings["rewrite_ms"] = (time.perf_counter() - t0) * 1000
        yield QueryEvent(query)
        t1 = time.perf_counter()
        passages = self.retriever.retrieve(query)
        timings["retrieve_ms"] = (time.perf_counter() - t1) * 1000
        answer = Answer(question=question, rewritten_query=query, passages=passages)
        answerer = self.answerer()
        answer.answerer = answerer.name
        t2 = time.perf_counter()
        yield from self._answered(answerer, cleaned, query, passages, history, answer, live)
        dated_notes(answer)
        if not answer.sentences:
            answer.abstained = True
            text = ABSTAIN_TEXT
            answer.sentences = [Sentence(text=text, citations=[], support=0.0, verdict="abstain")]
            yield DeltaEvent(text)
            yield SentenceEvent(answer.sentences[0], [])
        timings["answer_ms"] = (time.perf_counter() - t2) * 1000
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        answer.timings = timings
        yield DoneEvent(answer)

    def _answered(self, answerer, question, query, passages, history, answer: Answer, live: bool) -> Iterator[StreamEvent]:
        """The answerer's events as they come. If it fails before anything was shown, the extractive answerer takes
        over (when configured to); once part of its answer is shown, a failure ends the answer there with a notice:
        a second answer after half of the first would repeat it. If it wrote sentences and verification kept none,
        the extractive answerer answers too (the raw text shown as it was drafted is replaced, not repeated): "the
        articles do not say" would claim what nobody checked."""
        shown = False
        refused: list[str] = []  # the sentences it wrote that verification did not keep
        try:
            for event in self._answer_events(answerer, question, query, passages, history, answer, refused):
                shown = live
                yield event
        except AssistantError as exc:
            if not answerer.may_fall_back:
                raise
            if shown:
                if not answer.sentences:
                    raise  # only raw text was shown, none of it verified: there is no answer to end
                answer.notice = f"{exc}; the answer stops there"
                answer.complete = False
                return
            if not self.settings.llm_fallback:
                raise
            yield from self._fallen_back(str(exc), question, query, passages, history, answer)
            return
        if refused and not answer.sentences and answerer.may_fall_back:
            said = ("the LLM's answer could not be verified against the passages it cites" if len(refused) == 1 else
                    f"none of the {len(refused)} sentences the LLM wrote could be verified against the passages they cite")
            if self.settings.llm_fallback:
                yield from self._fallen_back(said, question, query, passages, history, answer)
            else:
                answer.notice = said

    def _fallen_back(self, why: str, question, query, passages, history, answer: Answer) -> Iterator[StreamEvent]:
        """The embedded extractive answerer's answer instead, saying why."""
        answer.notice = f"{why}; answered by the embedded extractive answerer instead"
        fallback = self.answerer(FALLBACK_ANSWERER)
        answer.answerer = fallback.name
        answer.sentences, answer.citations, answer.abstained = [], [], False
        yield from self._answer_events(fallback, question, query, passages, history, answer)

    def _answer_events(self, answerer, question, query, passages, history, answer: Answer,
                       refused: list[str] | None = None) -> Iterator[StreamEvent]:
        """Run an answerer, verify each sentence, number citations in order of first use (refused: gets the text of
        each sentence that verification does not keep)."""
        drafts = iter(answerer.answer(question, query, passages, history))
        asked = answer.question  # as typed: a sentence may use the question's words besides its spans'
        try:
            yield from self._verified(drafts, asked if query == asked else f"{asked} {query}", answer,
                                      [] if refused is None else refused)
        finally:
            close = getattr(drafts, "close", None)
            if close is not None:
                close()  # enough sentences shown, or the reader left: an LLM stream stops generating

    def _verified(self, drafts: Iterator, asked: str, answer: Answer, refused: list[str]) -> Iterator[StreamEvent]:
        """Each draft's event as it comes: deltas at once, a sentence once verified (asked: the question's words,
        which a sentence may use besides its spans'; refused: gets each sentence not kept)."""
        by_key: dict[tuple[str, int, int], Citation] = {}
        answer.confidence = None  # this answerer's own: a fallback answerer starts afresh
        for draft in drafts:
            if draft.kind == "delta":
                yield DeltaEvent(draft.text)
                continue
            if draft.kind == "abstain":
                answer.abstained = True
                answer.notice = answer.notice or draft.text
                answer.confidence = draft.score
                continue
            verdict = verify_sentence(draft, self.settings, asked)
            if not policy.kept(verdict.verdict):
                refused.append(draft.text)
                continue
            if draft.score is not None:  # the answer is as confident as its best shown sentence
                answer.confidence = max(draft.score, answer.confidence or 0.0)
            markers, new = [], []
            for span in verdict.spans:  # what it cites that bears on the question
                key = (span.document_id, span.start, span.end)
                if key not in by_key:
                    page = span.page
                    if page is not None:  # a PDF chunk carries the page it starts on; the span may lie on a later one
                        doc = self.store.get_document(span.document_id)
                        page = doc.page_at(span.start) if doc is not None else page
                    by_key[key] = Citation.of(span, len(by_key) + 1, page)
                    new.append(by_key[key])
                if by_key[key].marker not in markers:
                    markers.append(by_key[key].marker)
            text = draft.text.rstrip() + " " + "".join(f"[{m}]" for m in markers)
            sentence = Sentence(text=text, citations=markers, support=verdict.support, verdict=verdict.verdict,
                                probability=verdict.probability, values=list(getattr(draft, "values", []) or []))
            answer.sentences.append(sentence)
            answer.citations.extend(new)
            yield SentenceEvent(sentence, new)
            if len(answer.sentences) >= self.settings.max_answer_sentences:
                return


def dated_notes(answer: Answer) -> None:
    """When the answer's sentences give different values from different sources (Sentence.values, set by the
    answerer), a first sentence says so, listing each value with its source and date as the sentences order them
    (newest first), and answer.disagreement carries the grouping; an answer whose sources span time gets its newest
    date as answer.as_of, and says "as of" it."""
    cites = {c.marker: c for c in answer.citations}
    dates = {c.date for c in answer.citations if c.date}
    answer.as_of = max(dates) if len(dates) > 1 else ""
    groups, seen = [], set()
    for s in answer.sentences:
        if not s.values or not s.citations or s.citations[0] not in cites:
            continue
        c = cites[s.citations[0]]
        if c.document_id in seen:
            continue
        seen.add(c.document_id)
        groups.append({"values": s.values, "marker": c.marker, "document_id": c.document_id, "source": c.source,
                       "title": c.title, "date": c.date, "date_shown": shown_date(c.date), "url": c.url})
    if len(groups) > 1:
        answer.disagreement = groups
        markers = [g["marker"] for g in groups]
        answer.sentences.insert(0, Sentence(text=disagreement_note(groups) + " " + "".join(f"[{m}]" for m in markers),
                                            citations=markers,
                                            support=1.0, verdict="note"))
    elif answer.as_of and not answer.abstained:
        answer.sentences.append(Sentence(text=f"(As of {shown_date(answer.as_of)}, the date of its newest source.)",
                                         citations=[], support=1.0, verdict="note"))
