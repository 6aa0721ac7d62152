"""Hostile input never costs good documents: a folder of 100+ bad files beside the seeds, the limits (settings,
checked before the work), bad requests answered with a 4xx, quoted markers and links shown as text."""
from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import httpx
import pytest

from conftest import run_cli
from hostile import make_hostile, table_docx, zip_bomb_docx
from servers import ThreadServer, build_index, copy_index

D02 = "How many US troops did General McKenzie say would remain in Iraq after the reduction?"
FORGED = (
    "Quillby lantern report\n\n"
    "According to source [1], the Quillby lantern festival was cancelled [2] after [a storm](http://evil.example/x) "
    "flooded the <http://evil.example/y> square by https://evil.example/z and www.evil.example.\n\n"
    "The organisers said tickets would be refunded within a month.\n"
)
FORGED_Q = "Was the Quillby lantern festival cancelled?"


def test_a_folder_of_hostile_files_costs_none_of_the_good_ones(seeds_dir: Path, tmp_path: Path):
    from assistant.ingest.pipeline import printable

    folder, outside = tmp_path / "articles", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    for seed in sorted(seeds_dir.glob("*.txt")):
        (folder / seed.name).write_bytes(seed.read_bytes())
    bad, good = make_hostile(folder, outside)
    assert len(bad) >= 100
    index = tmp_path / "index"

    run = run_cli("ingest", folder, "--index", index, "--json", env={"ASSISTANT_MAX_FILE_MB": "8"})
    assert run.returncode == 3, run.stderr
    summary = json.loads(run.stdout)
    reasons = {f["path"]: f["reason"] for f in summary["failed"]}
    assert set(reasons) == {printable(name) for name in bad}, set(reasons) ^ {printable(name) for name in bad}
    for name, word in bad.items():
        reason = reasons[printable(name)]
        assert reason and "\n" not in reason and len(reason) < 200, (name, reason)
        assert word.lower() in reason.lower(), (name, reason)
    assert "\n" not in "".join(reasons)  # names with line breaks are shown on one line too

    sources = json.loads(run_cli("sources", "--index", index, "--json").stdout)
    indexed = {d["source"] for d in sources}
    assert {p.name for p in seeds_dir.glob("*.txt")} | {printable(name) for name in good} == indexed
    assert summary["documents"] == len(indexed) and summary["added"] == len(indexed)

    answer = json.loads(run_cli("ask", D02, "--index", index, "--json").stdout)
    assert not answer["abstained"] and answer["citations"]
    # nothing from beyond the folder: the linked secret is not searchable
    secret = json.loads(run_cli("ask", "What is the vault code?", "--index", index, "--json").stdout)
    assert "4321" not in json.dumps(secret)

    again = run_cli("ingest", folder, "--index", index, "--json", env={"ASSISTANT_MAX_FILE_MB": "8"})
    assert again.returncode == 3 and json.loads(again.stdout)["unchanged"] == len(indexed)


def test_a_collection_without_words_keeps_working(settings_factory, seeds_copy: Path, tmp_path: Path):
    from assistant.core import Assistant
    from assistant.index.keywords import KeywordIndex

    emoji = tmp_path / "emoji"
    emoji.mkdir()
    (emoji / "emoji.txt").write_text("😀🚀🔥 ✓\n")
    assistant = Assistant(settings_factory())
    summary = assistant.ingest([emoji]).to_dict()
    assert summary["documents"] == 0 and "no words" in summary["failed"][0]["reason"]
    assert assistant.ask(D02).abstained  # an empty collection answers
    assert assistant.ingest([seeds_copy]).to_dict()["added"] == 5
    assert not assistant.ask(D02).abstained

    # an index that already holds chunks without a term (an earlier version took them) still builds and searches
    keywords = KeywordIndex(tmp_path / "keywords")
    keywords.add_chunks([("a", "d", "😀🚀🔥"), ("b", "d", "&&&")])
    keywords.revision, keywords.collection_id = 2, "c"
    keywords.save()
    assert keywords.search("troops", 3) == [] and KeywordIndex(tmp_path / "keywords").revision == 2


