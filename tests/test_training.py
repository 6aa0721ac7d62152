"""training/: the pairs the answer model learns from, and the --tiny run end to end (fine-tune, export, card)."""
from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, clean_env, run_tiny_training

sys.path.insert(0, str(REPO))  # training/ is a top-level folder of the repository, not part of the package

from training.pairs import PairOptions, article_pairs, holds, read_heldout  # noqa: E402
from training.squad import read_articles  # noqa: E402
from training.synthetic import KINDS  # noqa: E402


@pytest.fixture(scope="module")
def articles():
    # IPod: answerable SQuAD 1.1 questions; Amazon rainforest: real unanswerable SQuAD 2.0 ones only
    return {a.title: a for a in read_articles(keep=lambda title: title in {"IPod", "Amazon rainforest"})}


def test_pairs_label_the_sentences_that_hold_the_answer(articles):
    ipod = articles["IPod"]
    pairs = article_pairs(ipod, PairOptions(), random.Random(0))
    answers = {q.text: q.answers for p in ipod.paragraphs for q in p.questions if q.answers}
    answerable = [p for p in pairs if p.kind == "answerable"]
    assert answerable and all(p.text.startswith("IPod. ") for p in pairs)
    for pair in answerable:
        assert holds(pair.text.removeprefix("IPod. "), answers[pair.question]) == (pair.label == 1.0)
    # unanswerable questions, real and made up, give only negatives, weighted above the answerable ones
    unanswerable = [p for p in pairs if p.kind != "answerable"]
    assert {p.kind for p in unanswerable} >= {"swap", "relation", "negation"}
    real = article_pairs(articles["Amazon rainforest"], PairOptions(), random.Random(0))
    assert real and {p.kind for p in real} == {"unanswerable"}
    assert all(p.label == 0.0 and p.weight == 2.0 for p in unanswerable + real)
    made_up = {p.question for p in unanswerable if p.kind in KINDS}
    assert made_up and not made_up & set(answers)  # a synthetic question is a changed question


def test_the_held_out_articles_are_never_trained_on():
    from training.pairs import build_pairs

    heldout = read_heldout()
    assert len(heldout) > 30 and {"Prime number", "Spectre (2015 film)"} <= heldout
    articles = read_articles(keep=lambda t: t in {"IPod", "Spectre (2015 film)"})
    train, validation = build_pairs(articles, heldout, PairOptions())
    assert {p.article for p in train} == {"IPod"} and {p.article for p in validation} == {"Spectre (2015 film)"}


