"""Make the index mirror a set of files and folders: add new, replace changed, drop removed, skip unchanged."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .chunking import chunk_document, count_tokens
from ..config import Settings
from .extract import SUPPORTED, ExtractError, extract_bytes
from .metadata import Meta, MetadataFile, folder_metadata, read_metadata
from ..schema import AssistantError, Chunk, Document
from ..index.store import Store, has_terms


@dataclass
class FoundFile:
    path: Path
    root: str  # absolute folder the source path is relative to
    source: str


@dataclass
class Summary:
    """What an ingest did, in documents (failed: one {"source", "reason"} entry a file), and the index after it."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    relabelled: int = 0  # unchanged files whose title, date or url changed (written without re-embedding)
    failed: list[dict] = field(default_factory=list)
    # files whose bytes the index already holds under another name: not indexed ({"path", "same_as", "document_id",
    # "folder": the folder same_as is in, "" for an upload)
    duplicates: list[dict] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0

    def to_dict(self) -> dict:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged, "removed": self.removed,
                "relabelled": self.relabelled, "failed": self.failed, "duplicates": self.duplicates,
                "documents": self.documents, "chunks": self.chunks}


def document_id(root: str, source: str) -> str:
    # surrogateescape: a file name that is not UTF-8 reaches Python with lone surrogates
    return hashlib.sha1(f"{root}\0{source}".encode("utf-8", "surrogateescape")).hexdigest()[:16]


