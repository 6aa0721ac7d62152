"""Answers as a user reads them from the CLI (`assistant ask --json`, `assistant eval`): the README's question cites a
sentence that says how many troops remain, a question the articles cannot answer is never shown as a confident
answer, a year the articles do not give for the event abstains, a follow-up cites what the person it points to
said, the dev set stays above a sane floor, and the fitting script of the answerer's combination runs."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_cli

EVAL = REPO.parent / "shared" / "eval"
MCKENZIE_CUT = "from 5,200 to 3,000"  # the troop cut General McKenzie announced (002_...txt)


@pytest.fixture(scope="module")
def seeds_index(seeds_dir: Path, tmp_path_factory) -> Path:
    """One index of the seed articles for the module, built the way a user does."""
    index = tmp_path_factory.mktemp("answers-index")
    result = run_cli("ingest", seeds_dir, "--index", index, "--json")
    assert result.returncode == 0, result.stderr
    return index


def _norm(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).casefold()


def _in(needle: str, text: str) -> bool:
    return _norm(needle) in _norm(text)


def ask(index: Path, question: str) -> dict:
    result = run_cli("ask", question, "--index", index, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def cited_by(answer: dict, sentence: dict) -> list[dict]:
    """The citations a shown sentence's markers resolve to."""
    by_marker = {c["marker"]: c for c in answer["citations"]}
    return [by_marker[m] for m in sentence["citations"]]


def evaluate(index: Path, docs: Path, questions: Path, out: Path) -> tuple[list[dict], dict[str, float]]:
    """Run `assistant eval`; returns the result lines and the figures of its `score:` line."""
    result = run_cli("eval", questions, "--docs", docs, "--out", out, "--index", index)
    assert result.returncode == 0, result.stderr
    line = next((l for l in result.stdout.splitlines() if l.startswith("score:")), None)
    assert line, f"no score line in: {result.stdout}"
    # "score: answer 1.00 support 1.00 precision 1.00 abstain 1.00 false-abstain 0.00 hit@k 1.00"
    figures = {name: float(value) for name, value in re.findall(r"([a-z@\-]+) (\d+\.\d+)", line)}
    rows = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines() if l.strip()]
    return rows, figures


# -- single questions through `assistant ask --json` ------------------------------------------------

def test_the_readme_question_cites_a_sentence_that_says_how_many_remain(seeds_index: Path):
    answer = ask(seeds_index, "How many US troops will remain in Iraq?")
    assert not answer["abstained"], (answer["answer"], answer["notice"])
    # a note that the sources give different figures may come first (dated sources); among the quoted sentences, a
    # supported one cites the troop cut "from 5,200 to 3,000" or the "about 2,500 US troops" in the country
    quoted = [s for s in answer["sentences"] if s["verdict"] != "note"]
    assert quoted and all(s["verdict"] in ("supported", "uncertain") for s in quoted), quoted
    assert any(s["verdict"] == "supported" and any("3,000" in c["text"] or "2,500" in c["text"] for c in cited_by(answer, s))
               for s in quoted), answer["sentences"]


def test_a_question_no_article_answers_is_never_a_confident_answer(seeds_index: Path, seeds_dir: Path):
    # no seed article names a US ambassador to Iraq (the issue: a Pompeo sentence was shown as "supported")
    assert not any("ambassador" in p.read_text(encoding="utf-8").lower() for p in seeds_dir.glob("*.txt"))
    answer = ask(seeds_index, "What is the name of the US ambassador to Iraq?")
    assert answer["abstained"], answer["answer"]
    assert not any(s["verdict"] == "supported" for s in answer["sentences"]), answer["sentences"]


def test_the_question_without_a_year_is_answered(seeds_index: Path):
    # the control for the next test: the same question, no year, is answered from McKenzie's sentence
    answer = ask(seeds_index, "How many US troops did General McKenzie say would remain in Iraq after the reduction?")
    assert not answer["abstained"] and "3,000" in answer["answer"], answer["answer"]
    assert any(_in(MCKENZIE_CUT, c["text"]) for c in answer["citations"])


@pytest.mark.parametrize("year", ["2012", pytest.param("2016", marks=pytest.mark.xfail(strict=True, reason=(
    "a known miss of the abstention threshold fitted on public data under a 10 % false-refusal cap per kind: "
    "adversarial questions are refused 0.18 of the time (answerer.json figures); 2012 is refused because no "
    "article names it")))])
