"""Read the one-object-a-line files of an evaluation (question sets, result files) with a one-line reason when bad."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable


def read_jsonl(path: Path, check: Callable[[dict], str | None] | None = None) -> list[dict]:
    """The objects of a JSONL file, blank lines skipped; ValueError names the file and line of the first bad one
    (not JSON, no id, or what check says is wrong with it)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ValueError(f"{path}: {exc.strerror or exc}") from None
    rows = []
    for n, line in enumerate(text.split("\n"), 1):  # not splitlines(): U+2028 may stand inside a JSON string
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict) or "id" not in row:
            raise ValueError(f"{path}:{n}: each line needs a JSON object with an id")
        reason = check(row) if check else None
        if reason:
            raise ValueError(f"{path}:{n}: {reason}")
        rows.append(row)
    return rows
