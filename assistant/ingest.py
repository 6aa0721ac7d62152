"""Make the index mirror a set of files and folders: add new, replace changed, drop removed, skip unchanged."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .chunking import chunk_document
from .config import Settings
from .extract import SUPPORTED, ExtractError, extract_bytes
from .schema import Chunk, Document
from .store import Store



@dataclass
class Candidate:
    path: Path
    root: str  # absolute folder the source path is relative to
    source: str


@dataclass
class Summary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[dict] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0

    def to_dict(self) -> dict:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged, "removed": self.removed,
                "failed": self.failed, "documents": self.documents, "chunks": self.chunks}


def document_id(root: str, source: str) -> str:
    return hashlib.sha1(f"{root}\0{source}".encode()).hexdigest()[:16]


def collect(paths: list[Path], summary: Summary, unlisted: list[str] | None = None) -> tuple[list[Candidate], list[str]]:
    """Files to ingest, and the folders whose documents the index must mirror; problems go to summary.failed,
    folders that could not be listed to unlisted."""
    files: list[Candidate] = []
    unlisted = [] if unlisted is None else unlisted
    mirrored: list[str] = []
    for given in paths:
        path = Path(given)
        try:
            if path.is_dir():
                root = path.resolve()
                mirrored.append(str(root))
                files.extend(_walk(root, summary, unlisted))
            elif path.is_file():
                files.append(Candidate(path, str(path.resolve().parent), path.name))
            elif path.is_symlink():
                summary.failed.append({"path": str(path), "reason": _link_reason(path)})
            else:
                summary.failed.append({"path": str(path), "reason": "no such file or folder"})
        except OSError as exc:
            summary.failed.append({"path": str(path), "reason": _os_reason(exc)})
    return files, mirrored


def _walk(root: Path, summary: Summary, unlisted: list[str]) -> list[Candidate]:
    found: list[Candidate] = []
    seen_dirs: set[str] = set()

    def onerror(exc: OSError) -> None:
        unlisted.append(str(exc.filename))
        summary.failed.append({"path": os.path.relpath(str(exc.filename), root), "reason": _os_reason(exc)})

    for folder, dirs, names in os.walk(root, followlinks=True, onerror=onerror):
        real = os.path.realpath(folder)
        if real in seen_dirs:
            summary.failed.append({"path": os.path.relpath(folder, root), "reason": "symlink loop (folder already visited)"})
            dirs[:] = []
            continue
        seen_dirs.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            source = path.relative_to(root).as_posix()
            if path.suffix.lower() not in SUPPORTED:
                continue
            if path.is_symlink() and not path.exists():
                summary.failed.append({"path": source, "reason": _link_reason(path)})
                continue
            found.append(Candidate(path, str(root), source))
    return found


def _link_reason(path: Path) -> str:
    try:
        path.resolve(strict=True)
    except RuntimeError:
        return "symlink loop"
    except OSError as exc:
        if exc.errno == 40:
            return "symlink loop"
        return "broken symlink (its target does not exist)"
    return "not a regular file"


def _os_reason(exc: OSError) -> str:
    if exc.errno == 40:
        return "symlink loop"
    if isinstance(exc, PermissionError):
        return "permission denied (unreadable file)"
    if isinstance(exc, FileNotFoundError):
        return "no such file or folder"
    return f"cannot read: {exc.strerror or exc}"


def read_file(candidate: Candidate, max_bytes: int) -> bytes:
    """A file's bytes; raises ExtractError or OSError with the reason."""
    info = candidate.path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ExtractError("not a regular file")  # a FIFO or device would block or never end
    if info.st_size > max_bytes:
        raise ExtractError(f"file too large ({info.st_size / 1e6:.3g} MB; the limit is {max_bytes / 1e6:.3g} MB)")
    return candidate.path.read_bytes()


def read_document(candidate: Candidate, max_bytes: int) -> Document:
    """Read and extract one file; raises ExtractError or OSError with the reason."""
    return document_from_bytes(read_file(candidate, max_bytes), candidate.source, candidate.root)


def document_from_bytes(data: bytes, source: str, root: str = "", sha256: str | None = None) -> Document:
    extracted = extract_bytes(data, source)
    return Document(
        id=document_id(root, source), source=source, title=extracted.title,
        sha256=sha256 or hashlib.sha256(data).hexdigest(), text=extracted.text, root=root,
        ingested_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), pages=extracted.pages,
    )


