"""The Gradio chat page: streamed cited answers, a sources panel that opens the exact cited span, collection management.

Everything that comes from articles or answers is rendered by this module as HTML with html.escape, so an
article holding <script> or <img onerror=...> shows as text. ChatUI.create_app() is self-contained (its stylesheet is
injected by a component's `head`), so it looks right however it is mounted; mount_options() adds the theme
with system fonts so that the page loads nothing but its own files.
"""
# No `from __future__ import annotations` here: gr.api reads the API endpoints' return types from their signatures,
# where it would find strings, and gradio_client's view_api() would show them as Any.
import html
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gradio as gr

from .access import change_refusal, page_caller
from ..answering.policy import ABSTAIN_TEXT
from ..config import Settings
from ..ingest.metadata import safe_url, shown_date
from ..schema import (Answer, AssistantError, Citation, DeltaEvent, Document, DoneEvent, Message, QueryEvent, Sentence,
                      SentenceEvent, shown_probability)
from . import conversations
from .check_tab import check_tab
from .examples import Examples
from .conversations import answer_markdown
from .answer_types import AnswerJSON, DocumentJSON, Turn
from .uploads import UPLOAD_ROOT, UploadTally

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
UPLOAD_TYPES = [".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"]
CONTEXT_CHARS = 100  # text shown either side of a cited span in the sources panel
UPLOAD_CACHE_S = (600, 3600)  # every 10 minutes, Gradio deletes the uploads older than an hour
STORE_KEY = "assistant-conversations"  # the browser's localStorage entry holding the kept conversations
DELTA_REFRESH_S = 0.15  # raw-text updates between verified sentences are sent at most this often

SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]

# Clicks on markers, sources and examples are delegated to the component root and sent to Python as events;
# "Copy" puts the answer (with its sources) on the clipboard without a round trip.
CLICK_JS = """
const copy = (b) => {
  const done = () => { b.textContent = 'Copied'; setTimeout(() => { b.textContent = 'Copy'; }, 1500); };
  if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(b.dataset.copy).then(done); return; }
  const area = document.createElement('textarea');  // http:// on another host: the older way
  area.value = b.dataset.copy; area.style.position = 'fixed'; area.style.opacity = '0';
  document.body.append(area); area.select(); document.execCommand('copy'); area.remove(); done();
};
element.addEventListener('click', (e) => {
  const b = e.target.closest('[data-cite], [data-example], [data-copy]');
  if (!b || !element.contains(b)) return;
  e.preventDefault();
  if (b.dataset.copy !== undefined) { copy(b); return; }
  if (b.dataset.example !== undefined) { trigger('click', {example: b.dataset.example}); return; }
  document.querySelectorAll('.aui-cite.active, .aui-src.active, .aui-chip.active').forEach((x) => x.classList.remove('active'));
  b.classList.add('active');
  trigger('click', {turn: Number(b.dataset.turn), cite: b.dataset.cite});
});
"""
# The conversation list and the document table: open, rename in place, and delete/remove only on a second press
# (the button asks first, next to its row); the table's headers sort its rows.
ROWS_JS = """
const ask = (b, question) => {
  if (b.classList.contains('aui-confirm')) return true;
  const label = b.textContent;
  b.classList.add('aui-confirm'); b.textContent = question;
  setTimeout(() => { if (b.isConnected) { b.classList.remove('aui-confirm'); b.textContent = label; } }, 5000);
  return false;
};
const rename = (b) => {
  const row = b.closest('[data-conv]'), open = row.querySelector('.aui-conv-open');
  const input = document.createElement('input');
  input.className = 'aui-conv-input'; input.maxLength = 80; input.setAttribute('aria-label', 'New name of the conversation');
  input.value = row.querySelector('.aui-conv-title').textContent;
  let finished = false;
  const finish = (keep) => {
    if (finished) return; finished = true;
    const title = input.value.trim();
    input.replaceWith(open);
    if (keep && title && title !== open.querySelector('.aui-conv-title').textContent) trigger('click', {rename: b.dataset.rename, title: title});
  };
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); finish(true); } if (e.key === 'Escape') finish(false); });
  input.addEventListener('blur', () => finish(true));
  open.replaceWith(input); input.focus(); input.select();
};
const sort = (b) => {
  const table = b.closest('table'), key = b.dataset.sort, th = b.closest('th');
  const down = th.getAttribute('aria-sort') !== 'descending';
  table.querySelectorAll('th').forEach((x) => x.removeAttribute('aria-sort'));
  th.setAttribute('aria-sort', down ? 'descending' : 'ascending');
  const body = table.tBodies[0];
  [...body.rows].sort((x, y) => (down ? -1 : 1) * x.dataset[key].localeCompare(y.dataset[key])).forEach((r) => body.append(r));
};
element.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-open], button[data-rename], button[data-delete], button[data-remove], button[data-sort]');
  if (!b || !element.contains(b)) return;
  e.preventDefault();
  if (b.dataset.open) trigger('click', {open: b.dataset.open});
  else if (b.dataset.rename) rename(b);
  else if (b.dataset.sort) sort(b);
  else if (b.dataset.delete) { if (ask(b, 'Delete? Press again')) trigger('click', {delete: b.dataset.delete}); }
  else if (ask(b, 'Remove? Press again')) trigger('click', {remove: b.dataset.remove});
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
    pending: str = ""  # raw text produced but not yet verified (never shown: only that a sentence is being checked)
    answer: Answer | None = None
    error: str = ""

    @property
    def done(self) -> bool:
        return self.answer is not None or bool(self.error)

    def view(self) -> tuple[list[Sentence], list[Citation]]:
        if self.answer is not None:
            return self.answer.sentences, self.answer.citations
        return self.sentences, self.citations


def turn_record(t: ChatTurn) -> dict:
    """A finished turn as the browser keeps it."""
    if t.answer is not None:
        return {"question": t.question, "answer": conversations.stored_answer(t.answer)}
    return {"question": t.question, "error": t.error}


def turns_of(conversation: dict) -> list[ChatTurn]:
    """A kept conversation's turns, answers read back (follow-ups and the sources panel work as before)."""
    out = []
    for t in conversation.get("turns", []):
        question = str(t.get("question", ""))
        if isinstance(t.get("answer"), dict):
            out.append(ChatTurn(question, answer=Answer.from_dict(t["answer"], question)))
        else:
            out.append(ChatTurn(question, error=str(t.get("error") or "no answer")))
    return out


