"""Store.bulk_add: documents with known vectors written by parallel writers are searched, cited and removed
like ingested ones."""
from __future__ import annotations


def test_bulk_loaded_documents_are_found_and_removed(settings_factory):
    from assistant.ingest.chunking import chunk_id
    from assistant.index.embed import get_embedder
    from assistant.schema import Chunk, Document
    from assistant.index.store import Store

    settings = settings_factory()
    embedder = get_embedder(settings)
    store = Store(settings, embedder)
    batch = []
    for n in range(40):  # more documents than one writer's share: every writer writes
        text = f"Harbour {n} of Quillby handled {1000 + n} boats in the spring season."
        doc = Document(id=f"bulk-{n}", source=f"harbour-{n}.txt", title=f"Harbour {n}", sha256=str(n), text=text)
        chunk = Chunk(id=chunk_id(doc.id, 0, len(text)), document_id=doc.id, start=0, end=len(text), text=text,
                      tokens=15, source=doc.source, title=doc.title)
        batch.append((doc, [chunk], embedder.embed_documents([text])))
    store.commit_start()
    store.bulk_add(batch, workers=4)
    store.commit()

    assert store.count_chunks() == 40 and len(store.list_documents()) == 40
    best, _ = store.dense_search(embedder.embed_query("How many boats did harbour 17 of Quillby handle?"), 1)[0]
    assert best.document_id == "bulk-17" and best.text.endswith("1017 boats in the spring season.")
    assert store.bm25_search("1017 boats", 1)[0][0] == best.id

    store.commit_start()
    assert store.remove_document("bulk-17")
    store.commit()
    assert store.count_chunks() == 39
    assert all(c.document_id != "bulk-17" for c, _ in store.dense_search(embedder.embed_query("harbour 17"), 39))
