"""A document's title, date and origin: partial ISO dates ("2020", "2020-09", "2020-09-14") parsed and shown at the
precision they have, urls kept only when they are http(s), and metadata files (metadata.csv / metadata.jsonl, or
`ingest --metadata FILE`) read row by row, each bad row a one-line reason instead of an aborted ingest."""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
MONTH_NUMBER = {**{m: k for k, m in enumerate(MONTHS, 1)}, **{m[:3]: k for k, m in enumerate(MONTHS, 1)}, "sept": 9}
MONTH_WORD = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.?"
METADATA_FILES = ("metadata.csv", "metadata.jsonl")
MAX_TITLE_CHARS = 300
MAX_URL_CHARS = 2000


def _iso(year: int, month: int | None = None, day: int | None = None) -> str:
    """A partial ISO date, or "" when a part is out of range."""
    if not 1000 <= year <= 2999 or (month is not None and not 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
        return ""
    return f"{year:04d}" + (f"-{month:02d}" if month else "") + (f"-{day:02d}" if month and day else "")


def parse_date(value: object) -> str:
    """A date as partial ISO ("2020", "2020-09", "2020-09-14"), or "" when value is not one.

    Takes ISO dates and datetimes, PDF dates (D:20200914...), "September 2020", "14 September 2020",
    "Sep 14, 2020", "2020/09/14"; a datetime object gives its day."""
    if hasattr(value, "year") and hasattr(value, "month"):
        return _iso(value.year, value.month, getattr(value, "day", None))
    text = " ".join(str(value or "").split()).strip()
    if not text or len(text) > 64:
        return ""
    m = re.fullmatch(r"(?:D:)?(\d{4})(\d{2})?(\d{2})?(?:\d{2,6}.*)?", text)  # PDF date, compact ISO
    if m and text.startswith("D:") or (m and len(text) in (4, 6, 8)):
        return _iso(int(m.group(1)), int(m.group(2)) if m.group(2) else None, int(m.group(3)) if m.group(3) else None)
    m = re.fullmatch(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?:[T ]\S*)?(?:\s*(?:Z|UTC|[+-]\d{2}:?\d{2}))?", text)
    if m:
        return _iso(int(m.group(1)), int(m.group(2)) if m.group(2) else None, int(m.group(3)) if m.group(3) else None)
    low = text.lower().replace(",", " ")
    m = re.fullmatch(rf"(?:(\d{{1,2}})(?:st|nd|rd|th)?\s+)?({MONTH_WORD})\s+(\d{{4}})", " ".join(low.split()))
    if m:
        month = MONTH_NUMBER.get(m.group(2).rstrip(".")[:3] if m.group(2)[:4] != "sept" else "sept")
        return _iso(int(m.group(3)), month, int(m.group(1)) if m.group(1) else None)
    m = re.fullmatch(rf"({MONTH_WORD})\s+(\d{{1,2}})(?:st|nd|rd|th)?\s+(\d{{4}})", " ".join(low.split()))
    if m:
        return _iso(int(m.group(3)), MONTH_NUMBER.get(m.group(1).rstrip(".")[:3]), int(m.group(2)))
    return ""


def shown_date(date: str) -> str:
    """A partial ISO date as people write it, at its own precision: "2020", "September 2020", "14 September 2020"."""
    parts = (date or "").split("-")
    if not parts[0]:
        return ""
    if len(parts) == 1:
        return parts[0]
    month = MONTHS[int(parts[1]) - 1].capitalize()
    return f"{month} {parts[0]}" if len(parts) == 2 else f"{int(parts[2])} {month} {parts[0]}"


def safe_url(value: object) -> str:
    """value when it is an absolute http(s) URL without spaces or control characters, else "" (a `javascript:`
    url or plain text never becomes a link)."""
    url = str(value or "").strip()
    if len(url) > MAX_URL_CHARS or not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", url, re.I):
        return ""
    return url if not re.search(r"[\x00-\x1f\x7f<>\"]", url) else ""


def clean_title(value: object) -> str:
    """A title as one line of text (it is data: escaped wherever it is shown, never markup)."""
    text = " ".join(str(value or "").split())
    text = re.sub(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]", "", text)
    return text[:MAX_TITLE_CHARS]


@dataclass
class Meta:
    """What a metadata file says of one document (empty: it says nothing of that field)."""

    title: str = ""
    date: str = ""
    url: str = ""


@dataclass
class MetadataFile:
    """The rows of a metadata file by path (relative to the ingested folder), and its bad rows' reasons."""

    rows: dict[str, Meta] = field(default_factory=dict)
    problems: list[dict] = field(default_factory=list)  # {"path": "metadata.csv:3", "reason": ...}
    name: str = ""

    def problem(self, where: str, reason: str) -> None:
        self.problems.append({"path": where, "reason": reason})


def read_metadata(path: Path, shown_as: str | None = None, max_bytes: int = 20_000_000) -> MetadataFile:
    """The metadata file at path (.csv with a header, or .jsonl: one object a line); never raises."""
    shown_as = shown_as or path.name
    out = MetadataFile(name=shown_as)
    try:
        if path.stat().st_size > max_bytes:
            out.problem(shown_as, f"metadata file too large (the limit is {max_bytes / 1e6:.3g} MB)")
            return out
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        out.problem(shown_as, "metadata file is not UTF-8 text")
        return out
    except OSError as exc:
        out.problem(shown_as, f"cannot read the metadata file: {exc.strerror or exc}")
        return out
    if path.suffix.lower() == ".jsonl" or path.suffix.lower() == ".json":
        records = _jsonl_rows(text, out)
    else:
        records = _csv_rows(text, out)
    for where, record in records:
        _take(record, where, out)
    return out


def _csv_rows(text: str, out: MetadataFile):
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    except csv.Error as exc:
        out.problem(out.name, f"malformed CSV ({exc})")
        return
    if "path" not in header:
        out.problem(out.name, "metadata file has no 'path' column (expected path,title,date,url)")
        return
    reader.fieldnames = header
    line = 1
    try:
        for record in reader:
            line = reader.line_num
            yield f"{out.name}:{line}", record
    except csv.Error as exc:
        out.problem(f"{out.name}:{line + 1}", f"malformed CSV ({exc}); the rows after it are not read")


def _jsonl_rows(text: str, out: MetadataFile):
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            out.problem(f"{out.name}:{n}", f"malformed JSON ({str(exc)[:80]})")
            continue
        if not isinstance(record, dict):
            out.problem(f"{out.name}:{n}", "not a JSON object")
            continue
        yield f"{out.name}:{n}", {str(k).lower(): v for k, v in record.items()}


def _take(record: dict, where: str, out: MetadataFile) -> None:
    path = str(record.get("path") or "").strip().replace("\\", "/").removeprefix("./")
    if not path:
        out.problem(where, "row without a path")
        return
    meta = Meta(title=clean_title(record.get("title")))
    date = record.get("date")
    if date not in (None, ""):
        meta.date = parse_date(date)
        if not meta.date:
            out.problem(where, f"unreadable date {str(date)[:40]!r} (expected e.g. 2020, 2020-09 or 2020-09-14)")
    url = record.get("url")
    if url not in (None, ""):
        meta.url = safe_url(url)
        if not meta.url:
            out.problem(where, f"not an http(s) url: {str(url)[:60]!r}")
    out.rows[path] = meta


def folder_metadata(folder: Path) -> MetadataFile | None:
    """The metadata file at a folder's root (metadata.csv, else metadata.jsonl), or None."""
    for name in METADATA_FILES:
        path = folder / name
        if path.is_file():
            return read_metadata(path)
    return None
