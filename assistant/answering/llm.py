"""An answerer backed by any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp, OpenAI).

The model sees the most relevant source sentences, each with an id ([S1], [S2], ...), fenced as untrusted data.
It writes short sentences ending with the ids they rest on; each id maps back to an exact document span, so a
citation is never text the model produced. What the model writes is only a claim: the Assistant verifies every
sentence against its spans and drops what they do not support.

Deltas are streamed with the [S#] ids taken out: the ids are the prompt's numbering, not the answer's citation
markers ([1], [2] in order of first use), which the Assistant assigns when a sentence is complete.
"""
from __future__ import annotations

import importlib.resources
import logging
import re
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator

from .drafts import Draft, Span
from ..ingest.chunking import chunk_sentences, sentence_spans
from ..config import Settings
from ..ingest.metadata import shown_date
from ..onnx_models import cross_encoder, sigmoid
from ..question.rewrite import scoring_query, user_turns
from ..schema import AssistantError, Message, Passage, messages
from .verify import STOPWORDS

log = logging.getLogger(__name__)

# The phrase the prompt asks for when the sources do not answer; detected (loosely) in the output.
ABSTAIN_PHRASE = "The sources do not contain the answer."
# Sizes of the prompt: the most relevant sentences (and the one before each, for context) go in.
MAX_PROMPT_SENTENCES = 12
# ... of those, only sentences the relevance cross-encoder does not rate as unrelated (a prompt budget: whether a
# cited sentence bears on the question is the verifier's answer-bearing check)
PROMPT_RELEVANCE_FLOOR = 0.05
OUTPUT_TOKENS_PER_SENTENCE = 60  # a short sentence and its ids, with room; bounds a small model's loops
_MARKER = r"\[\s*S?\s*\d+\s*(?:[,;]\s*S?\s*\d+\s*)*\]|\(\s*S\s*\d+\s*(?:[,;]\s*S\s*\d+\s*)*\)"
MARKER_RE = re.compile(_MARKER, re.IGNORECASE)
MARKER_RUN_RE = re.compile(rf"(?:\s*(?:{_MARKER}))*", re.IGNORECASE)
SPACED_MARKER_RE = re.compile(rf"[ \t]*(?:{_MARKER})", re.IGNORECASE)
ABSTAIN_RE = re.compile(
    r"\b(?:do|does|did)\s*(?:not|n't)\s+(?:contain|include|provide|mention|say|answer|state)\b"
    r"|\bno (?:information|answer|mention)\b|\bnot (?:mentioned|stated|provided)\b",
    re.IGNORECASE,
)
LEAD_RE = re.compile(r"^\s*(?:answer\s*:|[-*•]\s+|\d+[.)]\s+)+", re.IGNORECASE)


# -- prompts -------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def load_prompt(name: str) -> tuple[tuple[str, str], ...]:
    """prompts/NAME.txt as chat messages: its [system], [user] and [assistant] parts, in order."""
    text = importlib.resources.files("assistant.prompts").joinpath(f"{name}.txt").read_text(encoding="utf-8")
    parts = tuple((m.group(1), m.group(2).strip()) for m in re.finditer(
        r"^\[(system|user|assistant)\]\n(.*?)(?=^\[(?:system|user|assistant)\]\n|\Z)", text, re.S | re.M))
    if not parts or parts[-1][0] != "user":
        raise AssistantError(f"prompts/{name}.txt must end with a [user] part")
    return parts


def render(name: str, values: dict[str, str]) -> list[dict]:
    """The chat messages of a prompt with its placeholders filled."""
    return [{"role": role, "content": fill(text, values)} for role, text in load_prompt(name)]


def fill(template: str, values: dict[str, str]) -> str:
    """Replace {name} placeholders in one pass, so text put in (articles, questions) is never expanded again."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


def as_data(text: str) -> str:
    """Flatten untrusted text onto one line and defuse what could pass for our ids or fences."""
    text = re.sub(r"\s+", " ", text).strip()
    text = MARKER_RE.sub(lambda m: m.group(0).replace("[", "(").replace("]", ")"), text)
    return text.replace("<<<", "«").replace(">>>", "»")


# -- the client ----------------------------------------------------------------------------------
def base_url(settings: Settings) -> str:
    """The server's OpenAI base URL; a bare host:port gets the usual /v1."""
    from urllib.parse import urlsplit

    url = (settings.llm_base_url or "").strip().rstrip("/")
    if not url:
        raise AssistantError("no LLM server configured: set --llm-base-url (or ASSISTANT_LLM_BASE_URL)")
    if "://" not in url:
        url = "http://" + url
    if urlsplit(url).path in ("", "/"):
        url += "/v1"
    return url