def ingest(
    paths: list[Path],
    store: Store,
    settings: Settings,
    progress: Callable[[int, int, str], None] | None = None,
    prune: bool = True,
    files: list[Candidate] | None = None,
) -> Summary:
    """Bring the index up to date with paths (and files, already named, e.g. uploads). Folders are mirrored
    (documents gone from them are dropped)."""
    summary = Summary()
    unlisted: list[str] = []
    candidates, mirrored = collect(paths, summary, unlisted)
    candidates += files or []
    if store.revision() % 2:
        # Writers bump the revision before (commit_start) and after (commit) they write, so an odd revision
        # means one was killed half way: drop the chunks it wrote without their document record.
        drop_orphan_chunks(store)
        store.commit_start()  # even again: the index is whole
    indexed = {d.id: d for d in store.list_documents()}
    max_bytes = int(settings.max_file_mb * 1e6)
    pending: list[tuple[Document, list[Chunk], bool]] = []
    changed = False

    def flush() -> None:
        nonlocal changed
        if not pending:
            return
        if not changed:
            store.commit_start()
            changed = True
        texts = [c.text for _, chunks, _ in pending for c in chunks]
        vectors = store.embedder.embed_documents(texts)
        batch, k = [], 0
        for doc, chunks, _ in pending:
            batch.append((doc, chunks, vectors[k:k + len(chunks)]))
            k += len(chunks)
        # only updated documents can have chunks to delete: a new one's leftovers (a killed ingest's) were dropped
        store.add_documents(batch, replace=[doc.id for doc, _, is_update in pending if is_update])
        summary.updated += sum(1 for *_, is_update in pending if is_update)
        summary.added += sum(1 for *_, is_update in pending if not is_update)
        pending.clear()

    seen: set[str] = set()
    for n, candidate in enumerate(candidates, 1):
        if progress:
            progress(n, len(candidates), candidate.source)
        doc_id = document_id(candidate.root, candidate.source)
        if doc_id in seen:
            continue  # named twice (a folder and a file in it): once is enough
        seen.add(doc_id)
        old = indexed.get(doc_id)
        try:
            data = read_file(candidate, max_bytes)
            sha256 = hashlib.sha256(data).hexdigest()
            # the hash is checked before extraction: an unchanged document costs one read and one hash
            if old is not None and old.sha256 == sha256:
                summary.unchanged += 1
                continue
            doc = document_from_bytes(data, candidate.source, candidate.root, sha256)
        except ExtractError as exc:
            summary.failed.append({"path": candidate.source, "reason": str(exc)})
            continue
        except OSError as exc:
            summary.failed.append({"path": candidate.source, "reason": _os_reason(exc)})
            continue
        chunks = chunk_document(doc, settings.chunk_tokens, settings.chunk_overlap_sentences)
        pending.append((doc, chunks, old is not None))
        # chunks of several documents are embedded and written together: fuller batches, fewer Chroma commits
        if sum(len(c) for _, c, _ in pending) >= settings.ingest_batch_chunks:
            flush()
    flush()
    if prune:
        for doc in indexed.values():
            if doc.root in mirrored and doc.id not in seen and not _under(doc, unlisted):
                if not changed:
                    store.commit_start()
                    changed = True
                store.remove_document(doc.id)
                summary.removed += 1
    if changed:
        store.commit()
    else:
        store.sync_bm25()  # a no-op unless another writer changed the collection
    summary.documents = store.documents.count()
    summary.chunks = store.count_chunks()
    return summary


def _under(doc: Document, folders: list[str]) -> bool:
    """Whether doc lies in a folder that could not be listed (its documents are kept, not dropped as gone)."""
    path = os.path.join(doc.root, doc.source)
    return any(path.startswith(folder.rstrip(os.sep) + os.sep) for folder in folders)


def drop_orphan_chunks(store: Store) -> int:
    """Delete chunks whose document record is missing; returns how many."""
    known = {d.id for d in store.list_documents()}
    orphans = [c.id for c in store.all_chunks() if c.document_id not in known]
    for k in range(0, len(orphans), 1000):
        store.chunks.delete(ids=orphans[k:k + 1000])
    return len(orphans)
