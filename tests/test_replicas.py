"""More than one machine: two `assistant serve` replicas on one `chroma run` server behind nginx (the README's
configuration). What one replica ingests the other cites; what one removes the other never cites once the
removal has returned (its answer cache is keyed by the collection revision read from Chroma)."""
from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from nginx import replicas_nginx
from servers import assistant_serve

FESTIVAL = (
    "# Quillby River Festival\n\n"
    "The Quillby river festival drew 4,812 visitors on Saturday, the organisers said.\n\n"
    "Boat races on the Wend ran all afternoon and the lantern parade started at nine.\n"
)
QUESTION = "How many visitors did the Quillby river festival draw?"


def cited(answer: dict) -> list[tuple[str, int, int]]:
    return [(c["document_id"], c["start"], c["end"]) for c in answer["citations"]]


@pytest.fixture(scope="module")
def replicas(chroma_server: str, tmp_path_factory):
    """Two replicas (each with its own folder, as on two machines) on one Chroma collection, and nginx before them."""
    root = tmp_path_factory.mktemp("replicas")
    env = {"ASSISTANT_CHROMA_URL": chroma_server, "ASSISTANT_COLLECTION": "replicated", "ASSISTANT_RATE_LIMIT": "0"}
    with ExitStack() as stack:
        folders = [root / f"replica{n}" for n in (1, 2)]
        for folder in folders:
            folder.mkdir()
        urls = [stack.enter_context(assistant_serve(folder / "index", env)) for folder in folders]
        balanced = stack.enter_context(replicas_nginx(urls, root / "nginx"))
        yield urls, balanced


def test_one_replica_ingests_another_cites_then_a_removal_is_never_cited(replicas, seeds_dir: Path):
    (first, second), balanced = replicas
    seed = sorted(seeds_dir.glob("*.txt"))[0]
    files = [("file", ("festival.md", FESTIVAL.encode(), "text/markdown")),
             ("file", (seed.name, seed.read_bytes(), "text/plain"))]
    added = httpx.post(first + "/api/documents", files=files, timeout=300)
    assert added.status_code == 201 and added.json()["added"] == 2, added.text

    there = httpx.post(second + "/api/ask", json={"question": QUESTION}, timeout=120).json()
    assert "4,812" in there["answer"] and there["citations"], there
    festival_id = there["citations"][0]["document_id"]
    here = httpx.post(first + "/api/ask", json={"question": QUESTION}, timeout=120).json()
    assert here["answer"] == there["answer"] and cited(here) == cited(there)
    for _ in range(4):  # nginx takes turns: both replicas answer through it, the same
        through = httpx.post(balanced + "/api/ask", json={"question": QUESTION}, timeout=120).json()
        assert through["answer"] == there["answer"] and cited(through) == cited(there)

    removed = httpx.delete(f"{first}/api/documents/{festival_id}", timeout=120)
    assert removed.status_code == 200, removed.text
    # the second replica answered this question before and cached it: it must see the removal all the same
    for url in (second, balanced, balanced, first):
        after = httpx.post(url + "/api/ask", json={"question": QUESTION}, timeout=120).json()
        assert festival_id not in {c["document_id"] for c in after["citations"]}, (url, after)
        assert "4,812" not in after["answer"]
    assert httpx.get(second + "/api/documents", timeout=30).json()["documents"][0]["source"] == seed.name


LANTERN = ("# Wend lantern makers\n\nThe Wend lantern makers guild of Quillby counted 311 members in its "
           "zorvenite year, when the guild hall reopened.\n")


def keyword_sources(answer: dict) -> set[str]:
    return {c["source"] for c in answer["contexts"] if c.get("bm25_rank")}


def test_a_document_removed_on_one_replica_is_never_found_by_keyword_on_the_other(replicas):
    (first, second), _ = replicas
    files = [("file", ("lantern.md", LANTERN.encode(), "text/markdown"))]
    question = {"question": "How many members did the zorvenite lantern guild count?"}
    assert httpx.post(second + "/api/ask", json=question, timeout=120).status_code == 200  # synced before the upload
    added = httpx.post(first + "/api/documents", files=files, timeout=300)
    assert added.status_code == 201, added.text
    assert "lantern.md" in keyword_sources(httpx.post(second + "/api/ask", json=question, timeout=120).json())

    lantern = next(d for d in httpx.get(first + "/api/documents", timeout=30).json()["documents"] if d["source"] == "lantern.md")
    assert httpx.delete(f"{first}/api/documents/{lantern['id']}", timeout=120).status_code == 200
    after = httpx.post(second + "/api/ask", json=question, timeout=120).json()
    assert "lantern.md" not in keyword_sources(after) and "311" not in after["answer"], after


def test_each_store_applies_the_other_ones_changes_to_its_keyword_index(chroma_server: str, tmp_path: Path):
    """Two stores on one collection (two machines): what one adds the other finds by keyword at once, what one
    removes the other never finds again, each learning it from the change log."""
    from assistant.ingest.chunking import chunk_id
    from assistant.config import Settings
    from assistant.schema import Chunk, Document
    from assistant.index.store import Store

    def store(name: str) -> Store:
        return Store(Settings.load(index_dir=tmp_path / name, chroma_url=chroma_server, collection="keywords_log"))

    def add(to: Store, n: int, text: str) -> None:
        doc = Document(id=f"doc-{n}", source=f"doc-{n}.txt", title="", sha256=str(n), text=text)
        chunk = Chunk(id=chunk_id(doc.id, 0, len(text)), document_id=doc.id, start=0, end=len(text), text=text, tokens=9,
                      source=doc.source)
        to.commit_start()
        to.add_documents([(doc, [chunk], [[1.0, 0.0]])])
        to.commit()

    a, b = store("a"), store("b")
    add(a, 1, "The Quillby ferry crossed the Wend eleven times a day.")
    assert [cid for cid, _ in b.bm25_search("Quillby ferry", 5)] == [chunk_id("doc-1", 0, 54)]
    add(b, 2, "A second ferry, the Marrow, crossed at dusk.")
    assert len(a.bm25_search("ferry", 5)) == 2 and len(b.bm25_search("ferry", 5)) == 2
    a.commit_start()
    assert a.remove_document("doc-1")
    a.commit()
    assert b.bm25_search("Quillby", 5) == [] and [c for c, _ in b.bm25_search("ferry", 5)] == [chunk_id("doc-2", 0, 44)]
    assert "quillby" not in b.vocabulary.surface_words() and b.vocabulary.doc_freq(["quillbi"])[0] == {"quillbi": 0}
    again = store("b")  # a new process starts from b's saved index and the log since
    assert [c for c, _ in again.bm25_search("ferry", 5)] == [chunk_id("doc-2", 0, 44)] and again.bm25_search("Quillby", 5) == []
