"""Ingestion: the index mirrors a folder exactly, idempotently, survives bad files and a kill -9, and says why."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import (HTML_PAGE, MARKDOWN_PAGE, PDF_PAGES, PNG_BYTES, REPO, clean_env, make_pdf, run_cli,
                      unreadable_as_root)

SUMMARY_KEYS = ["added", "updated", "unchanged", "removed", "relabelled", "failed", "duplicates", "documents", "chunks"]


def open_assistant(settings):
    from assistant.core import Assistant

    return Assistant(settings)


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed (re-embedding is what idempotence avoids)."""

    def __init__(self, inner):
        self.inner, self.name, self.dim, self.texts = inner, inner.name, inner.dim, 0

    def embed_documents(self, texts):
        self.texts += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


def check_index(store) -> tuple[dict, list]:
    """Every chunk points exactly into its document's text; chunk counts add up; BM25 holds the same chunks as Chroma."""
    docs = {d.id: store.get_document(d.id) for d in store.list_documents()}
    chunks = list(store.all_chunks())
    for chunk in chunks:
        assert chunk.document_id in docs, f"chunk {chunk.id} has no document"
        assert docs[chunk.document_id].text[chunk.start:chunk.end] == chunk.text
    for doc in docs.values():
        assert doc.chunks == sum(1 for c in chunks if c.document_id == doc.id) > 0
    store.sync_keywords()
    assert sorted(store.keywords.chunk_ids()) == sorted(c.id for c in chunks)
    return docs, chunks


def bm25_sources(store, query: str) -> set[str]:
    hits = store.bm25_search(query, 20)
    found = store.get_chunks([cid for cid, _ in hits])
    assert len(found) == len(hits), "BM25 returned a chunk Chroma does not hold"
    return {c.source for c in found.values()}


def rare_word(text: str, others: list[str]) -> str:
    """A longish word of text that occurs in none of the other texts (to probe for stale chunks)."""
    for word in sorted(set(text.split()), key=lambda w: (-len(w), w)):
        if word.isalpha() and len(word) > 7 and all(word.lower() not in o.lower() for o in others):
            return word
    raise AssertionError("no rare word")


# -- formats, offsets, metadata ----------------------------------------------------------------------

def test_ingest_keeps_exact_offsets_pages_and_metadata(settings_factory, seeds_copy):
    more = seeds_copy / "more"
    more.mkdir()
    (more / "orchard.pdf").write_bytes(make_pdf(PDF_PAGES, title="Orchard report"))
    (more / "bridge.html").write_text(HTML_PAGE)
    (more / "festival.md").write_text(MARKDOWN_PAGE)
    (more / "notes.csv").write_text("not,an,article\n")  # unsupported types are not articles: skipped silently
    assistant = open_assistant(settings_factory(chunk_tokens=40))  # small chunks: a PDF chunk within one page
    summary = assistant.ingest([seeds_copy])
    assert summary.to_dict() == {"added": 8, "updated": 0, "unchanged": 0, "removed": 0, "relabelled": 0, "failed": [], "duplicates": [],
                                 "documents": 8, "chunks": summary.chunks}
    docs, chunks = check_index(assistant.store)
    by_source = {d.source: d for d in docs.values()}
    assert set(by_source) == {p.name for p in seeds_copy.glob("*.txt")} | {"more/orchard.pdf", "more/bridge.html", "more/festival.md"}
    for source, doc in by_source.items():
        assert doc.sha256 == hashlib.sha256((seeds_copy / source).read_bytes()).hexdigest()
        assert doc.ingested_at.startswith("20") and doc.root == str(seeds_copy.resolve())
    pdf = by_source["more/orchard.pdf"]
    assert pdf.title == "Orchard report"
    assert {c.page for c in chunks if c.document_id == pdf.id} <= {1, 2, 3}
    assert all(c.page is not None for c in chunks if c.document_id == pdf.id)
    assert all(c.page is None for c in chunks if c.document_id != pdf.id)
    html = by_source["more/bridge.html"]
    assert "scriptsecret" not in html.text and "navsecret" not in html.text and "harbour bridge reopened" in html.text
    assert bm25_sources(assistant.store, "scriptsecret inlinescriptsecret navsecret stylesecret") == set()
    assert "## Music and food" in by_source["more/festival.md"].text
    # retrieval finds the passages: dense and BM25 over the same chunks
    passages = assistant.retriever.retrieve("Why did pear prices rise at the regional market?")
    assert passages[0].chunk.source == "more/orchard.pdf" and passages[0].chunk.page == 2
    status = assistant.status()
    assert status["documents"] == 8 and status["chunks"] == len(chunks) and status["size_bytes"] > 0


