"""Sources that disagree, and questions about a time.

Parsing is by rule: the values a sentence gives (numbers, dates, names: what a question asks for), and the time a
question asks about ("now", "currently", "in 2020", "in September 2020"), which is taken out of the question the
answer model reads and answered by the documents' dates instead.

Which of a sentence's values answers the question is the answer model's reading (asked_value). Whether two answering
sentences from different documents give *different values for the same thing* is judgement:
one logistic regression over a few features of the pair (each sentence's answer-model probability, whether both hold
a value of the asked type, whether they share one, whether their documents' dates differ, how alike the sentences
are by the packaged embedder), its weights in models/disagreement.json, fitted by training/fit_disagreement.py on
SQuAD paragraphs with planted, changed and restated values (the tuning half of its articles).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .calibration import Combination
from ..model_files import ANSWER_MODEL_DIR
from ..ingest.metadata import MONTH_WORD, parse_date, shown_date
from ..onnx_models import answer_model, bge_small, sigmoid

WEIGHTS_FILE = ANSWER_MODEL_DIR.parent / "disagreement.json"
FEATURES = ("p_lead", "p_other", "typed", "same_value", "new_value", "dates_differ", "similarity")

QUALIFIER = r"(?:about|around|approximately|roughly|nearly|almost|some|over|under|more than|fewer than|less than|" \
            r"at least|at most|up to|as many as|as few as)"
SCALE = r"(?:hundred|thousand|million|billion|trillion)"
NUMBER = re.compile(rf"(?i)(?:\b{QUALIFIER}\s+)?(?:[$£€]\s?)?\b(\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.(\d+))?(?:\s+({SCALE}))?"
                    r"(?:\s?(%|percent|per cent))?")
DATE = re.compile(rf"(?i)\b(?:(\d{{1,2}})\s+)?({MONTH_WORD})\s+(?:(\d{{1,2}}),?\s+)?(\d{{4}})\b|\b(1[0-9]\d\d|20\d\d)\b")
NAME = re.compile(r"\b(?:[A-Z][\w'’.-]*[a-z][\w'’-]*)(?:\s+(?:of|de|von|van|the|al|bin)?\s*[A-Z][\w'’.-]*[a-z][\w'’-]*)*")
LEADING_THE = re.compile(r"^The\s+")
POSSESSIVE = re.compile(r"['’]s$")
CALENDAR_WORD = re.compile(r"January|February|March|April|May|June|July|August|September|October|November|December|"
                           r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day")  # a date's word alone, not a name
SCALES = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}

PRESENT = re.compile(r"(?i)\s*\b(?:right now|now|currently|at present|presently|these days|nowadays|today|"
                     r"as of today|still|latest|most recent|current)\b")
PERIOD = re.compile(rf"(?i)\s*\b(?:in|during|as of|by|around|at the (?:end|start|beginning) of)\s+"
                    rf"((?:(?:early|late|mid)[- ])?(?:\d{{1,2}}\s+)?(?:{MONTH_WORD}\s+)?\d{{4}})\b")


@dataclass
class Value:
    shown: str  # as the sentence writes it: "about 2,500"
    key: str  # what compares: "2500", "2020-09", "mike pompeo"
    kind: str  # number | date | name


# "Who is Qassem Soleimani?", "Who was Abu Mahdi al-Muhandis?": a person named in full asks for a description
NAMED = r"(?:(?:al-|el-|bin\s+|de\s+|van\s+|von\s+)?[A-Z][\w'’.-]*)(?:\s+(?:(?:al-|el-|bin\s+|de\s+|der\s+|van\s+|von\s+|of\s+)*[A-Z][\w'’.-]*))*"
DEFINITION = re.compile(rf"^\s*(?i:(?:and\s+)?who(?:'s|’s|\s+(?:is|was|are|were)))\s+{NAMED}\s*[?.!]*\s*$")


def asked_kind(question: str) -> str:
    """What a question asks for: number, date, name, description (who someone named is: a description, not a name),
    or any (numbers and dates)."""
    if DEFINITION.match(question):
        return "description"
    q = question.lower()
    if re.search(r"\bhow (?:many|much|long|old|far|big|large|high|tall|often)\b|\bwhat (?:number|percentage|share|"
                 r"proportion|amount|size|population)\b", q):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (?:year|date|month|day)\b|\bwhich (?:year|date|month)\b|\bsince when\b", q):
        return "date"
    if re.search(r"\bwho(?:m|se)?\b", q):
        return "name"
    return "any"


def values(text: str, kind: str) -> list[Value]:
    """The values of the asked kind in text, in order (a year is a date, not a number)."""
    out: list[Value] = []
    dates = []
    if kind in ("date", "any", "number"):
        for m in DATE.finditer(text):
            if m.group(5):
                iso = m.group(5)
            else:
                day = m.group(1) or m.group(3)
                iso = parse_date(f"{day + ' ' if day else ''}{m.group(2)} {m.group(4)}")
            if iso:
                dates.append((m.span(), Value(m.group(0).strip(), iso, "date")))
        if kind != "number":
            out += [v for _, v in dates]
    if kind in ("number", "any"):
        taken = [span for span, _ in dates]
        for m in NUMBER.finditer(text):
            if any(a <= m.start(1) < b for a, b in taken):
                continue
            number = float(m.group(1).replace(",", "") + ("." + m.group(2) if m.group(2) else ""))
            number *= SCALES.get((m.group(3) or "").lower(), 1.0)
            out.append(Value(m.group(0).strip(), f"{number:g}{'%' if m.group(4) else ''}", "number"))
    if kind == "name":
        for m in NAME.finditer(text):
            if m.start() == 0 and " " not in m.group(0):
                continue  # a capitalised first word is not a name
            shown = POSSESSIVE.sub("", LEADING_THE.sub("", m.group(0)))
            if shown and not CALENDAR_WORD.fullmatch(shown):
                out.append(Value(shown, name_key(shown), "name"))
    return out


def name_key(name: str) -> str:
    """What compares of a name: its last word, lower-cased, so that "Qassem Soleimani", "Qasem Soleimani" and
    "Iranian General Qasem Soleimani" are one value (reports spell and title people differently)."""
    return name.split()[-1].lower()


@dataclass
class AskedTime:
    """The time a question asks about: the present, a period (partial ISO), or neither; and the question without it."""

    present: bool = False
    period: str = ""
    untimed: str = ""

    def fits(self, date: str) -> bool:
        """Whether a document of this date is of the period asked about (a month fits its year, and the reverse)."""
        return bool(self.period and date) and (date.startswith(self.period) or self.period.startswith(date))


def asked_time(question: str) -> AskedTime:
    m = PERIOD.search(question)
    if m:
        raw = re.sub(r"(?i)^(?:early|late|mid)[- ]", "", m.group(1))
        period = parse_date(raw)
        if period:
            untimed = (question[:m.start()] + question[m.end():]).strip()
            return AskedTime(period=period, untimed=untimed or question)
    if PRESENT.search(question):
        untimed = " ".join(PRESENT.sub("", question).split())
        return AskedTime(present=True, untimed=untimed if re.search(r"\w", untimed) else question)
    return AskedTime(untimed=question)


def remove_time(text: str, when: AskedTime) -> str:
    """text (a question or its standalone query) without the time asked about."""
    if when.period:
        return " ".join(PERIOD.sub("", text).split()) or text
    if when.present:
        return " ".join(PRESENT.sub("", text).split()) or text
    return text


@dataclass
class DisagreementModel(Combination):
    """One logistic regression over FEATURES (Combination.probability): P(the pair gives different values for
    what was asked)."""

    threshold: float = 0.5  # a pair at or above this probability is said to disagree (fitted with the weights)
    pool: int = 6  # the most probable candidates of other documents that are compared with the answer's lead

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> "DisagreementModel":
        if not path.exists():  # unfitted: never reports a disagreement
            return cls(weights={name: 0.0 for name in FEATURES}, bias=-10.0)
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(weights=dict(data["weights"]), bias=float(data["bias"]), threshold=float(data["threshold"]),
                   pool=int(data.get("pool", 6)))


@lru_cache(maxsize=1)
def disagreement_model() -> DisagreementModel:
    return DisagreementModel.load()


def answer_values(text: str, kind: str, question: str) -> list[Value]:
    """The values text gives for what was asked: a value the question itself names (the subject, as in "Who
    succeeded Soleimani?") is not an answer to it."""
    asked = question.lower()
    return [v for v in values(text, kind) if v.shown.lower() not in asked]


def answer_keys(text: str, kind: str, question: str) -> set[str]:
    return {v.key for v in answer_values(text, kind, question)}


def pair_features(kind: str, lead: str, other: str, logit_lead: float, logit_other: float, date_lead: str,
                  date_other: str, similarity: float, question: str = "") -> dict[str, float]:
    """The features of (the answer's lead sentence, a sentence of another document) for the question's kind."""
    a, b = answer_keys(lead, kind, question), answer_keys(other, kind, question)
    # new_value: the other sentence gives a value the lead does not (a changed figure, or another fact's)
    return {"p_lead": sigmoid(logit_lead), "p_other": sigmoid(logit_other), "typed": float(bool(a and b)),
            "same_value": float(bool(a & b)), "new_value": float(bool(b - a)), "dates_differ": float(bool(date_lead and date_other and date_lead != date_other)),
            "similarity": similarity}


def similarities(lead: str, others: list[str]) -> list[float]:
    """Cosine similarity of lead to each of others by the packaged embedder (bge-small, normalised vectors)."""
    if not others:
        return []
    vectors = bge_small().embed([lead, *others])
    first = vectors[0]
    return [float(sum(x * y for x, y in zip(first, v))) for v in vectors[1:]]


def shown_values(question: str, text: str, scored_text: str, kind: str, others: list[str]) -> list[str]:
    """The value text gives for what was asked (as written), as the answer model reads it (asked_value); where it
    cannot tell, those of text's values that the other sentences do not give. Each value once (answer_values, else
    all of them)."""
    found = answer_values(text, kind, question) or values(text, kind)
    found = list({v.key: v for v in reversed(found)}.values())[::-1]  # each value once, as first written
    picked = asked_value(question, scored_text, [v.shown for v in found])
    if picked:
        return [picked]
    theirs = {v.key for o in others for v in values(o, kind)}
    return [v.shown for v in found if v.key not in theirs] or [v.shown for v in found]


# a value taken out of a sentence is said as this word (chosen on the tuning half over "", "..." and "someone":
# bench/asked_value.py)
REMOVED_VALUE = "it"


def asked_value(question: str, scored_text: str, shown: list[str], removed: str = REMOVED_VALUE) -> str | None:
    """Of the values a sentence gives (shown, as written in scored_text, the sentence as the answer model reads it),
    the one that answers the question: the one whose removal lowers the answer model's score the most (a sentence
    that has lost its answer no longer answers). Of SQuAD answer sentences that give two or more values of the asked
    kind (bench/asked_value.py, held-out half, 300 a kind), it is the answer for 0.75 of numbers, 0.81 of dates and
    0.76 of names; the sentence's first value is for 0.53, 0.50 and 0.47. None for a single value, or fewer than two
    found in scored_text (a pronoun resolved). The last writing of a value is taken out: scored_text is
    "{title}. {sentence}" (model_input.titled), and the title may name it too."""
    able = [v for v in shown if v in scored_text]
    if len(able) < 2:
        return None
    without = [scored_text[:i] + removed + scored_text[i + len(v):] for v, i in ((v, scored_text.rfind(v)) for v in able)]
    logits = answer_model().score(question, [scored_text] + without)
    drop = [logits[0] - x for x in logits[1:]]
    return able[max(range(len(able)), key=drop.__getitem__)]


def newest_first(items: list, date_of) -> list:
    """items ordered by their date, newest first; undated ones after, in their order."""
    dated = sorted((i for i in items if date_of(i)), key=date_of, reverse=True)
    return dated + [i for i in items if not date_of(i)]


def disagreement_note(groups: list[dict]) -> str:
    """The sentence saying that the sources differ: each value with its source's title and date, as listed."""
    parts = []
    for g in groups:
        when = shown_date(g["date"]) or "undated"
        parts.append(f"{', '.join(g['values'])} ({when}, {g['title'] or g['source']})")
    return "The sources give different answers: " + "; ".join(parts) + "."


def compares(question: str, when: AskedTime, lead_text: str) -> bool:
    """Whether arrange compares other sources with a lead sentence of this text: only when the question asks for a
    value (a number, a date, a name) that the lead gives, or for anything but a description."""
    kind = asked_kind(when.untimed or question)
    return kind != "description" and (kind != "any" or bool(values(lead_text, kind)))


def arrange(question: str, when: AskedTime, ranked: list, chosen: list, threshold: float,
            model: DisagreementModel | None = None) -> list[tuple[object, list[str]]]:
    """The answer's sentences in the order to show them, each with the values it gives when the sources disagree
    (else []). ranked: the scored candidates, most probable first (each with .span, .p and .score, the answer model's
    logit); chosen: those the answerer would show; threshold: its abstention threshold.

    Candidates of other documents than the lead's are compared with the lead by the fitted model; those it finds to
    give a different value for what was asked join the answer, the group listed newest first. A question about the
    present leads with the newest dated source, one about a period with the sources of that period.
    """
    model = model or disagreement_model()
    kind = asked_kind(when.untimed or question)
    lead = chosen[0]
    if when.period:  # a source of the period asked about, probable enough to answer, leads
        fitting = [c for c in ranked if c.p >= threshold and when.fits(c.span.date) and not getattr(c, "headline", False)]
        if fitting and not when.fits(lead.span.date):
            lead = fitting[0]
            chosen = [lead] + [c for c in chosen if c is not lead]
    others = [c for c in ranked if c.span.document_id != lead.span.document_id and c.score is not None][:model.pool]
    group = []
    if others and compares(question, when, lead.span.text):
        features = [pair_features(kind, lead.span.text, c.span.text, lead.score or 0.0, c.score, lead.span.date,
                                  c.span.date, 0.0, when.untimed or question) for c in others]
        # embedding the sentences is most of this check's cost: only pairs that some similarity (a cosine, -1 to 1)
        # could carry over the threshold are embedded; the others could not disagree whatever it is
        able = [(c, f) for c, f in zip(others, features)
                if max(model.probability({**f, "similarity": s}) for s in (-1.0, 1.0)) >= model.threshold]
        near = similarities(lead.span.text, [c.span.text for c, _ in able])
        for (c, f), similarity in zip(able, near):
            if model.probability({**f, "similarity": similarity}) >= model.threshold and \
                    all(c.span.document_id != g.span.document_id for g in group):
                group.append(c)
    if not group:
        order = chosen
        if when.present:
            order = newest_first(chosen, lambda c: c.span.date)
        elif when.period:
            order = [c for c in chosen if when.fits(c.span.date)] + [c for c in chosen if not when.fits(c.span.date)]
        return [(c, []) for c in order]
    members = newest_first([lead, *group], lambda c: c.span.date)
    if when.period:
        members = [c for c in members if when.fits(c.span.date)] + [c for c in members if not when.fits(c.span.date)]
    texts = [c.span.text for c in members]
    asked = when.untimed or question
    shown = [(c, shown_values(asked, c.span.text, getattr(c, "scored_text", None) or c.span.text, kind,
                              texts[:k] + texts[k + 1:])) for k, c in enumerate(members)]
    rest = [(c, []) for c in chosen if c not in members and c.span.document_id not in {m.span.document_id for m in members}]
    return shown + rest
