"""Chroma (embedded or server) holding chunks and whole documents, with a BM25 index kept in sync beside it."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any, Iterable

from ..ingest.chunking import decode_sentences, encode_sentences
from ..config import Settings
from ..lexicon import WORD
from ..schema import AssistantError, Chunk, Document

PAGE = 1000  # Chroma get() page size; large collections are read in pages


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
        self.bm25 = Bm25Index(settings.index_dir / "bm25" / f"{name}-{key}")
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

    def bulk_add(self, batch: list[tuple[Document, list[Chunk], list[list[float]]]], workers: int = 4) -> None:
        """Write new documents whose chunks' vectors are known (a large collection built for a benchmark, a
        migration), `workers` Chroma writes at once. The caller brackets it with commit_start() and commit()."""
        self._write_chunks(batch, workers)
        self._add_records(batch)

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
                  "ingested_at": doc.ingested_at, "pages": json.dumps(doc.pages), "chunks": len(chunks)}
                 for doc, chunks, _ in batch]
        self.documents.add(ids=[doc.id for doc, _, _ in batch], documents=[doc.text for doc, _, _ in batch],
                           metadatas=metas, embeddings=[[1.0]] * len(batch))

    def remove_document(self, document_id: str) -> bool:
        with self._lock:
            found = bool(self.documents.get(ids=[document_id])["ids"])
            self.documents.delete(ids=[document_id])
            self.chunks.delete(where={"document_id": document_id})
            return found

    def commit_start(self) -> None:
        """Mark the collection as changing, so that a reader (or a crash) never trusts a BM25 index from before."""
        with self._lock:
            self._bump_revision()

    def commit(self) -> None:
        """Mark the collection changed and bring BM25 up to date."""
        with self._lock:
            self._bump_revision()
            self.sync_bm25(force=True)

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

    def bm25_search(self, query: str, k: int) -> list[tuple[str, float]]:
        self.sync_bm25()
        return self.bm25.search(query, k)

    def sync_bm25(self, force: bool = False) -> None:
        """Rebuild BM25 from the collection when another process (or server client) changed it."""
        revision = self.revision() if not force else None
        with self._lock:
            if force:
                self.documents = self.client.get_collection(self.documents.name)
                revision = self.revision()
            elif self.bm25.revision == revision and self.bm25.collection_id == str(self.chunks.id):
                return
            ids, texts = [], []
            for ids_page, _, texts_page in self._pages(self.chunks, include=["documents"]):
                ids.extend(ids_page)
                texts.extend(texts_page)
            self.bm25.build(ids, texts, revision, str(self.chunks.id))

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
        pages=json.loads(m.get("pages") or "[]"), chunks=int(m.get("chunks", 0)),
    )


def _chunk_from(chunk_id: str, m: dict[str, Any], text: str) -> Chunk:
    page = m.get("page", -1)
    return Chunk(
        id=chunk_id, document_id=m.get("document_id") or m.get("ref_doc_id", ""), start=int(m["start"]),
        end=int(m["end"]), text=text, tokens=int(m.get("tokens", 0)), source=m.get("source", ""),
        title=m.get("title", ""), page=None if page in (-1, None) else int(page),
        sentences=decode_sentences(m.get("sentences")),
    )


def _chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """What a chunk's Chroma record carries besides its text, vector and document ids."""
    meta = {"source": chunk.source, "title": chunk.title, "start": chunk.start, "end": chunk.end,
            "tokens": chunk.tokens, "page": chunk.page if chunk.page is not None else -1}
    if chunk.sentences is not None:
        meta["sentences"] = encode_sentences(chunk.sentences)
    return meta


