"""The keyword index: BM25 over the chunks' stems, changed one document at a time, and the collection's vocabulary.

Why this and not a rebuilt bm25s index, SQLite FTS5 or tantivy (measured on 30,000 wiki chunks, bench notes in the
README): bm25s bakes each term's idf and the average length into its stored scores, so one new document means a
rebuild of everything (39 s at 100,000 chunks). FTS5 updates in place, but its bm25() scores every row that matches
any query term: p50 129 ms at 30,000 chunks, growing with the collection. tantivy queries in 0.3 ms, but counts
deleted documents in its statistics until segments merge, scores with its own k1, and allows one writing process
per folder. Here the postings keep raw term counts and BM25 is computed at query time from the current document
frequencies and average length, with bm25s's own formula ("lucene", k1 1.5, b 0.75) and tokenizer: the scores
a full bm25s rebuild would give, whatever was added or removed since.

Postings live in a frozen base (term-major arrays, saved to disk and memory-mapped) and a tail of rows added since;
removed rows are masked and dropped when the tail is merged into the base (when it has grown to a quarter of it).
"""
from __future__ import annotations

import json
import math
import os
import re
import shutil
import threading
from collections import Counter
from pathlib import Path
from typing import Iterable

import numpy as np

from ..lexicon import WORD

K1, B = 1.5, 0.75  # bm25s's defaults, which the rebuilt index used
TERM = re.compile(r"(?u)\b\w\w+\b")  # bm25s's token pattern
_local = threading.local()


def _stemmer():
    # one stemmer per thread (a Stemmer is not thread-safe): answering a question tokenizes a dozen times
    stem = getattr(_local, "stem", None)
    if stem is None:
        import Stemmer

        stem = _local.stem = Stemmer.Stemmer("english").stemWords
    return stem


