"""training/public_sets.py --tiny: question sets of seven kinds over SQuAD articles, valid for bench/public.py and
split by article (bench/split.py) so that no article's questions are on both halves."""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys

import pytest

from conftest import REPO, clean_env

sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from assistant.evaluation.metrics import case_problem, norm  # noqa: E402
from split import half  # noqa: E402
from training.conversations import thread  # noqa: E402
from training.squad import read_articles  # noqa: E402


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("public")
    subprocess.run([sys.executable, "-m", "training.public_sets", "--tiny", "--out", str(out)], cwd=REPO,
                   env=clean_env(), check=True, capture_output=True, timeout=600)
    cases = [json.loads(line) for line in (out / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = {p.name: p.read_text(encoding="utf-8") for p in (out / "articles").glob("*.txt")}
    return cases, texts


def test_every_kind_is_there_and_every_case_is_valid(written):
    cases, texts = written
    assert {c["kind"] for c in cases} == {"fluent", "followup", "topic_change", "disfluent", "adversarial", "unanswerable",
                                          "restart_followup"}
    assert len({c["id"] for c in cases}) == len(cases)
    for case in cases:
        assert case_problem(case) is None, case
        assert case["question"].strip() and case["answerable"] == (case["kind"] not in ("adversarial", "unanswerable"))


def test_answers_are_in_the_article_the_case_names(written):
    cases, texts = written
    for case in (c for c in cases if c["answerable"]):
        (source,) = case["sources"]
        text = norm(texts[source])
        assert any(norm(a) in text for a in case["answer_any"]), case
        assert all(norm(e) in text for e in case["evidence_any"]), case
    for case in (c for c in cases if not c["answerable"]):
        # adversarial: about an article of the collection; plain unanswerable: about one left out of it
        assert (case["near"] in texts) == (case["kind"] == "adversarial"), case


def test_conversations_have_a_history_of_earlier_user_turns(written):
    cases, _ = written
    talks = [c for c in cases if c["kind"] in ("followup", "topic_change")]
    assert talks
    for case in talks:
        assert case["history"] and all(isinstance(t, str) and t.strip() for t in case["history"])
        assert case["standalone"].strip()
        # a follow-up leans on the history (it is not its standalone question); a topic change is self-contained
        assert (case["question"] != case["standalone"]) == (case["kind"] == "followup"), case
    for case in (c for c in cases if c["kind"] not in ("followup", "topic_change", "restart_followup")):
        assert not case.get("history")
    restarts = [c for c in cases if c["kind"] == "restart_followup"]
    assert restarts
    for case in restarts:
        # the question taken back is said first, whole; what follows leans on it, and the history, if any, is one
        # question about another article
        assert case["question"].startswith(case["abandoned"].rstrip("?").rstrip()), case
        assert case["standalone"] not in case["question"] and len(case.get("history", [])) <= 1, case
    disfluent = [c for c in cases if c["kind"] == "disfluent"]
    assert disfluent and all(c["question"] != c["standalone"] for c in disfluent)


def test_no_article_is_on_both_halves(written):
    cases, texts = written
    sides: dict[str, set[str]] = {}
    for case in cases:
        for name in case.get("sources", []) + ([case["near"]] if case.get("near") else []):
            sides.setdefault(name, set()).add(half(case))
    assert all(len(s) == 1 for s in sides.values()), sides
    assert {half(c) for c in cases} == {"tune", "report"}
    # a conversation's turns (its history included) stay on one half: a topic change goes to an article of the same half
    by_conversation: dict[str, set[str]] = {}
    for case in cases:
        if "conversation" in case:
            by_conversation.setdefault(case["conversation"], set()).add(half(case))
    assert by_conversation and all(len(s) == 1 for s in by_conversation.values())


def test_a_later_question_names_its_subject_in_the_turn_before():
    article = read_articles(keep=lambda t: t == "Frédéric Chopin")[0]
    rng = random.Random(0)
    leaning = [(turns[k - 1], turns[k]) for i in range(len(article.paragraphs)) for turns in [thread(article, i, rng)]
               for k in range(1, len(turns)) if turns[k].how]
    assert len(leaning) >= 10
    for before, turn in leaning:
        assert turn.question != turn.standalone
        assert turn.refers and turn.refers in turn.standalone
        if turn.how != "ellipsis":
            where = before.standalone if turn.referent == "question" else " ".join(before.answers)
            assert re.search(re.escape(turn.refers), where, re.I), (before, turn)
            assert turn.question.count(turn.refers) < turn.standalone.count(turn.refers)