def history_of(turns: list[ChatTurn]) -> list[Message]:
    """The finished turns as Assistant history: assistant messages carry their Answer."""
    return [m for t in turns if t.answer is not None for m in Message.exchange(t.question, t.answer)]


# -- rendering (every piece of text goes through esc) -------------------------------------------
# A sentence's verdict in words a reader understands; the model's number is only in the hover text.
VERDICT_WORDS = {
    "supported": "answers the question",
    "uncertain": "may not answer it",
    "weak": "only partly backed by its source",
    "disagree": "the sources differ",
    "conflict": "the sources differ",
}
VERDICT_WHY = {
    "supported": "the cited words answer the question, and they back the sentence",
    "uncertain": "the cited words may not be what was asked; read the source",
    "weak": "the sentence says more than the cited words; read the source",
    "disagree": "the articles say different things; read each source",
    "conflict": "the articles say different things; read each source",
}


def verdict_words(s: Sentence) -> str:
    return VERDICT_WORDS.get(s.verdict, "")


def verdict_hover(s: Sentence) -> str:
    """The hover text of a sentence: its verdict, why, and the number behind it."""
    words = verdict_words(s)
    if not words:
        return ""
    number = f" (confidence {shown_probability(s.probability)})" if s.probability is not None else ""
    return f"{words[:1].upper()}{words[1:]}: {VERDICT_WHY.get(s.verdict, '')}{number}"


def when_published(c: Any) -> str:
    """A source's date at its own precision ("September 2020"), "" when unknown (Document/Citation.date)."""
    return shown_date(str(getattr(c, "date", None) or ""))


def render_sentence(turn_no: int, s: Sentence, cites: dict[int, Citation]) -> str:
    verdict = s.verdict if s.verdict in VERDICT_WORDS else "other"
    # Buttons come from the sentence's citation list only: "[1]" inside quoted article text stays text.
    out = [f'<span class="aui-stext">{esc(s.body)}</span>'] if s.body else []
    for n in s.citations:
        c = cites.get(n)
        if c is None:
            out.append(esc(f"[{n}]"))
        else:
            out.append(f'<button class="aui-cite v-{verdict}" data-turn="{turn_no}" data-cite="m{n}" '
                       f'aria-label="Source {n}: {esc(c.title or c.source)}" title="Open [{n}] {esc(c.title or c.source)}">[{n}]</button>')
    if verdict not in ("supported", "other"):  # doubt is said where the sentence is, not only on hover
        out.append(f' <span class="aui-doubt">{esc(verdict_words(s))}</span>')
    return f'<span class="aui-sent v-{verdict}" title="{esc(verdict_hover(s))}">{"".join(out)}</span>'


def render_source_strip(turn_no: int, citations: list[Citation]) -> str:
    """The answer's articles above its text (Perplexity's source cards, small): title and date, each opens its
    first cited span."""
    first: dict[str, Citation] = {}
    for c in citations:
        first.setdefault(c.document_id, c)
    if not first:
        return ""
    chips = []
    for c in first.values():
        date = when_published(c)
        chips.append(f'<button class="aui-chip" data-turn="{turn_no}" data-cite="m{c.marker}" title="Open {esc(c.title or c.source)}">'
                     f'<span class="aui-chip-n">[{c.marker}]</span> <span class="aui-chip-title">{esc(c.title or c.source)}</span>'
                     + (f' <span class="aui-chip-date">{esc(date)}</span>' if date else "") + "</button>")
    return f'<div class="aui-strip" aria-label="Sources of this answer">{"".join(chips)}</div>'


