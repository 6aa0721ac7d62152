"""The assistant inside a llama-index pipeline: its index as a retriever, its verified, cited answers as a query engine
and a chat engine.

    from assistant.core import Assistant
    from assistant.llamaindex import AssistantRetriever, AssistantQueryEngine, AssistantChatEngine

    assistant = Assistant()                                   # the index ./index (or ASSISTANT_INDEX, a Chroma server...)
    nodes = AssistantRetriever(assistant, top_k=5).retrieve("What do aardvarks eat?")
    response = AssistantQueryEngine(assistant).query("What do aardvarks eat?")
    str(response); response.source_nodes                    # the cited spans, exact offsets into their documents

Every node is a TextNode whose text is exactly its document's text[start_char_idx:end_char_idx], with the document's
id (also as the node's SOURCE relationship), source, title and date (when the index knows it) in its metadata. The
retriever's nodes are the retrieved chunks (score: the fused dense + BM25 score); a response's source nodes are the
spans its sentences cite (score: the answer-bearing model's probability of the least sure sentence citing it).
"""
from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Iterator

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks import CallbackManager
from llama_index.core.chat_engine.types import AgentChatResponse, BaseChatEngine, StreamingAgentChatResponse
from llama_index.core.schema import NodeRelationship, NodeWithScore, QueryBundle, RelatedNodeInfo, TextNode

from .schema import Answer, Chunk, Citation, Message, Passage

# Metadata the node's text does not need beside it when a synthesizer formats it for an LLM or an embedder.
BOOKKEEPING = ["document_id", "chunk_id", "start", "end", "marker", "verdict", "probability", "page"]


def span_node(node_id: str, text: str, start: int, end: int, document_id: str, metadata: dict[str, Any]) -> TextNode:
    """A node over document text[start:end], tied to its document."""
    metadata = {"document_id": document_id, "start": start, "end": end,
                **{k: v for k, v in metadata.items() if v is not None}}
    return TextNode(id_=node_id, text=text, start_char_idx=start, end_char_idx=end, metadata=metadata,
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=document_id)},
                    excluded_llm_metadata_keys=BOOKKEEPING, excluded_embed_metadata_keys=BOOKKEEPING)


def passage_node(passage: Passage) -> NodeWithScore:
    chunk: Chunk = passage.chunk
    node = span_node(chunk.id, chunk.text, chunk.start, chunk.end, chunk.document_id, {
        "source": chunk.source, "title": chunk.title, "date": getattr(chunk, "date", None) or None, "page": chunk.page,
        "dense_rank": passage.dense_rank, "bm25_rank": passage.bm25_rank})
    return NodeWithScore(node=node, score=passage.score)


def citation_node(answer: Answer, citation: Citation) -> NodeWithScore:
    """A cited span; its score and verdict those of the least sure sentence citing it."""
    citing = [s for s in answer.sentences if citation.marker in s.citations]
    weakest = min(citing, key=lambda s: (s.verdict == "supported", s.probability or 0.0), default=None)
    node = span_node(f"{citation.chunk_id}:{citation.start}-{citation.end}", citation.text, citation.start, citation.end,
                     citation.document_id, {
                         "marker": citation.marker, "source": citation.source, "title": citation.title,
                         "date": getattr(citation, "date", None) or None, "page": citation.page, "chunk_id": citation.chunk_id,
                         "verdict": weakest.verdict if weakest else "", "probability": weakest.probability if weakest else None})
    return NodeWithScore(node=node, score=weakest.probability if weakest else None)


def answer_metadata(answer: Answer) -> dict[str, Any]:
    return {"abstained": answer.abstained, "rewritten_query": answer.rewritten_query, "answerer": answer.answerer,
            "notice": answer.notice, "confidence": answer.confidence,
            "sentences": [s.to_dict() for s in answer.sentences]}


def cited_nodes(answer: Answer) -> list[NodeWithScore]:
    return [citation_node(answer, c) for c in answer.citations]


def answer_response(answer: Answer) -> Response:
    """The answer as llama-index's Response: its text with [n] markers, the cited spans as source nodes."""
    return Response(response=answer.text, source_nodes=cited_nodes(answer), metadata=answer_metadata(answer))