class Bm25Index:
    """bm25s over the chunk texts, saved on disk with the collection revision it reflects."""

    def __init__(self, path: Path):
        self.path = path
        self.revision: int | None = None
        self.collection_id: str | None = None
        self.ids: list[str] = []
        self.model = None
        self.words: dict[str, int] = {}  # lower-cased surface words -> chunks holding them (spelling correction)
        self._load()

    _local = threading.local()

    @classmethod
    def _stemmer(cls):
        # one stemmer per thread (a Stemmer is not thread-safe): answering a question tokenizes a dozen times
        stem = getattr(cls._local, "stem", None)
        if stem is None:
            import Stemmer

            stem = cls._local.stem = Stemmer.Stemmer("english").stemWords
        return stem

    def tokenize(self, texts: list[str], return_ids: bool = True):
        import bm25s

        return bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer(), show_progress=False, return_ids=return_ids)

    def _load(self) -> None:
        meta = self.path / "meta.json"
        if not meta.exists():
            return
        try:
            import bm25s

            info = json.loads(meta.read_text())
            self.ids = info["ids"]
            has_model = self.ids and info.get("model", True)  # False: the chunks hold no term (see build)
            self.model = bm25s.BM25.load(str(self.path), show_progress=False) if has_model else None
            self.revision, self.collection_id = info["revision"], info["collection_id"]
            # an index saved before the vocabulary existed is stale: it is rebuilt from the collection
            self.words = json.loads((self.path / "words.json").read_text())
        except Exception:
            # a half-written index (killed mid-save) is rebuilt from the collection
            self.revision = self.collection_id = self.model = None
            self.ids = []

    def build(self, ids: list[str], texts: list[str], revision: int, collection_id: str) -> None:
        import bm25s

        model = None
        tokens = self.tokenize(texts) if ids else None
        if tokens is not None and any(tokens.vocab):
            # (without a single term bm25s fails, and the index would fail every later ingest and question)
            model = bm25s.BM25()
            model.index(tokens, show_progress=False)
        tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if model is not None:
            model.save(str(tmp), show_progress=False)
        words: dict[str, int] = {}
        for text in texts:
            for w in set(WORD.findall(text.lower())):
                words[w] = words.get(w, 0) + 1
        (tmp / "words.json").write_text(json.dumps(words))
        (tmp / "meta.json").write_text(json.dumps({"ids": ids, "revision": revision, "collection_id": collection_id,
                                                     "model": model is not None}))
        old = self.path.with_name(self.path.name + f".old{os.getpid()}")
        if self.path.exists():
            self.path.rename(old)
        tmp.rename(self.path)
        shutil.rmtree(old, ignore_errors=True)
        self.ids, self.model, self.revision, self.collection_id = ids, model, revision, collection_id
        self.words = words

    def doc_freq(self, terms: list[str]) -> tuple[dict[str, int], int]:
        """How many chunks hold each (stemmed) term, and the number of chunks: rarity without another index."""
        if self.model is None:
            return {t: 0 for t in terms}, 0
        vocab, indptr = self.model.vocab_dict, self.model.scores["indptr"]
        return ({t: int(indptr[vocab[t] + 1] - indptr[vocab[t]]) if t in vocab else 0 for t in terms},
                int(self.model.scores["num_docs"]))

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        if self.model is None or not self.ids:
            return []
        # plain token strings: retrieve() maps them onto the index vocabulary and ignores unknown ones
        tokens = self.tokenize([query], return_ids=False)
        if not tokens or not tokens[0]:
            return []
        k = min(k, len(self.ids))
        # n_threads=0: in this thread (any other number starts a thread pool for each query)
        docs, scores = self.model.retrieve(tokens, k=k, show_progress=False, n_threads=0)
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]


TERM = re.compile(r"(?u)\b\w\w+\b")  # bm25s's token pattern


def has_terms(text: str) -> bool:
    """Whether BM25 would index any term of text (a word of two or more letters or digits, not a stop word)."""
    from bm25s.stopwords import STOPWORDS_EN

    stop = set(STOPWORDS_EN)
    return any(m.group().lower() not in stop for m in TERM.finditer(text))
