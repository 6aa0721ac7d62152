"""The example questions under the chat: asked the way a person would ("Who is Qassem Soleimani?", "What is the
PMU?"), drawn from the names that stand out in the articles, and each one asked and answered before it is offered.

The wording comes from rules (a name that the article later calls by its last word alone is a person's); whether a
question is offered is decided by the assistant itself: it is asked, and offered only when the answer is not an
abstention and its first sentence is badged supported (the fitted policy). The offered questions are kept per
collection revision, so a change to the collection draws and checks them again.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter

from ..schema import Document

log = logging.getLogger(__name__)

EXAMPLES = 4  # example questions offered under the chat
EXAMPLE_DOCS = 40  # documents read to draw them from
CANDIDATES = 3 * EXAMPLES  # questions asked at most to find EXAMPLES that are answered
ASKING_BUDGET_S = 60.0  # stop asking after this long (a slow LLM): the questions found by then are offered
READ_CHARS = 30_000  # of each document: its names that stand out are in its first pages

NAME_WORD = r"(?:[A-Z][a-z]+(?:[-’'][A-Za-z]+)*|[A-Z]{3,6})"
NAME_LINK = r"(?:\s+(?:of|al|bin|de|van|von|la|le|du)\s+|\s+|-)"
NAME = re.compile(rf"(?<![\w’']){NAME_WORD}(?:{NAME_LINK}{NAME_WORD}){{0,4}}(?![\w’'])")
LEADING = {"The", "A", "An", "In", "On", "At", "But", "And", "However", "This", "That", "These", "Those", "It", "He",
           "She", "They", "We", "After", "Before", "While", "When", "As", "If", "For", "From", "With", "By", "To",
           "Its", "His", "Her", "Their", "Our", "Some", "Many", "Both", "Since", "Also", "Yet", "So", "Via", "Mr", "Ms",
           "Mrs", "Dr", "According", "Under", "Over", "Last", "Next", "Earlier", "Later", "What", "Who", "Why", "How",
           # sentence openers and titles: "Should Trump ...", "President Donald Trump" (the name is "Donald Trump")
           "Should", "Would", "Could", "Will", "Can", "May", "Must", "Did", "Does", "Do", "Is", "Are", "Was", "Were",
           "Has", "Have", "Had", "Not", "No", "Now", "Then", "There", "Here", "Where", "Which", "Whose", "President",
           "Prime", "Minister", "General", "Gen", "Secretary", "Sir", "Lord", "Lady", "King", "Queen", "Pope"}
CALENDAR = {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
            "November", "December", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
ACRONYM = re.compile(r"[A-Z]{3,6}")


def names_in(text: str) -> Counter:
    """Proper names (two or more capitalised words, or an acronym) and how often they occur."""
    found: Counter = Counter()
    for m in NAME.finditer(text):
        words = re.sub(r"[’']s$", "", m.group(0)).split()  # "Trump’s" is Trump
        while words and words[0] in LEADING:
            words.pop(0)
        words = [w for w in words if w not in CALENDAR] if any(w in CALENDAR for w in words) else words
        name = " ".join(words)
        if not name or name.lower() in ("the", "of"):
            continue
        if len(words) >= 2 or ACRONYM.fullmatch(name):
            found[name] += 1
    return found


def standout_names(docs: list[Document]) -> list[list[str]]:
    """For each document, the names that stand out in it (frequent in it, rare in the others), best first."""
    per_doc = [mentions(d.text[:READ_CHARS]) for d in docs]
    spread = Counter(n for c in per_doc for n in c)
    return [[n for _, n in sorted(((c * (1 + 0.5 * (len(n.split()) - 1)) / spread[n], n)
                                   for n, c in counts.items() if c >= 2), reverse=True)]
            for counts in per_doc]


def mentions(text: str) -> Counter:
    """names_in(text), with a person's later mentions by last name alone counted as theirs. Words are counted once;
    only a name that would then be mentioned twice is looked at as a possible person (a few regexes each)."""
    found = names_in(text)
    words = Counter(re.findall(r"[\w’'-]+", text))
    for name, count in list(found.items()):
        parts = name.split()
        alone = words[parts[-1]] - count  # the last name's mentions outside the full name
        if len(parts) >= 2 and alone > 0 and count + alone >= 2 and is_person(name, text):
            found[name] = count + alone
    return found


TITLES = r"(?:President|Prime Minister|Minister|General|Gen\.|Commander|Secretary|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Sir|leader|spokesman|spokeswoman)"
PRONOUN = re.compile(r"\b(?:he|she|his|her|him)\b")


def _count(pattern: str, text: str) -> int:
    return len(re.findall(pattern, text))


def is_person(name: str, text: str) -> bool:
    """Whether text writes about name as a person: a title before it, "said" after it, or "he"/"she" soon after
    it, in at least two places (counting the last name alone, as a news story calls a person once named)."""
    words = name.split()
    if not 2 <= len(words) <= 4 or words[0] in LEADING or any(ACRONYM.fullmatch(w) or w.islower() for w in words):
        return False
    called = rf"(?:{re.escape(name)}|{re.escape(words[-1])})(?![\w’'])"
    signals = _count(rf"{TITLES} (?:\w+ )?{called}", text) + _count(rf"{called},? (?:said|says|told)\b", text)
    signals += sum(1 for m in re.finditer(called, text) if PRONOUN.search(text, m.end(), m.end() + 80))
    return signals >= 2


def question_about(name: str, text: str) -> str:
    """How a person would ask about name, from the way text uses it: "Who is <name>?" for a person, else
    "What is <name>?", with the article text gives it ("the PMU", "an aardvark", "A Modest Proposal")."""
    if is_person(name, text):
        return f"Who is {name}?"
    if re.search(rf"[a-z,;] A {re.escape(name)}\b", text):  # a title that begins with "A"
        return f"What is A {name}?"
    lower = name.lower()
    if _count(rf"(?<![\w’']){re.escape(lower)}", text) >= _count(re.escape(name), text):  # a common noun ("aardvarks")
        article = re.search(rf"\b(an?) {re.escape(lower)}\b", text, re.IGNORECASE)
        return f"What is {article.group(1).lower() + ' ' if article else ''}{lower}?"
    every = max(_count(re.escape(name), text), 1)
    return f"What is the {name}?" if 2 * _count(rf"\b[Tt]he {re.escape(name)}(?![\w’'])", text) >= every else f"What is {name}?"


def candidate_questions(docs: list[Document]) -> list[str]:
    """Questions about each document's subject (a short title the text repeats) and the names that stand out in
    it, taken in turn from each document; a name inside one already asked about is skipped."""
    per_doc = []
    for doc, names in zip(docs, standout_names(docs)):
        title = (doc.title or "").strip()
        subject = [title] if 1 <= len(title.split()) <= 4 and len(re.findall(re.escape(title), doc.text, re.IGNORECASE)) >= 2 else []
        per_doc.append([(n, doc) for n in subject + names])
    chosen: list[tuple[str, Document]] = []
    for depth in range(max((len(p) for p in per_doc), default=0)):
        for named in per_doc:
            if depth < len(named):
                n, doc = named[depth]
                if not any(_within(n, c) or _within(c, n) for c, _ in chosen):
                    chosen.append((n, doc))
    return [question_about(n, doc.text[:READ_CHARS]) for n, doc in chosen]


def _within(name: str, other: str) -> bool:
    """Whether name is a whole-word part of other ("Trump" of "Donald Trump"; not "ISIS" of "Crisis Group")."""
    return re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", other.lower()) is not None


def answered(answer) -> bool:
    """Whether an answer may be offered as an example's: not an abstention, its first sentence badged supported."""
    return not answer.abstained and bool(answer.sentences) and answer.sentences[0].verdict == "supported"


