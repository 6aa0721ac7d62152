"""training/ for the disfluency tagger: the synthetic questions say what to delete, and the --tiny run writes a
tagger the assistant loads, with its model card."""
from __future__ import annotations

import json
import sys

from conftest import REPO, run_tiny_training

sys.path.insert(0, str(REPO))  # training/ is a top-level folder of the repository, not part of the package

from assistant.question.disfluency import DELETE, Tagger, clean, remove_tagged, tokenize  # noqa: E402
from training.disfluency import KINDS, UNCHANGED, examples, read_heldout, read_sources  # noqa: E402
from training.train_disfluency import same  # noqa: E402


def test_deleting_the_labelled_tokens_gives_the_fluent_question():
    sources = read_sources(keep=lambda title: title in {"IPod", "Spectre (2015 film)"})
    made = examples(sources, 1.0, seed=0)
    assert {e.kind for e in made} == set(KINDS)
    for e in made:
        spans = tokenize(e.text)
        assert len(spans) == len(e.labels)
        assert same(remove_tagged(e.text, spans, e.labels), e.fluent), e
        assert (DELETE in e.labels) == (e.kind not in UNCHANGED)
        if e.kind in UNCHANGED:
            assert e.text == e.fluent
    restarts = [e for e in made if e.kind == "restart"]
    assert restarts and all(e.text != e.fluent and e.text.endswith(e.fluent[1:]) for e in restarts)


def test_the_held_out_articles_are_not_the_training_ones():
    heldout = read_heldout()
    assert len(heldout) > 30
    sources = read_sources(keep=lambda title: title in heldout)
    assert sources and {s.title for s in sources} <= heldout


def test_tiny_training_run_writes_a_tagger_the_assistant_loads(tmp_path):
    out = tmp_path / "disfluency"
    run_tiny_training("train_disfluency", out, timeout=600)
    figures = json.loads((out / "figures.json").read_text())
    report = figures["evaluation"]["tagger"]["report"]
    assert report["questions"] > 100 and 0 <= report["damage_fluent"] <= 1
    assert figures["evaluation"]["rules"]["report"]["questions"] == report["questions"]  # the baseline, same set
    card = (out / "MODEL_CARD.md").read_text()
    assert "smoke run" in card and "Held-out figures" in card
    tagger = Tagger.load(out / "tagger.npz")
    assert tagger.bits == figures["recipe"]["bits"]
    typed = "um, who wrote the lyrics?"
    words = iter(typed.replace(",", " ,").split())
    assert all(w in words for w in clean(typed, tagger).replace(",", " ,").split())  # it loads, and only deletes
