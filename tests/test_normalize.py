"""Question clean-up as a user meets it: restarts and fillers dropped, misspelled names matched to the collection
(shown as the rewritten query and answered with the right citation), real words and unknown names left alone."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import run_cli

from assistant.question.disfluency import clean
from assistant.question.normalize import Cleaned, clean_question, correct_spelling

# -- disfluencies (the learned tagger of assistant/question/disfluency.py, as a pure function) ----------------------
# Cases it is known to miss are strict xfails: they say what a user would expect, and fail once it is met.


def missed(*case_and_why: str):
    *case, why = case_and_why
    return pytest.param(*case, marks=pytest.mark.xfail(strict=True, reason=f"the tagger {why} (MODEL_CARD limits)"))


@pytest.mark.parametrize("typed,meant", [
    ("which pope, no wait, who brought back the abacus", "who brought back the abacus"),
    ("Which pope no wait who brought back the abacus", "Who brought back the abacus"),
    ("Who led the strike, no, who ordered the strike on Baghdad?", "Who ordered the strike on Baghdad?"),
    ("when did the talks start, sorry, where were the talks held?", "where were the talks held?"),
    ("what did Pompeo threaten, I mean what did Pompeo say about the embassy?",
     "what did Pompeo say about the embassy?"),
    ("Which king or no make that what treaty ended the war?", "What treaty ended the war?"),
    ("who was commander, no, who commanded apollo 8", "who commanded apollo 8"),
])
def test_a_restart_keeps_the_new_question(typed: str, meant: str):
    assert clean(typed) == meant


@pytest.mark.parametrize("typed,meant", [
    ("What did the Romans, no sorry, the Greeks use to keep time?", "What did the Greeks use to keep time?"),
    missed("When did Newton's, uh Leibniz's, calculus appear, actually?", "When did Leibniz's calculus appear?",
           "keeps the wrong name"),
    ("When did the Normans no wait the Vikings arrive?", "When did the Vikings arrive?"),
    missed("Who was the Norse leader I mean Norman leader?", "Who was the Norman leader?", "keeps the word taken back"),
    ("How many people died in 1905, sorry, 1906?", "How many people died in 1906?"),
])
def test_a_correction_keeps_the_right_word(typed: str, meant: str):
    assert clean(typed) == meant


@pytest.mark.parametrize("question", [
    "Who painted a picture with no men in it?",
    "Were there no men in the embassy at that time?",
    "Did Iraq say no to what the US asked for?",
    "Who led the coalition?",
    "What did the umpire say?",  # "um" inside a word is no filler
    "Did the hummus sell out?",
    "What does the word sorry mean?",
    "Which countries have no army?",
    "What is a word that means rather large?",
    missed("Why did parliament vote no when the US asked to stay?", "reads 'no when' as a restart"),
    "Why was the answer no in the end for the troops?",
    missed("Would you rather stay or go?", "deletes 'you rather'"),
    "Why was he sorry about the war?",
    "Is it better rather than worse?",
    missed("What happened at Umm Qasr port?", "takes 'Umm' for a filler"),  # a filler word before a name is the name
    "What do cats like to eat?",
    "What did the Who sing at the concert?",
    "What kind of engine does the car use?",  # "kind of" and "sort of" are hedges only where nothing needs them
    "What sort of music did he play?",
    "Do you know who built the pyramids?",
    "What does the word please mean?",
])
def test_a_question_without_disfluency_is_unchanged(question: str):
    assert clean(question) == question


@pytest.mark.parametrize("typed,meant", [
    ("uh who killed Soleimani", "who killed Soleimani"),
    ("uh, umm who won the race?", "who won the race?"),
    ("er, who is the president", "who is the president"),
    ("hmm which army left?", "which army left?"),
    ("what is the capital, I mean", "what is the capital"),
    ("Who wrote the the lyrics?", "Who wrote the lyrics?"),
    ("So, um, where is the the Eiffel Tower?", "Where is the Eiffel Tower?"),
    ("How lo- long did the siege of Leningrad last?", "How long did the siege of Leningrad last?"),
    ("Who de- designed the Eiffel Tower?", "Who designed the Eiffel Tower?"),
    ("Which bridge, kind of, collapsed in 2007?", "Which bridge collapsed in 2007?"),
    ("What was the sort of main cause of the fire?", "What was the main cause of the fire?"),
    ("When did the colonies declare independence, do you know?", "When did the colonies declare independence?"),
    ("Who led the coalition, right?", "Who led the coalition?"),
    ("Which team, by any chance, won the cup in 1966?", "Which team won the cup in 1966?"),
    missed("Who decided, actually, when the troops would leave?", "Who decided when the troops would leave?",
           "reads ', actually, when' as a restart"),
])
def test_fillers_and_repetitions_are_removed(typed: str, meant: str):
    assert clean(typed) == meant


# -- spelling (pure function) -----------------------------------------------------------------------

@pytest.mark.parametrize("typed,meant,abandoned", [
    ("How many troops does the US have in Iraq, uh, I mean how many did it have in 2020?",
     "How many did it have in 2020?", "How many troops does the US have in Iraq"),
    ("Who wrote A Modest Proposal, no sorry, when did he publish it?", "When did he publish it?",
     "Who wrote A Modest Proposal"),
    ("So, um, when was it signed?", "When was it signed?", ""),  # fillers alone name nothing
    ("Hey, quick question, when was it built?", "When was it built?", ""),
    ("Who was Achilles mom?", "Who was Achilles mom?", ""),
    ("Who founded the Royal Society, scratch that, when was it founded?", "When was it founded?",
     "Who founded the Royal Society"),  # the editing phrase is no part of what was taken back
    # only a start is taken back: a hedge, a word said twice or a corrected name further on is not a turn of its own
    ("Which bridge, kind of, collapsed in 2007?", "Which bridge collapsed in 2007?", ""),
    ("What did the Romans, no sorry, the Greeks use to keep time?", "What did the Greeks use to keep time?", ""),
])
def test_what_a_question_took_back_is_kept_for_the_conversation(typed: str, meant: str, abandoned: str):
    assert clean_question(typed) == Cleaned(meant, abandoned)


def test_spelling_follows_the_collection():
    words = {"utf-8": 2, "encoding": 3, "soleimani": 7}
    assert correct_spelling("Is the file utf8 encodng?", words) == "Is the file utf-8 encoding?"
    assert correct_spelling("Who killed Solemani?", words) == "Who killed Soleimani?"  # keeps the capital
    assert correct_spelling("Who killed Solemani?", {}) == "Who killed Solemani?"  # an empty index changes nothing


def test_a_real_word_near_a_collection_word_is_kept():
    assert correct_spelling("Reset the router", {"route": 3, "reset": 1}) == "Reset the router"


# -- against the seed articles, through the CLI -----------------------------------------------------

@pytest.fixture(scope="module")
def seeds_index(seeds_dir: Path, tmp_path_factory) -> Path:
    """One index of the seeds for the module (built by the real `assistant ingest`)."""
    index = tmp_path_factory.mktemp("normalize") / "index"
    done = run_cli("ingest", seeds_dir, "--index", index, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["documents"] == 5
    return index


@pytest.fixture(scope="module")
def seed_words(seeds_dir: Path) -> set[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in seeds_dir.glob("*.txt"))
    return set(re.findall(r"[a-z][a-z0-9'-]*[a-z0-9]", text.lower()))


def ask(index: Path, question: str) -> dict:
    done = run_cli("ask", question, "--index", index, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def spans(answer: dict) -> set[tuple[str, int, int]]:
    return {(c["document_id"], c["start"], c["end"]) for c in answer["citations"]}


@pytest.mark.parametrize("typo,right,question,fact", [
    ("Solemani", "Soleimani", "Who is the Iraqi paramilitary chief killed with {}?", "Muhandis"),
    ("al-Muhandes", "al-Muhandis", "What was Abu Mahdi {}?", ("militia leader", "paramilitary chief")),
])
def test_a_misspelled_name_is_corrected_and_answered(seeds_index: Path, seed_words: set[str], typo: str, right: str,
                                                     question: str, fact: str):
    assert right.lower() in seed_words and typo.lower() not in seed_words
    fixed = ask(seeds_index, question.format(typo))
    assert right.lower() in fixed["rewritten_query"].lower(), fixed["rewritten_query"]
    assert typo.lower() not in fixed["rewritten_query"].lower()
    assert not fixed["abstained"], fixed["answer"]
    facts = (fact,) if isinstance(fact, str) else fact
    assert any(f in c["text"] for c in fixed["citations"] for f in facts), fixed["citations"]

    spelled = ask(seeds_index, question.format(right))
    assert not spelled["abstained"]
    assert spans(fixed) == spans(spelled)


def test_real_words_and_unknown_names_are_left_alone(seeds_index: Path, seed_words: set[str]):
    question = "What router password does the embassy use?"
    assert "router" not in seed_words and "password" not in seed_words
    assert ask(seeds_index, question)["rewritten_query"] == question

    question = "What did Zarkowitz say about the Kremlin?"
    assert "zarkowitz" not in seed_words and "kremlin" not in seed_words
    answer = ask(seeds_index, question)
    assert answer["rewritten_query"] == question
    assert answer["abstained"], answer["answer"]
    assert answer["citations"] == []


def test_an_index_saved_without_its_vocabulary_still_corrects(seeds_index: Path, tmp_path: Path):
    # an index written by an earlier version (a bm25s folder, no keyword index): the next query builds the keyword
    # index and its vocabulary from the collection
    index = tmp_path / "index"
    shutil.copytree(seeds_index, index)
    saved = list(index.glob("keywords/*/meta.json"))
    assert len(saved) == 1
    shutil.rmtree(saved[0].parent)

    answer = ask(index, "Who is the Iraqi paramilitary chief killed with Solemani?")
    assert "Soleimani" in answer["rewritten_query"], answer["rewritten_query"]
    assert not answer["abstained"]
    assert list(index.glob("keywords/*/meta.json")), "the rebuilt keyword index is saved for the next process"


def test_accented_spellings_match_the_collection():
    words = {"kadhimi": 3, "soleimani": 4}
    assert correct_spelling("What did Kadhimí decide?", words) == "What did Kadhimi decide?"
    assert correct_spelling("Who killed Soleimanî?", words) == "Who killed Soleimani?"
