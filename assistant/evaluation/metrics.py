"""The figures of a question set's results: one judgement per case, the metrics over the set and over each `kind`.

The definitions are the reference scorer's, by which the project is judged (shared/eval/score.py, described in
docs/eval.md); tests/test_eval.py holds the two equal on the same files. Matching is case-insensitive, ignores
runs of whitespace and reads curly quotes as straight ones.
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

# name -> what it measures; the order is the report's
METRICS: dict[str, str] = {
    "cases": "questions in the set",
    "missing_results": "questions with no result line",
    "answer_accuracy": "answerable questions answered with the expected answer",
    "citation_support": "answerable questions with a cited passage holding the evidence",
    "citation_precision": "citations from an article that holds the answer",
    "abstention_recall": "unanswerable questions the assistant declined",
    "false_abstention": "answerable questions the assistant declined",
    "retrieval_hit@1": "answerable questions whose first retrieved passage holds the evidence",
    "retrieval_hit@k": "answerable questions with the evidence in any retrieved passage",
    "retrieval_mrr": "mean reciprocal rank of the first passage holding the evidence",
    "source_hit@1": "answerable questions whose first retrieved passage is from an answering article",
    "source_hit@k": "answerable questions with a retrieved passage from an answering article",
    "sentences_cited": "answer sentences carrying a citation marker [n]",
    "answer_words_median": "median length of the answers given, in words",
    "latency_ms_p50": "median time to answer, milliseconds",
    "latency_ms_p95": "95th percentile time to answer, milliseconds",
}
LOWER_IS_BETTER = {"missing_results", "false_abstention", "latency_ms_p50", "latency_ms_p95"}
NEITHER = {"cases", "answer_words_median"}  # a longer answer that merely contains the fact is not better, nor a shorter one
MARKER = re.compile(r"\[\d+\]")


def norm(text: str | None) -> str:
    text = (text or "").replace("\u2019", "'").replace("\u2018", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).casefold()


def contains_any(text: str | None, needles) -> bool:
    t = norm(text)
    return any(norm(n) in t for n in needles or [])


def split_sentences(text: str | None) -> list[str]:
    """Answer sentences: split after . ! ? (or a run of markers) followed by space and a capital."""
    parts = re.split(r"(?<=[.!?\]])\s+(?=[A-Z\"'(])", (text or "").strip())
    return [p for p in parts if re.search(r"\w", MARKER.sub("", p))]


def case_problem(case: dict) -> str | None:
    """Why a question-set line cannot be scored (None: it can); the shape is docs/eval.md's."""
    if not isinstance(case.get("question"), str):
        return "a case needs an id and a question"
    for name in ("answer_any", "answer_all", "evidence_any", "sources", "history"):
        value = case.get(name)
        if value is not None and not (isinstance(value, list) and all(isinstance(x, str) for x in value)):
            return f"{name} must be a list of strings"
    return None


def result_problem(row: dict) -> str | None:
    """Why a result line cannot be scored (None: it can); the shape is docs/eval.md's."""
    if not isinstance(row.get("answer", ""), (str, type(None))):
        return "answer must be text"
    for name in ("citations", "contexts"):
        items = row.get(name) or []
        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
            return f"{name} must be a list of objects"
    return None


def answer_correct(case: dict, result: dict) -> bool:
    if result.get("abstained"):
        return False
    given = norm(result.get("answer", ""))
    ok_any = not case.get("answer_any") or any(norm(a) in given for a in case["answer_any"])
    return ok_any and all(norm(a) in given for a in case.get("answer_all", []))


@dataclass
class Judgement:
    """What one case's result earned."""

    case: dict
    result: dict | None  # None: no result line for the case
    correct: bool = False  # answerable, and the expected answer was given
    supported: bool = False  # a cited passage holds the evidence
    evidence_rank: int | None = None  # 1-based rank of the first retrieved passage holding the evidence
    source_rank: int | None = None  # ... of the first one from an answering article
    cited_on_source: list[bool] = field(default_factory=list)  # per citation: from an answering article

    @property
    def answerable(self) -> bool:
        return bool(self.case.get("answerable", True))

    @property
    def abstained(self) -> bool:
        return bool((self.result or {}).get("abstained"))

    @property
    def confidence(self) -> float | None:
        value = (self.result or {}).get("confidence")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    @property
    def passed(self) -> bool:
        """Right: the expected answer to an answerable question, an abstention on an unanswerable one."""
        return self.correct if self.answerable else self.abstained

    @property
    def outcome(self) -> str:
        if self.result is None:
            return "no result"
        if self.result.get("error"):
            return "error"
        if self.answerable:
            return "right" if self.correct else "declined" if self.abstained else "wrong answer"
        return "declined, rightly" if self.abstained else "answered, though the articles do not say"


