"""`assistant eval` as a team adopting the assistant uses it on its own question set: in a fresh clone (no
../shared), it answers, scores with the project's own code (equal to the reference score.py), writes a report that
shows each failed question and the threshold plot, compares two runs, and gates CI on the figures by exit code."""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import REPO, run_cli

WIKI = REPO / "bench" / "data" / "wiki"
ARTICLES = ["Actrius.txt", "Allan_Dwan.txt"]
PICKED = ["wf16", "wf24", "wc09", "wa06", "wu01"]  # factoid x2, follow-up, adversarial, unanswerable
# An expectation the articles cannot meet (the film's director is Ventura Pons), written with markup in it: the
# question fails, and the report must show it with every piece of its text escaped.
TRAP = {"id": "trap1", "kind": "trap", "question": "Who directed the film Actrius?", "answerable": True,
        "answer_any": ["<b>Stanley Kubrick</b>"], "evidence_any": ["<img src=x onerror=alert(1)>"], "sources": ["Actrius.txt"]}
REFERENCE = REPO.parent / "shared" / "eval" / "score.py"


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict[str, Path]:
    """bench/data's wiki questions over two of its articles, answered once for the module by `assistant eval`, from a
    folder whose parent holds no shared/ (as in a fresh clone), with a report."""
    home = tmp_path_factory.mktemp("eval-clone")
    docs = home / "wiki"
    docs.mkdir()
    for name in ARTICLES:
        shutil.copy(WIKI / name, docs / name)
    cases = {c["id"]: c for c in jsonl(REPO / "bench" / "data" / "wiki_questions.jsonl")}
    questions = home / "questions.jsonl"
    questions.write_text("".join(json.dumps(c) + "\n" for c in [cases[i] for i in PICKED] + [TRAP]), encoding="utf-8")
    paths = {"home": home, "docs": docs, "questions": questions, "results": home / "results.jsonl",
             "report": home / "report.html", "index": home / "index"}
    result = run_cli("eval", questions, "--docs", docs, "--out", paths["results"], "--index", paths["index"],
                     "--report", paths["report"], cwd=home)
    assert result.returncode == 0, result.stderr
    paths["stdout"] = result.stdout  # type: ignore[assignment]
    return paths


def score_cli(run: dict, *args) -> tuple[int, str, str]:
    result = run_cli("eval", run["questions"], *args, cwd=run["home"])
    return result.returncode, result.stdout, result.stderr


def test_a_fresh_clone_scores_its_question_set(run):
    out = run["stdout"]
    assert "no score.py" not in out
    assert "answer_accuracy:" in out and "abstention_recall:" in out and "latency_ms_p95:" in out, out
    assert out.splitlines()[-1].startswith("score: answer "), out
    assert "kind trap (1): answer 0.00" in out, out  # a breakdown per kind
    rows = jsonl(run["results"])
    assert [r["id"] for r in rows] == PICKED + ["trap1"]
    by_id = {r["id"]: r for r in rows}
    assert "Ventura Pons" in by_id["wf16"]["answer"] and not by_id["wf16"]["abstained"]
    assert by_id["wu01"]["abstained"]
    for r in rows:  # every answer (and the embedded answerer's every abstention) carries its confidence
        assert isinstance(r["confidence"], float) and 0.0 <= r["confidence"] <= 1.0, r


