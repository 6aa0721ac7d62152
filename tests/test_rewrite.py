"""The follow-up rewriter: earlier turns make a follow-up question standalone (embedded rules for references, or
the LLM's condense prompt when an LLM answers), over a typed Message history."""
from __future__ import annotations

import pytest

from assistant.config import Settings
from assistant.registry import registry
from assistant.question.rewrite import rewrite_query
from assistant.schema import Answer, Message, messages


# -- the embedded rewriter: ordinals into the last answer's list, pronouns to an untitled name ------

CREW_ANSWER = "The crew were Frank Borman, James Lovell and William Anders."


def test_list_items_reads_an_enumeration_of_names():
    from assistant.question.rewrite import list_items

    assert list_items(CREW_ANSWER) == ["Frank Borman", "James Lovell", "William Anders"]
    assert list_items("Frank Borman commanded the mission.") == []


@pytest.mark.parametrize("ordinal,name", [("first", "Frank Borman"), ("second", "James Lovell"), ("last", "William Anders")])
def test_an_ordinal_picks_that_item_of_the_previous_answers_list(ordinal: str, name: str):
    from assistant.question.rewrite import resolve

    query = resolve(f"When was the {ordinal} one born?", "Who flew on Apollo 8?", CREW_ANSWER)
    assert name in query and f"the {ordinal} one" not in query, query
    others = {"Frank Borman", "James Lovell", "William Anders"} - {name}
    assert not any(o in query for o in others), query


def test_an_ordinal_without_a_list_in_the_previous_answer_is_left_alone():
    from assistant.question.rewrite import resolve

    query = resolve("When was the second one born?", "Who commanded Apollo 8?", "Frank Borman commanded the mission.")
    assert "the second one" in query and "Frank Borman" not in query, query


def test_proper_names_takes_the_untitled_name_of_a_question():
    from assistant.question.rewrite import proper_names

    assert proper_names("Who is Andre Agassi?") == "Andre Agassi"
    assert proper_names("Who won the election?") is None


@pytest.mark.parametrize("previous_answer", ["Andre Agassi is a former tennis player.", "The articles do not say."])
def test_he_becomes_the_untitled_person_of_the_previous_question(previous_answer: str):
    from assistant.question.rewrite import resolve

    query = resolve("When was he born?", "Who is Andre Agassi?", previous_answer)
    assert "Andre Agassi" in query, query
    # a resolved person makes the question standalone: no "(...)" topic of the previous question appended
    assert query.rstrip("?").strip() == "When was Andre Agassi born", query


def test_an_elliptical_follow_up_keeps_the_previous_topic():
    from assistant.question.rewrite import resolve

    previous = "Who commands the Centcom region?"
    answer = "General Frank McKenzie, commander of the Centcom region, said the US would cut its troops."
    query = resolve("And what did he say?", previous, answer)
    assert "McKenzie" in query and "Centcom" in query, query
    # the same person asked about without ellipsis stands alone
    standalone = resolve("When was he born?", previous, answer)
    assert "McKenzie" in standalone and "Centcom" not in standalone, standalone


ANGOLA_CHAT = [
    {"role": "user", "content": "What is the capital of Angola?"},
    {"role": "assistant", "content": "The capital and largest city of Angola is Luanda. [1]"},
    {"role": "user", "content": "How big is the Chinese community there?"},
    {"role": "assistant", "content": "The Chinese community in Angola might include as many as 300,000 persons. [1]"},
]


def test_a_follow_up_reaches_back_two_turns():
    # "there" in the second turn is Angola: the third turn keeps what the second asked about, and the country
    query = rewrite_query("And the Brazilian one?", ANGOLA_CHAT)
    assert "Brazilian" in query and "community" in query and "Angola" in query, query


def test_the_x_one_without_a_modifier_to_swap_keeps_the_topic():
    query = rewrite_query("And the Brazilian one?", ANGOLA_CHAT[:2])
    assert "Brazilian" in query and "Angola" in query


def test_ordinals_reach_names_with_initials():
    from assistant.question.rewrite import list_items

    assert list_items("The crew included John S. Bull, Vance D. Brand and Ken Mattingly.") == [
        "John S. Bull", "Vance D. Brand", "Ken Mattingly"]


def test_a_pronoun_is_not_resolved_to_a_place_and_a_date():
    from assistant.question.rewrite import proper_names

    assert proper_names("Why did the Iraqi Parliament vote on January 5?") is None
    assert proper_names("When did Einstein predict gravitational waves?") == "Einstein"


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
