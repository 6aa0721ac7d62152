"""Answer text for clients that render Markdown (OpenAI chat clients): words from the articles stay words.

An article may hold "[click here](http://…)", "<http://…>" or "[2]"; in the `content` of an OpenAI reply these
are escaped, so that only the answer's own citation markers are unescaped brackets and no link of an article's
becomes live in a client that renders Markdown.

Generic chat clients (simonw/llm, Open WebUI, LibreChat) show `content` and nothing else, so the content ends with
a short Sources list (marker, title, date when known, the quoted span): a citation nobody sees is no citation.
"""
from __future__ import annotations

import re

from ..schema import Answer, Citation, Sentence

# Brackets make links, images and citation-like markers; angle brackets make autolinks and HTML.
SPECIAL = re.compile(r"([\\\[\]<>])")
# In a Sources line, emphasis and code marks would also eat the quote's characters; an underscore inside a word
# (file_name.txt) emphasises nothing in CommonMark, and stays bare for clients that show the raw text.
INLINE_SPECIAL = re.compile(r"([\\\[\]<>*`]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")
SOURCES_HEADING = "**Sources**"
SOURCES_START = "\n\n" + SOURCES_HEADING + "\n"
QUOTE_CHARS = 300  # a longer span is shown cut at a word, with "…" (the citation itself holds all of it)


# What GFM clients turn into links without any brackets: URLs with a scheme, and www. addresses (the trailing
# punctuation is the sentence's, not the link's).
BARE_URL = re.compile(r"(?:\b[a-zA-Z][a-zA-Z0-9+.-]*://|\bwww\.)[^\s<>`]*[^\s<>`.,;:!?)\]'\"]")


def escape(text: str) -> str:
    """text with Markdown's link and HTML syntax made literal; a bare URL becomes a code span (shown, not live)."""
    out, last = [], 0
    for m in BARE_URL.finditer(text):
        out.append(SPECIAL.sub(r"\\\1", text[last:m.start()]))
        out.append(f"`{m.group()}`")
        last = m.end()
    out.append(SPECIAL.sub(r"\\\1", text[last:]))
    return "".join(out)


def sentence_markdown(sentence: Sentence) -> str:
    markers = "".join(f"[{m}]" for m in sentence.citations)
    return escape(sentence.body) + (" " + markers if markers else "")


def answer_markdown(answer: Answer) -> str:
    return " ".join(sentence_markdown(s) for s in answer.sentences)


def inline_data(text: str) -> str:
    """Text from an article as one line of Markdown data: whitespace runs (new lines too, which could start a
    heading or a list) become one space, and every mark that links, quotes code or emphasises is escaped."""
    return INLINE_SPECIAL.sub(lambda m: "\\" + m.group(0), " ".join(text.split()))


def shortened(text: str, limit: int = QUOTE_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def source_line(citation: Citation) -> str:
    """- [n] Title (date): “the quoted span”"""
    title = inline_data(citation.title or citation.source)
    date = getattr(citation, "date", "") or ""  # when the article was published, on indexes that know it
    when = f" ({inline_data(str(date))})" if date else ""
    return f"- [{citation.marker}] {title}{when}: “{inline_data(shortened(citation.text))}”"


def sources_markdown(citations: list[Citation]) -> str:
    """The Sources list that ends an answer's content ("" without citations)."""
    if not citations:
        return ""
    return SOURCES_START + "\n" + "\n".join(source_line(c) for c in citations)


def without_sources(content: str) -> str:
    """An earlier reply as a client sends it back in the history, without the Sources list this server added."""
    return content.split(SOURCES_START, 1)[0]