def reference_score(questions: Path, results: Path) -> dict:
    spec = importlib.util.spec_from_file_location("reference_score", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.score(module.load_jsonl(str(questions)), module.load_jsonl(str(results)))


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"the reference scorer is not here: {REFERENCE}")
def test_scores_equal_the_reference_scorers(run, tmp_path: Path):
    code, out, err = score_cli(run, "--results", run["results"], "--json")
    assert code == 0, err
    assert json.loads(out)["metrics"] == reference_score(run["questions"], run["results"])
    # and on a results file with the awkward parts: a missing case, curly quotes, an abstention, a citation from
    # an article that does not answer, a result for no case, no latency on some lines, a median of even length
    edge = tmp_path / "edge.jsonl"
    edge.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "wf16", "answer": "It was  directed by \u201cVentura\nPons\u201d [1]. He produced it. [1]", "abstained": False,
         "citations": [{"source": "Actrius.txt", "text": "produced and directed by Ventura Pons"},
                       {"source": "Other.txt", "text": "x"}],
         "contexts": [{"source": "Other.txt", "text": "y"}, {"source": "Actrius.txt", "text": "directed by Ventura Pons"}],
         "latency_ms": 12.5},
        {"id": "wf24", "answer": "The sources do not say.", "abstained": True, "citations": [], "contexts": [], "latency_ms": 30},
        {"id": "wa06", "answer": "Actrius won it [1].", "abstained": False, "citations": [{"source": "Actrius.txt", "text": "won"}],
         "contexts": []},
        {"id": "stray", "answer": "Unasked.", "abstained": False, "latency_ms": 7},
    ]), encoding="utf-8")
    code, out, err = score_cli(run, "--results", edge, "--json")
    assert code == 0, err
    assert json.loads(out)["metrics"] == reference_score(run["questions"], edge)


def test_the_report_shows_each_failed_question_escaped_and_the_threshold_plot(run):
    html = run["report"].read_text(encoding="utf-8")
    assert "<svg" in html and "confidence threshold" in html
    assert "Content-Security-Policy" in html and "<script" not in html
    # the trap failed: its question, the answer given, the expected answer and the cited span, all as text
    assert "trap1" in html and "Who directed the film Actrius?" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html and "<b>Stanley" not in html and "&lt;b&gt;Stanley Kubrick&lt;/b&gt;" in html
    trap = next(r for r in jsonl(run["results"]) if r["id"] == "trap1")
    assert trap["citations"], trap
    assert "Ventura Pons" in trap["answer"]
    for c in trap["citations"]:
        assert c["text"].replace("&", "&amp;").replace("<", "&lt;")[:60] in html


def test_the_threshold_curve_starts_at_the_run_and_ends_declining_everything(run):
    code, out, err = score_cli(run, "--results", run["results"], "--json")
    assert code == 0, err
    figures = json.loads(out)
    first, *_, last = points = figures["thresholds"]
    m = figures["metrics"]
    assert first["threshold"] == 0 and first["answer_accuracy"] == m["answer_accuracy"]
    assert first["abstention_recall"] == m["abstention_recall"] and first["false_abstention"] == m["false_abstention"]
    assert last["threshold"] is None  # above every confidence: every answer withheld
    assert last["answered"] == 0 and last["answer_accuracy"] == 0 and last["abstention_recall"] == 1
    # a stricter threshold only ever withholds more: accuracy never rises, abstention recall never falls
    for before, after in zip(points, points[1:]):
        assert after["threshold"] is None or after["threshold"] > before["threshold"]
        assert after["answered"] < before["answered"]
        assert after["answer_accuracy"] <= before["answer_accuracy"]
        assert after["abstention_recall"] >= before["abstention_recall"]


def test_a_markdown_report_puts_its_plot_beside_it(run, tmp_path: Path):
    report = tmp_path / "report.md"
    code, _, err = score_cli(run, "--results", run["results"], "--report", report)
    assert code == 0, err
    text = report.read_text(encoding="utf-8")
    assert "## Failed questions" in text and "trap1" in text
    assert not re.search(r"(?<!\\)<(img|b)\b", text), "markup from the data stands unescaped"
    assert "\\<img src=x onerror=alert(1)\\>" in text and "\\<b\\>Stanley Kubrick" in text
    assert "(report.svg)" in text and (tmp_path / "report.svg").read_text(encoding="utf-8").startswith("<svg")


def test_the_gate_exits_1_when_a_figure_falls_short_and_0_when_all_hold(run):
    results = ("--results", run["results"])
    code, _, err = score_cli(run, *results, "--min", "answer_accuracy=0.1", "--max", "false_abstention=1",
                             "--max", "latency_ms_p95=1e9", "--min", "factoid:answer_accuracy=0.5")
    assert code == 0, err
    code, _, err = score_cli(run, *results, "--min", "citation_precision=0", "--min", "answer_accuracy=1.01")
    assert code == 1, err
    assert "answer_accuracy" in err and "1.01" in err and "citation_precision" not in err, err
    code, _, err = score_cli(run, *results, "--min", "trap:answer_accuracy=0.5")  # the trap's kind alone
    assert code == 1 and "trap:answer_accuracy 0.000 < 0.5" in err, err
    code, _, err = score_cli(run, *results, "--max", "latency_ms_p50=0.001")
    assert code == 1 and "latency_ms_p50" in err, err