def render_turn(turn_no: int, t: ChatTurn) -> str:
    sentences, citations = t.view()
    cites = {c.marker: c for c in citations}
    state = "done" if t.done else "streaming"
    parts = [f'<div class="aui-turn" data-turn="{turn_no}" data-state="{state}">',
             f'<div class="aui-q">{esc(t.question)}</div>', '<div class="aui-a">']
    answer = t.answer
    said = [s for s in sentences if s.verdict not in ("abstain", "note")]  # a note is the assistant's own words
    if t.error == EMPTY_COLLECTION:
        parts.append(EMPTY_COLLECTION)
    elif t.error:
        parts.append(f'<p class="aui-error">Could not answer: {esc(t.error)}</p>')
    elif answer is not None and answer.abstained:
        abstain = " ".join(s.text for s in sentences if s.verdict == "abstain") or ABSTAIN_TEXT
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
                             f'{esc(p.chunk.title or p.chunk.source)}</button>'
                             f'{esc(f" ({shown_date(p.chunk.date)})" if p.chunk.date else "")}: “{esc(snippet)}”</li>')
            parts.append('<div class="aui-related">The closest passages (they do not answer it):<ul>'
                         + "".join(items) + "</ul></div>")
        parts.append("</div>")
    else:
        parts.append(render_source_strip(turn_no, citations))
        # the assistant's notes (sources that disagree, "as of") on their own line before or after the quotes
        notes = [s for s in sentences if s.verdict == "note"]
        lead = [render_sentence(turn_no, s, cites) for s in notes if s is sentences[0]]
        body = " ".join(render_sentence(turn_no, s, cites) for s in sentences if s.verdict != "note")
        if lead:
            parts.append(f'<p class="aui-note">{lead[0]}</p>')
        body += "".join(f' <span class="aui-note">{render_sentence(turn_no, s, cites)}</span>'
                        for s in notes if s is not sentences[0])
        if t.pending.strip():
            # The model's raw words are not shown until their sentence is verified against what it cites: a
            # reply that says "ignore the articles" must not stand on the page while it is being checked.
            body += ' <span class="aui-pending aui-typing">Checking the next sentence against the articles</span>'
        elif not t.done:
            body += ' <span class="aui-pending aui-typing">' + ("Reading the articles" if t.query else "Searching") + "</span>"
        parts.append(f"<p>{body}</p>")
    parts.append(render_footer(t, said))
    parts.append("</div></div>")
    return "".join(parts)


def render_verdicts(said: list[Sentence]) -> str:
    """The answer's overall verdict in words: a check mark only when every sentence answers the question."""
    doubted = [s for s in said if s.verdict != "supported"]
    if doubted:
        if len(said) == 1:
            words = verdict_words(doubted[0]).capitalize()
        elif {s.verdict for s in doubted} <= {"disagree", "conflict"}:
            words = "The sources differ"
        else:
            words = f"{len(doubted)} of {len(said)} sentences may not answer it"
        hover = "; ".join(f"sentence {said.index(s) + 1}: {verdict_hover(s)}" for s in doubted)
        return f'<span class="aui-verdicts some-weak" title="{esc(hover)}">{esc(words)}</span>'
    lowest = min((s.probability for s in said if s.probability is not None), default=None)
    hover = "Each sentence was checked against the words it cites" + (
        f" (lowest confidence {shown_probability(lowest)})" if lowest is not None else "")
    words = "Every sentence answers the question" if len(said) > 1 else "Answers the question"
    return f'<span class="aui-verdicts all-ok" title="{esc(hover)}">✓ {words}</span>'


def render_footer(t: ChatTurn, said: list[Sentence]) -> str:
    if not t.done or t.error:
        return ""
    answer = t.answer
    bits = []
    if said and not answer.abstained:
        bits.append(render_verdicts(said))
    if answer.notice:
        bits.append(f'<span class="aui-notice">{esc(answer.notice)}</span>')
    # A follow-up is answered as a question of its own: say which, in words, when it differs from what was typed.
    asked = " ".join((answer.rewritten_query or "").split())
    if asked and asked.lower().rstrip("?") != " ".join(t.question.split()).lower().rstrip("?"):
        bits.append(f'<span class="aui-understood">Understood as “{esc(asked)}”</span>')
    bits.append(f'<button class="aui-copy" data-copy="{esc(answer_markdown(answer))}" '
                'title="Copy the answer with its sources as Markdown">Copy</button>')
    return '<div class="aui-foot">' + "".join(bits) + "</div>"


