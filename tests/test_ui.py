"""The chat page's server side: its named API answers with citations that resolve, and its HTML is escaped and exact."""
from __future__ import annotations

import html
import json
import re

import pytest

from assistant.schema import Answer, Chunk, Citation, Document, Passage, Sentence
from assistant.server.conversations import conversation_json, conversation_markdown
from assistant.server.examples import candidate_questions
from assistant.server.ui import (ChatTurn, history_of, render_chat, render_document, render_sources,
                                 turn_record, turns_of)

from conftest import free_port
from servers import assistant_serve, build_index, copy_index

D02 = "How many US troops did General McKenzie say would remain in Iraq after the reduction?"
PAYLOAD = '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>'


@pytest.fixture(scope="module")
def seed_index(seeds_dir, tmp_path_factory):
    return build_index(tmp_path_factory.mktemp("ui") / "index", seeds_dir)


@pytest.fixture(scope="module")
def client(seed_index):
    from gradio_client import Client

    with assistant_serve(seed_index) as url:
        yield Client(url + "/", verbose=False)


def test_the_chat_page_serves_on_its_own_without_the_api(seed_index, tmp_path):
    from gradio_client import Client

    from assistant.config import Settings
    from assistant.core import Assistant
    from assistant.server.ui import ChatUI

    assistant = Assistant(Settings(index_dir=copy_index(seed_index, tmp_path / "index")))
    port = free_port()
    page = ChatUI(assistant).launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        result = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(question=D02, history=[], api_name="/ask")
        assert "3,000" in result["answer"] and result["citations"]
    finally:
        page.close()


def test_ask_endpoint_answers_with_citations_that_resolve(client):
    result = client.predict(question=D02, history=[], api_name="/ask")
    assert not result["abstained"]
    assert "3,000" in result["answer"]
    assert result["citations"], "an answer must cite"
    for c in result["citations"]:
        assert f"[{c['marker']}]" in result["answer"]
        doc = client.predict(document_id=c["document_id"], api_name="/document")
        assert doc["text"][c["start"]:c["end"]] == c["text"]
        assert doc["source"] == c["source"]


def test_ask_endpoint_takes_the_history_for_follow_ups(client):
    first = client.predict(question=D02, history=[], api_name="/ask")
    history = [{"role": "user", "content": D02}, {"role": "assistant", "content": first["answer"]}]
    follow = client.predict(question="How many US soldiers would it affect?", history=history, api_name="/ask")
    # The follow-up was made standalone from the earlier turn before searching.
    assert follow["rewritten_query"] != "How many US soldiers would it affect?"
    assert "McKenzie" in follow["rewritten_query"] or "troops" in follow["rewritten_query"]


def test_ask_endpoint_reports_an_empty_question(client):
    import httpx
    from gradio_client.exceptions import AppError

    # the page's API is under REST's rules (server/gradio_guard.py): an empty question is a 400 before it is queued
    with pytest.raises((AppError, httpx.HTTPStatusError), match="empty|400 Bad Request"):
        client.predict(question="   ", history=[], api_name="/ask")


# -- rendering: real Answer objects through the real renderers --------------------------------
def make_answer(text: str, start: int, end: int, verdict: str = "supported") -> tuple[Document, Answer]:
    doc = Document(id="d1", source="evil.txt", title=f"Title {PAYLOAD}", sha256="0", text=text)
    chunk = Chunk(id="c1", document_id="d1", start=0, end=len(text), text=text, tokens=10, source="evil.txt", title=doc.title)
    cite = Citation(marker=1, document_id="d1", source="evil.txt", chunk_id="c1", start=start, end=end,
                    text=text[start:end], title=doc.title)
    answer = Answer(question=f"q {PAYLOAD}", sentences=[Sentence(text=text[start:end] + " [1]", citations=[1], support=0.9,
                                                                 verdict=verdict)],
                    citations=[cite], passages=[Passage(chunk)], rewritten_query=f"q {PAYLOAD}")
    return doc, answer


