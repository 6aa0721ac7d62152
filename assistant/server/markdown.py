"""Answer text for clients that render Markdown (OpenAI chat clients): words from the articles stay words.

An article may hold "[click here](http://…)", "<http://…>" or "[2]"; in the `content` of an OpenAI reply these
are escaped, so that only the answer's own citation markers are unescaped brackets and no link of an article's
becomes live in a client that renders Markdown.
"""
from __future__ import annotations

import re

from ..schema import Answer, Sentence

# Brackets make links, images and citation-like markers; angle brackets make autolinks and HTML.
SPECIAL = re.compile(r"([\\\[\]<>])")


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