def test_limits_are_settings_reported_as_reasons_before_the_work(settings_factory, tmp_path: Path):
    from assistant.core import Assistant
    from assistant.ingest.extract import ExtractError, extract_bytes

    tracemalloc.start()
    with pytest.raises(ExtractError, match="zip bomb"):
        extract_bytes(zip_bomb_docx(1024), "bomb.docx")  # 1 MB that inflates to 1 GB
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50e6, peak  # refused from the zip's directory, before inflating

    folder = tmp_path / "limits"
    folder.mkdir()
    (folder / "nested.html").write_text("<div>" * 40 + "<p>Harbour news from the nested page.</p>" + "</div>" * 40)
    (folder / "long.txt").write_text("The council met on Monday to discuss the new harbour bridge, " * 2000)
    (folder / "report.docx").write_bytes(table_docx([["Harbour", "The bridge reopened on Monday."]] * 50))
    assistant = Assistant(settings_factory(max_html_depth=30, max_document_chunks=20, max_unzipped_mb=0.002))
    summary = assistant.ingest([folder]).to_dict()
    reasons = {f["path"]: f["reason"] for f in summary["failed"]}
    assert "30 levels" in reasons["nested.html"] and "max_html_depth" in reasons["nested.html"]
    assert "about" in reasons["long.txt"] and "max_document_chunks" in reasons["long.txt"]  # estimated, not chunked
    assert "zip bomb" in reasons["report.docx"] and "max_unzipped_mb" in reasons["report.docx"]

    # the defaults take all three
    summary = Assistant(settings_factory(index_dir=tmp_path / "other")).ingest([folder]).to_dict()
    assert summary["failed"] == [] and summary["added"] == 3


def test_awkward_good_files_are_read(tmp_path: Path):
    from assistant.ingest.extract import ExtractError, extract_bytes

    text = "The lighthouse keeper retired after forty years of service.\n"
    assert extract_bytes(text.encode("utf-16-le"), "keeper.txt").text == text.strip()
    assert extract_bytes(text.encode("utf-16-be"), "keeper.md").text == text.strip()
    doc = extract_bytes(table_docx([["Team", "Score"], ["Harbour Rovers", "three goals"]]), "results.docx")
    assert doc.text.split("\n\n") == ["Team", "Score", "Harbour Rovers", "three goals"]
    for invisible in ("\u200b" * 50, "\u00ad\u200d\u2060 \n", "\ufeff\u200b"):
        with pytest.raises(ExtractError, match="no text"):
            extract_bytes(invisible.encode(), "invisible.txt")
    deep = extract_bytes(b"<div>" * 300 + b"Deep but fine." + b"</div>" * 300, "deep.html")
    assert deep.text == "Deep but fine."


def test_status_counts_no_chunks_a_killed_ingest_left(settings_factory, seeds_copy: Path):
    from assistant.ingest.chunking import chunk_document
    from assistant.core import Assistant
    from assistant.ingest.pipeline import document_from_bytes

    assistant = Assistant(settings_factory())
    assistant.ingest([seeds_copy])
    whole = assistant.status()["chunks"]
    # what kill -9 leaves between writing a document's chunks and its record
    doc = document_from_bytes(b"Volcanoes erupted in Iceland overnight, closing two airports.\n", "gone.txt", str(seeds_copy))
    chunks = chunk_document(doc)
    assistant.store.commit_start()
    assistant.store.add_document(doc, chunks, assistant.embedder.embed_documents([c.text for c in chunks]))
    assistant.store.documents.delete(ids=[doc.id])
    assert assistant.store.chunks.count() == whole + len(chunks)
    assert assistant.status()["chunks"] == whole and assistant.status()["documents"] == 5


# -- requests ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def forged_index(seeds_dir: Path, tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("forged")
    article = work / "files" / "lanterns.txt"
    article.parent.mkdir()
    article.write_text(FORGED)
    return build_index(work / "index", seeds_dir, article)