def test_everything_from_articles_and_answers_is_escaped():
    text = f"Intro. The festival {PAYLOAD} drew 4,812 visitors. Outro."
    start = text.index("The festival")
    end = text.index("visitors.") + len("visitors.")
    doc, answer = make_answer(text, start, end)
    turn = ChatTurn(question=answer.question, answer=answer, query=answer.rewritten_query)
    pages = [render_chat([turn]), render_sources(0, turn), render_document(doc, start, end, "[1]")]
    for page in pages:
        assert "<script" not in page.lower() and "<img" not in page.lower()
        assert "&lt;script&gt;" in page and "onerror=&quot;" in page


def test_viewer_marks_exactly_the_cited_span_across_a_pdf_page_break():
    text = "First page text here. The cited span starts on page one\nand ends on page two. More text."
    start, end = text.index("The cited"), text.index("two.") + 4
    doc = Document(id="p", source="report.pdf", title="Report", sha256="0", text=text, pages=[0, text.index("and ends")])
    page = render_document(doc, start, end, "[1]")
    marks = re.findall(r'<mark class="aui-hl"[^>]*>(.*?)</mark>', page, re.S)
    assert len(marks) == 1
    assert html.unescape(re.sub(r"<[^>]+>", "", marks[0])) == text[start:end]
    assert "PDF page 1 of 2" in page and 'data-page="2"' in page


def test_markers_become_buttons_and_verdicts_show():
    text = "Alpha beta gamma delta. Epsilon zeta eta theta."
    doc, answer = make_answer(text, 0, 23, verdict="weak")
    chat = render_chat([ChatTurn(question="q", answer=answer)])
    assert re.search(r'<button class="aui-cite v-weak" data-turn="0" data-cite="m1"[^>]*>\[1\]</button>', chat)
    assert 'class="aui-sent v-weak" title="Only partly backed by its source: ' in chat
    assert '<span class="aui-verdicts some-weak"' in chat and "✓" not in chat


def test_a_verdict_is_said_in_words_and_its_number_only_on_hover():
    text = "Alpha beta gamma delta. Epsilon zeta eta theta."
    _, answer = make_answer(text, 0, 23, verdict="uncertain")
    answer.sentences[0].probability = 0.55
    chat = render_chat([ChatTurn(question="q", answer=answer)])
    shown = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r'\s(title|data-copy)="[^"]*"', "", chat)))
    assert "may not answer it" in shown
    assert "0.55" not in shown and "p ≥" not in shown and "extractive" not in shown
    assert "confidence 0.55" in chat  # in a title attribute: on hover


def test_a_kept_conversation_reads_back_as_the_same_answer():
    """What the browser keeps (JSON) renders exactly as the answer did, and follow-ups get their Answer back."""
    text = "Alpha beta gamma delta. Epsilon zeta eta theta."
    _, answer = make_answer(text, 24, len(text))
    answer.sentences[0].probability = 0.91
    turns = [ChatTurn(question="first", answer=answer)]
    kept = json.loads(json.dumps({"id": "c1", "title": "first", "turns": [turn_record(t) for t in turns]}))
    back = turns_of(kept)
    assert render_chat(back) == render_chat(turns)
    assert render_sources(0, back[0]) == render_sources(0, turns[0])
    assert history_of(back)[1].answer.citations == answer.citations


def test_an_exported_conversation_quotes_every_span_with_its_source():
    text = "Alpha beta gamma delta. Epsilon zeta eta theta."
    _, answer = make_answer(text, 24, len(text))
    kept = {"id": "c1", "title": "first", "turns": [turn_record(ChatTurn(question="first", answer=answer))]}
    exported = json.loads(conversation_json(kept))
    cite = exported["turns"][0]["answer"]["citations"][0]
    assert (cite["document_id"], cite["source"], cite["start"], cite["end"]) == ("d1", "evil.txt", 24, len(text))
    assert cite["text"] == text[24:] and cite["verdict"] == "supported"
    md = conversation_markdown(kept)
    assert "## first" in md and "characters 24–47" in md and "“Epsilon zeta eta theta.”" in md
    assert "\\<script\\>" in md  # the title's markup is escaped Markdown, not live HTML


def test_abstention_is_shown_as_such():
    answer = Answer(question="q", abstained=True, sentences=[Sentence(text="The articles do not say.", citations=[],
                                                                      verdict="abstain")])
    chat = render_chat([ChatTurn(question="q", answer=answer)])
    assert "Not in the articles" in chat and "The articles do not say." in chat


