"""The Gradio chat page: streamed cited answers, a sources panel that opens the exact cited span, collection management.

Everything that comes from articles or answers is rendered by this module as HTML with html.escape, so an
article holding <script> or <img onerror=...> shows as text. ChatUI.create_app() is self-contained (its stylesheet is
injected by a component's `head`), so it looks right however it is mounted; mount_options() adds the theme
with system fonts so that the page loads nothing but its own files.
"""
from __future__ import annotations

import html
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from .access import change_refusal, page_caller
from ..config import Settings
from ..schema import Answer, AssistantError, Citation, Document, Message, Sentence, shown_probability
from .uploads import UploadTally

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
UPLOAD_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"]
CONTEXT_CHARS = 100  # text shown either side of a cited span in the sources panel
EXAMPLES = 4  # example questions offered under the chat
EXAMPLE_DOCS = 40  # documents read to draw them from
DELTA_REFRESH_S = 0.15  # raw-text updates between verified sentences are sent at most this often

SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]

# Clicks on markers, sources and examples are delegated to the component root and sent to Python as events.
CLICK_JS = """
element.addEventListener('click', (e) => {
  const b = e.target.closest('[data-cite], [data-example]');
  if (!b || !element.contains(b)) return;
  e.preventDefault();
  if (b.dataset.example !== undefined) { trigger('click', {example: b.dataset.example}); return; }
  document.querySelectorAll('.aui-cite.active, .aui-src.active').forEach((x) => x.classList.remove('active'));
  b.classList.add('active');
  trigger('click', {turn: Number(b.dataset.turn), cite: b.dataset.cite});
});
"""
# After the viewer re-renders, bring the highlighted span into the middle of its scroll box.
SCROLL_JS = """
const show = () => {
  const m = element.querySelector('mark.aui-hl');
  const box = element.querySelector('.aui-doc-scroll');
  if (!m || !box) return;
  box.scrollTop += m.getBoundingClientRect().top - box.getBoundingClientRect().top - box.clientHeight / 3;
  const r = element.getBoundingClientRect();
  if (r.top < 0 || r.top > window.innerHeight - 80) element.scrollIntoView({block: 'start', behavior: 'smooth'});
};
watch('value', () => requestAnimationFrame(show));
show();
"""


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


# -- conversation state ------------------------------------------------------------------------
@dataclass
class ChatTurn:
    """One question and its answer as it forms; the finished Answer object is kept for follow-ups."""

    question: str
    query: str = ""
    sentences: list[Sentence] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    pending: str = ""  # raw text produced but not yet verified
    answer: Answer | None = None
    error: str = ""

    @property
    def done(self) -> bool:
        return self.answer is not None or bool(self.error)

    def view(self) -> tuple[list[Sentence], list[Citation]]:
        if self.answer is not None:
            return self.answer.sentences, self.answer.citations
        return self.sentences, self.citations


def history_of(turns: list[ChatTurn]) -> list[Message]:
    """The finished turns as Assistant history: assistant messages carry their Answer."""
    return [m for t in turns if t.answer is not None for m in Message.exchange(t.question, t.answer)]


# -- rendering (every piece of text goes through esc) -------------------------------------------
VERDICT_TITLES = {  # after the verdict in plain words (Sentence.verdict_words)
    "supported": "the answer-bearing model is confident it answers the question, and the cited text backs it",
    "uncertain": "the answer-bearing model doubts it answers the question; check the source",
    "weak": "its wording goes beyond the cited text; check the source",
}


def render_sentence(turn_no: int, s: Sentence, cites: dict[int, Citation]) -> str:
    verdict = s.verdict if s.verdict in VERDICT_TITLES else "other"
    # Buttons come from the sentence's citation list only: "[1]" inside quoted article text stays text.
    out = [f'<span class="aui-stext">{esc(s.body)}</span>'] if s.body else []
    for n in s.citations:
        c = cites.get(n)
        if c is None:
            out.append(esc(f"[{n}]"))
        else:
            out.append(f'<button class="aui-cite v-{verdict}" data-turn="{turn_no}" data-cite="m{n}" '
                       f'title="Open [{n}] {esc(c.title or c.source)}">[{n}]</button>')
    said = s.verdict_words()
    title = f"{said[:1].upper()}{said[1:]}: {VERDICT_TITLES[verdict]}" if said and verdict in VERDICT_TITLES else ""
    if said and verdict != "supported":  # doubt is said where the sentence is, not only on hover
        out.append(f' <span class="aui-doubt">{esc(said)}</span>')
    return f'<span class="aui-sent v-{verdict}" title="{esc(title)}">{"".join(out)}</span>'