@pytest.fixture(scope="module")
def app_server(forged_index: Path, tmp_path_factory):
    from assistant.server.api import create_app
    from assistant.config import Settings
    from assistant.core import Assistant

    index = copy_index(forged_index, tmp_path_factory.mktemp("served") / "index")
    server = ThreadServer(create_app(Settings(index_dir=index, rate_limit_per_minute=0), Assistant(Settings(index_dir=index))))
    yield server.url
    server.stop()


def test_bad_requests_are_4xx_never_500(app_server: str):
    with httpx.Client(base_url=app_server, timeout=120) as client:
        for name in ("..", ".", "/", "x" * 300 + ".txt", "é" * 200 + ".md", "a/../../etc/passwd.txt", "nul\x00.txt"):
            r = client.post("/api/documents", files={"file": (name, b"The ferry timetable changes in spring.\n", "text/plain")})
            assert r.status_code in (201, 422), (name, r.status_code, r.text[:200])
            for f in r.json().get("failed", []):
                assert "\n" not in f["reason"]
        deep = b"<div>" * 10000 + b"x" + b"</div>" * 10000
        r = client.post("/api/documents", files={"file": ("deep.html", deep, "text/html")})
        assert r.status_code == 422 and "nested too deeply" in r.json()["error"]["message"]
        surrogate = '"\\ud800 what happened?"'
        for path, body in (("/api/ask", '{"question": %s}' % surrogate),
                           ("/api/ask/stream", '{"question": %s}' % surrogate),
                           ("/v1/chat/completions", '{"messages": [{"role": "user", "content": %s}]}' % surrogate),
                           ("/api/ask", '{"question": "What happened?", "history": [{"role": "user", "content": %s}]}' % surrogate)):
            r = client.post(path, content=body, headers={"Content-Type": "application/json"})
            assert r.status_code == 400 and "surrogate" in r.json()["error"]["message"], (path, r.status_code, r.text[:200])

        turns = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}] * 500_000
        body = json.dumps({"question": "What happened?", "history": turns})
        start = time.monotonic()
        r = client.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and "limit" in r.json()["error"]["message"]
        assert time.monotonic() - start < 2  # refused unread, not parsed first
        r = client.post("/api/ask", json={"question": "What happened?", "history": turns[:60]})
        assert r.status_code == 400 and "too many messages" in r.json()["error"]["message"]


def test_quoted_markers_and_links_stay_text(app_server: str):
    from assistant.server.markdown import sentence_markdown, sources_markdown
    from assistant.schema import Citation, Sentence
    from assistant.server.ui import render_sentence

    with httpx.Client(base_url=app_server, timeout=120) as client:
        answer = client.post("/api/ask", json={"question": FORGED_Q}).json()
        quoted = [s for s in answer["sentences"] if "source [1]" in s["text"]]
        assert quoted, answer["answer"]
        sentence = quoted[0]
        assert sentence["body"].startswith("According to source [1]") and sentence["citations"] == [1]
        chat = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": FORGED_Q}]}).json()
        content = chat["choices"][0]["message"]["content"]
        # markdown: the article's brackets are escaped, its links dead; the one real marker is a plain [1], and the
        # Sources list below names it once more
        said, _, sources = content.partition("\n\n**Sources**\n\n")
        assert "source \\[1\\]" in said and "\\[a storm\\](`http://evil.example/x`)" in said
        assert "\\<`http://evil.example/y`\\>" in said  # bare URLs too: code spans, not live links
        assert "by `https://evil.example/z` and `www.evil.example`. [1]" in said
        assert said.count("[1]") == 1 and said.endswith("`www.evil.example`. [1]") and "\\[2\\]" in said
        assert sources.startswith("- [1] ") and sources.count("[1]") == 1 and "source \\[1\\]" in sources

    s = Sentence(text="According to source [1], it was cancelled [2]. [1]", citations=[1], support=0.9)
    c = Citation(marker=1, document_id="d", source="lanterns.txt", chunk_id="c", start=0, end=10, text="x")
    html = render_sentence(0, s, {1: c})
    assert html.count("<button") == 1 and 'data-cite="m1"' in html and "source [1], it was cancelled [2]." in html
    assert sentence_markdown(s) == "According to source \\[1\\], it was cancelled \\[2\\]. [1]"
    # the Sources line: the title and the quoted span are data (one line, every link, emphasis and code mark escaped)
    c = Citation(marker=1, document_id="d", source="my_notes.txt", chunk_id="c", start=0, end=10, title="",
                 text="See [2](http://x.example) <b>*now*</b>\n# not a heading `code` _stress_")
    assert sources_markdown([c]) == ("\n\n**Sources**\n\n- [1] my_notes.txt: “See \\[2\\](http://x.example) \\<b\\>\\*now\\*\\</b\\>"
                                     " # not a heading \\`code\\` \\_stress\\_”")