def test_tiny_training_run_writes_a_model_the_assistant_loads(tmp_path):
    out = tmp_path / "model"
    run_tiny_training("train_answer_model", out)

    from assistant.onnx_models import AnswerModel

    model = AnswerModel(out)
    logits = model.score("When was the iPod introduced?", ["IPod. Apple introduced the iPod in October 2001.",
                                                         "IPod. It plays music.", "x " * 400])
    assert len(logits) == 3 and all(math.isfinite(x) for x in logits)

    card = (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    for words in ("SQuAD", "CC BY-SA 4.0", "Apache-2.0", "AdamW", "quantize_dynamic", "held-out", "--tiny"):
        assert words in card
    report = json.loads((out / "training.json").read_text(encoding="utf-8"))
    # the dequantized fp32 starting point scores like the packaged int8 cross-encoder
    assert report["base_check"]["max_abs_logit_diff"] < 0.3  # int8 rounding: 0.15 to 0.23 seen on these inputs
    # the exported int8 model scores like the fine-tuned PyTorch model it came from
    assert report["export_check"]["max_abs_fp32_onnx_vs_torch"] < 1e-3
    assert report["export_check"]["max_abs_int8_vs_fp32"] < 1.0
    assert report["evaluation"]["cases"]["answerable"] > 0


def run_training_script(module: str, out: Path) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", f"training.{module}", "--tiny", "--out", str(out)],
                         cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def test_tiny_follow_up_fit_writes_weights_the_assistant_reads(tmp_path):
    from assistant.question.followup import FollowUpModel

    out = tmp_path / "followup.json"
    run_training_script("train_followup", out)
    model = FollowUpModel.load(out)
    p = model.probability("What did he build there?", "Who founded the abbey at Cluny?")
    assert 0.0 <= p <= 1.0 and math.isfinite(p)


def test_tiny_disagreement_fit_reports_its_held_out_checks(tmp_path):
    from assistant.answering.disagreement import FEATURES, DisagreementModel

    out = tmp_path / "disagreement.json"
    run_training_script("fit_disagreement", out)
    model = DisagreementModel.load(out)
    assert set(model.weights) == set(FEATURES) and model.bias != -10.0  # fitted, not the unfitted fallback
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["report"]["questions"]["changed"] > 0
    assert report["definitional_check"]["report"]["questions"] > 0 and "number" in report["neighbour_check"]["report"]


def test_tiny_verifier_run_writes_a_model_that_scores_support(tmp_path):
    from assistant.onnx_models import SupportModel

    out = tmp_path / "support"
    run_tiny_training("train_verifier", out)
    model = SupportModel(out)
    logits = model.score("The council cut the funding.", ["In March the council cut the group's funding.", "x " * 2000])
    assert len(logits) == 2 and all(math.isfinite(x) for x in logits)
    report = json.loads((out / "verifier.json").read_text(encoding="utf-8"))
    assert set(report["report_half"]) == {"mnli", "fever", "wice", "factcheck", "begin"}
    assert all({"verifier", "word rules (before)"} <= set(f) for f in report["report_half"].values())
    card = (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "--tiny" in card and "never trained on" in card and "BEGIN" in card

    # a second round (--continue-from) trains from the first: it starts from the first's int8 weights
    again = tmp_path / "support-2"
    run_tiny_training("train_verifier", again, "--continue-from", str(out))
    second = json.loads((again / "verifier.json").read_text(encoding="utf-8"))
    assert second["base_check"]["max_abs_logit_diff"] < 0.5  # the first round's logits, from its dequantized weights
    assert second["training"]["first_round"] == report["training"]
    assert "Two rounds" in (again / "MODEL_CARD.md").read_text(encoding="utf-8")


def test_tiny_conversation_run_continues_the_shipped_model_on_follow_ups(tmp_path):
    """The CPU recipe that teaches the answer model to read a follow-up: it starts from the shipped weights (their
    logits reproduced), trains on follow-ups written as the product writes them, and exports a model that loads."""
    from assistant.onnx_models import AnswerModel

    out = tmp_path / "conversation"
    run_tiny_training("train_conversation_model", out)
    report = json.loads((out / "training.json").read_text(encoding="utf-8"))
    assert report["start_check"]["max_abs_logit_diff"] < 0.5  # the int8 file's logits, from its dequantized weights
    assert any(kind.endswith("_read_as_follow_up") for kind in report["pairs_by_kind"])
    assert report["export_check"]["max_abs_int8_vs_fp32"] < 1.0
    logits = AnswerModel(out).score("When did he fly? || first person in space Gagarin",
                                    ["Yuri Gagarin. Gagarin flew on 12 April 1961.", "x " * 400])
    assert len(logits) == 2 and all(math.isfinite(x) for x in logits)


def test_follow_up_pairs_read_the_question_as_the_product_does():
    """A follow-up is written "{question} || {subject of the turn it leans on}", and its negatives hold the sentence
    that answered the turn before; a change of topic stays as typed."""
    import random

    from assistant.question.rewrite import conversation_input
    from training.conversation_pairs import conversation_pairs
    from training.pairs import read_heldout
    from training.squad import read_articles

    assert conversation_input("When did he fly?", "When did he fly? (first person space Gagarin)") == \
        "When did he fly? || first person space Gagarin"
    assert conversation_input("What do aardvarks eat?", "What do aardvarks eat?") == "What do aardvarks eat?"
    heldout = read_heldout()
    articles = sorted(read_articles(keep=lambda t: t not in heldout), key=lambda a: a.title)[:4]
    pairs = conversation_pairs(articles, random.Random(0))
    follow_ups = [p for p in pairs if p.kind.endswith("_read_as_follow_up")]
    assert follow_ups and all(" || " in p.question for p in follow_ups)
    assert all(" || " not in p.question for p in pairs if p.kind == "conversation_topic_change")
    assert {p.article for p in pairs}.isdisjoint(heldout)
