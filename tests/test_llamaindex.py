"""assistant.llamaindex inside llama-index's own classes, over real indexes: every node a reader gets is an exact span
of its document, with the document's id and title, and answers are the assistant's verified, cited ones."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from servers import build_index, copy_index
from test_api import D02, D04, FESTIVAL, FESTIVAL_Q, UNANSWERABLE, seed_index  # noqa: F401 (a fixture)

MARKER = re.compile(r"\[(\d+)\]")


@pytest.fixture(scope="module")
def assistant(seed_index: Path, tmp_path_factory):
    from assistant.config import Settings
    from assistant.core import Assistant

    return Assistant(Settings(index_dir=copy_index(seed_index, tmp_path_factory.mktemp("li") / "index")))


@pytest.fixture(scope="module")
def festival(tmp_path_factory):
    """A second collection: one article in an index of its own."""
    from assistant.config import Settings
    from assistant.core import Assistant

    work = tmp_path_factory.mktemp("li-festival")
    (work / "articles").mkdir()
    (work / "articles" / "festival.md").write_text(FESTIVAL, encoding="utf-8")
    return Assistant(Settings(index_dir=build_index(work / "index", work / "articles")))


def run_in_own_loop(coroutine):
    """Await a coroutine as a caller's own asyncio program would: in a thread with its own event loop, because the
    session's browser (playwright's sync API) keeps a loop running on the test thread."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def assert_exact_spans(nodes, *assistants) -> None:
    """Each node's text is its document's text at the node's offsets; the document is named by id and title."""
    from llama_index.core.schema import NodeRelationship

    assert nodes
    for n in nodes:
        node = n.node
        doc = next(d for a in assistants if (d := a.document(node.metadata["document_id"])) is not None)
        assert doc.text[node.start_char_idx:node.end_char_idx] == node.text
        assert (node.metadata["start"], node.metadata["end"]) == (node.start_char_idx, node.end_char_idx)
        assert node.ref_doc_id == doc.id == node.relationships[NodeRelationship.SOURCE].node_id
        assert node.metadata["title"] == doc.title and node.metadata["source"] == doc.source


def test_retriever_nodes_are_exact_spans_of_their_documents(assistant):
    from assistant.llamaindex import AssistantRetriever

    nodes = AssistantRetriever(assistant, top_k=4).retrieve(D02)
    assert len(nodes) == 4 and "3,000" in nodes[0].node.text
    assert [n.score for n in nodes] == sorted((n.score for n in nodes), reverse=True)
    assert_exact_spans(nodes, assistant)


def test_retriever_query_engine_without_an_llm_returns_the_spans(assistant):
    from llama_index.core import Settings
    from llama_index.core.query_engine import RetrieverQueryEngine

    from assistant.llamaindex import AssistantRetriever

    Settings.llm = None  # llama-index's way to say "no LLM" (its "no_text" synthesizer asks for one all the same)
    engine = RetrieverQueryEngine.from_args(AssistantRetriever(assistant, top_k=3), response_mode="no_text")
    response = engine.query(D04)
    assert not response.response and len(response.source_nodes) == 3
    assert any("2018" in n.node.text for n in response.source_nodes)
    assert_exact_spans(response.source_nodes, assistant)


def test_query_fusion_retriever_fuses_two_collections(assistant, festival):
    from llama_index.core.llms import MockLLM
    from llama_index.core.retrievers import QueryFusionRetriever

    from assistant.llamaindex import AssistantRetriever

    fused = QueryFusionRetriever([AssistantRetriever(assistant, top_k=3), AssistantRetriever(festival, top_k=3)],
                                 mode="reciprocal_rerank", num_queries=1, similarity_top_k=4, use_async=False, llm=MockLLM())
    about_festival, about_troops = fused.retrieve(FESTIVAL_Q), fused.retrieve(D02)
    # reciprocal rank fusion: each collection's best is among the first two, whichever collection holds the answer
    festival_node = next(n.node for n in about_festival[:2] if "4,812 visitors" in n.node.text)
    assert festival_node.metadata["title"] == "Quillby River Festival"
    assert any("3,000" in n.node.text for n in about_troops[:2])
    assert_exact_spans(about_festival + about_troops, assistant, festival)


def test_query_engine_answers_with_the_cited_spans_as_source_nodes(assistant):
    from assistant.llamaindex import AssistantQueryEngine

    engine = AssistantQueryEngine(assistant)
    response = engine.query(D02)
    assert "3,000" in str(response) and response.metadata["abstained"] is False
    markers = {int(m) for m in MARKER.findall(response.response)}
    assert {n.node.metadata["marker"] for n in response.source_nodes} == markers
    assert all(n.node.metadata["verdict"] in ("supported", "uncertain", "weak", "note") for n in response.source_nodes)
    assert any("3,000" in n.node.text for n in response.source_nodes)
    assert_exact_spans(response.source_nodes, assistant)

    refused = run_in_own_loop(engine.aquery(UNANSWERABLE))
    assert refused.metadata["abstained"] is True and refused.source_nodes == []


def test_chat_engine_understands_follow_ups_and_streams_cited_sentences(assistant):
    from assistant.llamaindex import AssistantChatEngine

    chat = AssistantChatEngine(assistant)
    first = chat.chat(D04)
    assert "2018" in str(first) and first.source_nodes
    assert_exact_spans(first.source_nodes, assistant)
    follow_up = "How many forces does it have?"
    streamed = chat.stream_chat(follow_up)
    text = "".join(streamed.response_gen)
    assert MARKER.search(text) or "not" in text  # an answer with markers, or the assistant's abstention
    assert [m.role.value for m in chat.chat_history] == ["user", "assistant", "user", "assistant"]
    alone = AssistantChatEngine(assistant).chat(follow_up)
    # the earlier turn reached the rewriter: the standalone query differs from the one without history
    assert chat.turns[-1].answer.rewritten_query != alone.metadata["rewritten_query"]
    assert {n.node.metadata["marker"] for n in streamed.source_nodes} == {int(m) for m in MARKER.findall(text)}
    chat.reset()
    assert chat.chat_history == []