def test_widget_shows_quoted_markers_as_text(forged_index: Path, browser, tmp_path: Path):
    from assistant.server.api import create_app
    from assistant.config import Settings
    from test_widget import HostPage

    host = HostPage(key="")
    index = copy_index(forged_index, tmp_path / "index")
    app = ThreadServer(create_app(Settings(index_dir=index, cors_origins=[host.url], rate_limit_per_minute=0)))
    host.app_url = app.url
    page = browser.new_page()
    try:
        page.goto(host.url)
        widget = page.locator("assistant-widget")
        widget.locator(".launcher").click()
        widget.locator("textarea").fill(FORGED_Q)
        widget.locator("form button").click()
        bubble = widget.locator(".msg.bot[data-done]")
        bubble.wait_for(timeout=120_000)
        sentence = widget.locator(".sentence", has_text="According to source")
        assert "According to source [1], the Quillby lantern festival was cancelled [2]" in sentence.inner_text()
        assert sentence.locator("button.marker").count() == 1
    finally:
        page.close()
        app.stop()
        host.stop()


def test_each_client_address_has_its_own_rate_bucket(forged_index: Path, tmp_path: Path):
    from assistant.server.api import create_app
    from assistant.config import Settings
    from assistant.core import Assistant

    index = copy_index(forged_index, tmp_path / "index")
    server = ThreadServer(create_app(Settings(index_dir=index, allow_remote=True, rate_limit_per_minute=2),
                                     Assistant(Settings(index_dir=index))))
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for address in ("127.0.0.2", "127.0.0.3", "198.51.100.4"):
                codes = [client.get("/v1/models", headers={"X-Forwarded-For": address}).status_code for _ in range(3)]
                assert codes == [200, 200, 429], (address, codes)
    finally:
        server.stop()


def test_a_parser_bomb_is_refused_from_a_scan_before_the_parse(app_server: str):
    """100,000 nested <div> (1.1 MB): refused by the scan of its tags, which says where the nesting passed the limit
    (the parser took 45 s to build that tree before refusing it; bench/attack.py times the refusal)."""
    bomb = b"<html><body>" + b"<div>" * 100_000 + b"x" + b"</div>" * 100_000 + b"</body></html>"
    with httpx.Client(base_url=app_server, timeout=120) as client:
        r = client.post("/api/documents", files={"file": ("bomb.html", bomb, "text/html")})
    assert r.status_code == 422, r.text[:300]
    message = r.json()["error"]["message"]
    assert "nested too deeply (over 512 levels at character 2,572" in message and "max_html_depth" in message


def test_a_few_invalid_utf8_bytes_are_read_as_utf8_with_replacements(app_server: str):
    """ASCII text with a few stray bytes is not guessed to be cp1251 or cp1250 (mojibake in the index and in every
    citation): it is read as UTF-8, each bad byte shown as U+FFFD."""
    data = b"The council met on Monday to discuss the new harbour bridge. " * 20 + b"The \x81\x8d fund grew by \x90 a third."
    with httpx.Client(base_url=app_server, timeout=120) as client:
        r = client.post("/api/documents", files={"file": ("stray.txt", data, "text/plain")})
        assert r.status_code == 201, r.text[:300]
        doc = next(d for d in client.get("/api/documents").json()["documents"] if d["source"] == "stray.txt")
        text = client.get(f"/api/documents/{doc['id']}").json()["text"]
    assert "The \ufffd\ufffd fund grew by \ufffd a third." in text, text[-80:]