@pytest.mark.parametrize("args, reason", [
    (["--min", "accuracy=0.9"], "unknown metric 'accuracy'"),
    (["--max", "answer_accuracy"], "expected METRIC=VALUE"),
    (["--min", "answer_accuracy=high"], "is not a number"),
    (["--min", "factiod:answer_accuracy=0.9"], "no case has kind 'factiod'"),
    (["--report", "report.pdf"], "a report is .html or .md"),
])
def test_a_bad_bound_or_report_name_is_one_line_and_exit_2(run, args, reason):
    code, out, err = score_cli(run, "--results", run["results"], *args)
    assert code == 2, (out, err)
    assert reason in err and len(err.strip().splitlines()) == 1, err


def test_bad_inputs_are_one_line_and_exit_2(run, tmp_path: Path):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "wf16", "answer": "x"}\n{"id": \n', encoding="utf-8")
    code, _, err = score_cli(run, "--results", broken)
    assert code == 2 and f"{broken}:2: not JSON" in err, err
    misshapen = tmp_path / "misshapen.jsonl"
    misshapen.write_text('{"id": "wf16", "answer": "x", "citations": "Actrius.txt"}\n', encoding="utf-8")
    code, _, err = score_cli(run, "--results", misshapen)
    assert code == 2 and f"{misshapen}:1: citations must be a list of objects" in err, err
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"id": "a", "question": "Who?", "answer_any": "Pons"}\n', encoding="utf-8")
    result = run_cli("eval", questions, "--results", run["results"])
    assert result.returncode == 2 and f"{questions}:1: answer_any must be a list of strings" in result.stderr, result.stderr
    code, _, err = score_cli(run)  # neither answers to score nor articles to answer from
    assert code == 2 and "--results" in err, err


def test_compare_shows_what_changed_between_two_runs(run, tmp_path: Path):
    # the second run: the same questions through an LLM server that is not there, with no fallback
    down = tmp_path / "down.jsonl"
    result = run_cli("eval", run["questions"], "--docs", run["docs"], "--out", down, "--index", run["index"],
                     "--answerer", "llm", "--llm-base-url", "http://127.0.0.1:9/v1", "--compare", run["results"],
                     env={"ASSISTANT_LLM_FALLBACK": "false", "ASSISTANT_LLM_RETRIES": "0"}, cwd=run["home"])
    assert result.returncode == 0, result.stderr
    assert "failed to answer" in result.stderr and "cannot reach the LLM server" in result.stderr, result.stderr
    before = {r["id"]: r for r in jsonl(run["results"])}
    assert "Ventura Pons" in before["wf16"]["answer"] and "Toronto" in before["wf24"]["answer"]  # right the first time
    lines = result.stdout.splitlines()
    assert f"compared with {run['results'].name}:" in lines, result.stdout
    flipped = next(l for l in lines if l.strip().startswith("right -> wrong:"))
    assert "wf16" in flipped and "wf24" in flipped and "trap1" not in flipped, flipped
    assert any(l.strip().startswith("answer_accuracy:") and "worse" in l for l in lines), result.stdout
    # the other way round the same questions went wrong -> right, and the report lists them
    report = tmp_path / "compare.html"
    code, out, err = score_cli(run, "--results", run["results"], "--compare", down, "--report", report, "--json")
    assert code == 0, err
    changed = json.loads(out)["compare"]
    assert {"wf16", "wf24"} <= set(changed["wrong_to_right"]) and "trap1" not in changed["wrong_to_right"], changed
    assert changed["deltas"]["answer_accuracy"] > 0
    html = report.read_text(encoding="utf-8")
    assert "Compared with down.jsonl" in html and "Wrong before, right now" in html