def test_markdown_and_seed_text_is_searchable(settings_factory, seeds_copy):
    assistant = open_assistant(settings_factory(chunk_tokens=120))
    assistant.ingest([seeds_copy])
    docs, chunks = check_index(assistant.store)
    assert len(chunks) > len(docs) * 2  # the chunk size setting is honoured
    passages = assistant.retriever.retrieve("NATO role in Iraq")
    assert passages and all(p.chunk.text == docs[p.chunk.document_id].text[p.chunk.start:p.chunk.end] for p in passages)


# -- idempotence -----------------------------------------------------------------------------------

def test_reingest_mirrors_the_folder_without_reembedding(settings_factory, seeds_copy):
    assistant = open_assistant(settings_factory())
    counter = CountingEmbedder(assistant.store.embedder)
    assistant.store.embedder = counter
    files = sorted(seeds_copy.glob("*.txt"))
    texts = {p.name: p.read_text() for p in files}

    first = assistant.ingest([seeds_copy]).to_dict()
    assert (first["added"], first["documents"], first["failed"]) == (5, 5, [])
    embedded = counter.texts
    assert embedded == first["chunks"]
    before = {d.id: (d.sha256, d.ingested_at) for d in assistant.documents()}
    ids_before = {c.id for c in assistant.store.all_chunks()}

    # nothing changed: nothing is re-read into chunks or re-embedded, nothing is rewritten
    again = assistant.ingest([seeds_copy]).to_dict()
    assert again == {"added": 0, "updated": 0, "unchanged": 5, "removed": 0, "relabelled": 0, "failed": [], "duplicates": [], "documents": 5,
                     "chunks": first["chunks"]}
    assert counter.texts == embedded
    assert {d.id: (d.sha256, d.ingested_at) for d in assistant.documents()} == before
    assert {c.id for c in assistant.store.all_chunks()} == ids_before

    # one file changed: it alone is replaced, and none of its old text stays in either retriever
    changed = files[2]
    others = [t for name, t in texts.items() if name != changed.name]
    stale = rare_word(texts[changed.name], others)
    assert changed.name in bm25_sources(assistant.store, stale)
    changed.write_text("Lighthouse keepers on the northern coast voted to strike over pay.\n\n"
                       "The vote was the first of its kind in forty years, the union said.\n")
    result = assistant.ingest([seeds_copy]).to_dict()
    assert (result["updated"], result["unchanged"], result["added"], result["removed"]) == (1, 4, 0, 0)
    docs, chunks = check_index(assistant.store)
    assert not any(stale in c.text for c in chunks)
    assert changed.name not in bm25_sources(assistant.store, stale)
    assert bm25_sources(assistant.store, "lighthouse keepers") == {changed.name}
    new_doc = next(d for d in docs.values() if d.source == changed.name)
    assert "Lighthouse keepers" in new_doc.text and new_doc.ingested_at >= before[new_doc.id][1]
    assert counter.texts == embedded + new_doc.chunks  # only the changed document was embedded

    # one file removed: its document and chunks leave both retrievers
    removed = files[3]
    gone = rare_word(texts[removed.name], [t for n, t in texts.items() if n != removed.name])
    removed_id = next(d.id for d in docs.values() if d.source == removed.name)
    removed.unlink()
    result = assistant.ingest([seeds_copy]).to_dict()
    assert (result["removed"], result["unchanged"], result["documents"]) == (1, 4, 4)
    docs, chunks = check_index(assistant.store)
    assert removed_id not in docs and assistant.document(removed_id) is None
    assert not any(c.document_id == removed_id for c in chunks)
    assert bm25_sources(assistant.store, gone) == set()
    assert all(p.chunk.document_id != removed_id for p in assistant.retriever.retrieve(gone))

    # one file added
    (seeds_copy / "sub").mkdir()
    (seeds_copy / "sub" / "new.md").write_text(MARKDOWN_PAGE)
    result = assistant.ingest([seeds_copy]).to_dict()
    assert (result["added"], result["unchanged"], result["documents"]) == (1, 4, 5)
    check_index(assistant.store)