# control characters and bidirectional overrides: a name holding them would break a line or read backwards
UNPRINTABLE = re.compile("[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def printable(name: str) -> str:
    """A path as one line of valid UTF-8 text (Chroma and JSON take nothing else): bytes of a file name that are
    not UTF-8 are shown as \\xNN, control characters as \\xNN or \\uNNNN."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


def collect(paths: list[Path], summary: Summary, unlisted: list[str] | None = None) -> tuple[list[FoundFile], list[str]]:
    """Files to ingest, and the folders whose documents the index must mirror; problems go to summary.failed,
    folders that could not be listed to unlisted."""
    files: list[FoundFile] = []
    unlisted = [] if unlisted is None else unlisted
    mirrored: list[str] = []
    for given in paths:
        path = Path(given)
        try:
            if path.is_dir():
                root = path.resolve()
                mirrored.append(printable(str(root)))
                files.extend(_walk(root, summary, unlisted))
            elif path.is_file():
                files.append(FoundFile(path, printable(str(path.resolve().parent)), printable(path.name)))
            elif path.is_symlink():
                summary.failed.append({"path": printable(str(path)), "reason": _link_reason(path)})
            else:
                summary.failed.append({"path": printable(str(path)), "reason": "no such file or folder"})
        except OSError as exc:
            summary.failed.append({"path": printable(str(path)), "reason": _os_reason(exc)})
    return files, mirrored


def _walk(root: Path, summary: Summary, unlisted: list[str]) -> list[FoundFile]:
    found: list[FoundFile] = []
    seen_dirs: set[str] = set()

    real_root = os.path.realpath(root)

    def onerror(exc: OSError) -> None:
        unlisted.append(printable(str(exc.filename)))
        summary.failed.append({"path": printable(os.path.relpath(str(exc.filename), root)), "reason": _os_reason(exc)})

    for folder, dirs, names in os.walk(root, followlinks=True, onerror=onerror):
        real = os.path.realpath(folder)
        if real in seen_dirs:
            summary.failed.append({"path": printable(os.path.relpath(folder, root)), "reason": "symlink loop (folder already visited)"})
            dirs[:] = []
            continue
        if not _inside(real, real_root):
            summary.failed.append({"path": printable(os.path.relpath(folder, root)),
                                   "reason": "symlink to a folder outside the ingested folder (not followed)"})
            dirs[:] = []
            continue
        seen_dirs.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            source = printable(path.relative_to(root).as_posix())
            if path.suffix.lower() not in SUPPORTED:
                continue
            if path.is_symlink() and not path.exists():
                summary.failed.append({"path": source, "reason": _link_reason(path)})
                continue
            if path.is_symlink() and not _inside(os.path.realpath(path), real_root):
                # x.txt -> /etc/passwd: a folder's documents are the files in it, not whatever they point at
                summary.failed.append({"path": source, "reason": "symlink to a file outside the ingested folder (not followed)"})
                continue
            found.append(FoundFile(path, printable(str(root)), source))
    return found


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


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


def one_line(exc: BaseException) -> str:
    """An unexpected exception as a file's reason: its kind and the first 120 characters of its message."""
    message = " ".join(str(exc).split())[:120]
    return f"cannot read ({type(exc).__name__}{': ' + message if message else ''})"


def _os_reason(exc: OSError) -> str:
    if exc.errno == 40:
        return "symlink loop"
    if isinstance(exc, PermissionError):
        return "permission denied (unreadable file)"
    if isinstance(exc, FileNotFoundError):
        return "no such file or folder"
    return f"cannot read: {exc.strerror or exc}"


NAME_BYTES = 255  # the longest file name most file systems take


def upload_name(name: str) -> str:
    """The source name an uploaded file is indexed under: its last path part, printable, never '.' or '..',
    at most NAME_BYTES bytes (the suffix, which picks the format, is kept)."""
    base = printable(name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if base in ("", ".", ".."):
        return "upload"
    if len(base.encode()) <= NAME_BYTES:
        return base
    stem, suffix = os.path.splitext(base)
    suffix = suffix if len(suffix) <= 16 else ""
    room = NAME_BYTES - len(suffix.encode())
    return stem.encode()[:room].decode("utf-8", "ignore") + suffix


def read_file(candidate: FoundFile, max_bytes: int) -> bytes:
    """A file's bytes; raises ExtractError or OSError with the reason."""
    info = candidate.path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ExtractError("not a regular file")  # a FIFO or device would block or never end
    if info.st_size > max_bytes:
        raise ExtractError(f"file too large ({info.st_size / 1e6:.3g} MB; the limit is {max_bytes / 1e6:.3g} MB)")
    return candidate.path.read_bytes()


def document_from_bytes(data: bytes, source: str, root: str = "", sha256: str | None = None,
                        settings: Settings | None = None) -> Document:
    settings = settings or Settings()
    extracted = extract_bytes(data, source, max_depth=settings.max_html_depth,
                              max_unzipped=int(settings.max_unzipped_mb * 1e6))
    return Document(
        id=document_id(root, source), source=source, title=extracted.title,
        sha256=sha256 or hashlib.sha256(data).hexdigest(), text=extracted.text, root=root,
        ingested_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), pages=extracted.pages,
        date=extracted.date, url=extracted.url,
        own={"title": extracted.title, "date": extracted.date, "url": extracted.url},
    )


def labelled(doc: Document, meta: Meta | None) -> bool:
    """Give doc the title, date and url of its metadata row, else the file's own; whether any of them changed."""
    own = doc.own or {"title": doc.title, "date": doc.date, "url": doc.url}  # a record from before `own` was kept
    doc.own = own
    meta = meta or Meta()
    new = (meta.title or own.get("title", ""), meta.date or own.get("date", ""), meta.url or own.get("url", ""))
    changed = new != (doc.title, doc.date, doc.url)
    doc.title, doc.date, doc.url = new
    return changed


class Labels:
    """The metadata rows that apply to the files of one ingest: each folder's own metadata.csv / metadata.jsonl,
    and a file given with --metadata (its paths relative to each ingested folder, or a single file's name)."""

    def __init__(self, folders: list[Path], extra: Path | None, summary: Summary):
        self.by_root: dict[str, MetadataFile] = {}
        self.extra = read_metadata(extra, printable(str(extra))) if extra is not None else None
        self.summary = summary
        for folder in folders:
            found = folder_metadata(folder)
            if found is not None:
                found.name = printable(found.name)
                self.by_root[printable(str(folder))] = found
        self.used: set[tuple[int, str]] = set()

    def files(self) -> list[MetadataFile]:
        return [*self.by_root.values(), *([self.extra] if self.extra else [])]

    def of(self, found: FoundFile) -> Meta | None:
        meta = None
        for file in (self.by_root.get(found.root), self.extra):
            if file is not None and found.source in file.rows:
                self.used.add((id(file), found.source))
                meta = file.rows[found.source] if meta is None else Meta(
                    meta.title or file.rows[found.source].title, meta.date or file.rows[found.source].date,
                    meta.url or file.rows[found.source].url)
        return meta

    def report(self) -> None:
        """Each metadata file's bad rows, and its rows naming no ingested file, as failed entries."""
        for file in self.files():
            self.summary.failed.extend(file.problems)
            for path in file.rows:
                if (id(file), path) not in self.used:
                    self.summary.failed.append({"path": file.name, "reason": f"metadata row for an unknown path: {printable(path)[:120]}"})


def chunks_of(doc: Document, settings: Settings) -> list[Chunk]:
    """The document's chunks; raises ExtractError for a document the index must not take (checked before the
    chunking, and so before the embedding, that it would cost)."""
    if not has_terms(doc.text):
        # an index of no searchable words breaks BM25 (emoji only, '&&&&'): refused, not indexed
        raise ExtractError("no words to index (only symbols, emoji or stop words)")
    limit = settings.max_document_chunks
    estimate = -(-estimate_tokens(doc.text) // max(1, settings.chunk_tokens))
    if estimate > limit:
        raise ExtractError(f"too long to index: about {estimate} chunks (the limit is {limit}, max_document_chunks)")
    chunks = chunk_document(doc, settings.chunk_tokens, settings.chunk_overlap_sentences)
    if len(chunks) > limit:
        raise ExtractError(f"too long to index: {len(chunks)} chunks (the limit is {limit}, max_document_chunks)")
    return chunks


SAMPLE_CHARS = 20_000


def estimate_tokens(text: str, samples: int = 10) -> int:
    """The token count of text, from evenly spread samples when it is long: counting 5 MB costs seconds."""
    if len(text) <= SAMPLE_CHARS * samples:
        return count_tokens(text)
    step = len(text) // samples
    counted = sum(count_tokens(text[k * step:k * step + SAMPLE_CHARS]) for k in range(samples))
    return int(counted * len(text) / (SAMPLE_CHARS * samples))


class BatchWriter:
    """Documents embedded and written together, in batches of about batch_chunks chunks (fuller batches, fewer
    Chroma commits), inside one commit started by the first write; the summary counts what was written."""

    def __init__(self, store: Store, summary: Summary, batch_chunks: int):
        self.store, self.summary, self.batch_chunks = store, summary, batch_chunks
        self.pending: list[tuple[Document, list[Chunk], bool]] = []
        self.changed = False

    def begin(self) -> None:
        if not self.changed:
            self.store.commit_start()
            self.changed = True

    def add(self, doc: Document, chunks: list[Chunk], is_update: bool) -> None:
        self.pending.append((doc, chunks, is_update))
        if sum(len(c) for _, c, _ in self.pending) >= self.batch_chunks:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        self.begin()
        vectors = self.store.embedder.embed_documents([c.text for _, chunks, _ in self.pending for c in chunks])
        batch, k = [], 0
        for doc, chunks, _ in self.pending:
            batch.append((doc, chunks, vectors[k:k + len(chunks)]))
            k += len(chunks)
        # only updated documents can have chunks to delete: a new one's leftovers (a killed ingest's) were dropped
        self.store.add_documents(batch, replace=[doc.id for doc, _, is_update in self.pending if is_update])
        self.summary.updated += sum(1 for *_, is_update in self.pending if is_update)
        self.summary.added += sum(1 for *_, is_update in self.pending if not is_update)
        self.pending.clear()

    def relabel(self, doc: Document) -> None:
        self.begin()
        self.store.relabel(doc)
        self.summary.relabelled += 1

    def remove(self, document_id: str) -> None:
        self.begin()
        self.store.remove_document(document_id)
        self.summary.removed += 1

    def finish(self) -> None:
        if self.changed:
            self.store.commit()
        else:
            self.store.sync_keywords()  # a no-op unless another writer changed the collection


def recover(store: Store) -> None:
    """Writers bump the revision before (commit_start) and after (commit) they write, so an odd revision means one
    was killed half way: drop the chunks it wrote without their document record."""
    if store.revision() % 2:
        drop_orphan_chunks(store)
        store.log_unknown_changes()  # the killed writer may have written documents it never logged
        store.commit_start()  # even again: the index is whole


class Copies:
    """Which document already holds a file's bytes, by their sha256: the index's, and those of this ingest so far.
    A copied folder or a file uploaded again under another name is not indexed twice (every passage would come
    back twice, and the answer's confidence and sources with it). A holder whose file is gone was moved: the file
    is indexed where it now is, and the old record dropped."""

    def __init__(self, store: Store, every: list[Document] | None = None):
        """every: all the index's records, when the ingest has listed them (a folder is mirrored): then no file
        costs a query of the index."""
        self.store = store
        self.by_sha256: dict[str, list[Document]] | None = None
        if every is not None:
            self.by_sha256 = {}
            for doc in every:
                self.by_sha256.setdefault(doc.sha256, []).append(doc)
        self.taken: dict[str, Document] = {}
        self.gone: dict[str, list[Document]] = {}  # by sha256: records whose file is no longer where it was found
        self.moved: set[str] = set()  # ids of records to drop: their file was indexed again from its new place

    def holder(self, sha256: str, doc_id: str) -> Document | None:
        if sha256 in self.taken:
            return self.taken[sha256]
        held = self.by_sha256.get(sha256, []) if self.by_sha256 is not None else self.store.documents_by_sha256(sha256)
        for doc in held:
            if doc.id == doc_id:
                continue
            state = _file_state(doc)
            if state == "holds":
                return doc
            if state == "gone":
                self.gone.setdefault(sha256, []).append(doc)
        return None  # (a holder whose file now holds other bytes is updated when its own folder is ingested)

    def take(self, doc: Document) -> None:
        self.taken.setdefault(doc.sha256, doc)
        self.moved.update(d.id for d in self.gone.pop(doc.sha256, []))


def _file_state(doc: Document) -> str:
    """Whether doc's file still "holds" the bytes it was indexed from, holds "other" bytes now (changed, not yet
    re-ingested), or is "gone" (moved or deleted). An upload's root is a name, not a folder (its file is not kept):
    it holds. A file that cannot be read is taken to hold: never index twice what may still be there."""
    if not os.path.isabs(doc.root):
        return "holds"
    try:
        with open(os.path.join(doc.root, doc.source), "rb") as f:
            return "holds" if hashlib.file_digest(f, "sha256").hexdigest() == doc.sha256 else "other"
    except FileNotFoundError:
        return "gone"
    except OSError:
        return "holds"


def prepare(found: FoundFile, old: Document | None, settings: Settings, summary: Summary,
            meta: Meta | None = None, writer: "BatchWriter | None" = None,
            copies: Copies | None = None) -> tuple[Document, list[Chunk]] | None:
    """The document and chunks of one file; None when it is unchanged (counted; its new title, date or url from
    meta written by writer without re-embedding), a copy of another document (listed; an older version of it
    removed) or fails (its reason recorded)."""
    try:
        data = read_file(found, int(settings.max_file_mb * 1e6))
        sha256 = hashlib.sha256(data).hexdigest()
        # the hash is checked before extraction: an unchanged document costs one read and one hash
        if old is not None and old.sha256 == sha256:
            summary.unchanged += 1
            if labelled(old, meta) and writer is not None:
                writer.relabel(old)
            return None
        if copies is not None and (holder := copies.holder(sha256, document_id(found.root, found.source))):
            summary.duplicates.append({"path": found.source, "same_as": holder.source, "document_id": holder.id,
                                       "folder": holder.root if os.path.isabs(holder.root) else ""})
            if old is not None and writer is not None:
                writer.remove(old.id)  # it was other text before: that text is gone
            return None
        doc = document_from_bytes(data, found.source, found.root, sha256, settings)
        labelled(doc, meta)
        return doc, chunks_of(doc, settings)
    except ExtractError as exc:
        reason = str(exc)
    except OSError as exc:
        reason = _os_reason(exc)
    except (AssistantError, KeyboardInterrupt):
        raise  # the embedder or the index failed, not this file
    except Exception as exc:  # noqa: BLE001 - any failure of one file is that file's reason, never the ingest's
        reason = one_line(exc)
    summary.failed.append({"path": found.source, "reason": reason})
    return None


def ingest(
    paths: list[Path],
    store: Store,
    settings: Settings,
    progress: Callable[[int, int, str], None] | None = None,
    prune: bool = True,
    files: list[FoundFile] | None = None,
    metadata: Path | None = None,
) -> Summary:
    """Bring the index up to date with paths (and files, already named, e.g. uploads). Folders are mirrored
    (documents gone from them are dropped). Titles, dates and urls come from each folder's metadata.csv or
    metadata.jsonl and from the metadata file given, over what the files themselves say."""
    summary = Summary()
    unlisted: list[str] = []
    found, mirrored = collect(paths, summary, unlisted)
    found += files or []
    labels = Labels([Path(m) for m in mirrored], metadata, summary)
    recover(store)
    # every record when a folder is mirrored (what is gone from it is dropped); else only the files' own (an
    # upload to a collection of a million chunks listed its 30,000 documents first)
    known = store.list_documents() if mirrored else store.documents_by_id([document_id(f.root, f.source) for f in found])
    indexed = {d.id: d for d in known}
    writer = BatchWriter(store, summary, settings.ingest_batch_chunks)
    copies = Copies(store, known if mirrored else None)
    seen: set[str] = set()
    for n, file in enumerate(found, 1):
        if progress:
            progress(n, len(found), file.source)
        doc_id = document_id(file.root, file.source)
        if doc_id in seen:
            continue  # named twice (a folder and a file in it): once is enough
        seen.add(doc_id)
        prepared = prepare(file, indexed.get(doc_id), settings, summary, labels.of(file), writer, copies)
        if prepared is not None:
            copies.take(prepared[0])
            writer.add(*prepared, is_update=doc_id in indexed)
    writer.flush()
    labels.report()
    dropped = set(copies.moved)
    if prune:
        dropped |= {doc.id for doc in indexed.values()
                    if doc.root in mirrored and doc.id not in seen and not _under(doc, unlisted)}
    for doc_id in sorted(dropped):
        writer.remove(doc_id)
    writer.finish()
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
    store.remove_chunks(orphans)
    return len(orphans)
