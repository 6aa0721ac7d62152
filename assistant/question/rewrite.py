"""Turn a follow-up question into a standalone query, from the earlier turns (and the answers given to them).

With an LLM backend the condense prompt does it; the embedded default resolves references itself: personal
pronouns become the person the last answer was about, "that/it/this/the second one" pull in the topic of the
previous question, and elliptical questions ("and in 2024?") inherit the previous question's terms.
"""
from __future__ import annotations

import re
from typing import Iterable

from ..lexicon import FOLLOW_UP_STOPWORDS as STOP, MONTHS
from .normalize import normalize_question
from ..schema import Message, messages

MARKERS = re.compile(r"\s*\[\d+\]")
PERSON_PRONOUNS = {"he": "", "she": "", "him": "", "his": "'s", "her": "", "hers": "'s"}
TOPIC_REFERENCES = {"it", "its", "that", "this", "those", "these", "they", "them", "their", "there", "then", "such",
                    "former", "latter", "same", "one", "ones", "other", "others", "second", "first", "third", "last"}
ELLIPSIS_OPENERS = ("and ", "what about", "how about", "and what", "also", "why", "how so", "then ", "so ")
TITLES = r"(?:General|Gen\.|Lieutenant|Colonel|Col\.|Major|Captain|Admiral|President|Vice President|Prime Minister|" \
         r"Secretary|Minister|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Professor|Prof\.|Ayatollah|Sheikh|King|Queen|Prince|Princess|" \
         r"Senator|Sen\.|Governor|Gov\.|Judge|Justice|Pope|Chancellor|Commander|Spokesman|Spokeswoman|Sir|Lord|Lady)"
NAME = r"[A-Z][a-zA-Z'\-]+(?:\s+(?:al-|Al\s|bin\s|de\s|van\s|von\s)?[A-Z][a-zA-Z'\-]+){0,3}"


def user_turns(history: list[Message]) -> list[str]:
    return [m.content for m in history if m.role == "user" and m.content]


def rewrite_query(question: str, history: Iterable[Message | dict], assistant=None) -> str:
    """The embedded rewriter: a standalone query for a (cleaned) question given the earlier turns; the question
    itself when it needs none. (An LLM backend brings its own rewriter: llm.LlmRewriter.)"""
    history = messages(history)
    if not user_turns(history):
        return question
    store = getattr(assistant, "store", None)
    # Each earlier turn is made standalone in order, so a reference can reach back more than one turn
    # ("What is the capital of Angola?" / "How big is the Chinese community there?" / "And the Brazilian one?").
    standalone, previous_answer = None, ""
    for k, message in enumerate(history):
        if message.role != "user" or not message.content:
            continue
        q = normalize_question(message.content, store)
        standalone = q if standalone is None else resolve(q, standalone, previous_answer)
        reply = history[k + 1] if k + 1 < len(history) and history[k + 1].role == "assistant" else None
        previous_answer = MARKERS.sub("", reply.content if reply else "")
    return resolve(question, standalone or "", previous_answer)


def resolve(question: str, previous_question: str, previous_answer: str) -> str:
    words = re.findall(r"[A-Za-z']+", question.lower())
    person_refs = [w for w in words if w in PERSON_PRONOUNS]
    topic_refs = [w for w in words if w in TOPIC_REFERENCES]
    content = [w for w in words if w not in STOP and w not in PERSON_PRONOUNS and w not in TOPIC_REFERENCES]
    elliptical = question.lower().lstrip().startswith(ELLIPSIS_OPENERS) or len(content) <= 2
    if not (person_refs or topic_refs or elliptical):
        return question
    query, person = question, None
    ordinal = re.search(r"\b(?:the\s+)?(first|second|third|fourth|last)(?:\s+one)?\b", question, re.I)
    items = list_items(previous_answer) if ordinal else []
    if items:
        # "the second one" points into the list the last answer gave
        n = {"first": 0, "second": 1, "third": 2, "fourth": 3, "last": -1}[ordinal.group(1).lower()]
        if -len(items) <= n < len(items):
            query = query[:ordinal.start()] + items[n] + query[ordinal.end():]
    if person_refs:
        person = find_person(previous_answer) or find_person(previous_question)
        person = person or proper_names(previous_question)
        if person:
            query = re.sub(r"\b(he|she|him|her|his|hers)\b",
                           lambda m: person + PERSON_PRONOUNS[m.group(1).lower()], query, count=1, flags=re.I)
    # a resolved person makes the question standalone unless it is elliptical ("and what did he say?")
    if topic_refs or not person or question.lower().lstrip().startswith(ELLIPSIS_OPENERS):
        words = [w for w in re.findall(r"[\w'’\-,]+", previous_question) if w.lower() not in STOP]
        topic = " ".join(dict.fromkeys(words[:MAX_TOPIC_WORDS]))
        query = f"{query} ({topic})" if topic else query
    return query


MAX_TOPIC_WORDS = 14  # the carried-over topic stays short however long the conversation


def list_items(text: str) -> list[str]:
    """The items of the longest enumeration in text: names ("A B, C D and E F") or else short phrases."""
    for item, least in ((r"[A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*\.?){0,3}", 2), (r"[\w'’\-]+(?:\s+[\w'’\-]+)?", 3)):
        best: list[str] = []
        for m in re.finditer(rf"\b({item})((?:,\s+{item})*),?\s+(?:and|or)\s+({item})\b", text):
            parts = [m.group(1)] + [p.strip() for p in m.group(2).split(",") if p.strip()] + [m.group(3)]
            if len(parts) > len(best):
                best = parts
        if len(best) >= least:
            return best
    return []


def proper_names(text: str) -> str | None:
    """The one run of capitalised words in a question after its first word ("When did Einstein predict..." ->
    "Einstein"); None when there are several runs, acronyms or months (then it is not clearly one person)."""
    runs = re.findall(rf"(?<=\s)({NAME})", text)
    if len(runs) != 1 or re.search(rf"\b(?:[A-Z]{{2,}}|{MONTHS})\b", runs[0]) or len(runs[0].split()) > 3:
        return None
    return runs[0]


def find_person(text: str) -> str | None:
    """The first person named in text: a titled name, else a name followed by a role or 'said'."""
    m = re.search(rf"\b{TITLES}\s+({NAME})", text)
    if m:
        return m.group(0)
    m = re.search(rf"({NAME}),\s+(?:the\s+)?(?:[a-z]+\s+){{0,3}}(?:commander|minister|spokesman|spokeswoman|"
                  rf"president|secretary|leader|chief|head|professor|director|general|official|ambassador)", text)
    if m:
        return m.group(1)
    m = re.search(rf"({NAME})\s+(?:said|says|told|added|argued|warned)", text)
    return m.group(1) if m and " " in m.group(1) else None


def scoring_query(question: str, query: str) -> str:
    """What to score sentences against: the user's own words when they say enough (context appended for retrieval
    would pull the previous turn's answer back), the rewritten query when the question alone is elliptical."""
    if query == question or not query.startswith(question):
        return query
    content = [w for w in re.findall(r"[A-Za-z']+", question.lower())
               if w not in STOP and w not in PERSON_PRONOUNS and w not in TOPIC_REFERENCES]
    return question if len(content) >= 3 else query


def register(registry) -> None:
    registry.rewriters.add("embedded", lambda settings: rewrite_query)
