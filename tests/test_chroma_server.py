"""The same ingest and query against a real `chroma run` server (--chroma-url), and clear errors when it is not there."""
from __future__ import annotations

import json
import uuid

from conftest import free_port, run_cli


def server_settings(url: str, index, collection: str):
    from assistant.config import Settings

    return Settings(chroma_url=url, index_dir=index, collection=collection)


def test_ingest_query_reingest_and_remove_against_a_chroma_server(chroma_server, seeds_copy, tmp_path):
    from assistant.core import Assistant
    from test_ingest import SUMMARY_KEYS, bm25_sources, check_index, rare_word

    collection = "t" + uuid.uuid4().hex[:10]  # the server is shared by the session
    env = {"ASSISTANT_COLLECTION": collection}
    args = ["--chroma-url", chroma_server, "--index", tmp_path / "local", "--json"]
    first = run_cli("ingest", seeds_copy, *args, env=env)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert list(summary) == SUMMARY_KEYS and summary["added"] == summary["documents"] == 5

    status = run_cli("status", *args, env=env)
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["backend"] == "chroma-server" and info["location"] == chroma_server
    assert info["documents"] == 5 and info["chunks"] == summary["chunks"] and info["size_bytes"] is None

    # queries go to the server: retrieval returns the seed passages, with exact offsets
    assistant = Assistant(server_settings(chroma_server, tmp_path / "query", collection))
    docs, chunks = check_index(assistant.store)
    assert len(docs) == 5 and len(chunks) == summary["chunks"]
    passages = assistant.retriever.retrieve("Iraq weighs a larger NATO role to replace the US-led coalition")
    assert passages[0].chunk.source == "001_60005bed86f18afa.txt"
    assert all(p.chunk.text == docs[p.chunk.document_id].text[p.chunk.start:p.chunk.end] for p in passages)

    again = run_cli("ingest", seeds_copy, *args, env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"added": 0, "updated": 0, "unchanged": 5, "removed": 0, "relabelled": 0, "failed": [], "duplicates": [],
                                        "documents": 5, "chunks": summary["chunks"]}

    files = sorted(seeds_copy.glob("*.txt"))
    gone = files[4]
    word = rare_word(gone.read_text(), [p.read_text() for p in files[:4]])
    gone.unlink()
    removed = run_cli("ingest", seeds_copy, *args, env=env)
    assert removed.returncode == 0, removed.stderr
    result = json.loads(removed.stdout)
    assert (result["removed"], result["unchanged"], result["documents"]) == (1, 4, 4)
    # another client sees the change: its BM25 rebuilds from the server's chunks, the removed one's are gone
    docs, chunks = check_index(assistant.store)
    assert gone.name not in {d.source for d in docs.values()}
    assert bm25_sources(assistant.store, word) == set()
    assert all(p.chunk.source != gone.name for p in assistant.retriever.retrieve(word))


def test_an_unreachable_server_is_a_clear_error(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    for command in (["status"], ["ingest", tmp_path]):
        run = run_cli(*command, "--chroma-url", url, "--index", tmp_path / "index", "--json")
        assert run.returncode == 1 and run.stdout == ""
        message = run.stderr.strip()
        assert len(message.splitlines()) == 1, message
        assert message.startswith(f"error: cannot open the Chroma index at {url}") and "Chroma server" in message


def test_a_malformed_server_url_is_a_clear_error(tmp_path):
    run = run_cli("status", "--chroma-url", "localhost-8000", "--index", tmp_path / "index")
    assert run.returncode == 1
    assert run.stderr.strip() == "error: not a Chroma server URL: localhost-8000"
