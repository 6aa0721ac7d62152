"""Answer a question set (FORMAT.md shape) over a folder of articles and write one result line per case."""
from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from typing import Callable

from .core import Assistant
from .schema import Answer


def load_cases(path: Path) -> list[dict]:
    cases = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                case = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from None
            if not isinstance(case, dict) or "id" not in case or not isinstance(case.get("question"), str):
                raise ValueError(f"{path}:{n}: a case needs an id and a question")
            cases.append(case)
    return cases


def history_turn(question: str, answer: Answer) -> list[dict]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text, "answer": answer}]


def replay(assistant: Assistant, turns: list[str]) -> list[dict]:
    """The chat history of earlier user turns: each asked in order, its own answer becoming the history."""
    history: list[dict] = []
    for turn in turns:
        history += history_turn(turn, assistant.ask(turn, history))
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
    }


def run(assistant: Assistant, cases: list[dict], out: Path, progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Answer every case (its history first, in order, own answers becoming the history) and write results."""
    results = []
    with open(out, "w", encoding="utf-8") as fh:
        for n, case in enumerate(cases, 1):
            history = replay(assistant, case.get("history") or [])
            t0 = time.perf_counter()
            answer = assistant.ask(case["question"], history)
            row = result_line(case, answer, (time.perf_counter() - t0) * 1000)
            results.append(row)
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            if progress:
                progress(n, len(cases))
    return results


def find_scorer(questions: Path) -> Path | None:
    """score.py beside the question set, as in ../shared/eval/."""
    for candidate in (questions.resolve().parent / "score.py", Path("../shared/eval/score.py").resolve()):
        if candidate.exists():
            return candidate
    return None


def score(questions: Path, results: Path) -> dict | None:
    scorer = find_scorer(questions)
    if scorer is None:
        return None
    spec = importlib.util.spec_from_file_location("assistant_eval_scorer", scorer)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.score(module.load_jsonl(str(questions)), module.load_jsonl(str(results)))