def test_cli_json_summary_and_exit_codes(seeds_copy, tmp_path):
    index = tmp_path / "index"
    first = run_cli("ingest", seeds_copy, "--index", index, "--json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)  # --json prints the summary and nothing else
    assert list(summary) == SUMMARY_KEYS
    assert summary["added"] == summary["documents"] == 5 and summary["failed"] == [] and summary["chunks"] > 5

    files = sorted(seeds_copy.glob("*.txt"))
    files[0].write_text(files[0].read_text() + "\nA correction was appended on Tuesday.\n")
    files[1].unlink()
    (seeds_copy / "extra.html").write_text(HTML_PAGE)
    second = run_cli("ingest", seeds_copy, "--index", index, "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == {"added": 1, "updated": 1, "unchanged": 3, "removed": 1, "relabelled": 0, "failed": [], "duplicates": [],
                                         "documents": 5, "chunks": json.loads(second.stdout)["chunks"]}

    status = run_cli("status", "--index", index, "--json")
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["documents"] == 5 and info["embedder"].startswith("bge-small") and info["dim"] == 384
    assert info["location"] == str(index.resolve()) and info["size_bytes"] > 0
    sources = run_cli("sources", "--index", index, "--json")
    listed = {d["source"]: d for d in json.loads(sources.stdout)}
    assert set(listed) == {p.name for p in seeds_copy.iterdir()}
    for name, d in listed.items():
        assert d["sha256"] == hashlib.sha256((seeds_copy / name).read_bytes()).hexdigest() and d["chunks"] > 0

    # usage errors: 2, before anything is opened
    assert run_cli("ingest").returncode == 2
    assert run_cli("ingest", seeds_copy, "--index", index, "--no-such-option").returncode == 2


# -- bad input -------------------------------------------------------------------------------------

def test_bad_files_are_reported_and_nothing_indexed_is_lost(seeds_copy, tmp_path):
    index = tmp_path / "index"
    assert run_cli("ingest", seeds_copy, "--index", index, "--json").returncode == 0
    d = seeds_copy
    (d / "empty.txt").write_bytes(b"")
    (d / "blank.md").write_text("   \n\n  \t\n")
    (d / "photo.txt").write_bytes(PNG_BYTES)
    (d / "huge.txt").write_text("The river rose overnight and flooded the lower town. " * 600)  # ~32 KB
    (d / "broken-utf8.txt").write_bytes("Zürich council met on Monday. ".encode() * 10 + b"\xe9t\xe9 \x80\x81 end")
    (d / "scripts.html").write_text("<html><head><script>" + "track('scriptsecret');" * 300 + "</script></head>"
                                    "<body><script>var a = 'scriptsecret';</script><style>p{}</style></body></html>")
    (d / "with-scripts.html").write_text(HTML_PAGE)  # fine: its article ingests, its scripts do not
    (d / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nthis is not really a PDF\n")
    (d / "locked.pdf").write_bytes(make_pdf(PDF_PAGES, password="secret"))
    (d / "dangling.txt").symlink_to(d / "does-not-exist.txt")
    (d / "loop-a.txt").symlink_to(d / "loop-b.txt")
    (d / "loop-b.txt").symlink_to(d / "loop-a.txt")
    (d / "nested").mkdir()
    (d / "nested" / "back").symlink_to(d, target_is_directory=True)  # a folder loop
    os.mkfifo(d / "pipe.txt")  # reading it would block forever
    # an article that was indexed turns into garbage: the indexed version stays
    victim = sorted(d.glob("0*.txt"))[0]
    victim_text = victim.read_text()
    victim.write_bytes(PNG_BYTES)

    run = run_cli("ingest", d, "--index", index, "--json", env={"ASSISTANT_MAX_FILE_MB": "0.02"})
    assert run.returncode == 3, run.stderr
    summary = json.loads(run.stdout)
    assert list(summary) == SUMMARY_KEYS
    reasons = {f["path"]: f["reason"] for f in summary["failed"]}
    expected = {
        "empty.txt": "empty", "blank.md": "empty", "photo.txt": "binary", "huge.txt": "too large",
        "broken-utf8.txt": "mis-encoded", "scripts.html": "no text", "broken.pdf": "PDF",
        "locked.pdf": "encrypted", "dangling.txt": "broken symlink", "loop-a.txt": "symlink loop",
        "loop-b.txt": "symlink loop", "nested/back": "symlink loop", "pipe.txt": "not a regular file",
        victim.name: "binary",
    }
    assert set(reasons) == set(expected), reasons
    for path, word in expected.items():
        assert word.lower() in reasons[path].lower(), (path, reasons[path])
        assert reasons[path] and "\n" not in reasons[path] and len(reasons[path]) < 200
    assert "0.02 MB" in reasons["huge.txt"]
    assert (summary["added"], summary["unchanged"], summary["removed"], summary["documents"]) == (1, 4, 0, 6)

    assistant = open_assistant(_settings(index))
    docs, chunks = check_index(assistant.store)
    by_source = {doc.source: doc for doc in docs.values()}
    assert by_source[victim.name].text == victim_text.strip()  # the last good version is still there
    assert "with-scripts.html" in by_source and "scriptsecret" not in by_source["with-scripts.html"].text
    assert not any("scriptsecret" in c.text for c in chunks)
    assert bm25_sources(assistant.store, "scriptsecret track") == set()

    # the text report names each failure on its own line, on stderr
    text = run_cli("ingest", d, "--index", index, env={"ASSISTANT_MAX_FILE_MB": "0.02"})
    assert text.returncode == 3
    assert "failed 14" in text.stdout and "locked.pdf: encrypted PDF" in text.stderr


def _settings(index: Path, **kw):
    from assistant.config import Settings

    return Settings(index_dir=index, **kw)  # defaults only: no ASSISTANT_* variable of the caller's


def test_missing_path_is_a_failure_not_a_crash(settings_factory, seeds_copy, tmp_path):
    summary = open_assistant(settings_factory()).ingest([seeds_copy, tmp_path / "nowhere"]).to_dict()
    assert summary["documents"] == 5
    assert summary["failed"] == [{"path": str(tmp_path / "nowhere"), "reason": "no such file or folder"}]


@pytest.mark.skipif(unreadable_as_root(), reason="root reads a chmod 000 file; the broken symlink covers unreadable files")
def test_unreadable_file_is_reported(settings_factory, seeds_copy):
    locked = seeds_copy / "locked.txt"
    locked.write_text("Nobody may read this article.\n")
    locked.chmod(0)
    try:
        summary = open_assistant(settings_factory()).ingest([seeds_copy]).to_dict()
    finally:
        locked.chmod(0o644)
    assert summary["failed"] == [{"path": "locked.txt", "reason": "permission denied (unreadable file)"}]
    assert summary["added"] == 5


class TinyEmbedder:
    """A stand-in embedder of another name and size (8 dims): cheap, deterministic, not bge-small."""

    name, dim = "tiny-test-8", 8

    def __init__(self, settings=None):
        pass

    def embed_documents(self, texts):
        return [[float(len(t) % (k + 2)) + 1.0 for k in range(8)] for t in texts]

    def embed_query(self, text):
        return self.embed_documents([text])[0]


@pytest.fixture
def tiny_embedder():
    from assistant.registry import registry

    registry.embedders.add("tiny-test", TinyEmbedder)
    return "tiny-test"


def test_a_different_embedder_is_refused(settings_factory, seeds_copy, tiny_embedder):
    from assistant.schema import AssistantError

    tiny = open_assistant(settings_factory(embedder=tiny_embedder))
    assert tiny.ingest([seeds_copy]).added == 5
    assert tiny.status()["embedder"] == "tiny-test-8"
    del tiny
    with pytest.raises(AssistantError, match=r"built with embedder tiny-test-8 \(8 dims\), not bge-small-en-v1.5-int8"):
        open_assistant(settings_factory())
    run = run_cli("ingest", seeds_copy, "--index", settings_factory().index_dir, "--json")
    assert run.returncode == 1 and run.stdout == ""
    assert "built with embedder tiny-test-8" in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_a_document_with_more_chunks_than_one_chroma_write_takes(settings_factory, tmp_path, tiny_embedder):
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "list.txt").write_text("".join(f"Entry {i} holds.\n" for i in range(2900)))  # ~5,800 chunks of ~4 tokens
    assistant = open_assistant(settings_factory(embedder=tiny_embedder, chunk_tokens=4, max_document_chunks=10_000))
    summary = assistant.ingest([folder]).to_dict()
    assert summary["added"] == 1 and summary["failed"] == []
    assert summary["chunks"] > assistant.store.client.get_max_batch_size()
    docs, chunks = check_index(assistant.store)
    assert len(chunks) == summary["chunks"]


# -- kill -9 ---------------------------------------------------------------------------------------

def make_corpus(seeds_dir: Path, folder: Path, n: int) -> None:
    """n articles of real text: each takes paragraphs from a seed article, in a different order, with its own lead."""
    folder.mkdir()
    seeds = [p.read_text().split("\n\n") for p in sorted(seeds_dir.glob("*.txt"))]
    for i in range(n):
        paragraphs = [p for p in seeds[i % len(seeds)] if p.strip()]
        k = i % len(paragraphs)
        picked = paragraphs[k:k + 2] or paragraphs[:2]  # short: about one chunk each, so the test stays quick
        lead = f"Desk report {i}: correspondents filed this summary on day {i % 28 + 1}."
        (folder / f"report-{i:03d}.txt").write_text("\n\n".join([lead] + picked) + "\n")


def writes_logged(index: Path) -> int:
    """How many records Chroma has logged so far (a read-only peek at its SQLite write log; 0 when not there yet).
    The log is purged once applied, so the highest sequence number is taken, from the log or the applied marks."""
    db = index / "chroma" / "chroma.sqlite3"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2) as con:
            return con.execute("select max(coalesce((select max(seq_id) from embeddings_queue), 0),"
                               " coalesce((select max(seq_id) from max_seq_id), 0))").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_ingest_killed_half_way_leaves_a_working_index_and_the_next_ingest_completes_it(seeds_dir, tmp_path):
    corpus, index = tmp_path / "reports", tmp_path / "index"
    n = 40
    make_corpus(seeds_dir, corpus, n)
    proc = subprocess.Popen([str(Path(sys.executable).parent / "assistant"), "ingest", str(corpus), "--index", str(index), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
                            env=clean_env(ASSISTANT_INGEST_BATCH_CHUNKS="4"))  # many small writes to land in
    deadline = time.monotonic() + 240
    while writes_logged(index) < 20:  # some documents are written, and the ingest is still writing
        assert proc.poll() is None, f"ingest ended before it could be killed: {proc.communicate()}"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    status = run_cli("status", "--index", index, "--json")
    assert status.returncode == 0, status.stderr
    partial = json.loads(status.stdout)["documents"]
    assert 0 < partial < n
    assistant = open_assistant(_settings(index))
    passages = assistant.retriever.retrieve("Iraq asked US forces to leave")
    assert passages and all(p.chunk.text for p in passages)
    del assistant, passages

    run = run_cli("ingest", corpus, "--index", index, "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["documents"] == n and summary["added"] + summary["updated"] == n - summary["unchanged"]
    assert summary["unchanged"] == partial  # a document record is written last: those there are complete
    assistant = open_assistant(_settings(index))
    docs, chunks = check_index(assistant.store)
    assert sorted(d.source for d in docs.values()) == sorted(p.name for p in corpus.iterdir())
    assert summary["chunks"] == len(chunks)
    assert assistant.retriever.retrieve("Iraq asked US forces to leave")


def test_chunks_a_killed_ingest_left_without_their_document_are_dropped(settings_factory, seeds_copy):
    from assistant.ingest.chunking import chunk_document
    from assistant.ingest.pipeline import document_from_bytes

    assistant = open_assistant(settings_factory())
    assistant.ingest([seeds_copy])
    # what a kill -9 between writing a document's chunks and its record leaves, for a file since deleted
    doc = document_from_bytes(b"Volcanoes erupted in Iceland overnight, closing two airports.\n", "gone.txt", str(seeds_copy))
    chunks = chunk_document(doc)
    assistant.store.commit_start()
    assistant.store.add_document(doc, chunks, assistant.embedder.embed_documents([c.text for c in chunks]))
    assistant.store.documents.delete(ids=[doc.id])
    assert assistant.store.get_chunks([c.id for c in chunks])
    summary = assistant.ingest([seeds_copy]).to_dict()
    assert summary["unchanged"] == 5 and summary["failed"] == []
    assert assistant.store.get_chunks([c.id for c in chunks]) == {}
    check_index(assistant.store)
    assert assistant.store.revision() % 2 == 0


@pytest.mark.parametrize("text, name, title", [
    ("Via Financial Times\n\nIraq has asked Washington to work out how it will withdraw troops. More.\n", "000_2ea2.txt",
     "Iraq has asked Washington to work out how it will withdraw troops."),
    ("Iraq News - Local News - Baghdadpost\n\nIraq weighs larger NATO role\n\n Iraq is considering a role.\n", "a.txt",
     "Iraq weighs larger NATO role"),
    ("A 27 September threat by US Secretary of State Mike Pompeo to shut the US Embassy in Baghdad will degrade ties.\n\nMore.",
     "threat.txt", "A 27 September threat by US Secretary of State Mike Pompeo to…"),
    ("Abraham Lincoln\n\nAbraham Lincoln was the 16th President of the United States.\n", "Abraham_Lincoln.txt", "Abraham Lincoln"),
    ("ASCII\n\nASCII is a character-encoding scheme.\n", "ASCII.txt", "ASCII"),
])
def test_plain_text_title_is_its_heading_or_else_its_lead(text: str, name: str, title: str):
    """A heading is the title; without one, the lead sentence's opening words (cut with "…"), never the file name."""
    from assistant.ingest.extract import extract_bytes

    assert extract_bytes(text.encode(), name).title == title


def test_html_pdf_and_docx_titles_come_from_their_metadata():
    import io

    import docx

    from assistant.ingest.extract import extract_bytes

    page = "<html><head><title>Bridge Reopens | Daily</title></head><body><p>Body.</p></body></html>"
    assert extract_bytes(page.encode(), "x.html").title == "Bridge Reopens | Daily"
    assert extract_bytes(b"<html><body><h1>Only a headline</h1><p>Body text.</p></body></html>", "x.html").title == "Only a headline"
    assert extract_bytes(make_pdf(PDF_PAGES, title="Orchard report"), "x.pdf").title == "Orchard report"
    d = docx.Document()
    d.add_paragraph("The text of the memo.")
    d.core_properties.title = "Memo on pears"
    buf = io.BytesIO()
    d.save(buf)
    assert extract_bytes(buf.getvalue(), "memo.docx").title == "Memo on pears"


NEWS_PAGE = """<!DOCTYPE html><html><head><title>Footbridge vote - Riverside Daily</title>
<meta property="og:site_name" content="Riverside Daily"></head><body>
<div class="cookie-banner" id="cookie-consent"><p>We use cookies to improve your experience. Accept all cookies.</p></div>
<div class="topMenu"><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></div>
<div role="navigation"><a href="/weather">Weather and travel</a></div>
<div class="content"><div class="story"><h1>Footbridge vote</h1>
<p>The town council of Elmsford voted on Tuesday evening to rebuild the old stone footbridge over the river.</p>
<p>Engineers said the bridge, built in 1874, had cracks in two of its arches.</p>
<p hidden>Subscribe to read more stories like this one.</p></div>
<div class="box"><div class="live-updates sidebar"><h3>Live updates</h3><ul><li>Storm warning issued for the coast</li></ul></div></div>
<div class="box"><div class="related_stories"><h3>Related articles</h3><ul><li><a href="/a1">Council approves library hours</a></li></ul></div></div>
<div class="share-buttons"><a href="#">Share on social media</a></div>
</div></body></html>"""


def test_news_page_keeps_its_article_without_banners_menus_or_related_boxes():
    """What a reader of the page reads is indexed, not its cookie banner, menus, live or related lists, share
    buttons or hidden text; the title is the headline without the site's name."""
    from assistant.ingest.extract import extract_bytes

    page = extract_bytes(NEWS_PAGE.encode(), "bridge.html")
    assert "rebuild the old stone footbridge" in page.text and "cracks in two of its arches" in page.text
    for boilerplate in ("cookies", "Home", "Weather", "Subscribe", "Storm warning", "library hours", "Share on"):
        assert boilerplate not in page.text
    assert page.title == "Footbridge vote"
    # without a headline to match, the site's name named by og:site_name is what goes
    no_headline = NEWS_PAGE.replace("<h1>Footbridge vote</h1>", "")
    assert extract_bytes(no_headline.encode(), "bridge.html").title == "Footbridge vote"


def test_a_box_of_links_goes_whatever_it_is_named_but_a_paragraph_with_links_stays():
    """A footer or a "read more" list named after nothing boilerplate ("bottom", "x9") is mostly link text: it goes.
    A paragraph that links a few words, and a list whose items say more than their links, are the article."""
    from assistant.ingest.extract import extract_bytes

    page = ('<html><body><div class="story"><p>The council voted to rebuild the footbridge, <a href="/r">the report</a> '
            'says, after three years of debate.</p><ul><li>Work starts in spring, says the <a href="/m">mayor</a>.</li>'
            '<li>A ferry will run meanwhile.</li></ul><p><a href="/full">Read the whole council decision here</a></p>'
            '</div><div class="x9"><ul><li><a href="/a">Library opening hours change</a></li><li><a href="/b">River '
            'levels rise</a></li></ul></div><div class="bottom"><a href="/about">About us</a> <a href="/privacy">'
            'Privacy policy</a> <span>Copyright Riverside</span></div></body></html>')
    text = extract_bytes(page.encode(), "x.html").text
    assert "rebuild the footbridge, the report says" in text and "says the mayor" in text and "A ferry" in text
    assert "Read the whole council decision here" in text  # a paragraph is never judged by its links
    for boilerplate in ("Library opening hours", "River levels", "About us", "Privacy", "Copyright"):
        assert boilerplate not in text


def test_article_inside_a_box_named_like_boilerplate_is_kept_whole():
    """A page whose only container is named like a box ("layout-with-sidebar") keeps all of its text rather than
    losing the article."""
    from assistant.ingest.extract import extract_bytes

    page = ('<html><body><div class="layout-with-sidebar"><p>The council voted to rebuild the footbridge over the '
            'river after three years of debate.</p><p>Work starts in spring.</p></div>'
            '<div class="menu">Home</div></body></html>')
    text = extract_bytes(page.encode(), "x.html").text
    assert "rebuild the footbridge" in text and "Work starts in spring." in text


def test_a_copied_folder_is_not_indexed_twice_and_a_moved_one_is_indexed_where_it_is(settings_factory, seeds_copy, tmp_path):
    assistant = open_assistant(settings_factory())
    names = sorted(p.name for p in seeds_copy.glob("*.txt"))
    first = assistant.ingest([seeds_copy]).to_dict()
    assert (first["added"], first["duplicates"]) == (5, [])
    ids = {d.source: d.id for d in assistant.documents()}

    copy = tmp_path / "copy"
    copy.mkdir()
    for name in names:
        (copy / name).write_bytes((seeds_copy / name).read_bytes())
    (copy / "zz-twin.txt").write_bytes((seeds_copy / names[0]).read_bytes())  # a second copy inside the new folder
    (copy / "own.md").write_text(MARKDOWN_PAGE)
    second = assistant.ingest([copy]).to_dict()
    assert (second["added"], second["failed"], second["documents"]) == (1, [], 6)
    assert sorted((d["path"], d["same_as"], d["document_id"], d["folder"]) for d in second["duplicates"]) == sorted(
        [(n, n, ids[n], str(seeds_copy)) for n in names] + [("zz-twin.txt", names[0], ids[names[0]], str(seeds_copy))])
    check_index(assistant.store)
    # every passage of an answer comes from one copy of the text: no sentence is a source twice
    answer = assistant.ask("How many US troops are in Iraq?")
    quoted = [(c.source, c.start, c.end) for c in answer.citations]
    assert quoted and len(quoted) == len(set(quoted)) and {c.document_id for c in answer.citations} <= set(ids.values())

    # the original folder moved away: its files are indexed where they now are, the old records dropped
    seeds_copy.rename(tmp_path / "elsewhere")
    third = assistant.ingest([copy]).to_dict()
    assert (third["added"], third["removed"], third["documents"]) == (5, 5, 6)
    assert [d["path"] for d in third["duplicates"]] == ["zz-twin.txt"]
    assert {d.root for d in assistant.documents()} == {str(copy.resolve())}
    check_index(assistant.store)
    # nothing to do the next time
    fourth = assistant.ingest([copy]).to_dict()
    assert (fourth["added"], fourth["removed"], fourth["unchanged"], len(fourth["duplicates"])) == (0, 0, 6, 1)


def test_cli_lists_a_file_it_already_holds_and_exits_0(seeds_copy, tmp_path):
    index = tmp_path / "index"
    assert run_cli("ingest", seeds_copy, "--index", index).returncode == 0
    copy = tmp_path / "copy"
    copy.mkdir()
    name = sorted(p.name for p in seeds_copy.glob("*.txt"))[1]
    (copy / "renamed.txt").write_bytes((seeds_copy / name).read_bytes())
    result = run_cli("ingest", copy, "--index", index)
    assert result.returncode == 0, result.stderr
    assert "already indexed under another name 1" in result.stdout and "index: 5 documents" in result.stdout
    assert f"not indexed again: renamed.txt: same file as {seeds_copy / name}" in result.stdout


def test_a_file_given_the_text_another_file_had_is_indexed_when_that_file_changed(settings_factory, seeds_copy):
    assistant = open_assistant(settings_factory())
    assistant.ingest([seeds_copy])
    first = sorted(seeds_copy.glob("*.txt"))[0]
    (seeds_copy / "zz-moved-here.txt").write_bytes(first.read_bytes())  # after first in the walk's order
    (seeds_copy / "aa-moved-here.txt").write_bytes(first.read_bytes())  # before it
    first.write_text("Lighthouse keepers on the northern coast voted to strike over pay.\n")
    result = assistant.ingest([seeds_copy]).to_dict()
    assert (result["added"], result["updated"], result["documents"]) == (1, 1, 6), result
    assert [(d["path"], d["same_as"]) for d in result["duplicates"]] == [("zz-moved-here.txt", "aa-moved-here.txt")]
    check_index(assistant.store)