def test_history_keeps_the_answer_objects():
    _, answer = make_answer("Alpha beta gamma delta.", 0, 23)
    history = history_of([ChatTurn(question="q1", answer=answer), ChatTurn(question="q2")])
    assert [m.role for m in history] == ["user", "assistant"]
    assert history[1].answer is answer and history[1].content == answer.text


def test_example_questions_are_asked_as_a_person_would_about_what_stands_out():
    docs = [
        Document(id="a", source="a.txt", title="Zorblat", sha256="0",
                 text="The zorblat is a lantern. A zorblat burns oil. Mira Quell lit it, and she smiled. "
                      "Quell said the zorblat was old. The Quillby Council met. The Quillby Council agreed."),
        Document(id="b", source="b.txt", title="Harbour report", sha256="0",
                 text="The Harbour Authority said ships wait. The Harbour Authority counts ships. HMRQ agreed. HMRQ paid."),
    ]
    questions = candidate_questions(docs)
    assert questions[:2] == ["What is a zorblat?", "What is the Harbour Authority?"]
    assert "Who is Mira Quell?" in questions and "What is HMRQ?" in questions
    assert "What is the Quillby Council?" in questions
    assert not any("articles say" in q for q in questions)


def test_sources_show_one_card_per_article_with_its_cited_spans_under_it():
    text_a = "Alpha one. Alpha two. Alpha three."
    text_b = "Beta one. Beta two."
    chunks = [Chunk(id="ca", document_id="a", start=0, end=len(text_a), text=text_a, tokens=9, source="a.txt", title="Article A"),
              Chunk(id="cb", document_id="b", start=0, end=len(text_b), text=text_b, tokens=6, source="b.txt", title="Article B")]

    def cite(marker: int, chunk: Chunk, words: str) -> Citation:
        start = chunk.text.index(words)
        return Citation(marker=marker, document_id=chunk.document_id, source=chunk.source, chunk_id=chunk.id,
                        start=start, end=start + len(words), text=words, title=chunk.title)

    citations = [cite(1, chunks[0], "Alpha one."), cite(2, chunks[1], "Beta two."), cite(3, chunks[0], "Alpha three.")]
    answer = Answer(question="q", sentences=[Sentence(text=f"S{c.marker} [{c.marker}]", citations=[c.marker], support=0.9,
                                                      verdict="supported") for c in citations],
                    citations=citations, passages=[Passage(c) for c in chunks])
    page = render_sources(0, ChatTurn(question="q", answer=answer))
    cards = page.split('<div class="aui-src-card"')[1:]
    assert [re.match(r' data-document="(\w+)"', c).group(1) for c in cards] == ["a", "b"]  # in the order first cited
    assert page.count("Article A") == 1 and page.count("Article B") == 1
    first = cards[0]
    assert "2 cited passages" in first
    assert re.findall(r'data-cite="(m\d)"', first) == ["m1", "m3"]
    assert "<mark>Alpha one.</mark>" in first and "<mark>Alpha three.</mark>" in first


def test_the_header_says_in_plain_words_what_is_indexed(seed_index, tmp_path):
    from assistant.config import Settings
    from assistant.core import Assistant
    from assistant.server.ui import ChatUI

    header = ChatUI(Assistant(Settings(index_dir=copy_index(seed_index, tmp_path / "index")))).stats()
    assert re.search(r">\d+ articles<", header), header
    assert "extractive" not in header and "chunks" not in header and "answers by" not in header


def test_the_browser_store_keeps_the_newest_conversations_within_its_size():
    from assistant.server.conversations import MAX_STORE_CHARS, new_conversation, saved

    store = None
    big = "x" * (MAX_STORE_CHARS // 5)
    for n in range(8):
        c = new_conversation(f"question {n}")
        c["turns"] = [{"question": f"question {n}", "error": big}]
        store = saved(store, c)
    titles = [c["title"] for c in store["conversations"]]
    assert titles[0] == "question 7" and titles == [f"question {n}" for n in range(7, 7 - len(titles), -1)]
    assert len(json.dumps(store)) <= MAX_STORE_CHARS + 1000 and len(titles) == 4