def answered_questions(assistant, docs: list[Document], limit: int = EXAMPLES, tries: int = CANDIDATES,
                       budget_s: float = ASKING_BUDGET_S) -> list[str]:
    """Up to limit candidate questions that the assistant answers, each asked once (at most tries of them, and for
    at most budget_s seconds)."""
    offered: list[str] = []
    t0 = time.monotonic()
    for question in candidate_questions(docs)[:tries]:
        if len(offered) == limit or time.monotonic() - t0 > budget_s:
            break
        try:
            if answered(assistant.ask(question)):
                offered.append(question)
        except Exception as exc:  # an answer that fails is not offered; the page still shows the others
            log.warning("example question %r failed: %s", question, exc)
    return offered


class Examples:
    """The questions offered under the chat, drawn and asked once per collection revision (one drawing at a time:
    a second page opened meanwhile waits for it rather than asking the same questions again)."""

    def __init__(self, assistant):
        self.assistant = assistant
        self._lock = threading.Lock()
        self._revision: int | None = None
        self._questions: list[str] = []

    def current(self) -> list[str]:
        """The offered questions for the collection as it is now ([] for an empty collection)."""
        with self._lock:
            revision = self.assistant.revision()
            if revision != self._revision:
                docs = self.assistant.documents()[:EXAMPLE_DOCS]
                full = [d for d in (self.assistant.document(d.id) for d in docs) if d is not None]
                self._questions = answered_questions(self.assistant, full) if full else []
                self._revision = revision
            return list(self._questions)