def test_a_year_the_articles_do_not_give_for_the_event_abstains(seeds_index: Path, seeds_dir: Path, year: str):
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(seeds_dir.glob("*.txt"))}
    paragraph = next(line for t in texts.values() for line in t.splitlines() if MCKENZIE_CUT in line)
    assert year not in paragraph
    if year == "2012":
        assert not any(year in t for t in texts.values()), "2012 must be absent from every seed article"
    else:
        # 2016 is in the same article (another event), just not with the troop cut
        assert any(year in t and MCKENZIE_CUT in t for t in texts.values())
    answer = ask(seeds_index, f"How many US troops did General McKenzie say in {year} would remain in Iraq after the reduction?")
    assert answer["abstained"], answer["answer"]
    assert not any(s["verdict"] == "supported" for s in answer["sentences"]), answer["sentences"]
    assert "3,000" not in answer["answer"]


# Short biographies written for this test: the subject is named only in the title, the sentences say "she"/"he".
BIOGRAPHIES = {
    "lovelace.txt": "Ada Lovelace\n\nAugusta Ada King was born in London in 1815, the only legitimate child of the poet "
                    "Lord Byron. Her mother insisted on lessons in mathematics and logic.\n\nIn 1843 she translated an "
                    "article on the Analytical Engine by the Italian engineer Luigi Menabrea. She added a long set of notes "
                    "to the translation. The last note describes a method for computing Bernoulli numbers with the engine, "
                    "often called the first computer program.\n\nShe died of cancer in 1852 at the age of 36.\n",
    "turing.txt": "Alan Turing\n\nAlan Turing was a British mathematician who worked at Bletchley Park during the Second "
                  "World War. He designed the Bombe, an electromechanical machine used to break Enigma messages.\n\nAfter "
                  "the war he worked at the National Physical Laboratory, where he designed the Automatic Computing "
                  "Engine. In 1950 he proposed an imitation game as a test of machine intelligence.\n",
    "bridges.txt": "Suspension bridges\n\nA suspension bridge hangs its deck from cables strung between towers. The "
                   "cables are anchored at each end of the bridge.\n\nEngineers test the deck in wind tunnels because "
                   "strong gusts can make it twist. The longest spans now exceed two kilometres.\n",
}


def test_a_biographys_pronouns_are_read_as_its_subject(tmp_path: Path):
    folder = tmp_path / "bios"
    folder.mkdir()
    for name, text in BIOGRAPHIES.items():
        (folder / name).write_text(text, encoding="utf-8")
    index = tmp_path / "index"
    assert run_cli("ingest", folder, "--index", index, "--json").returncode == 0

    # "She added ..." answers a question naming Ada Lovelace, whom only the document title names
    answer = ask(index, "What did Ada Lovelace add to the translation?")
    assert not answer["abstained"], (answer["answer"], answer["notice"])
    assert any("notes to the translation" in c["text"] and c["source"] == "lovelace.txt" for c in answer["citations"])

    # a year the question types that is in the cited sentence does not make it abstain
    answer = ask(index, "What did Alan Turing propose in 1950?")
    assert not answer["abstained"] and "imitation game" in answer["answer"], (answer["answer"], answer["notice"])


# -- question sets through `assistant eval` ---------------------------------------------------------

SMALL_SET = [
    # both sentences of his statement about the Iraqi security forces answer it
    {"id": "f1", "history": ["Who commands the Centcom region?"], "question": "What did he say about the Iraqi security forces?",
     "answerable": True, "answer_any": ["operate independently", "an Iraqi security force that is capable"],
     "evidence_any": ["ability to operate independently", "an Iraqi security force that is capable"],
     "sources": ["002_29a7f50eab184bfe.txt"]},
    {"id": "y1", "question": "How many US troops did General McKenzie say in 2012 would remain in Iraq after the reduction?",
     "answerable": False},
]


