"""The Assistant itself: the question checked and cleaned once, answerers found in the registry and given what they
declare they need, the fallback when one that may fall back fails, the backend said in status."""
from __future__ import annotations

import pytest

from assistant import Assistant, Message
from assistant.answering.drafts import Draft
from assistant.registry import registry
from assistant.schema import AssistantError


class RecordingAnswerer:
    """A plugin answerer: says what it was asked, or fails like a server that is down."""

    name = "recording"
    uses_store = True
    may_fall_back = True
    fails = False

    def __init__(self, settings):
        self.store = None
        self.asked: list[tuple] = []

    def bind(self, store) -> None:
        self.store = store

    def answer(self, question, query, passages, history):
        self.asked.append((question, query, history))
        if self.fails:
            raise AssistantError("the answer server is down")
        yield Draft("abstain", "recorded")


class FailingAnswerer(RecordingAnswerer):
    name = "failing"
    fails = True


class FailingForGood(FailingAnswerer):
    name = "failing-for-good"
    may_fall_back = False


@pytest.fixture
def assistant_with(settings_factory):
    plugins = (RecordingAnswerer, FailingAnswerer, FailingForGood)
    for plugin in plugins:
        registry.answerers.add(plugin.name, plugin)
    yield lambda answerer: Assistant(settings_factory(answerer=answerer))
    for plugin in plugins:  # the global registry lists only real answerers to the tests after this one
        registry.answerers.remove(plugin.name)


@pytest.mark.parametrize("question, reason", [
    ("   ", "the question is empty"),
    ("?!", "the question has no words"),
    ("who\ud800", "the question is not valid text (it holds a lone UTF-16 surrogate)"),
    ("why " * 1001, "the question is too long (4003 characters; the limit is 4000)"),
])
def test_a_question_that_cannot_be_asked_is_a_one_line_reason(assistant_with, question: str, reason: str):
    with pytest.raises(AssistantError) as caught:
        assistant_with("recording").ask(question)
    assert str(caught.value) == reason


def test_the_answerer_gets_the_store_it_declares_and_the_question_cleaned_once(assistant_with):
    assistant = assistant_with("recording")
    history = [{"role": "user", "content": "Who flew on Apollo 8?"},
               {"role": "assistant", "content": "Frank Borman, James Lovell and William Anders. [1]"}]
    answer = assistant.ask("umm, when was the second one born?", history)
    recording = assistant.answerer()
    assert recording.store is assistant.store
    [(question, query, seen_history)] = recording.asked
    assert question == "when was the second one born?"  # the filler is gone: core cleaned it
    # the follow-up model's query starts with the cleaned question (it may carry the previous turn's subject)
    assert query.startswith("when was the second one born?") and answer.rewritten_query == query
    assert seen_history == [Message("user", history[0]["content"]), Message("assistant", history[1]["content"])]
    assert answer.question == "umm, when was the second one born?" and answer.abstained


def test_an_answerer_that_may_fall_back_hands_over_to_the_extractive_one(assistant_with):
    answer = assistant_with("failing").ask("Who commands the region?")
    assert answer.answerer == "extractive"
    assert answer.notice.startswith("the answer server is down; answered by the embedded extractive answerer")


def test_an_answerer_that_may_not_fall_back_says_why_it_failed(assistant_with):
    with pytest.raises(AssistantError, match="^the answer server is down$"):
        assistant_with("failing-for-good").ask("Who commands the region?")


def test_status_names_the_backend_the_store_chose(assistant_with):
    status = assistant_with("recording").status()
    assert status["backend"] == "chroma-embedded" and status["answerer"] == "recording" and status["documents"] == 0