class AssistantRetriever(BaseRetriever):
    """The assistant's hybrid retrieval (dense + BM25, fused) over its index, the query cleaned as a question is."""

    def __init__(self, assistant, top_k: int | None = None, callback_manager: CallbackManager | None = None,
                 verbose: bool = False):
        self.assistant = assistant
        self.top_k = top_k
        super().__init__(callback_manager=callback_manager, verbose=verbose)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [passage_node(p) for p in self.assistant.retrieve(query_bundle.query_str, self.top_k)]


class AssistantQueryEngine(BaseQueryEngine):
    """The assistant's answer to a query: every sentence verified against the span it cites, or an abstention
    (metadata["abstained"], no source nodes) when the articles do not hold the answer."""

    def __init__(self, assistant, callback_manager: CallbackManager | None = None):
        self.assistant = assistant
        super().__init__(callback_manager=callback_manager)

    def _get_prompt_modules(self) -> dict[str, Any]:
        return {}  # no prompt of llama-index's is used

    def _query(self, query_bundle: QueryBundle) -> Response:
        return answer_response(self.assistant.ask(query_bundle.query_str))

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return await asyncio.to_thread(self._query, query_bundle)


class AssistantChatEngine(BaseChatEngine):
    """A conversation with the assistant: a follow-up is made standalone from the earlier turns before it is
    answered. The engine keeps its own history (reset() forgets it); a chat_history passed in replaces it."""

    def __init__(self, assistant):
        self.assistant = assistant
        self.turns: list[Message] = []

    def reset(self) -> None:
        self.turns = []

    @property
    def chat_history(self) -> list[ChatMessage]:
        return [ChatMessage(role=MessageRole.USER if m.role == "user" else MessageRole.ASSISTANT, content=m.content)
                for m in self.turns]

    def history(self, chat_history: list[ChatMessage] | None) -> list[Message]:
        if chat_history is None:
            return self.turns
        roles = {MessageRole.USER: "user", MessageRole.ASSISTANT: "assistant"}
        return [Message(roles[m.role], m.content or "") for m in chat_history if m.role in roles]

    def chat(self, message: str, chat_history: list[ChatMessage] | None = None) -> AgentChatResponse:
        history = self.history(chat_history)
        answer = self.assistant.ask(message, history)
        self.turns = history + Message.exchange(message, answer)
        return AgentChatResponse(response=answer.text, source_nodes=cited_nodes(answer), metadata=answer_metadata(answer))

    def stream_chat(self, message: str, chat_history: list[ChatMessage] | None = None) -> StreamingAgentChatResponse:
        """Verified sentences as they come (response_gen); source_nodes grow with them and hold every cited span
        once the stream is read to its end."""
        history = self.history(chat_history)
        reply = StreamingAgentChatResponse(is_writing_to_memory=False)
        reply.chat_stream = self.sentences(message, history, reply)
        return reply

    def sentences(self, message: str, history: list[Message], reply: StreamingAgentChatResponse) -> Iterator[ChatResponse]:
        said = ""
        for event in self.assistant.stream(message, history):
            if event["event"] == "sentence":
                delta = (" " if said else "") + event["sentence"].text
                said += delta
                yield ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=said), delta=delta)
            elif event["event"] == "done":
                answer: Answer = event["answer"]
                reply.source_nodes[:] = cited_nodes(answer)
                self.turns = history + Message.exchange(message, answer)

    async def achat(self, message: str, chat_history: list[ChatMessage] | None = None) -> AgentChatResponse:
        return await asyncio.to_thread(self.chat, message, chat_history)

    async def astream_chat(self, message: str, chat_history: list[ChatMessage] | None = None) -> StreamingAgentChatResponse:
        history = self.history(chat_history)
        reply = StreamingAgentChatResponse(is_writing_to_memory=False)
        reply.achat_stream = self.asentences(self.sentences(message, history, reply))
        return reply

    @staticmethod
    async def asentences(sentences: Iterator[ChatResponse]) -> AsyncIterator[ChatResponse]:
        done = object()
        while (item := await asyncio.to_thread(next, sentences, done)) is not done:
            yield item