def render_chat(turns: list[ChatTurn]) -> str:
    if not turns:
        return ('<div class="aui-chat"><div class="aui-empty">Ask a question about the articles. Every sentence of the '
                "answer cites its source: click a marker such as <b>[1]</b> to read the exact words in the article."
                "</div></div>")
    return '<div class="aui-chat">' + "".join(render_turn(i, t) for i, t in enumerate(turns)) + "</div>"


def render_conversations(store: Any, current: str) -> str:
    """The conversations kept in this browser, newest first: open, rename, delete (each asks first, in place)."""
    items = []
    for c in conversations.listed(store):
        cid, title = esc(c["id"]), esc(c.get("title") or "Untitled")
        active = " active" if c["id"] == current else ""
        count = len(c["turns"])
        items.append(
            f'<li class="aui-conv{active}" data-conv="{cid}"><button class="aui-conv-open" data-open="{cid}" '
            f'title="{title}" aria-current="{"true" if active else "false"}"><span class="aui-conv-title">{title}</span>'
            f'<span class="aui-conv-meta">{count} question{"s" if count != 1 else ""} · {esc(conversations.when(c.get("updated")))}</span></button>'
            f'<span class="aui-conv-actions"><button class="aui-conv-rename" data-rename="{cid}" aria-label="Rename “{title}”" title="Rename">Rename</button>'
            f'<button class="aui-conv-delete" data-delete="{cid}" aria-label="Delete “{title}”" title="Delete">Delete</button></span></li>')
    body = f'<ul class="aui-conv-list">{"".join(items)}</ul>' if items else \
        '<p class="aui-hint">Your conversations are kept in this browser and listed here.</p>'
    return f'<nav class="aui-convs" aria-label="Past conversations"><h2>Conversations</h2>{body}</nav>'


def render_export(conversation: dict | None) -> str:
    """Links that download the conversation (built here, so nothing is stored on the server)."""
    if not conversation or not conversation.get("turns"):
        return ""
    name = re.sub(r"[^\w-]+", "-", conversation.get("title") or "conversation").strip("-")[:60] or "conversation"
    md = quote(conversations.conversation_markdown(conversation))
    js = quote(conversations.conversation_json(conversation))
    return (f'<div class="aui-export"><span>Export this conversation:</span>'
            f'<a class="aui-export-md" download="{esc(name)}.md" href="data:text/markdown;charset=utf-8,{esc(md)}">Markdown</a>'
            f'<a class="aui-export-json" download="{esc(name)}.json" href="data:application/json;charset=utf-8,{esc(js)}">JSON</a></div>')


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
        meta += [when_published(first)] if when_published(first) else []
        meta += [f"{len(cited)} cited passages"] if len(cited) > 1 else []
        meta_html = f'<span class="aui-src-meta">{esc(" · ".join(meta))}</span>' if meta else ""
        cards.append(f'<div class="aui-src-card" data-document="{esc(first.document_id)}"><div class="aui-src-head">'
                     f'<span class="aui-src-title">{linked(first.title or first.source, first.url)}</span>{meta_html}</div>'
                     f'{"".join(spans)}</div>')
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
            f'<div class="aui-doc-meta">{meta}</div><div class="aui-doc-scroll" tabindex="0" role="region" aria-label="Article text"><div class="aui-doc-text" '
            f'data-document="{esc(doc.id)}">{body}</div></div></div>')


def linked(text: str, url: str) -> str:
    """text, escaped, as a link to url when url is http(s) (metadata.safe_url: never a javascript: link)."""
    url = safe_url(url)
    return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(text)}</a>' if url else esc(text)


