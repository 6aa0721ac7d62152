"""Which half of the bench question sets a case belongs to: thresholds and weights are fitted on "tuning" and
reported on "reporting", split by article so that no article's wording is seen on both sides.

A stand-in until the answerer's split lands: replace `half` with it and nothing else changes.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION_SETS = {  # question set -> the folder of articles it asks about
    ROOT / "bench" / "data" / "wiki_questions.jsonl": ROOT / "bench" / "data" / "wiki",
    ROOT / "bench" / "data" / "seeds_extra.jsonl": ROOT.parent / "shared" / "seeds",
}


def article(case: dict) -> str:
    """The article a case is about: its first source, the article an adversarial question imitates, or (a
    question about nothing in the articles) the case itself."""
    return (case.get("sources") or [case.get("near") or case["id"]])[0]


def half(case: dict) -> str:
    digest = hashlib.sha256(article(case).encode("utf-8")).digest()
    return "tuning" if digest[0] % 2 == 0 else "reporting"


def cases(path: Path, which: str) -> list[dict]:
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    return [c for c in rows if half(c) == which]