@lru_cache(maxsize=8)
def _client(url: str, api_key: str, timeout: float, retries: int):
    import openai

    # read timeout bounds each wait for the next streamed chunk; the whole answer is bounded in LlmAnswerer.
    return openai.OpenAI(base_url=url, api_key=api_key, max_retries=retries,
                         timeout=openai.Timeout(timeout, connect=min(timeout, 10.0)))


def client(settings: Settings, retries: int | None = None):
    return _client(base_url(settings), settings.llm_api_key or "not-needed", float(settings.llm_timeout),
                   settings.llm_retries if retries is None else retries)


def server_error(exc: Exception, settings: Settings, answering: bool = False) -> AssistantError:
    """One line for the user that says what went wrong with the server (answering: after its answer had begun)."""
    import openai

    url = base_url(settings)
    if isinstance(exc, openai.APITimeoutError):
        return AssistantError(f"the LLM server at {url} did not answer within {settings.llm_timeout:g} s")
    if isinstance(exc, openai.APIConnectionError) and answering:
        return AssistantError(f"the LLM server at {url} broke off its answer ({_short(exc.__cause__ or exc)})")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return AssistantError(f"cannot reach the LLM server at {url} ({_short(cause)})")
    if isinstance(exc, openai.AuthenticationError):
        return AssistantError(f"the LLM server at {url} rejected the API key (HTTP 401)")
    if isinstance(exc, openai.NotFoundError):
        return AssistantError(f"the LLM server at {url} has no model {settings.llm_model!r} or no chat endpoint (HTTP 404)")
    if isinstance(exc, openai.APIStatusError):
        return AssistantError(f"the LLM server at {url} answered HTTP {exc.status_code}: {_short(exc)}")
    return AssistantError(f"the LLM server at {url} sent a response that could not be read ({_short(exc)})")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


_MODELS: dict[str, str] = {}


def model_name(settings: Settings) -> str:
    """--llm-model, else the first model the server lists (llama.cpp, vLLM and Ollama serve what they loaded)."""
    if settings.llm_model:
        return settings.llm_model
    url = base_url(settings)
    if url not in _MODELS:
        import openai

        try:
            models = client(settings).models.list().data
        except (openai.OpenAIError, ValueError) as exc:
            raise server_error(exc, settings) from exc
        if not models:
            raise AssistantError(f"the LLM server at {url} lists no model; set --llm-model")
        _MODELS[url] = models[0].id
    return _MODELS[url]


# -- the answerer --------------------------------------------------------------------------------
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
        if not sources or max(s.relevance for s in sources) < self.settings.support_threshold:
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


def _chunks(stream, parser: "SentenceParser") -> Iterator[str | None]:
    """The text pieces of a chat completion stream, then None at its end."""
    for event in stream:
        for choice in getattr(event, "choices", None) or []:
            piece = getattr(choice.delta, "content", None) if choice.delta else None
            if piece:
                parser.feed(piece)
                yield piece
    yield None


