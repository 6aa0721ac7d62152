"""Answer a question set (docs/eval.md) over a folder of articles and write one result line per case;
assistant/evaluation/ judges them."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

from ..core import Assistant
from .jsonl import read_jsonl
from .metrics import case_problem
from ..schema import Answer, AssistantError, Message


def load_cases(path: Path) -> list[dict]:
    """A question set (docs/eval.md); ValueError with the file, line and reason when a line is not a case."""
    seen: set[str] = set()

    def check(case: dict) -> str | None:
        problem = case_problem(case)
        if problem:
            return problem
        key = json.dumps(case["id"])
        if key in seen:
            return f"the id {key} is used twice"
        seen.add(key)
        return None

    return read_jsonl(path, check)


def replay(assistant: Assistant, turns: list[str], memo: dict[tuple[str, ...], list[Message]] | None = None
           ) -> list[Message]:
    """The chat history of earlier user turns: each asked in order, its own answer becoming the history. With a
    memo (for one assistant and collection), a conversation's longest prefix already replayed is not asked again:
    question sets make a case of every turn of a conversation."""
    memo = {} if memo is None else memo
    done = max((k for k in range(len(turns) + 1) if tuple(turns[:k]) in memo), default=0)
    history: list[Message] = list(memo.get(tuple(turns[:done]), []))
    for k in range(done, len(turns)):
        history += Message.exchange(turns[k], assistant.ask(turns[k], history))
        memo[tuple(turns[:k + 1])] = list(history)
    return history


def result_line(case: dict, answer: Answer, latency_ms: float) -> dict:
    return {
        "id": case["id"],
        "answer": answer.text,
        "abstained": answer.abstained,
        "citations": [{"source": Path(c.source).name, "text": c.text} for c in answer.citations],
        "contexts": [{"source": Path(p.chunk.source).name, "text": p.chunk.text} for p in answer.passages],
        "latency_ms": round(latency_ms, 1),
        "rewritten_query": answer.rewritten_query,
        "confidence": None if answer.confidence is None else round(answer.confidence, 6),
        "answerer": answer.answerer,
        **({"notice": answer.notice} if answer.notice else {}),
    }


def error_line(case: dict, reason: str) -> dict:
    """The result of a case the assistant could not answer (its LLM server failed, ...): scored as a wrong answer,
    reported with its reason, and the run goes on."""
    return {"id": case["id"], "answer": "", "abstained": False, "citations": [], "contexts": [], "error": reason}


def run(assistant: Assistant, cases: list[dict], out: Path, progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Answer every case (its history first, in order, own answers becoming the history) and write results."""
    results = []
    with open(out, "w", encoding="utf-8") as fh:
        for n, case in enumerate(cases, 1):
            try:
                history = replay(assistant, case.get("history") or [])
                t0 = time.perf_counter()
                answer = assistant.ask(case["question"], history)
                row = result_line(case, answer, (time.perf_counter() - t0) * 1000)
            except AssistantError as exc:
                row = error_line(case, str(exc))
            results.append(row)
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()  # a long run read while it goes, or broken off, keeps what it answered
            if progress:
                progress(n, len(cases))
    return results