def stems_of(texts: list[str]) -> list[list[str]]:
    """The terms BM25 makes of each text: lower-cased words of two or more characters, no stop words, stemmed."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False, return_ids=False)


def has_terms(text: str) -> bool:
    """Whether BM25 would index any term of text (a word of two or more letters or digits, not a stop word)."""
    from bm25s.stopwords import STOPWORDS_EN

    stop = set(STOPWORDS_EN)
    return any(m.group().lower() not in stop for m in TERM.finditer(text))


class Postings:
    """term -> the rows holding it, with the term's count in each: a term-major base and a few term-sorted blocks of
    rows added since (each a batch of chunks), found by binary search."""

    MAX_BLOCKS = 16  # more blocks than this are merged into one (each query term searches every block)

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.indptr = np.zeros(1, dtype=np.int64)  # base: rows of term t are rows[indptr[t]:indptr[t+1]]
        self.rows = np.empty(0, dtype=np.int32)
        self.counts = np.empty(0, dtype=np.float32)
        self.blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (terms, rows, counts), sorted by term
        self.tail_size = 0

    def add(self, first_row: int, docs: list[list[str]]) -> None:
        """The terms of rows first_row, first_row + 1, ... (one list of terms a row, repeats counted)."""
        vocab = self.vocab
        terms = np.fromiter((vocab.setdefault(t, len(vocab)) for doc in docs for t in doc), dtype=np.int64)
        rows = np.repeat(np.arange(first_row, first_row + len(docs), dtype=np.int64), [len(d) for d in docs])
        pairs, counts = np.unique(terms << 32 | rows, return_counts=True)  # sorted by term, then row
        self.blocks.append(((pairs >> 32).astype(np.int32), (pairs & 0xFFFFFFFF).astype(np.int32), counts.astype(np.float32)))
        self.tail_size += len(pairs)
        if len(self.blocks) > self.MAX_BLOCKS:
            self.blocks = [self._joined(self.blocks)]

    @staticmethod
    def _joined(blocks: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        terms = np.concatenate([b[0] for b in blocks])
        order = np.argsort(terms, kind="stable")  # rows stay in order: later blocks hold later rows
        return terms[order], np.concatenate([b[1] for b in blocks])[order], np.concatenate([b[2] for b in blocks])[order]

    def of(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        t = self.vocab.get(term)
        if t is None:
            return self.rows[:0], self.counts[:0]
        parts = []
        if t + 1 < len(self.indptr):
            a, b = self.indptr[t], self.indptr[t + 1]
            parts.append((self.rows[a:b], self.counts[a:b]))
        for terms, rows, counts in self.blocks:
            a, b = np.searchsorted(terms, t), np.searchsorted(terms, t, side="right")
            if b > a:
                parts.append((rows[a:b], counts[a:b]))
        if not parts:
            return self.rows[:0], self.counts[:0]
        if len(parts) == 1:
            return parts[0]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def merge(self, keep: np.ndarray) -> None:
        """The blocks folded into the base, rows where keep is False dropped and the others renumbered in order."""
        base_terms = np.repeat(np.arange(len(self.indptr) - 1, dtype=np.int32), np.diff(self.indptr))
        terms, rows, counts = self._joined([(base_terms, np.asarray(self.rows), np.asarray(self.counts))] + self.blocks)
        live = keep[rows]
        terms, rows, counts = terms[live], rows[live], counts[live]
        renumber = np.cumsum(keep, dtype=np.int64) - 1
        self.rows = renumber[rows].astype(np.int32)
        self.counts = counts
        self.indptr = np.zeros(len(self.vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(terms, minlength=len(self.vocab)), out=self.indptr[1:])
        self.blocks, self.tail_size = [], 0


class KeywordIndex:
    """BM25 search over chunks, changed a document at a time, and the vocabulary interface (stems, document
    frequencies, number of chunks, surface words) that answering and question clean-up read."""

    def __init__(self, path: Path):
        self.path = path
        self.revision: int | None = None  # the collection revision this index reflects (None: never synced)
        self.collection_id: str | None = None
        self.seen: list[str] = []  # change-log entries applied lately (see Store.sync_keywords)
        self._clear()
        self._load()

    def _clear(self) -> None:
        self.postings = Postings()
        self.ids: list[str] = []  # row -> chunk id
        self.row_of: dict[str, int] = {}
        self.rows_of: dict[str, list[int]] = {}  # document id -> its rows
        self.lengths = np.empty(0, dtype=np.float32)  # row -> number of terms
        self.alive = np.empty(0, dtype=bool)
        self.live, self.total_length = 0, 0  # total_length: an exact integer sum
        self.word_ids: dict[str, int] = {}
        self.doc_words: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # document -> (word ids, chunks holding each)
        self.words: dict[str, int] = {}  # lower-cased word -> chunks holding it (replaced, never changed in place,
        self._words_lent = False  # once surface_words() has handed it out)
        self.base_rows = 0

    # -- the vocabulary interface --------------------------------------------------------------------------------
    def stems(self, text: str) -> list[str]:
        """The terms BM25 makes of text (lower-cased words of two or more characters, no stop words, stemmed)."""
        return stems_of([text])[0]

    def stems_of(self, texts: list[str]) -> list[list[str]]:
        return stems_of(texts)

    def document_count(self) -> int:
        """How many chunks the index holds."""
        return self.live

    def doc_freq(self, terms: Iterable[str]) -> tuple[dict[str, int], int]:
        """How many chunks hold each stemmed term, and the number of chunks: rarity without another index."""
        return {t: self._df(self.postings.of(t)[0]) for t in terms}, self.live

    def knows(self, word: str) -> bool:
        """Whether every term of word occurs in the collection (another form of it does: "al-muhandes" needs both
        "al" and "muhand")."""
        stems = self.stems(word)
        return bool(stems) and all(self._df(self.postings.of(t)[0]) for t in stems)

    def surface_words(self) -> dict[str, int]:
        """Lower-cased words as written (not stemmed) -> how many chunks hold them: the spelling check's dictionary.
        The dict is replaced, never changed in place, when the collection changes."""
        self._words_lent = True
        return self.words

    def _own_words(self) -> dict[str, int]:
        """self.words, copied first if it was handed out (a reader keeps what it was given)."""
        if self._words_lent:
            self.words, self._words_lent = dict(self.words), False
        return self.words

    def chunk_ids(self) -> list[str]:
        """The chunks the index holds."""
        return [i for i, alive in zip(self.ids, self.alive.tolist()) if alive]

    # -- search ----------------------------------------------------------------------------------------------------
    def _df(self, rows: np.ndarray) -> int:
        return int(np.count_nonzero(self.alive[rows])) if len(rows) else 0

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the k best chunks for query, best first; only chunks with a score."""
        if not self.live:
            return []
        scores = np.zeros(len(self.ids), dtype=np.float32)
        average = self.total_length / self.live
        for term in self.stems(query):  # a repeated query term counts twice, as in bm25s
            rows, tf = self.postings.of(term)
            df = self._df(rows)
            if not df:
                continue
            # the arithmetic of bm25s (an idf kept in float32, the rest in float64, the score stored in float32), so
            # that scores equal those of a bm25s index built over the same chunks
            idf = np.float64(np.float32(math.log(1 + (self.live - df + 0.5) / (df + 0.5))))
            tf = tf.astype(np.float64)
            part = (idf * (tf / (K1 * ((1 - B) + B * self.lengths[rows].astype(np.float64) / average) + tf))).astype(np.float32)
            scores[rows] += np.where(self.alive[rows], part, np.float32(0))
        k = min(k, len(scores))
        top = np.argpartition(scores, -k)[-k:]
        top = top[np.flip(np.argsort(scores[top]))]
        return [(self.ids[int(r)], float(scores[r])) for r in top if scores[r] > 0]

    # -- changes ----------------------------------------------------------------------------------------------------
    def remove_documents(self, document_ids: Iterable[str]) -> None:
        for doc in document_ids:
            rows = self.rows_of.pop(doc, None)
            if rows is None:
                continue
            self.alive[rows] = False
            self.live -= len(rows)
            self.total_length -= int(self.lengths[rows].sum())
            for r in rows:
                self.row_of.pop(self.ids[r], None)
            ids, counts = self.doc_words.pop(doc, (np.empty(0, np.int32), None))
            if len(ids):
                words, names = self._own_words(), self._word_names()
                for w, n in zip(ids.tolist(), counts.tolist()):
                    left = words.get(names[w], 0) - n
                    if left > 0:
                        words[names[w]] = left
                    else:
                        words.pop(names[w], None)

    def add_chunks(self, chunks: list[tuple[str, str, str]]) -> None:
        """chunks: (chunk id, document id, text), of documents not in the index (remove_documents first)."""
        if not chunks:
            return
        stems = stems_of([text for _, _, text in chunks])
        start = len(self.ids)
        self._grow(start + len(chunks))
        self.postings.add(start, stems)
        lengths = np.fromiter((len(t) or 1 for t in stems), dtype=np.float32, count=len(stems))  # bm25s gives a
        self.lengths[start:start + len(chunks)] = lengths  # chunk without terms one (empty) term
        self.alive[start:start + len(chunks)] = True
        self.total_length += int(lengths.sum())
        words = self._own_words()
        per_doc: dict[str, Counter] = {}
        for k, (chunk_id, doc, text) in enumerate(chunks):
            self.ids.append(chunk_id)
            self.row_of[chunk_id] = start + k
            self.rows_of.setdefault(doc, []).append(start + k)
            present = set(WORD.findall(text.lower()))
            per_doc.setdefault(doc, Counter()).update(present)
            for w in present:
                words[w] = words.get(w, 0) + 1
        self.live += len(chunks)
        for doc, counts in per_doc.items():
            ids = np.fromiter((self.word_ids.setdefault(w, len(self.word_ids)) for w in counts), dtype=np.int32)
            old = self.doc_words.get(doc)
            values = np.fromiter(counts.values(), dtype=np.int32)
            self.doc_words[doc] = (ids, values) if old is None else (np.concatenate([old[0], ids]), np.concatenate([old[1], values]))
        self._names = None

    def _word_names(self) -> list[str]:
        if getattr(self, "_names", None) is None or len(self._names) != len(self.word_ids):
            self._names = list(self.word_ids)
        return self._names

    def _grow(self, rows: int) -> None:
        if rows > len(self.lengths):
            size = max(rows, 2 * len(self.lengths), 1024)
            self.lengths = np.concatenate([self.lengths, np.zeros(size - len(self.lengths), np.float32)])
            self.alive = np.concatenate([self.alive, np.zeros(size - len(self.alive), bool)])

    def settle(self, ratio: float = 0.25) -> bool:
        """Fold the tail into the base when it has grown to `ratio` of it (or as many removed rows wait to be
        dropped); True when it did, and the index should be saved."""
        dead = len(self.ids) - self.live
        if self.postings.tail_size < ratio * max(len(self.postings.rows), 16384) and dead < ratio * max(len(self.ids), 4096):
            return False
        self._compact()
        return True

    # -- on disk ----------------------------------------------------------------------------------------------------
    def save(self) -> None:
        """Write the index (merged first) beside the revision it reflects: a new process starts from it and applies
        only the changes logged since."""
        self._compact()
        tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}-{threading.get_ident()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.save(tmp / "indptr.npy", self.postings.indptr)
        np.save(tmp / "rows.npy", self.postings.rows)
        np.save(tmp / "counts.npy", self.postings.counts)
        np.save(tmp / "lengths.npy", self.lengths[:len(self.ids)])
        docs = list(self.doc_words)
        np.save(tmp / "doc_word_ids.npy", np.concatenate([self.doc_words[d][0] for d in docs] or [np.empty(0, np.int32)]))
        np.save(tmp / "doc_word_counts.npy", np.concatenate([self.doc_words[d][1] for d in docs] or [np.empty(0, np.int32)]))
        (tmp / "vocab.json").write_text(json.dumps({
            "stems": list(self.postings.vocab), "words": list(self.word_ids), "ids": self.ids,
            "documents": [[d, self.rows_of.get(d, []), len(self.doc_words[d][0])] for d in docs],
        }))
        (tmp / "meta.json").write_text(json.dumps({"revision": self.revision, "collection_id": self.collection_id,
                                                     "seen": self.seen, "format": 2}))
        old = self.path.with_name(self.path.name + f".old{os.getpid()}-{threading.get_ident()}")
        try:
            if self.path.exists():
                self.path.rename(old)
            tmp.rename(self.path)
        except OSError:
            pass  # another process saved at the same moment: its copy serves (a saved copy only shortens a replay)
        shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)

    def _compact(self) -> None:
        """Removed rows dropped, the others renumbered in order, the tail folded into the base."""
        keep = self.alive[:len(self.ids)].copy()
        self.postings.merge(keep)
        self.ids = [i for i, k in zip(self.ids, keep.tolist()) if k]
        self.row_of = {i: r for r, i in enumerate(self.ids)}
        renumber = np.cumsum(keep) - 1
        self.rows_of = {d: renumber[rows].tolist() for d, rows in self.rows_of.items()}
        self.lengths = self.lengths[:len(keep)][keep].copy()
        self.alive = np.ones(len(self.ids), dtype=bool)
        self.base_rows = len(self.ids)

    def _load(self) -> None:
        try:
            meta = json.loads((self.path / "meta.json").read_text())
            if meta.get("format") != 2:
                return  # an index of an earlier version: rebuilt from the collection
            vocab = json.loads((self.path / "vocab.json").read_text())
            self.postings.indptr = np.load(self.path / "indptr.npy")
            self.postings.rows = np.load(self.path / "rows.npy", mmap_mode="r")
            self.postings.counts = np.load(self.path / "counts.npy", mmap_mode="r")
            self.postings.vocab = {t: k for k, t in enumerate(vocab["stems"])}
            self.ids = vocab["ids"]
            self.row_of = {i: r for r, i in enumerate(self.ids)}
            self.lengths = np.load(self.path / "lengths.npy")
            self.alive = np.ones(len(self.ids), dtype=bool)
            self.live, self.total_length, self.base_rows = len(self.ids), int(self.lengths.sum()), len(self.ids)
            self.word_ids = {w: k for k, w in enumerate(vocab["words"])}
            word_ids, word_counts = np.load(self.path / "doc_word_ids.npy"), np.load(self.path / "doc_word_counts.npy")
            at = 0
            for doc, rows, n in vocab["documents"]:
                if rows:
                    self.rows_of[doc] = rows
                self.doc_words[doc] = (word_ids[at:at + n], word_counts[at:at + n])
                at += n
            totals = np.bincount(word_ids, weights=word_counts, minlength=len(self.word_ids))
            self.words = {w: int(n) for w, n in zip(vocab["words"], totals.tolist()) if n > 0}
            self.revision, self.collection_id, self.seen = meta["revision"], meta["collection_id"], meta.get("seen", [])
        except Exception:
            # none yet, or a half-written one (killed mid-save): rebuilt from the collection
            self._clear()
            self.revision = self.collection_id = None
            self.seen = []