def render_turn(turn_no: int, t: ChatTurn) -> str:
    sentences, citations = t.view()
    cites = {c.marker: c for c in citations}
    state = "done" if t.done else "streaming"
    parts = [f'<div class="aui-turn" data-turn="{turn_no}" data-state="{state}">',
             f'<div class="aui-q">{esc(t.question)}</div>', '<div class="aui-a">']
    answer = t.answer
    said = [s for s in sentences if s.verdict != "abstain"]
    if t.error == EMPTY_COLLECTION:
        parts.append(EMPTY_COLLECTION)
    elif t.error:
        parts.append(f'<p class="aui-error">Could not answer: {esc(t.error)}</p>')
    elif answer is not None and answer.abstained:
        abstain = " ".join(s.text for s in sentences if s.verdict == "abstain") or "The articles do not say."
        parts.append('<div class="aui-abstain"><span class="aui-badge">Not in the articles</span>'
                     f'<p><span class="aui-sent v-abstain">{esc(abstain)}</span></p>')
        if said:
            parts.append('<div class="aui-related">What the articles do say:<p>'
                         + " ".join(render_sentence(turn_no, s, cites) for s in said) + "</p></div>")
        elif answer.passages:
            items = []
            for i, p in enumerate(answer.passages[:2]):
                snippet = p.chunk.text[:180].rsplit(" ", 1)[0] + ("…" if len(p.chunk.text) > 180 else "")
                items.append(f'<li><button class="aui-link" data-turn="{turn_no}" data-cite="p{i}">'
                             f'{esc(p.chunk.title or p.chunk.source)}</button>: “{esc(snippet)}”</li>')
            parts.append('<div class="aui-related">The closest passages (they do not answer it):<ul>'
                         + "".join(items) + "</ul></div>")
        parts.append("</div>")
    else:
        body = " ".join(render_sentence(turn_no, s, cites) for s in sentences)
        if t.pending.strip():
            body += f' <span class="aui-pending aui-typing">{esc(t.pending.strip())}</span>'
        elif not t.done:
            body += ' <span class="aui-pending aui-typing">' + ("Reading the articles" if t.query else "Searching") + "</span>"
        parts.append(f"<p>{body}</p>")
    parts.append(render_footer(t, said))
    parts.append("</div></div>")
    return "".join(parts)


def render_verdicts(said: list[Sentence]) -> str:
    """The answer's overall verdict: "✓" only when the model is confident of every sentence."""
    doubted = [s for s in said if s.verdict != "supported"]
    if doubted:
        words = doubted[0].verdict_words() if len(said) == 1 else f"{len(doubted)} of {len(said)} sentences not confidently supported"
        return ('<span class="aui-verdicts some-weak" title="Underlined sentences may not answer the question or are '
                f'only partly backed by their sources">{esc(words)}</span>')
    lowest = min((s.probability for s in said if s.probability is not None), default=None)
    sure = f" (p {'≥ ' if len(said) > 1 else ''}{shown_probability(lowest)})" if lowest is not None else ""
    return ('<span class="aui-verdicts all-ok" title="Every sentence was checked against the text it cites">'
            f'✓ {"every sentence likely answers" if len(said) > 1 else "likely answers"}{sure}, supported by its source</span>')


def render_footer(t: ChatTurn, said: list[Sentence]) -> str:
    if not t.done or t.error:
        return ""
    answer = t.answer
    bits = []
    if said and not answer.abstained:
        bits.append(render_verdicts(said))
        if answer.notice:
            bits.append(f'<span class="aui-notice">{esc(answer.notice)}</span>')
    details = [f'searched for <span class="aui-query">{esc(answer.rewritten_query or t.question)}</span>']
    if answer.abstained and answer.notice:
        details.append(f"why: {esc(answer.notice)}")
    total = answer.timings.get("total_ms")
    if total is not None:
        details.append(f"{esc(answer.answerer or '')} · {total / 1000:.1f} s")
    bits.append('<details class="aui-details"><summary>search query</summary>' + "<br>".join(details) + "</details>")
    return '<div class="aui-foot">' + "".join(bits) + "</div>"