def test_eval_answers_a_follow_up_with_what_that_person_said(seeds_index: Path, seeds_dir: Path, tmp_path: Path):
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(case) + "\n" for case in SMALL_SET), encoding="utf-8")
    shutil.copy(EVAL / "score.py", tmp_path / "score.py")  # eval scores with the score.py beside the question set
    rows, figures = evaluate(seeds_index, seeds_dir, questions, tmp_path / "results.jsonl")
    assert [r["id"] for r in rows] == [c["id"] for c in SMALL_SET]
    follow_up, wrong_year = rows

    # "he" is McKenzie, named (with a title) in the answer to the first turn
    assert "McKenzie" in follow_up["rewritten_query"], follow_up["rewritten_query"]
    said = ("operate independently", "an Iraqi security force that is capable")
    assert not follow_up["abstained"] and any(_in(s, follow_up["answer"]) for s in said), follow_up["answer"]
    assert any(_in(s, c["text"]) for c in follow_up["citations"] for s in said), follow_up["citations"]
    assert wrong_year["abstained"] and not wrong_year["citations"], wrong_year
    assert figures["answer"] == 1.0 and figures["abstain"] == 1.0 and figures["support"] == 1.0, figures


def test_dev_set_stays_above_a_sane_floor(seeds_index: Path, seeds_dir: Path, tmp_path: Path):
    # a smoke test, not a target (the answerer is fitted on bench/data's tuning half and reported on the other):
    # `assistant eval ../shared/eval/dev.jsonl --docs ../shared/seeds --out r.jsonl`
    rows, figures = evaluate(seeds_index, seeds_dir, EVAL / "dev.jsonl", tmp_path / "dev-results.jsonl")
    assert len(rows) == sum(1 for l in (EVAL / "dev.jsonl").read_text(encoding="utf-8").splitlines() if l.strip())
    assert figures["answer"] >= 0.7, figures
    assert figures["support"] >= 0.7, figures
    assert figures["precision"] >= 0.7, figures
    assert figures["false-abstain"] <= 0.2, figures


def test_the_fitting_script_writes_weights_the_answerer_reads(seeds_index: Path, tmp_path: Path):
    from assistant.answering.evidence import FEATURES
    from assistant.answering.calibration import Combination

    out = tmp_path / "answerer.json"
    result = subprocess.run([sys.executable, str(REPO / "training" / "fit_answerer.py"), "--tiny", "--tiny-cases", "3",
                             "--index", str(seeds_index), "--out", str(out), "--cache", str(tmp_path / "cache")],
                            capture_output=True, text=True, timeout=600, cwd=str(REPO))
    assert result.returncode == 0, result.stderr[-2000:]
    fitted = json.loads(out.read_text(encoding="utf-8"))
    threshold = json.loads((tmp_path / "policy.json").read_text(encoding="utf-8"))["answer_threshold"]
    assert set(fitted["weights"]) == set(FEATURES) and 0.0 < threshold < 1.0, fitted
    assert fitted["weights"]["logit"] > 0, "a higher answer-model logit must mean a likelier answer"
    combination = Combination.load(out)
    likely = combination.probability(dict.fromkeys(FEATURES, 1.0) | {"logit": 8.0, "unknown": 0.0, "off_number": 0.0})
    unlikely = combination.probability(dict.fromkeys(FEATURES, 1.0) | {"logit": -8.0, "unknown": 0.0, "off_number": 0.0})
    assert unlikely < threshold <= likely


def test_the_abstention_threshold_keeps_false_abstention_under_the_cap_beyond_the_questions_it_saw():
    """40 articles of 2 answerable questions each, and 30 unanswerable ones that look as likely as the weakest
    answerable: every step up abstains on more unanswerable than answerable questions, so only the cap stops it.
    It must stop below the answerable question the cap would just allow to be lost on these very questions,
    leaving room for the next articles."""
    sys.path.insert(0, str(REPO / "training"))
    from fit_answerer import choose_threshold

    answerable = [{"article": f"a{k // 2}", "answerable": True} for k in range(80)]
    unanswerable = [{"article": f"u{k}", "answerable": False} for k in range(30)]
    best_p = [0.30 + 0.7 * k / 80 for k in range(80)] + [0.30 + 0.15 * k / 30 for k in range(30)]
    threshold = choose_threshold(answerable + unanswerable, best_p, [True] * 80 + [False] * 30, false_abstention=0.10)
    lost = sum(p < threshold for p in best_p[:80])
    assert 0 < lost < 8, (threshold, lost)  # the bare quantile would lose 8 of 80 (0.10)
