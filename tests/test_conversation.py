"""A conversation keeps its thread: unrelated questions in one chat are answered as if each were asked alone, and a
follow-up is answered about the turn it refers to (through Assistant.ask with a history, over the demo collection)."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
WIKI = REPO / "bench" / "data" / "wiki"
UNRELATED = ["Who wrote A Modest Proposal?", "What do aardvarks eat?", "Where is Aruba?",
             "What is the albedo of fresh snow?", "Who composed An American in Paris?", "What is an abacus made of?"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from assistant.config import Settings
    from assistant.core import Assistant

    names = (REPO / "bench" / "data" / "demo.txt").read_text(encoding="utf-8").split()
    assistant = Assistant(Settings.load(index_dir=tmp_path_factory.mktemp("demo-index")))
    assistant.ingest([WIKI / n for n in names])
    return assistant


def top_citation(answer) -> tuple | None:
    c = answer.citations[0] if answer.citations else None
    return (c.source, c.start, c.end) if c else None


def chat(assistant, questions: list[str]):
    from assistant.schema import Message

    history: list = []
    for q in questions:
        answer = assistant.ask(q, history)
        yield q, answer
        history += Message.exchange(q, answer)


def test_unrelated_questions_in_one_chat_are_answered_as_if_asked_alone(demo):
    for question, in_chat in chat(demo, UNRELATED):
        alone = demo.ask(question)
        assert in_chat.rewritten_query == question, (question, in_chat.rewritten_query)
        assert (in_chat.abstained, top_citation(in_chat)) == (alone.abstained, top_citation(alone)), question
    assert not alone.abstained


def test_a_follow_up_after_unrelated_questions_is_about_the_last_turn(demo):
    turns = dict(chat(demo, ["Where is Aruba?", "Who wrote A Modest Proposal?", "When did he publish it?"]))
    follow_up = turns["When did he publish it?"]
    assert "Modest Proposal" in follow_up.rewritten_query and "Aruba" not in follow_up.rewritten_query
    assert not follow_up.abstained and "1729" in follow_up.text, follow_up.text
    assert follow_up.citations[0].source.endswith("A_Modest_Proposal.txt")


def test_a_restart_is_about_the_question_it_took_back(demo):
    """"Who wrote A Modest Proposal, no sorry, when did he publish it?": the "he" and "it" of what is meant are in
    the words taken back, not in the unrelated question asked before."""
    question = "Who wrote A Modest Proposal, no sorry, when did he publish it?"
    answer = dict(chat(demo, ["Where is Aruba?", question]))[question]
    assert "Modest Proposal" in answer.rewritten_query and "Aruba" not in answer.rewritten_query, answer.rewritten_query
    assert not answer.abstained and "1729" in answer.text, answer.text


def test_the_readme_question_is_answered_after_another_question(demo):
    turns = dict(chat(demo, ["Who wrote A Modest Proposal?", "What do aardvarks eat?"]))
    answer = turns["What do aardvarks eat?"]
    assert not answer.abstained and answer.citations[0].source.endswith("Aardvark.txt"), answer.text


def test_the_examples_offered_are_questions_a_person_asks_and_each_is_answered(demo):
    from assistant.server.examples import Examples

    offered = Examples(demo).current()
    assert 2 <= len(offered) <= 4
    for question in offered:
        assert question.startswith(("Who is ", "What is ")) and "articles" not in question
        answer = demo.ask(question)
        assert not answer.abstained and answer.sentences[0].verdict == "supported", question


@pytest.fixture(scope="module")
def two_articles(tmp_path_factory):
    from assistant.config import Settings
    from assistant.core import Assistant

    assistant = Assistant(Settings.load(index_dir=tmp_path_factory.mktemp("two-index")))
    assistant.ingest([WIKI / "Altruism.txt", WIKI / "Analysis_of_variance.txt"])
    return assistant


@pytest.mark.parametrize("first, follow_up, expected", [
    ("Who coined the word altruism?", "From which language did he derive it?", "Italian"),
    ("Who developed analysis of variance?", "Which test does it generalise to more than two groups?", "t-test"),
])
def test_a_follow_up_is_answered_by_a_new_sentence_not_the_last_answer_again(two_articles, first, follow_up, expected):
    """The follow-up is searched with the last turn's subject, but the sentence that answers it is chosen for what it
    asks: the sentence that answered the last turn (which holds every word of that subject) is not given again."""
    turns = dict(chat(two_articles, [first, follow_up]))
    answer = turns[follow_up]
    assert not answer.abstained and expected in answer.sentences[0].text, answer.text
    assert top_citation(answer) != top_citation(turns[first])


def test_a_pronoun_follow_up_is_about_the_subject_of_the_last_turn(demo):
    """"they" after aardvarks means aardvarks: the follow-up is read with the last turn's subject by the conversation
    model, and the aardwolf (a neighbour in the collection that also eats termites) does not answer for them."""
    turns = dict(chat(demo, ["What do aardvarks eat?", "Where do they live?"]))
    answer = turns["Where do they live?"]
    assert not answer.abstained and "sub-Saharan Africa" in answer.sentences[0].text, answer.text
    assert answer.citations[0].source == "Aardvark.txt"


@pytest.mark.xfail(strict=True, reason="a known miss (README, how a conversation is understood): read as typed "
                   "and with the last turn's subject, another astronaut's flight still wins over Gagarin's")
def test_a_follow_up_about_the_person_the_last_answer_named(demo):
    turns = dict(chat(demo, ["Who was the first person in space?", "When did he fly?"]))
    assert "1961" in turns["When did he fly?"].sentences[0].text, turns["When did he fly?"].text