def judge(case: dict, result: dict | None) -> Judgement:
    j = Judgement(case, result)
    if not j.answerable:
        return j
    r = result or {}
    evidence, sources = case.get("evidence_any"), case.get("sources") or []
    j.correct = answer_correct(case, r)
    cites = r.get("citations") or []
    j.supported = any(contains_any(c.get("text", ""), evidence) for c in cites)
    j.cited_on_source = [c.get("source") in sources for c in cites]
    contexts = r.get("contexts") or []
    j.evidence_rank = next((i for i, x in enumerate(contexts, 1) if contains_any(x.get("text", ""), evidence)), None)
    j.source_rank = next((i for i, x in enumerate(contexts, 1) if x.get("source") in sources), None)
    return j


def judge_all(cases: list[dict], results: list[dict]) -> list[Judgement]:
    by_id = {r.get("id"): r for r in results}
    return [judge(c, by_id.get(c["id"])) for c in cases]


def score(cases: list[dict], results: list[dict]) -> dict[str, float | int]:
    """The metrics of METRICS (latency only when the results carry it)."""
    judged = judge_all(cases, results)
    answerable = [j for j in judged if j.answerable]
    unanswerable = [j for j in judged if not j.answerable]
    n = max(len(answerable), 1)
    cites = [on for j in answerable for on in j.cited_on_source]
    m: dict[str, float | int] = {"cases": len(cases), "missing_results": sum(j.result is None for j in judged)}
    m["answer_accuracy"] = sum(j.correct for j in answerable) / n
    m["citation_support"] = sum(j.supported for j in answerable) / n
    m["citation_precision"] = sum(cites) / len(cites) if cites else 0.0
    m["false_abstention"] = sum(j.abstained for j in answerable) / n
    m["retrieval_hit@1"] = sum(j.evidence_rank == 1 for j in answerable) / n
    m["retrieval_hit@k"] = sum(j.evidence_rank is not None for j in answerable) / n
    m["retrieval_mrr"] = sum(1 / j.evidence_rank if j.evidence_rank else 0.0 for j in answerable) / n
    m["source_hit@1"] = sum(j.source_rank == 1 for j in answerable) / n
    m["source_hit@k"] = sum(j.source_rank is not None for j in answerable) / n
    answered = [r for r in results if not r.get("abstained") and (r.get("answer") or "").strip()]
    words = sorted(len((r.get("answer") or "").split()) for r in answered)
    m["answer_words_median"] = statistics.median(words) if words else 0
    sentences = [s for r in answered for s in split_sentences(r["answer"])]
    m["sentences_cited"] = sum(bool(MARKER.search(s)) for s in sentences) / len(sentences) if sentences else 0.0
    m["abstention_recall"] = sum(j.abstained for j in unanswerable) / len(unanswerable) if unanswerable else 1.0
    latencies = sorted(r["latency_ms"] for r in results if isinstance(r.get("latency_ms"), (int, float)))
    if latencies:
        m["latency_ms_p50"] = statistics.median(latencies)
        m["latency_ms_p95"] = latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))]
    return {name: m[name] for name in METRICS if name in m}


def applicable(cases: list[dict]) -> set[str]:
    """The metrics that say something about these cases (abstention recall needs an unanswerable one, ...)."""
    names = set(METRICS)
    if not any(c.get("answerable", True) for c in cases):
        names -= {k for k in METRICS if k.startswith(("answer_", "citation_", "retrieval_", "source_", "sentences_"))}
        names.discard("false_abstention")
    if all(c.get("answerable", True) for c in cases):
        names.discard("abstention_recall")
    return names


def kinds(cases: list[dict]) -> list[str]:
    """The cases' `kind`s in order of first appearance."""
    return list(dict.fromkeys(str(c["kind"]) for c in cases if c.get("kind") is not None))


def score_by_kind(cases: list[dict], results: list[dict]) -> dict[str, dict[str, float | int]]:
    """score() over each kind's cases and their results alone (empty when no case has a kind)."""
    out = {}
    for kind in kinds(cases):
        mine = [c for c in cases if str(c.get("kind")) == kind]
        ids = {c["id"] for c in mine}
        out[kind] = score(mine, [r for r in results if r.get("id") in ids])
    return out
