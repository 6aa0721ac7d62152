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


def escape(text: str) -> str:
    return SPECIAL.sub(r"\\\1", text)


def sentence_markdown(sentence: Sentence) -> str:
    markers = "".join(f"[{m}]" for m in sentence.citations)
    return escape(sentence.body) + (" " + markers if markers else "")


def answer_markdown(answer: Answer) -> str:
    return " ".join(sentence_markdown(s) for s in answer.sentences)
