"""The follow-up rewriter: earlier turns make a follow-up question standalone (embedded rules for references, or
the LLM's condense prompt when an LLM answers), over a typed Message history."""
from __future__ import annotations

import pytest

from assistant.config import Settings
from assistant.registry import registry
from assistant.question.normalize import clean_question
from assistant.question.rewrite import rewrite_query, with_abandoned
from assistant.schema import Answer, Message, messages


# -- the embedded rewriter: the learned follow-up model (assistant/followup.py) --------------------------------

ANGOLA_CHAT = [
    {"role": "user", "content": "What is the capital of Angola?"},
    {"role": "assistant", "content": "The capital and largest city of Angola is Luanda. [1]"},
    {"role": "user", "content": "How big is the Chinese community there?"},
    {"role": "assistant", "content": "The Chinese community in Angola might include as many as 300,000 persons. [1]"},
]
UNRELATED_CHAT = [
    {"role": "user", "content": "Who wrote A Modest Proposal?"},
    {"role": "assistant", "content": "A Modest Proposal was written by Jonathan Swift. [1]"},
    {"role": "user", "content": "Where is Aruba?"},
    {"role": "assistant", "content": "Aruba is an island in the southern Caribbean Sea. [1]"},
]


@pytest.mark.parametrize("question", ["What do aardvarks eat?", "What is the capital of France?",
                                      "How many astronauts have died during spaceflight?",
                                      "Which composer wrote An American in Paris?"])
def test_a_self_contained_question_is_searched_as_typed_whatever_came_before(question: str):
    assert rewrite_query(question, UNRELATED_CHAT) == question
    assert rewrite_query(question, ANGOLA_CHAT) == question


@pytest.mark.parametrize("question", ["Where was he born?", "When did he write it?", "And in which year?",
                                      "Why?", "What else did he write?"])
def test_a_follow_up_takes_its_subject_from_the_last_turn_only(question: str):
    history = UNRELATED_CHAT[2:] + UNRELATED_CHAT[:2]  # Aruba first, then A Modest Proposal
    query = rewrite_query(question, history)
    assert query.startswith(question) and "Modest Proposal" in query, query
    assert "Aruba" not in query, query


def test_a_follow_up_of_a_follow_up_keeps_what_both_asked_about():
    # "there" in the second turn is Angola: the third turn keeps what the second asked about, and the country
    query = rewrite_query("And the Brazilian one?", ANGOLA_CHAT)
    assert "Brazilian" in query and "community" in query and "Angola" in query, query


def test_a_self_contained_question_ends_the_chain_of_subjects():
    chat = ANGOLA_CHAT + [{"role": "user", "content": "Who wrote A Modest Proposal?"},
                          {"role": "assistant", "content": "Jonathan Swift. [1]"}]
    query = rewrite_query("When was it published?", chat)
    assert "Modest Proposal" in query and "Angola" not in query and "community" not in query, query


def test_an_earlier_question_that_took_back_its_start_is_read_as_both_turns():
    """"Who wrote A Modest Proposal, no sorry, when did he publish it?" leans on what it took back, not on Aruba
    before it, and so does the follow-up after it."""
    chat = UNRELATED_CHAT[2:] + [{"role": "user", "content": "Who wrote A Modest Proposal, no sorry, when did he publish it?"},
                                 {"role": "assistant", "content": "It was published in 1729. [1]"}]
    query = rewrite_query("Who printed it?", chat)
    assert "Modest Proposal" in query and "Aruba" not in query, query


@pytest.mark.parametrize("question", ["When was it, kind of, published?", "When was it published, do you know?",
                                      "Who pr- printed it?"])
def test_a_hedge_or_a_broken_word_in_a_follow_up_is_no_turn_of_its_own(question: str):
    """Only a start the question took back is read as a turn before it (as Assistant.ask reads it): a hedge, a tag or
    a word broken off further on is deleted, and the follow-up still leans on A Modest Proposal ("kind" was the turn
    "it" leant on when every deleted word counted as taken back)."""
    history = UNRELATED_CHAT[2:] + UNRELATED_CHAT[:2]
    said = clean_question(question)
    query = rewrite_query(said.text, with_abandoned(messages(history), said))
    assert "Modest Proposal" in query and "kind" not in query and "Aruba" not in query, query
    assert not {"kind", "know", "pr"} & set(said.text.lower().replace("?", "").split()), said.text


def test_the_follow_up_model_was_fitted_and_says_how_well_on_held_out_data():
    import json

    from assistant.question.followup import WEIGHTS_FILE

    fitted = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
    heldout = fitted["figures"]["heldout_articles"]
    assert heldout["pairs"] >= 500 and heldout["accuracy"] >= 0.8, heldout


def test_a_history_of_messages_and_one_of_dicts_rewrite_alike():
    typed = [Message(m["role"], m["content"]) for m in ANGOLA_CHAT]
    assert rewrite_query("And the Brazilian one?", typed) == rewrite_query("And the Brazilian one?", ANGOLA_CHAT)


def test_an_exchange_keeps_the_answer_on_the_assistant_message():
    answer = Answer(question="q")
    user, reply = Message.exchange("What is the capital of Angola?", answer)
    assert (user.role, user.content, user.answer) == ("user", "What is the capital of Angola?", None)
    assert reply.role == "assistant" and reply.answer is answer and reply.content == answer.text
    assert messages([{"role": "user", "content": "hi"}]) == [Message("user", "hi")]


@pytest.mark.parametrize("overrides, name", [({}, "embedded"), ({"llm_base_url": "http://127.0.0.1:9/v1"}, "llm"),
                                            ({"llm_base_url": "http://127.0.0.1:9/v1", "answerer": "extractive"},
                                             "embedded")])
def test_the_llm_condenses_follow_ups_only_when_it_answers(overrides: dict, name: str):
    settings = Settings(**overrides)
    assert settings.rewriter_name == name
    rewriter = registry.rewriters.create(name, settings)
    # a first question needs no rewriting: the server (none listens on port 9) is not asked
    assert rewriter("Who won?", [], None) == "Who won?"
