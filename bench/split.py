"""The one rule that splits question sets into a tuning half and a reporting half, by article.

Weights and thresholds (training/fit_answerer.py) are fitted on the tuning half only; figures are reported on the
other half (bench/answer.py). A case belongs to the article that holds its answer (`sources`), or, for an
adversarial question, the article it imitates (`near`); a question about no article at all goes by its own id.
The half is a hash of that name, so every question about one article lands on the same side, whatever the order
of the file or the Python version.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

HALVES = ("tune", "report")


def article(case: dict) -> str:
    sources = case.get("sources") or []
    return sorted(sources)[0] if sources else case.get("near") or f"id:{case['id']}"


def half(case: dict) -> str:
    digest = hashlib.sha1(article(case).encode("utf-8")).digest()
    return HALVES[digest[0] % 2]


def cases(path: Path, which: str | None = None) -> list[dict]:
    """The cases of a question set (FORMAT.md shape), only those of one half when which is given."""
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    return [c for c in rows if which is None or half(c) == which]


def squad_article_half(title: str) -> str:
    """The same rule for a SQuAD article (by its title)."""
    return half({"sources": [title], "id": title})