def render_chat(turns: list[ChatTurn]) -> str:
    if not turns:
        return ('<div class="aui-chat"><div class="aui-empty">Ask a question about the articles. Every sentence of the '
                "answer cites its source: click a marker such as <b>[1]</b> to read the exact words in the article."
                "</div></div>")
    return '<div class="aui-chat">' + "".join(render_turn(i, t) for i, t in enumerate(turns)) + "</div>"


def span_context(c: Citation, text: str, offset: int) -> str:
    """The cited span marked inside the text around it; text starts at document offset `offset`."""
    a, b = c.start - offset, c.end - offset
    if not (0 <= a <= b <= len(text)):
        return f"<mark>{esc(c.text)}</mark>"
    lo, hi = max(0, a - CONTEXT_CHARS), min(len(text), b + CONTEXT_CHARS)
    if lo > 0:
        lo = text.find(" ", lo, a) + 1 or lo
    if hi < len(text):
        hi = text.rfind(" ", b, hi) if text.rfind(" ", b, hi) > b else hi
    return ("…" if lo > 0 else "") + esc(text[lo:a]) + f"<mark>{esc(text[a:b])}</mark>" + esc(text[b:hi]) + ("…" if hi < len(text) else "")


def render_sources(turn_no: int | None, t: ChatTurn | None, active: str = "") -> str:
    head = "<h3>Sources</h3>"
    if t is None:
        return f'<div class="aui-sources">{head}<p class="aui-hint">The articles an answer cites are listed here.</p></div>'
    sentences, citations = t.view()
    if not citations:
        hint = "Waiting for the first cited sentence…" if not t.done else "This answer cites no article."
        return f'<div class="aui-sources">{head}<p class="aui-hint">{hint}</p></div>'
    chunks = {p.chunk.id: p.chunk for p in (t.answer.passages if t.answer else [])}
    verdicts = {m: s.verdict for s in sentences for m in s.citations}
    by_document: dict[str, list[Citation]] = {}
    for c in citations:  # one card per article, in the order the answer first cites them
        by_document.setdefault(c.document_id, []).append(c)
    cards = []
    for cited in by_document.values():
        spans = []
        for c in cited:
            ch = chunks.get(c.chunk_id)
            ctx = span_context(c, ch.text, ch.start) if ch else f"<mark>{esc(c.text)}</mark>"
            cls = "aui-src active" if active == f"m{c.marker}" else "aui-src"
            page = f'<span class="aui-src-meta">page {c.page}</span>' if c.page else ""
            spans.append(f'<button class="{cls}" data-turn="{turn_no}" data-cite="m{c.marker}" title="Open the article at this span">'
                         f'<span class="aui-src-marker v-{esc(verdicts.get(c.marker, ""))}">[{c.marker}]</span>{page}'
                         f'<span class="aui-src-ctx">{ctx}</span></button>')
        first = cited[0]
        # the file name under the title, unless the title is the file name (a text without a heading)
        meta = [first.source] if (first.title or first.source) not in (first.source, Path(first.source).stem) else []
        meta += [f"{len(cited)} cited passages"] if len(cited) > 1 else []
        meta_html = f'<span class="aui-src-meta">{esc(" · ".join(meta))}</span>' if meta else ""
        cards.append(f'<div class="aui-src-card" data-document="{esc(first.document_id)}"><div class="aui-src-head">'
                     f'<span class="aui-src-title">{esc(first.title or first.source)}</span>{meta_html}</div>{"".join(spans)}</div>')
    return f'<div class="aui-sources">{head}<div class="aui-src-list">' + "".join(cards) + "</div></div>"


VIEWER_HINT = ('<div class="aui-viewer"><h3>Article</h3><p class="aui-hint">Click a marker or a source to read the whole '
               "article here, with exactly the cited words highlighted.</p></div>")