def render_documents(docs: list[Document]) -> str:
    """The collection, newest first; the headers sort it (by title, date, added), each row removes its document
    after a second press."""
    if not docs:
        return '<p class="aui-hint">The collection is empty: add articles with the form beside this list.</p>'
    rows = []
    for d in sorted(docs, key=lambda d: d.ingested_at, reverse=True):
        title, date, added = d.title or d.source, when_published(d), d.ingested_at.replace("T", " ")[:16]
        rows.append(
            f'<tr data-title="{esc(title.lower())}" data-date="{esc(d.date)}" data-added="{esc(d.ingested_at)}">'
            f'<td><span class="aui-doc-title">{esc(title)}</span>'
            + (f'<span class="aui-doc-source">{esc(d.source)}</span>' if d.source != title else "") + "</td>"
            f'<td>{esc(date) or "—"}</td><td>{esc(added)}</td><td class="num">{d.chunks}</td>'
            f'<td><button class="aui-remove" data-remove="{esc(d.id)}" aria-label="Remove “{esc(title)}”">Remove</button></td></tr>')
    head = "".join(f'<th scope="col"{sorted_by}><button data-sort="{key}">{label}</button></th>'
                   for key, label, sorted_by in (("title", "Title", ""), ("date", "Published", ""),
                                                 ("added", "Added", ' aria-sort="descending"')))
    return (f'<table class="aui-docs"><caption>{len(docs)} documents, newest first; a header sorts by it</caption>'
            f'<thead><tr>{head}<th scope="col">Chunks</th><th scope="col"><span class="aui-sr">Remove</span></th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def render_summary(verb: str, s: dict) -> str:
    counts = ", ".join(f"{s[k]} {k}" for k in ("added", "updated", "unchanged", "removed") if s.get(k))
    head = f'<span class="ok">{esc(verb)}: {esc(counts or "nothing changed")}.</span>'
    head += f" The collection holds {s.get('documents', 0)} documents, {s.get('chunks', 0)} chunks."
    if s.get("failed"):
        items = "".join(f"<li>{esc(f['path'])}: {esc(f['reason'])}</li>" for f in s["failed"])
        head += f'<div class="fail">{len(s["failed"])} failed:<ul>{items}</ul></div>'
    if s.get("duplicates"):
        items = "".join(f"<li>{esc(d['path'])}: same file as {esc(d['same_as'])}</li>" for d in s["duplicates"])
        head += f'<div class="aui-duplicates">{len(s["duplicates"])} already in the collection under another name, not added again:<ul>{items}</ul></div>'
    return f'<div class="aui-result">{head}</div>'


def render_upload(files: list[tuple[str, str, str]]) -> str:
    """Each file of an upload with its state: waiting, adding, added/updated/unchanged, or failed with its reason."""
    items = "".join(f'<li class="aui-file {esc(state)}"><span class="aui-file-name">{esc(name)}</span> '
                    f'<span class="aui-file-state">{esc(said)}</span></li>' for name, state, said in files)
    return f'<ul class="aui-files" aria-live="polite">{items}</ul>'


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


# -- the page ------------------------------------------------------------------------------------
def theme() -> gr.themes.Base:
    """The default look with system fonts: no font files to fetch."""
    return gr.themes.Default(primary_hue="blue", font=SYSTEM_FONTS, font_mono=MONO_FONTS).set(
        # white on blue-600, not blue-500: 5.2:1, WCAG AA for the "Ask" and "Add" buttons' text
        button_primary_background_fill="*primary_600", button_primary_background_fill_hover="*primary_700",
        button_primary_background_fill_dark="*primary_600", button_primary_background_fill_hover_dark="*primary_700")


def mount_options() -> dict[str, Any]:
    """Keyword arguments for gr.mount_gradio_app / Blocks.launch that go with ChatUI.create_app(): system fonts, no run history."""
    return {"theme": theme(), "footer_links": [], "run_history": False}  # no Gradio footer: the page is the product


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

    def __init__(self, assistant, settings: Settings | None = None, examples: Examples | None = None):
        """examples: the example questions, when the server draws them right after its warm-up."""
        self.assistant = assistant
        self.policy = settings or assistant.settings
        self.offered = examples or Examples(assistant)

    # -- the header and the collection's state ------------------------------------------------------
    def stats(self) -> str:
        try:
            info = self.assistant.status()
            line = f"{info['documents']} articles"
        except Exception as exc:  # a status failure must not take the page down
            log.warning("status failed: %s", exc)
            line = "the collection cannot be read just now"
        return f'<div class="aui-head"><h1>Ask your articles</h1><span class="aui-stats">{esc(line)}</span></div>'

    def examples(self) -> str:
        if collection_empty(self.assistant):
            return EMPTY_COLLECTION
        return render_examples(self.offered.current())

    def refresh(self):
        return self.stats(), render_documents(self.assistant.documents())

    # -- the chat -----------------------------------------------------------------------------------
    def respond(self, question: str, turns: list[ChatTurn] | None, store: Any, conversation_id: str):
        """Outputs: chat, sources, viewer, turns, question box, browser store, conversation id, conversation list,
        export links. The viewer empties when a question is asked and opens the answer's first citation when it is
        done; the store is written once, when the answer is."""
        question = (question or "").strip()
        turns = list(turns or [])
        keep = (gr.skip(),) * 4  # store, conversation id, list, export: unchanged until the answer is done
        if not question:
            yield (gr.skip(),) * 3 + (turns, gr.skip()) + keep
            return
        turn = ChatTurn(question)
        history = history_of(turns)
        turns.append(turn)
        n = len(turns) - 1
        if collection_empty(self.assistant):
            turn.error = EMPTY_COLLECTION  # markup of ours, not text from a document
            yield (render_chat(turns), render_sources(n, turn), VIEWER_HINT, turns, "") + keep
            return
        yield (render_chat(turns), render_sources(n, turn), VIEWER_HINT, turns, "") + keep
        try:
            for _ in self.streamed(turn, question, history):
                yield (render_chat(turns), render_sources(n, turn), gr.skip(), turns, gr.skip()) + keep
        except AssistantError as exc:
            turn.error = str(exc)
        except Exception as exc:  # shown in the chat; the details go to the server log
            log.exception("answering failed")
            turn.error = f"internal error ({type(exc).__name__}); see the server log"
        turn.pending = ""
        conversation = conversations.find(store, conversation_id) or conversations.new_conversation(turns[0].question)
        conversation = {**conversation, "turns": [turn_record(t) for t in turns if t.done], "updated": time.time()}
        store = conversations.saved(store, conversation)
        yield (render_chat(turns), render_sources(n, turn), gr.skip(), turns, gr.skip(), store, conversation["id"],
               render_conversations(store, conversation["id"]), render_export(conversation))
        # then the article: the reader sees the answer first, and the pane never shows an earlier answer's article
        yield (gr.skip(), *self.first_citation(n, turn), turns, gr.skip()) + keep

    def streamed(self, turn: ChatTurn, question: str, history: list[Message]):
        """Fill turn from the answer's events; yields whenever the page should show it again (raw text at most
        every DELTA_REFRESH_S)."""
        last = 0.0
        for event in self.assistant.stream(question, history):
            if isinstance(event, QueryEvent):
                turn.query = event.rewritten_query
            elif isinstance(event, DeltaEvent):
                turn.pending += event.text
                if time.monotonic() - last < DELTA_REFRESH_S:
                    continue
            elif isinstance(event, SentenceEvent):
                turn.sentences.append(event.sentence)
                turn.citations.extend(event.citations)
                turn.pending = ""
            elif isinstance(event, DoneEvent):
                turn.answer = event.answer
                continue
            last = time.monotonic()
            yield

    def first_citation(self, n: int, turn: ChatTurn | None) -> tuple[str, str]:
        """The sources panel and the viewer for turn n: its first citation opened, or an empty viewer."""
        citations = turn.view()[1] if turn is not None else []
        if not citations:
            return render_sources(n if turn else None, turn), VIEWER_HINT
        return render_sources(n, turn, active=f"m{citations[0].marker}"), self.viewer(turn, f"m{citations[0].marker}")

    def viewer(self, t: ChatTurn, cite: str) -> str | None:
        target = cited_span(t, cite)
        if target is None:
            return None
        doc_id, start, end, label = target
        doc = self.assistant.document(doc_id)
        if doc is None:
            return '<div class="aui-viewer"><h3>Article</h3><p class="aui-error">This document is no longer in the collection.</p></div>'
        return render_document(doc, start, end, label)

    def open_cite(self, turns: list[ChatTurn] | None, evt: gr.EventData):
        data = getattr(evt, "_data", None) or {}
        turns = turns or []
        try:
            n, cite = int(data.get("turn")), str(data.get("cite", ""))
            t = turns[n]
        except (TypeError, ValueError, IndexError):
            return gr.skip(), gr.skip()
        viewer = self.viewer(t, cite)
        return (gr.skip(), gr.skip()) if viewer is None else (render_sources(n, t, active=cite), viewer)

    @staticmethod
    def new_conversation(store: Any):
        return (render_chat([]), render_sources(None, None), VIEWER_HINT, [], "", "", render_conversations(store, ""), "")

    def conversation_action(self, store: Any, conversation_id: str, turns: list[ChatTurn] | None, evt: gr.EventData):
        """Open, rename or delete a kept conversation. Outputs: chat, sources, viewer, turns, conversation id,
        store, conversation list, export links."""
        data = getattr(evt, "_data", None) or {}
        skip = (gr.skip(),) * 8
        if isinstance(data.get("open"), str):
            conversation = conversations.find(store, data["open"])
            if conversation is None:
                return skip
            opened = turns_of(conversation)
            n = len(opened) - 1
            sources, viewer = self.first_citation(n, opened[-1] if opened else None)
            return (render_chat(opened), sources, viewer, opened, conversation["id"], gr.skip(),
                    render_conversations(store, conversation["id"]), render_export(conversation))
        if isinstance(data.get("rename"), str):
            store = conversations.renamed(store, data["rename"], str(data.get("title") or ""))
            current = conversations.find(store, conversation_id)
            return (gr.skip(),) * 5 + (store, render_conversations(store, conversation_id),
                                       render_export(current) if current else gr.skip())
        if isinstance(data.get("delete"), str):
            store = conversations.without(store, data["delete"])
            if data["delete"] != conversation_id:
                return (gr.skip(),) * 5 + (store, render_conversations(store, conversation_id), gr.skip())
            return (render_chat([]), render_sources(None, None), VIEWER_HINT, [], "", store,
                    render_conversations(store, ""), "")
        return skip

    @staticmethod
    def pick_example(evt: gr.EventData):
        data = getattr(evt, "_data", None) or {}
        return str(data.get("example") or "")[:1000] if data.get("example") else gr.skip()

    # -- the collection -----------------------------------------------------------------------------
    def upload(self, files, request: gr.Request):
        """Each file in turn, shown as it goes (waiting, adding, its result or its reason), then the total."""
        paths = [Path(f if isinstance(f, str) else f.name) for f in files or []]
        try:
            yield from self.add_files(paths, request)
        finally:  # the index holds their text now (or refused them): the copies in Gradio's folder must not pile up
            for path in paths:
                path.unlink(missing_ok=True)

    def add_files(self, paths: list[Path], request: gr.Request):
        if refusal := refusal_to_change(self.policy, request):
            yield refusal, gr.skip()
            return
        if not paths:
            yield '<div class="aui-result fail">Choose one or more files first.</div>', gr.skip()
            return
        shown = [(p.name, "waiting", "waiting") for p in paths]
        tally = UploadTally()
        for i, path in enumerate(paths):
            shown[i] = (path.name, "busy", "adding…")
            yield render_upload(shown), gr.skip()
            try:
                summary = self.assistant.add_bytes(path.read_bytes(), path.name).to_dict()
                tally.add(summary)
                if summary["failed"]:
                    shown[i] = (path.name, "fail", "not added: " + "; ".join(f["reason"] for f in summary["failed"]))
                elif summary["duplicates"]:
                    shown[i] = (path.name, "ok", f"already in the collection as {summary['duplicates'][0]['same_as']}")
                else:
                    shown[i] = (path.name, "ok", next((k for k in ("added", "updated", "unchanged") if summary[k]), "done"))
            except (AssistantError, OSError) as exc:
                tally.fail(path.name, str(exc))
                shown[i] = (path.name, "fail", f"not added: {exc}")
        total = tally.total
        if not total["documents"]:
            total["documents"], total["chunks"] = self.assistant.status()["documents"], self.assistant.status()["chunks"]
        yield render_summary("Uploaded", total) + render_upload(shown), None

    def reindex(self, request: gr.Request, progress=gr.Progress()):
        if refusal := refusal_to_change(self.policy, request):
            return refusal
        everything = self.assistant.documents()
        docs = [d for d in everything if d.root != UPLOAD_ROOT]
        uploads = len(everything) - len(docs)
        # Nested sources came from a folder: mirror it. Flat ones are re-read file by file (same ids), so a file
        # that was ingested on its own does not pull its neighbours in.
        folders = sorted({d.root for d in docs if d.root and "/" in d.source})
        files = sorted({str(Path(d.root) / d.source) for d in docs if d.root and "/" not in d.source and d.root not in folders})
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

    def remove(self, request: gr.Request, evt: gr.EventData):
        data = getattr(evt, "_data", None) or {}
        doc_id = data.get("remove")
        if not isinstance(doc_id, str) or not doc_id:
            return gr.skip()
        if refusal := refusal_to_change(self.policy, request):
            return refusal
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
    # The type hints are the API's description (gradio_client's view_api() shows them): keep them exact.
    def ask(self, question: str, history: list[Turn] | None = None) -> AnswerJSON:
        """Answer a question; every sentence cites exact spans of the articles.

        Args:
            question: the question, as a user would ask it
            history: earlier messages of the conversation, oldest first: a follow-up is understood from them
        Returns:
            the answer as `assistant ask --json` prints it: its text with [n] markers, its sentences with their
            verdicts, and its citations (document id, title, start and end offsets into the document's text)
        """
        try:
            return self.assistant.ask(question, history or []).to_dict()  # type: ignore[return-value]
        except AssistantError as exc:
            raise gr.Error(str(exc)) from None

    def document(self, document_id: str) -> DocumentJSON:
        """One document with its full text.

        Args:
            document_id: a citation's document_id
        Returns:
            the document: its source, title and text (a citation's start and end index into text)
        """
        doc = self.assistant.document(document_id)
        if doc is None:
            raise gr.Error("no such document")
        return {**doc.summary(), "text": doc.text, "pages": doc.pages}  # type: ignore[return-value]

    # -- the page -----------------------------------------------------------------------------------
    def create_app(self) -> gr.Blocks:
        """The page (not started: mount it, or launch())."""
        css = (STATIC / "ui.css").read_text(encoding="utf-8")
        # delete_cache: files uploaded but never added (the tab left, the event refused) go within the hour
        with gr.Blocks(title="Ask your articles", analytics_enabled=False, delete_cache=UPLOAD_CACHE_S) as demo:
            turns = gr.State([])
            header = gr.HTML(self.stats(), head=f"<style>{css}</style>", js_on_load=None, apply_default_css=False,
                             elem_id="aui-header")
            with gr.Tabs():
                with gr.Tab("Chat", id="chat"):
                    examples = self.chat_tab(demo, turns)
                with gr.Tab("Check a text", id="check"):
                    check_tab(gr, self.assistant)
                with gr.Tab("Collection", id="collection") as collection_tab:
                    self.collection_tab(demo, header, examples, collection_tab)
            gr.api(self.ask, api_name="ask")
            gr.api(self.document, api_name="document")
        return demo

    def chat_tab(self, demo: gr.Blocks, turns: gr.State) -> gr.HTML:
        """The kept conversations, the conversation, the question box, the examples, the sources and the article
        viewer, wired; returns the examples box (the collection tab refreshes it)."""
        # The conversations live in this browser's localStorage. Its key and secret are fixed, so a restarted
        # server still reads them (the secret only keeps them from being read as plain text).
        store = gr.BrowserState({"conversations": []}, storage_key=STORE_KEY, secret=STORE_KEY)
        conversation_id = gr.State("")
        with gr.Row(equal_height=False, elem_id="aui-chat-row"):
            with gr.Column(scale=1, min_width=200, elem_id="aui-side"):
                conversation_list = gr.HTML(render_conversations(None, ""), js_on_load=ROWS_JS, apply_default_css=False,
                                            elem_id="aui-convs")
            with gr.Column(scale=4, min_width=300, elem_id="aui-main"):
                chat = gr.HTML(render_chat([]), js_on_load=CLICK_JS, apply_default_css=False, elem_id="aui-chat", autoscroll=True,
                               min_height=320, max_height="62vh", container=True, padding=True)
                with gr.Row(equal_height=False, elem_id="aui-ask-row"):
                    question = gr.Textbox(placeholder="Ask a question about the articles…", show_label=False,
                                          lines=1, max_lines=6, scale=1, container=False, elem_id="aui-question", autofocus=True)
                    ask_btn = gr.Button("Ask", variant="primary", scale=0, min_width=64, elem_id="aui-ask")
                    new_btn = gr.Button("New chat", variant="secondary", size="sm", scale=0, min_width=84, elem_id="aui-new")
                example_box = gr.HTML("", js_on_load=CLICK_JS, apply_default_css=False, elem_id="aui-examples")
                export = gr.HTML("", js_on_load=None, apply_default_css=False, elem_id="aui-export")
            with gr.Column(scale=3, min_width=300, elem_id="aui-aside"):
                sources = gr.HTML(render_sources(None, None), js_on_load=CLICK_JS, apply_default_css=False, elem_id="aui-sources")
                viewer = gr.HTML(VIEWER_HINT, js_on_load=SCROLL_JS, apply_default_css=False, elem_id="aui-viewer")

        private = dict(show_progress="hidden", api_visibility="private")
        listeners = dict(fn=self.respond, inputs=[question, turns, store, conversation_id],
                         outputs=[chat, sources, viewer, turns, question, store, conversation_id, conversation_list, export],
                         concurrency_limit=4, **private)
        question.submit(**listeners)
        ask_btn.click(**listeners)
        example_box.click(self.pick_example, None, question, **private).then(**listeners)
        for panel in (chat, sources):
            panel.click(self.open_cite, [turns], [sources, viewer], **private)
        new_btn.click(self.new_conversation, [store],
                      [chat, sources, viewer, turns, question, conversation_id, conversation_list, export], **private)
        conversation_list.click(self.conversation_action, [store, conversation_id, turns],
                                [chat, sources, viewer, turns, conversation_id, store, conversation_list, export], **private)
        demo.load(lambda kept: render_conversations(kept, ""), [store], [conversation_list], **private)
        return example_box

    def collection_tab(self, demo: gr.Blocks, header: gr.HTML, example_box: gr.HTML, tab: gr.Tab) -> None:
        """The document table (sortable, a Remove button on each row), upload with each file's progress, re-index;
        the header and examples follow every change."""
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                doc_table = gr.HTML("", js_on_load=ROWS_JS, apply_default_css=False, elem_id="aui-docs")
            with gr.Column(scale=2, min_width=300):
                files = gr.File(label="Add articles (txt, md, html, pdf, docx)", file_count="multiple",
                                file_types=UPLOAD_TYPES, elem_id="aui-upload")
                add_btn = gr.Button("Add to collection", variant="primary", elem_id="aui-add")
                result = gr.HTML("", js_on_load=None, apply_default_css=False, elem_id="aui-result")
                reindex_btn = gr.Button("Re-index from the source files", size="sm", elem_id="aui-reindex")

        after = dict(fn=self.refresh, inputs=None, outputs=[header, doc_table], api_visibility="private",
                     show_progress="hidden")
        # the examples last: after a change they are asked again (seconds), and the table should not wait for them
        examples = dict(fn=self.examples, inputs=None, outputs=[example_box], api_visibility="private",
                        show_progress="hidden")
        demo.load(**after).then(**examples)
        tab.select(**after)
        add_btn.click(self.upload, [files], [result, files], api_visibility="private", show_progress="hidden").then(**after).then(**examples)
        reindex_btn.click(self.reindex, None, [result], api_visibility="private").then(**after).then(**examples)
        doc_table.click(self.remove, None, [result], api_visibility="private").then(**after).then(**examples)

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