def clean(raw: str) -> str:
    """An answer sentence as shown: ids, list bullets and 'Answer:' taken off, spacing tidied."""
    text = SPACED_MARKER_RE.sub("", raw)
    text = LEAD_RE.sub("", text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def _plain_words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


class SentenceParser:
    """Cut streamed text into sentences, each with the ids written after it, as soon as each is complete.

    A sentence is complete when the next one has begun: its ids may come after its full stop ("... 2018. [S4]"),
    so the cut falls after the run of ids that follows it.
    """

    def __init__(self):
        self.text = ""
        self.done = 0  # text[:done] has been handed out

    def feed(self, piece: str) -> None:
        self.text += piece

    @property
    def usable(self) -> bool:
        return bool(re.search(r"[A-Za-z]{2}", clean(self.text)))

    def sentences(self, final: bool = False) -> list[str]:
        out: list[str] = []
        while True:
            rest = self.text[self.done:]
            spans = sentence_spans(rest)
            if not spans or (len(spans) == 1 and not final):
                break
            if len(spans) == 1:
                out.append(rest[spans[0][0]:])
                self.done = len(self.text)
                break
            cut = MARKER_RUN_RE.match(rest, spans[0][1]).end()
            if not final and not _begun(rest[cut:]):
                break
            out.append(rest[spans[0][0]:cut])
            self.done += cut
        return [s for s in out if s.strip()]


def _begun(following: str) -> bool:
    """Has a new sentence begun in this text (rather than more ids, perhaps still arriving)?"""
    m = re.match(r"\s*(\S)", following)
    if not m:
        return False
    if m.group(1) in "[(" and not re.search(r"[\])]", following):
        return False  # maybe an id still arriving
    # the next word must be whole: Punkt reads "U.S. A" as two sentences and "U.S. Army" as one
    return bool(re.match(r"\s*\S+\s", following))


class DeltaFilter:
    """Take [S#] ids out of streamed text without cutting one that arrives in pieces."""

    def __init__(self):
        self.pending = ""

    def feed(self, piece: str) -> str:
        self.pending += piece
        hold = len(self.pending)
        # keep back an unclosed bracket (maybe an id still arriving) and trailing spaces (maybe before an id)
        opening = max(self.pending.rfind("["), self.pending.rfind("("))
        if opening >= 0 and not re.search(r"[\]\)]", self.pending[opening:]) and len(self.pending) - opening <= 16:
            hold = opening
        head = self.pending[:hold]
        stripped = head.rstrip(" \t")
        hold = len(stripped)
        out = SPACED_MARKER_RE.sub("", self.pending[:hold])
        self.pending = self.pending[hold:]
        return out

    def flush(self) -> str:
        out, self.pending = SPACED_MARKER_RE.sub("", self.pending), ""
        return out


# -- follow-up rewriting -------------------------------------------------------------------------
def condense_with_llm(question: str, history: Iterable[Message | dict], settings: Settings) -> str:
    """A standalone form of a follow-up question, written by the LLM from the conversation; on any failure the
    question unchanged (rewriting helps retrieval, it must never stop an answer)."""
    import openai

    turns = [m for m in messages(history) if m.role in ("user", "assistant") and m.content.strip()]
    if not turns or not settings.llm_base_url:
        return question
    lines = []
    for m in turns[-6:]:
        content = as_data(MARKER_RE.sub("", m.content))
        if len(content) > 600:
            content = content[:600] + "..."
        lines.append(f"{'User' if m.role == 'user' else 'Assistant'}: {content}")
    values = {"history": "\n".join(lines), "question": as_data(question), "tag": secrets.token_hex(4)}
    try:
        response = client(settings, retries=min(1, settings.llm_retries)).chat.completions.create(
            model=model_name(settings), temperature=0.0, max_tokens=64, messages=render("condense", values),
        )
        text = (response.choices[0].message.content or "") if response.choices else ""
    except (openai.OpenAIError, AssistantError, ValueError):
        return question
    return _standalone(text, question)


def _standalone(text: str, question: str) -> str:
    """The model's rewrite if it looks like a rewrite of this question, else the question."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return question
    line = re.sub(r"^(?:standalone question|question|rewritten question)\s*:\s*", "", lines[0], flags=re.I)
    line = line.strip().strip('"“”').strip()
    if not re.search(r"[A-Za-z]{2}", line) or len(line) > 3 * len(question) + 200 or ABSTAIN_RE.search(line):
        return question
    words = {w for w in re.findall(r"[a-z0-9]+", question.casefold()) if w not in STOPWORDS and len(w) > 2}
    if words and not words & set(re.findall(r"[a-z0-9]+", line.casefold())):
        return question  # shares no content word with the question: an answer or a ramble, not a rewrite
    return line


class LlmRewriter:
    """The LLM's condense prompt for a (cleaned) follow-up question; a first question needs no rewriting."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def __call__(self, question: str, history: list[Message], assistant=None) -> str:
        if not user_turns(history):
            return question
        return condense_with_llm(question, history, self.settings)


def register(registry) -> None:
    registry.answerers.add("llm", LlmAnswerer)
    registry.rewriters.add("llm", LlmRewriter)