def render_document(doc: Document, start: int, end: int, label: str) -> str:
    """The whole document text with exactly [start, end) inside <mark class="aui-hl">; PDF page breaks shown."""
    text = doc.text
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    cuts = sorted({0, start, end, len(text), *[p for p in doc.pages[1:] if 0 < p < len(text)]})
    page_starts = set(doc.pages[1:]) if doc.pages else set()
    out = []
    for a, b in zip(cuts, cuts[1:]):
        if a in page_starts:
            out.append(f'<span class="aui-page" data-page="{doc.page_at(a)}"></span>')
        if start <= a < end:
            out.append(f'<mark class="aui-hl" data-start="{start}" data-end="{end}">{esc(text[a:b])}</mark>')
        else:
            out.append(esc(text[a:b]))
    # A span crossing a page break is split in two marks above; merge them so that one element holds it all.
    body = "".join(out)
    body = re.sub(r'</mark>(<span class="aui-page" data-page="\d+"></span>)<mark class="aui-hl"[^>]*>', r"\1", body)
    page = doc.page_at(start)
    meta = esc(doc.source) + (f" · PDF page {page} of {len(doc.pages)}" if page else "") + f" · characters {start}–{end}"
    return (f'<div class="aui-viewer"><h3>{esc(label)} {esc(doc.title or doc.source)}</h3>'
            f'<div class="aui-doc-meta">{meta}</div><div class="aui-doc-scroll"><div class="aui-doc-text" '
            f'data-document="{esc(doc.id)}">{body}</div></div></div>')


