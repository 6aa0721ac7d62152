"""The chat page's "Check a text" tab: paste an answer from elsewhere and see each sentence marked, with the stretches
of the collection that back it (answering/check.py), shown in the words and colours of the assistant's own answers."""
from __future__ import annotations

from html import escape as esc

from ..schema import AssistantError, QuestionError

CHECK_HINT = ('<p class="aui-hint">Paste an answer from another chatbot, a summary or a draft: each sentence is '
              'checked against the articles, and the passages that back it are quoted.</p>')


def render_check(result: dict) -> str:
    """The checked sentences: supported ones green with their quoted spans, the others marked as not backed."""
    rows = []
    for s in result["sentences"]:
        verdict = "supported" if s["supported"] else "weak"
        words = "backed by the articles" if s["supported"] else "not backed by the articles"
        quotes = "".join(
            f'<li class="aui-check-cite"><span class="aui-chip-title">{esc(c.get("title") or c.get("source", ""))}</span>'
            + (f' <span class="aui-chip-date">{esc(c["date_shown"])}</span>' if c.get("date_shown") else "")
            + f'<blockquote class="aui-check-quote">{esc(" ".join(c["text"].split()))}</blockquote></li>'
            for c in s["citations"])
        rows.append(f'<li class="aui-check-row v-{verdict}" data-supported="{str(s["supported"]).lower()}" '
                    f'title="{esc(words)} (confidence {s["probability"]:.2f})">'
                    f'<span class="aui-sent v-{verdict}"><span class="aui-stext">{esc(s["text"])}</span>'
                    f' <span class="aui-{"ok" if s["supported"] else "doubt"}">{esc(words)}</span></span>'
                    + (f'<ul class="aui-check-cites">{quotes}</ul>' if quotes else "") + "</li>")
    total = len(result["sentences"])
    summary = f'<p class="aui-check-summary">{result["supported"]} of {total} sentence{"s" if total != 1 else ""} backed by the articles</p>'
    return f'<div id="aui-check-result">{summary}<ol class="aui-check-list">{"".join(rows)}</ol></div>'


def checked_html(assistant, text: str) -> str:
    """The tab's answer to a pasted text: the marked sentences, or why it cannot be checked (one line)."""
    try:
        return render_check(assistant.check(text).to_dict())
    except QuestionError as exc:
        return f'<p class="aui-error">Cannot check this: {esc(str(exc))}</p>'
    except AssistantError as exc:
        return f'<p class="aui-error">Could not check: {esc(str(exc))}</p>'


def check_tab(gr, assistant) -> None:
    """The tab's components, wired (inside a gr.Tab)."""
    text = gr.Textbox(placeholder="Paste the text to check…", show_label=False, lines=6, max_lines=20,
                      elem_id="aui-check-text")
    button = gr.Button("Check", variant="primary", elem_id="aui-check")
    result = gr.HTML(CHECK_HINT, apply_default_css=False, elem_id="aui-check-out")
    button.click(lambda pasted: checked_html(assistant, pasted), [text], [result], api_visibility="private",
                 concurrency_limit=2, show_progress="minimal")
