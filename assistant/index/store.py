"""Chroma (embedded or server) holding chunks and whole documents, a log of which documents changed, and the keyword
index kept in step with it: each replica applies the logged changes, never re-reading the collection whole."""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import uuid
from pathlib import Path
from typing import Any, Iterable

from ..ingest.chunking import decode_sentences, encode_sentences
from ..config import Settings
from ..schema import AssistantError, Chunk, Document
from .keywords import KeywordIndex, has_terms  # noqa: F401  (has_terms: the ingest's check, beside the index)

PAGE = 1000  # Chroma get() page size; large collections are read in pages
LOG_SLACK = 8  # change-log entries this many revisions behind the applied one are read again (concurrent writers)
LOG_IDS = 1000  # document ids per change-log entry
EVERYTHING = "*"  # a change-log entry naming it: every replica rebuilds its keyword index from the collection


def open_chroma(settings: Settings):
    """The one place the backend is chosen: (client, location, backend name) for a Chroma server when
    settings.chroma_url is set, else for the embedded index in settings.index_dir."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_url:
            m = re.match(r"^(https?)://([^/:]+)(?::(\d+))?(/.*)?$", settings.chroma_url)
            if not m:
                raise AssistantError(f"not a Chroma server URL: {settings.chroma_url}")
            scheme, host, port = m.group(1), m.group(2), int(m.group(3) or (443 if m.group(1) == "https" else 8000))
            client = chromadb.HttpClient(host=host, port=port, ssl=scheme == "https", settings=chroma_settings)
            client.heartbeat()
            return client, settings.chroma_url, "chroma-server"
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(settings.index_dir / "chroma"), settings=chroma_settings)
        return client, str(settings.index_dir.resolve()), "chroma-embedded"
    except AssistantError:
        raise
    except Exception as exc:
        where = settings.chroma_url or settings.index_dir
        raise AssistantError(f"cannot open the Chroma index at {where}: {exc}") from None


class Store:
    """The collection of one index: chunks with embeddings, the documents they come from, and BM25."""

    def __init__(self, settings: Settings, embedder=None):
        self.settings = settings
        self.embedder = embedder
        self.client, self.location, self.backend = open_chroma(settings)
        name = settings.collection
        self.documents = self.client.get_or_create_collection(f"{name}_documents")
        self.chunks = self._chunk_collection(name)
        key = hashlib.sha1((settings.chroma_url or "local").encode()).hexdigest()[:8]
        self._changes = None  # the change log, opened on first use (an up-to-date reader never reads it)
        self.keywords = KeywordIndex(settings.index_dir / "keywords" / f"{name}-{key}")
        self._lock = threading.RLock()
        self._counted: tuple[int, int] | None = None  # (revision, chunks) of the last count

    # -- collections -------------------------------------------------------------------------
    def _chunk_collection(self, name: str):
        existing = {c if isinstance(c, str) else c.name for c in self.client.list_collections()}
        if name in existing:
            collection = self.client.get_collection(name)
            meta = collection.metadata or {}
            if self.embedder is not None and meta.get("embedder") and (
                meta.get("embedder") != self.embedder.name or int(meta.get("dim", 0)) != self.embedder.dim
            ):
                raise AssistantError(
                    f"the index was built with embedder {meta.get('embedder')} ({meta.get('dim')} dims), not "
                    f"{self.embedder.name} ({self.embedder.dim} dims): use the same embedder, or a new --index/collection"
                )
            return collection
        meta = {"hnsw:space": "cosine"}
        if self.embedder is not None:
            meta.update(embedder=self.embedder.name, dim=self.embedder.dim)
        return self.client.create_collection(name, metadata=meta, embedding_function=None)

    @property
    def changes(self):
        """Which documents each write changed, by revision (see sync_keywords)."""
        if self._changes is None:
            self._changes = self.client.get_or_create_collection(f"{self.settings.collection}_changes")
        return self._changes

    @property
    def embedder_name(self) -> str:
        return (self.chunks.metadata or {}).get("embedder", "")

    def revision(self) -> int:
        # Read afresh: a collection object keeps the metadata it was fetched with, and another process (or
        # another client of the server) may have changed the collection since.
        self.documents = self.client.get_collection(self.documents.name)
        return self.known_revision()

    def known_revision(self) -> int:
        """The revision as last read (by revision() or a BM25 sync), without asking Chroma again."""
        return int((self.documents.metadata or {}).get("revision", 0))

    def _bump_revision(self) -> None:
        self.documents.modify(metadata={"revision": self.revision() + 1})

    # -- documents ---------------------------------------------------------------------------
    def list_documents(self) -> list[Document]:
        docs = []
        for ids, metas, _ in self._pages(self.documents, include=["metadatas"]):
            docs.extend(_doc_from(i, m, "") for i, m in zip(ids, metas))
        return sorted(docs, key=lambda d: d.source)

    def documents_by_id(self, ids: list[str]) -> list[Document]:
        """The records (without text) of those of ids that are indexed: an upload reads its own, not the whole list."""
        got = self.documents.get(ids=list(dict.fromkeys(ids)), include=["metadatas"]) if ids else {"ids": []}
        return [_doc_from(i, m, "") for i, m in zip(got["ids"], got.get("metadatas") or [])]

    def documents_by_sha256(self, sha256: str) -> list[Document]:
        """The records (without text) of the documents made from files with these bytes."""
        got = self.documents.get(where={"sha256": sha256}, include=["metadatas"])
        return [_doc_from(i, m, "") for i, m in zip(got["ids"], got.get("metadatas") or [])]

    def get_document(self, document_id: str) -> Document | None:
        got = self.documents.get(ids=[document_id], include=["metadatas", "documents"])
        if not got["ids"]:
            return None
        return _doc_from(got["ids"][0], got["metadatas"][0], got["documents"][0])

    def add_document(self, doc: Document, chunks: list[Chunk], embeddings: list[list[float]]) -> None:
        """Replace a document and its chunks (see add_documents)."""
        self.add_documents([(doc, chunks, embeddings)])

    def add_documents(self, batch: list[tuple[Document, list[Chunk], list[list[float]]]],
                      replace: list[str] | None = None) -> None:
        """Write documents and their chunks in a few large Chroma writes (each write costs a commit, so one per
        document would cost more than the writing). The records are written last, so an ingest killed half way
        leaves no record (or the old hash) and the next ingest redoes the document. replace: the ids that may
        already be indexed and are deleted first (None: all of them)."""
        if not batch:
            return
        replace = [doc.id for doc, _, _ in batch] if replace is None else replace
        with self._lock:
            if replace:
                self.documents.delete(ids=replace)
                self.chunks.delete(where={"document_id": {"$in": replace}})
            self._write_chunks(batch, workers=1)
            self._add_records(batch)
            self._log_changes(list(dict.fromkeys([doc.id for doc, _, _ in batch] + replace)))

    def bulk_add(self, batch: list[tuple[Document, list[Chunk], list[list[float]]]], workers: int = 4) -> None:
        """Write new documents whose chunks' vectors are known (a large collection built for a benchmark, a
        migration), `workers` Chroma writes at once. The caller brackets it with commit_start() and commit()."""
        self._write_chunks(batch, workers)
        self._add_records(batch)
        self._log_changes([doc.id for doc, _, _ in batch])

    def _write_chunks(self, batch: list[tuple[Document, list[Chunk], list[list[float]]]], workers: int) -> None:
        """The chunks with their vectors, straight into Chroma in writes of at most its batch size. Each carries the
        ids llama-index's ChromaVectorStore gives a node (document_id, ref_doc_id, doc_id), so that llama-index reads
        and deletes them too, but not its serialised node: nothing reads it, building it took a tenth of the
        write, and importing llama-index to build it took a second before a process's first write."""
        rows = [(c, v, doc.id) for doc, chunks, vectors in batch for c, v in zip(chunks, vectors)]
        step = min(self.client.get_max_batch_size(), max(PAGE, -(-len(rows) // max(workers, 1))))

        def write(part: list) -> None:
            self.chunks.add(ids=[c.id for c, _, _ in part], embeddings=[v for _, v, _ in part],
                            documents=[c.text for c, _, _ in part],
                            metadatas=[{**_chunk_metadata(c), "document_id": d, "ref_doc_id": d, "doc_id": d}
                                       for c, _, d in part])

        parts = [rows[k:k + step] for k in range(0, len(rows), step)]
        if workers <= 1 or len(parts) <= 1:
            for part in parts:
                write(part)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(write, parts))

    def _add_records(self, batch: list[tuple[Document, list[Chunk], list[list[float]]]]) -> None:
        """The documents' own records (whole text, hash, chunk count), written after their chunks."""
        metas = [{"source": doc.source, "title": doc.title, "sha256": doc.sha256, "root": doc.root,
                  "ingested_at": doc.ingested_at, "pages": json.dumps(doc.pages), "chunks": len(chunks),
                  "date": doc.date, "url": doc.url, "own": json.dumps(doc.own)}
                 for doc, chunks, _ in batch]
        self.documents.add(ids=[doc.id for doc, _, _ in batch], documents=[doc.text for doc, _, _ in batch],
                           metadatas=metas, embeddings=[[1.0]] * len(batch))

    def relabel(self, doc: Document) -> None:
        """Write a document's new title, date and url into its record and its chunks' metadata, without touching
        its text or vectors (Chroma merges the given keys into each record's metadata)."""
        fields = {"title": doc.title, "date": doc.date, "url": doc.url}
        with self._lock:
            self.documents.update(ids=[doc.id], metadatas=[{**fields, "own": json.dumps(doc.own)}])
            ids = self.chunks.get(where={"document_id": doc.id}, include=[])["ids"]
            for k in range(0, len(ids), PAGE):
                part = ids[k:k + PAGE]
                self.chunks.update(ids=part, metadatas=[fields] * len(part))

    def remove_document(self, document_id: str) -> bool:
        with self._lock:
            found = bool(self.documents.get(ids=[document_id])["ids"])
            self.documents.delete(ids=[document_id])
            self.chunks.delete(where={"document_id": document_id})
            self._log_changes([document_id])
            return found

    def remove_chunks(self, chunk_ids: list[str]) -> None:
        """Delete chunks by id (orphans a killed writer left), logging their documents as changed."""
        docs = {c.document_id for c in self.get_chunks(chunk_ids).values()}
        for k in range(0, len(chunk_ids), PAGE):
            self.chunks.delete(ids=chunk_ids[k:k + PAGE])
        self._log_changes(sorted(docs))

    def log_unknown_changes(self) -> None:
        """Record that the collection changed in ways the log does not name (a writer killed half way)."""
        self._log_changes([EVERYTHING])

    def _log_changes(self, document_ids: list[str]) -> None:
        """Record that these documents changed, under the revision the writer's commit() will set: every replica's
        keyword index re-reads exactly these documents (written before the log, so a reader never applies an entry
        whose chunks are not there yet)."""
        revision = self.revision() + 1
        for k in range(0, len(document_ids), LOG_IDS):
            part = document_ids[k:k + LOG_IDS]
            self.changes.add(ids=[f"{revision:012d}-{uuid.uuid4().hex[:12]}"], documents=[json.dumps(part)],
                             metadatas=[{"revision": revision}], embeddings=[[1.0]])

    def commit_start(self) -> None:
        """Mark the collection as changing, so that a reader (or a crash) never trusts a BM25 index from before."""
        with self._lock:
            self._bump_revision()

    def commit(self) -> None:
        """Mark the collection changed and bring BM25 up to date."""
        with self._lock:
            self._bump_revision()
            self.sync_keywords()

    # -- chunks ------------------------------------------------------------------------------
    def count_chunks(self) -> int:
        """Chunks of indexed documents. An odd revision means a writer is at work or was killed half way: then the
        chunks it wrote without their document record (dropped by the next ingest) are not counted."""
        if self.revision() % 2 == 0:
            return self.chunks.count()
        return sum(d.chunks for d in self.list_documents())

    def has_chunks(self) -> bool:
        """Whether the collection holds any chunk, counted once per revision (a query asks this every time)."""
        revision = self.known_revision()
        if self._counted is None or self._counted[0] != revision or revision % 2:
            self._counted = (revision, self.chunks.count())
        return self._counted[1] > 0

    def all_chunks(self) -> Iterable[Chunk]:
        """Every chunk, a document's or not (the orphan sweep looks for those of no document): read by offset."""
        for ids, metas, texts in self._pages(self.chunks, include=["metadatas", "documents"]):
            for i, m, t in zip(ids, metas, texts):
                yield _chunk_from(i, m, t)

    def get_chunks(self, ids: list[str]) -> dict[str, Chunk]:
        if not ids:
            return {}
        got = self.chunks.get(ids=ids, include=["metadatas", "documents"])
        return {i: _chunk_from(i, m, t) for i, m, t in zip(got["ids"], got["metadatas"], got["documents"])}

    def dense_search(self, query_vector: list[float], k: int) -> list[tuple[Chunk, float]]:
        if not self.has_chunks():
            return []
        got = self.chunks.query(query_embeddings=[query_vector], n_results=k, include=["metadatas", "documents", "distances"])
        return [
            (_chunk_from(i, m, t), 1.0 - float(d))
            for i, m, t, d in zip(got["ids"][0], got["metadatas"][0], got["documents"][0], got["distances"][0])
        ]

    @property
    def vocabulary(self) -> KeywordIndex:
        """The collection's term statistics (stems, document frequencies, surface words; KeywordIndex's vocabulary
        interface): the only way code outside the index reads the keyword index. Synced on first use; retrieval
        keeps it current after."""
        if self.keywords.revision is None:
            self.sync_keywords()
        return self.keywords

    def bm25_search(self, query: str, k: int) -> list[tuple[str, float]]:
        self.sync_keywords()
        return self.keywords.search(query, k)

    def sync_keywords(self) -> None:
        """Bring the keyword index up to the collection's revision: apply the documents the change log names since
        the revision it reflects (a cost proportional to what changed), or build it whole when it has none."""
        with self._lock:
            revision, index = self.revision(), self.keywords
            if index.revision == revision and index.collection_id == str(self.chunks.id):
                return
            if index.revision is None or index.collection_id != str(self.chunks.id):
                self._rebuild_keywords(revision)
                return
            seen = set(index.seen)
            got = self.changes.get(where={"revision": {"$gt": index.revision - LOG_SLACK}}, include=["documents"])
            fresh = [(i, d) for i, d in zip(got["ids"], got["documents"]) if i not in seen]
            changed = sorted({doc for _, d in fresh for doc in json.loads(d)})
            if EVERYTHING in changed:
                self._rebuild_keywords(revision)
                return
            index.remove_documents(changed)
            for k in range(0, len(changed), PAGE // 10):
                part = changed[k:k + PAGE // 10]
                got = self.chunks.get(where={"document_id": {"$in": part}}, include=["documents", "metadatas"])
                index.add_chunks([(i, m.get("document_id", ""), t) for i, m, t in zip(got["ids"], got["metadatas"], got["documents"])])
            index.seen = [i for i in list(seen) + [i for i, _ in fresh] if int(i[:12]) > revision - LOG_SLACK]
            index.revision = revision
            if index.settle():
                index.save()

    def _rebuild_keywords(self, revision: int) -> None:
        index = self.keywords
        index._clear()
        for ids, metas, texts in self._chunks_by_document():
            index.add_chunks([(i, m.get("document_id", ""), t) for i, m, t in zip(ids, metas, texts)])
            index.settle(ratio=1.0)  # merged as it doubles: the rows added since stay a small part
        got = self.changes.get(where={"revision": {"$gt": revision - LOG_SLACK}}, include=[])
        index.revision, index.collection_id, index.seen = revision, str(self.chunks.id), list(got["ids"])
        index.save()

    def _chunks_by_document(self):
        """Every listed document's chunks (ids, metadatas, texts), a batch of documents at a time (chunks a killed
        writer left without their document's record are not: the next ingest removes them). A chunk is found by its
        document id, an indexed lookup: read by offset instead, each page makes Chroma walk past every row before
        it (at a million chunks, 6 s a page of 1,000 near the end, and 40 minutes to read them all)."""
        documents = [i for ids, _, _ in self._pages(self.documents, include=[]) for i in ids]
        for k in range(0, len(documents), PAGE // 10):
            got = self.chunks.get(where={"document_id": {"$in": documents[k:k + PAGE // 10]}},
                                  include=["documents", "metadatas"])
            if got["ids"]:
                yield got["ids"], got["metadatas"], got["documents"]

    def _pages(self, collection, include: list[str]):
        offset = 0
        while True:
            got = collection.get(include=include, limit=PAGE, offset=offset)
            if not got["ids"]:
                return
            yield got["ids"], got.get("metadatas") or [None] * len(got["ids"]), got.get("documents") or [None] * len(got["ids"])
            if len(got["ids"]) < PAGE:
                return
            offset += PAGE

    def size_on_disk(self) -> int | None:
        if self.backend != "chroma-embedded":
            return None
        return sum(f.stat().st_size for f in self.settings.index_dir.rglob("*") if f.is_file())


def _doc_from(doc_id: str, m: dict[str, Any], text: str | None) -> Document:
    return Document(
        id=doc_id, source=m.get("source", ""), title=m.get("title", ""), sha256=m.get("sha256", ""),
        text=text or "", root=m.get("root", ""), ingested_at=m.get("ingested_at", ""),
        pages=json.loads(m.get("pages") or "[]"), chunks=int(m.get("chunks", 0)), date=m.get("date", ""),
        url=m.get("url", ""), own=json.loads(m.get("own") or "{}"),
    )


def _chunk_from(chunk_id: str, m: dict[str, Any], text: str) -> Chunk:
    page = m.get("page", -1)
    return Chunk(
        id=chunk_id, document_id=m.get("document_id") or m.get("ref_doc_id", ""), start=int(m["start"]),
        end=int(m["end"]), text=text, tokens=int(m.get("tokens", 0)), source=m.get("source", ""),
        title=m.get("title", ""), page=None if page in (-1, None) else int(page), date=m.get("date", ""),
        url=m.get("url", ""), sentences=decode_sentences(m.get("sentences")),
    )


def _chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """What a chunk's Chroma record carries besides its text, vector and document ids."""
    meta = {"source": chunk.source, "title": chunk.title, "date": chunk.date, "url": chunk.url, "start": chunk.start, "end": chunk.end,
            "tokens": chunk.tokens, "page": chunk.page if chunk.page is not None else -1}
    if chunk.sentences is not None:
        meta["sentences"] = encode_sentences(chunk.sentences)
    return meta