def render_documents(docs: list[Document]) -> str:
    if not docs:
        return '<p class="aui-hint">The collection is empty: add articles on the right.</p>'
    rows = "".join(
        f"<tr><td>{esc(d.title or d.source)}</td><td>{esc(d.source)}</td><td class='num'>{d.chunks}</td>"
        f"<td>{esc(d.ingested_at.replace('T', ' ').replace('+00:00', ' UTC'))}</td></tr>"
        for d in sorted(docs, key=lambda d: (d.title or d.source).lower()))
    return ('<table class="aui-docs"><thead><tr><th>Title</th><th>Source</th><th>Chunks</th><th>Ingested</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def render_summary(verb: str, s: dict) -> str:
    counts = ", ".join(f"{s[k]} {k}" for k in ("added", "updated", "unchanged", "removed") if s.get(k))
    head = f'<span class="ok">{esc(verb)}: {esc(counts or "nothing changed")}.</span>'
    head += f" The collection holds {s.get('documents', 0)} documents, {s.get('chunks', 0)} chunks."
    if s.get("failed"):
        items = "".join(f"<li>{esc(f['path'])}: {esc(f['reason'])}</li>" for f in s["failed"])
        head += f'<div class="fail">{len(s["failed"])} failed:<ul>{items}</ul></div>'
    return f'<div class="aui-result">{head}</div>'


EMPTY_COLLECTION = ('<div class="aui-empty-collection" role="status"><b>The collection is empty</b>, so there is nothing to '
                    "answer from. Add articles in the <b>Collection</b> tab (txt, md, html, pdf, docx), or index a folder "
                    "with <code>assistant ingest FOLDER</code>.</div>")


def collection_empty(assistant) -> bool:
    """Whether no document is indexed (a cheap count; a failure to count is not reported as empty)."""
    try:
        return assistant.store.documents.count() == 0
    except Exception:
        return False


def render_examples(questions: list[str]) -> str:
    if not questions:
        return ""
    chips = "".join(f'<button class="aui-example" data-example="{esc(q)}">{esc(q)}</button>' for q in questions)
    return f'<div class="aui-examples"><span class="aui-hint">Try:</span>{chips}</div>'


# -- example questions drawn from the collection -----------------------------------------------
NAME_WORD = r"(?:[A-Z][a-z]+(?:[-’'][A-Za-z]+)*|[A-Z]{3,6})"
NAME_LINK = r"(?:\s+(?:of|al|bin|de|van|von|la|le|du)\s+|\s+|-)"
NAME = re.compile(rf"(?<![\w’']){NAME_WORD}(?:{NAME_LINK}{NAME_WORD}){{0,4}}(?![\w’'])")
LEADING = {"The", "A", "An", "In", "On", "At", "But", "And", "However", "This", "That", "These", "Those", "It", "He",
           "She", "They", "We", "After", "Before", "While", "When", "As", "If", "For", "From", "With", "By", "To",
           "Its", "His", "Her", "Their", "Our", "Some", "Many", "Both", "Since", "Also", "Yet", "So", "Via", "Mr", "Ms",
           "Mrs", "Dr", "According", "Under", "Over", "Last", "Next", "Earlier", "Later", "What", "Who", "Why", "How"}
CALENDAR = {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
            "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}


def names_in(text: str) -> Counter:
    """Proper names (two or more capitalised words, or an acronym) and how often they occur."""
    found: Counter = Counter()
    for m in NAME.finditer(text):
        words = m.group(0).split()
        while words and words[0] in LEADING:
            words.pop(0)
        words = [w for w in words if w not in CALENDAR] if any(w in CALENDAR for w in words) else words
        name = " ".join(words)
        if not name or name.lower() in ("the", "of"):
            continue
        if len(words) >= 2 or re.fullmatch(r"[A-Z]{3,6}", name):
            found[name] += 1
    return found


def example_questions(docs: list[Document], limit: int = EXAMPLES) -> list[str]:
    """Questions about the names that stand out in each document (frequent in it, rare in the others)."""
    per_doc = [names_in(d.text) for d in docs]
    spread = Counter(n for c in per_doc for n in c)
    ranked = []
    for counts in per_doc:
        scored = sorted(((c * (1 + 0.5 * (len(n.split()) - 1)) / spread[n], n) for n, c in counts.items() if c >= 2),
                        reverse=True)
        ranked.append([n for _, n in scored])
    chosen: list[str] = []
    depth = 0
    while len(chosen) < limit and any(depth < len(r) for r in ranked):
        for names in ranked:
            if depth < len(names) and len(chosen) < limit:
                n = names[depth]
                if not any(n in c or c in n for c in chosen):
                    chosen.append(n)
        depth += 1
    return [f"What do the articles say about {n}?" for n in chosen]


# -- the page ------------------------------------------------------------------------------------
def theme() -> gr.themes.Base:
    """The default look with system fonts: no font files to fetch."""
    return gr.themes.Default(primary_hue="blue", font=SYSTEM_FONTS, font_mono=MONO_FONTS)


def mount_options() -> dict[str, Any]:
    """Keyword arguments for gr.mount_gradio_app / Blocks.launch that go with ChatUI.create_app(): system fonts, no run history."""
    return {"theme": theme(), "footer_links": ["api", "settings"], "run_history": False}


def refusal_to_change(settings: Settings, request: gr.Request | None) -> str | None:
    """The Collection tab obeys the API's rule (access.change_refusal): HTML saying why this visitor may not
    change the collection, or None. Without a request (no HTTP client behind the event) nobody may."""
    if request is None:
        return '<div class="aui-result fail">The collection cannot be changed here.</div>'
    headers = {k.lower(): v for k, v in dict(request.headers).items()}
    client = request.client.host if request.client else ""
    reason = change_refusal(page_caller(settings, client, headers, getattr(request, "username", None)))
    return f'<div class="aui-result fail">{esc(reason)}.</div>' if reason else None


class ChatUI:
    """The chat page and the collection tab, both served by one Assistant; settings: the server's (keys, remote
    access), by default the assistant's. create_app() builds the page; launch() serves it on its own."""

    def __init__(self, assistant, settings: Settings | None = None):
        self.assistant = assistant
        self.policy = settings or assistant.settings
        self.examples_cache: dict[tuple, list[str]] = {}

    # -- the header and the collection's state ------------------------------------------------------
    def stats(self) -> str:
        try:
            info = self.assistant.status()
            line = f"{info['documents']} documents · {info['chunks']} chunks · answers by {info['answerer']}"
        except Exception as exc:  # a status failure must not take the page down
            line = f"status unavailable: {exc}"
        return f'<div class="aui-head"><h1>Ask your articles</h1><span class="aui-stats">{esc(line)}</span></div>'

    def examples(self) -> str:
        docs = self.assistant.documents()[:EXAMPLE_DOCS]
        if not docs:
            return EMPTY_COLLECTION
        key = tuple(sorted((d.id, d.sha256) for d in docs))
        if key not in self.examples_cache:
            full = [self.assistant.document(d.id) for d in docs]
            self.examples_cache.clear()
            self.examples_cache[key] = example_questions([d for d in full if d is not None])
        return render_examples(self.examples_cache[key])

    def refresh(self):
        docs = self.assistant.documents()
        choices = [(f"{d.title or d.source} ({d.source})", d.id) for d in sorted(docs, key=lambda d: (d.title or d.source).lower())]
        return self.stats(), self.examples(), render_documents(docs), gr.Dropdown(choices=choices, value=None)

    # -- the chat -----------------------------------------------------------------------------------
    def respond(self, question: str, turns: list[ChatTurn] | None):
        question = (question or "").strip()
        turns = list(turns or [])
        if not question:
            yield gr.skip(), gr.skip(), gr.skip(), turns, gr.skip()
            return
        turn = ChatTurn(question)
        history = history_of(turns)
        turns.append(turn)
        n = len(turns) - 1
        if collection_empty(self.assistant):
            turn.error = EMPTY_COLLECTION  # markup of ours, not text from a document
            yield render_chat(turns), render_sources(n, turn), gr.skip(), turns, ""
            return
        yield render_chat(turns), render_sources(n, turn), gr.skip(), turns, ""
        try:
            for _ in self.streamed(turn, question, history):
                yield render_chat(turns), render_sources(n, turn), gr.skip(), turns, gr.skip()
        except AssistantError as exc:
            turn.error = str(exc)
        except Exception as exc:  # shown in the chat; the details go to the server log
            log.exception("answering failed")
            turn.error = f"internal error ({type(exc).__name__}); see the server log"
        turn.pending = ""
        yield render_chat(turns), render_sources(n, turn), gr.skip(), turns, gr.skip()

    def streamed(self, turn: ChatTurn, question: str, history: list[Message]):
        """Fill turn from the answer's events; yields whenever the page should show it again (raw text at most
        every DELTA_REFRESH_S)."""
        last = 0.0
        for event in self.assistant.stream(question, history):
            kind = event["event"]
            if kind == "query":
                turn.query = event["rewritten_query"]
            elif kind == "delta":
                turn.pending += event["text"]
                if time.monotonic() - last < DELTA_REFRESH_S:
                    continue
            elif kind == "sentence":
                turn.sentences.append(event["sentence"])
                turn.citations.extend(event["citations"])
                turn.pending = ""
            elif kind == "done":
                turn.answer = event["answer"]
                continue
            last = time.monotonic()
            yield

    def open_cite(self, turns: list[ChatTurn] | None, evt: gr.EventData):
        data = getattr(evt, "_data", None) or {}
        turns = turns or []
        try:
            n, cite = int(data.get("turn")), str(data.get("cite", ""))
            t = turns[n]
        except (TypeError, ValueError, IndexError):
            return gr.skip(), gr.skip()
        target = cited_span(t, cite)
        if target is None:
            return gr.skip(), gr.skip()
        doc_id, start, end, label = target
        doc = self.assistant.document(doc_id)
        if doc is None:
            viewer = '<div class="aui-viewer"><h3>Article</h3><p class="aui-error">This document is no longer in the collection.</p></div>'
        else:
            viewer = render_document(doc, start, end, label)
        return render_sources(n, t, active=cite), viewer

    @staticmethod
    def new_conversation():
        return render_chat([]), render_sources(None, None), VIEWER_HINT, [], ""

    @staticmethod
    def pick_example(evt: gr.EventData):
        data = getattr(evt, "_data", None) or {}
        return str(data.get("example") or "")[:1000] if data.get("example") else gr.skip()

    # -- the collection -----------------------------------------------------------------------------
    def upload(self, files, request: gr.Request, progress=gr.Progress()):
        if refusal := refusal_to_change(self.policy, request):
            return refusal, gr.skip()
        if not files:
            return '<div class="aui-result fail">Choose one or more files first.</div>', gr.skip()
        paths = [Path(f if isinstance(f, str) else f.name) for f in files]
        tally = UploadTally()
        for i, path in enumerate(paths):
            progress((i, len(paths)), desc=f"ingesting {path.name}")
            try:
                tally.add(self.assistant.add_bytes(path.read_bytes(), path.name).to_dict())
            except (AssistantError, OSError) as exc:
                tally.fail(path.name, str(exc))
        progress((len(paths), len(paths)), desc="done")
        total = tally.total
        if not total["documents"]:
            total["documents"], total["chunks"] = self.assistant.status()["documents"], self.assistant.status()["chunks"]
        return render_summary("Uploaded", total), None

    def reindex(self, request: gr.Request, progress=gr.Progress()):
        if refusal := refusal_to_change(self.policy, request):
            return refusal
        docs = self.assistant.documents()
        # Nested sources came from a folder: mirror it. Flat ones are re-read file by file (same ids), so a file
        # that was ingested on its own does not pull its neighbours in.
        folders = sorted({d.root for d in docs if d.root and "/" in d.source})
        files = sorted({str(Path(d.root) / d.source) for d in docs if d.root and "/" not in d.source and d.root not in folders})
        uploads = sum(1 for d in docs if not d.root)
        if not folders and not files:
            return '<div class="aui-result">Nothing to re-index: every document was uploaded (its file is stored only in the index).</div>'
        progress(0, desc="re-indexing")
        try:
            summary = self.assistant.ingest([Path(p) for p in folders + files], prune=True,
                                            progress=lambda i, n, name: progress((i, n), desc=f"re-indexing {name}"))
        except AssistantError as exc:
            return f'<div class="aui-result fail">Re-index failed: {esc(exc)}</div>'
        note = f'<div class="aui-hint">{uploads} uploaded documents kept as they are.</div>' if uploads else ""
        return render_summary("Re-indexed", summary.to_dict()) + note

    def remove(self, doc_id: str | None, request: gr.Request):
        if refusal := refusal_to_change(self.policy, request):
            return refusal
        if not doc_id:
            return '<div class="aui-result fail">Choose a document to remove.</div>'
        doc = self.assistant.document(doc_id)
        try:
            found = self.assistant.remove(doc_id)
        except AssistantError as exc:
            return f'<div class="aui-result fail">Could not remove it: {esc(exc)}</div>'
        if not found:
            return '<div class="aui-result fail">That document is no longer in the collection.</div>'
        name = doc.title or doc.source if doc else doc_id
        return f'<div class="aui-result"><span class="ok">Removed “{esc(name)}”.</span></div>'

    # -- API endpoints (gradio_client and scripts): the same shapes as `assistant ask --json` --------
    def ask(self, question: str, history: list[dict] | None = None) -> dict:
        """Answer a question (with earlier {role, content} messages); every sentence cites exact spans."""
        try:
            return self.assistant.ask(question, history or []).to_dict()
        except AssistantError as exc:
            raise gr.Error(str(exc)) from None

    def document(self, document_id: str) -> dict:
        """One document with its full text: citation start/end index into text."""
        doc = self.assistant.document(document_id)
        if doc is None:
            raise gr.Error("no such document")
        return {**doc.summary(), "text": doc.text, "pages": doc.pages}

    # -- the page -----------------------------------------------------------------------------------
    def create_app(self) -> gr.Blocks:
        """The page (not started: mount it, or launch())."""
        css = (STATIC / "ui.css").read_text(encoding="utf-8")
        with gr.Blocks(title="Ask your articles", analytics_enabled=False) as demo:
            turns = gr.State([])
            header = gr.HTML(self.stats(), head=f"<style>{css}</style>", js_on_load=None, apply_default_css=False,
                             elem_id="aui-header")
            with gr.Tabs():
                with gr.Tab("Chat", id="chat"):
                    examples = self.chat_tab(turns)
                with gr.Tab("Collection", id="collection") as collection_tab:
                    self.collection_tab(demo, header, examples, collection_tab)
            gr.api(self.ask, api_name="ask")
            gr.api(self.document, api_name="document")
        return demo

    def chat_tab(self, turns: gr.State) -> gr.HTML:
        """The conversation, the question box, the examples, the sources and the article viewer, wired; returns
        the examples box (the collection tab refreshes it)."""
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=380):
                chat = gr.HTML(render_chat([]), js_on_load=CLICK_JS, apply_default_css=False, elem_id="aui-chat", autoscroll=True,
                               min_height=320, max_height="62vh", container=True, padding=True)
                with gr.Row(equal_height=False, elem_id="aui-ask-row"):
                    question = gr.Textbox(placeholder="Ask a question about the articles…", show_label=False,
                                          lines=1, max_lines=6, scale=1, container=False, elem_id="aui-question", autofocus=True)
                    ask_btn = gr.Button("Ask", variant="primary", scale=0, min_width=64, elem_id="aui-ask")
                    new_btn = gr.Button("New chat", variant="secondary", size="sm", scale=0, min_width=84,
                                        elem_id="aui-new")
                example_box = gr.HTML("", js_on_load=CLICK_JS, apply_default_css=False, elem_id="aui-examples")
            with gr.Column(scale=2, min_width=320):
                sources = gr.HTML(render_sources(None, None), js_on_load=CLICK_JS, apply_default_css=False, elem_id="aui-sources")
                viewer = gr.HTML(VIEWER_HINT, js_on_load=SCROLL_JS, apply_default_css=False, elem_id="aui-viewer")

        chat_outputs = [chat, sources, viewer, turns, question]
        listeners = dict(fn=self.respond, inputs=[question, turns], outputs=chat_outputs, show_progress="hidden",
                         concurrency_limit=4, api_visibility="private")
        question.submit(**listeners)
        ask_btn.click(**listeners)
        example_box.click(self.pick_example, None, question, show_progress="hidden", api_visibility="private").then(**listeners)
        for panel in (chat, sources):
            panel.click(self.open_cite, [turns], [sources, viewer], show_progress="hidden", api_visibility="private")
        new_btn.click(self.new_conversation, None, chat_outputs, show_progress="hidden", api_visibility="private")
        return example_box

    def collection_tab(self, demo: gr.Blocks, header: gr.HTML, example_box: gr.HTML, tab: gr.Tab) -> None:
        """The document table, upload, re-index and remove, wired; the header and examples follow every change."""
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=380):
                doc_table = gr.HTML("", js_on_load=None, apply_default_css=False, elem_id="aui-docs")
            with gr.Column(scale=2, min_width=320):
                files = gr.File(label="Add articles (txt, md, html, pdf, docx)", file_count="multiple",
                                file_types=UPLOAD_TYPES, elem_id="aui-upload")
                add_btn = gr.Button("Add to collection", variant="primary", elem_id="aui-add")
                reindex_btn = gr.Button("Re-index from the source files", elem_id="aui-reindex")
                doc_pick = gr.Dropdown(label="Remove a document", choices=[], value=None, elem_id="aui-pick")
                remove_btn = gr.Button("Remove", variant="stop", elem_id="aui-remove")
                result = gr.HTML("", js_on_load=None, apply_default_css=False, elem_id="aui-result")

        refreshed = [header, example_box, doc_table, doc_pick]
        after = dict(fn=self.refresh, inputs=None, outputs=refreshed, api_visibility="private", show_progress="hidden")
        demo.load(**after)
        tab.select(**after)
        add_btn.click(self.upload, [files], [result, files], api_visibility="private").then(**after)
        reindex_btn.click(self.reindex, None, [result], api_visibility="private").then(**after)
        remove_btn.click(self.remove, [doc_pick], [result], api_visibility="private").then(**after)

    def launch(self, **kwargs) -> gr.Blocks:
        """Serve the page on its own (without the API), with the theme it is meant for; kwargs go to
        Blocks.launch. Returns the page (its close() stops the server)."""
        page = self.create_app()
        page.launch(**{**mount_options(), **kwargs})
        return page


def cited_span(t: ChatTurn, cite: str) -> tuple[str, int, int, str] | None:
    """What a click on `cite` opens in the viewer: (document id, start, end, label); "mN" is citation N, "pN" the
    answer's N-th passage (an abstention's closest passages)."""
    _, citations = t.view()
    if cite.startswith("m"):
        c = next((c for c in citations if f"m{c.marker}" == cite), None)
        return None if c is None else (c.document_id, c.start, c.end, f"[{c.marker}]")
    if cite.startswith("p") and t.answer is not None and cite[1:].isdigit() and int(cite[1:]) < len(t.answer.passages):
        ch = t.answer.passages[int(cite[1:])].chunk
        return ch.document_id, ch.start, ch.end, "Passage from"
    return None

