"""The tally of an upload of several files, as the API answers it and the chat page shows it."""
from __future__ import annotations

from typing import Any

COUNTS = ("added", "updated", "unchanged", "removed")
# The root of an uploaded document: a name, not a folder. Its file is not kept (its text is in the index), so there
# is nothing to re-read: re-index leaves it as it is (it never reads "uploads/NAME" from the working directory).
UPLOAD_ROOT = "uploads"


class UploadTally:
    """Each file's ingest summary added up; the collection's size is the last summary's."""

    def __init__(self):
        self.total: dict[str, Any] = {**{k: 0 for k in COUNTS}, "failed": [], "duplicates": [], "documents": 0, "chunks": 0}

    def add(self, summary: dict) -> None:
        for k in COUNTS:
            self.total[k] += summary[k]
        self.total["failed"] += summary["failed"]
        self.total["duplicates"] += summary["duplicates"]
        self.total["documents"], self.total["chunks"] = summary["documents"], summary["chunks"]

    def fail(self, name: str, reason: str) -> None:
        self.total["failed"].append({"path": name, "reason": reason})

    def nothing_kept(self) -> bool:
        """Every file failed: none was added, updated, found unchanged or found already indexed under another name."""
        return bool(self.total["failed"]) and not (self.total["added"] or self.total["updated"] or self.total["unchanged"]
                                                   or self.total["duplicates"])
