"""Checking any text against sources (`assistant check`, POST /api/check): each sentence is marked supported or not
by the trained support verifier, with citations that are exact spans of the passages given or of the collection's
documents; bad input gets a one-line 4xx or exit 2."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from conftest import assistant_cmd, clean_env, run_cli
from servers import assistant_serve
from test_api import seed_index  # noqa: F401 (a fixture)

PASSAGE = ("The Millbrook river clean-up group, founded in 2016, has 40 volunteers. In March the town council cut its "
           "funding by half, and the group now meets once a month instead of every week.")
BACKED = "The town council cut the group's funding by half in March."
INVENTED = "The group was given a national award for its work on the river."
TEXT = f"{BACKED} {INVENTED}"


def test_cli_marks_each_sentence_against_the_passages_given(tmp_path: Path):
    passage = tmp_path / "report.txt"
    passage.write_text(PASSAGE, encoding="utf-8")
    result = run_cli("check", TEXT, "--passage", passage, "--json")
    assert result.returncode == 0, result.stderr
    checked = json.loads(result.stdout)
    first, second = checked["sentences"]
    assert TEXT[first["start"]:first["end"]] == BACKED and TEXT[second["start"]:second["end"]] == INVENTED
    assert first["supported"] is True and second["supported"] is False
    assert first["citations"] and all(PASSAGE[c["start"]:c["end"]] == c["text"] and c["passage"] == 0
                                      for c in first["citations"])
    assert second["citations"] == [] and checked["supported"] == 1 and checked["unsupported"] == 1
    # the same, read as a person does, the text from standard input
    shown = subprocess.run([*assistant_cmd(), "check", "-", "-p", str(passage)], input=TEXT, capture_output=True,
                           text=True, env=clean_env(), timeout=300)
    assert shown.returncode == 0, shown.stderr
    assert "UNSUPPORTED" in shown.stdout and "report.txt" in shown.stdout and "1 of 2 sentences supported" in shown.stdout


@pytest.mark.parametrize("args", [("",), ("   ",), ("x" * 20_001,), ("Fine.", "--passage", "/no/such/file.txt")])
def test_cli_refuses_what_cannot_be_checked_with_exit_2(args, tmp_path: Path):
    result = run_cli("check", *args)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.fixture(scope="module")
def served(seed_index: Path):  # noqa: F811
    with assistant_serve(seed_index) as url:
        yield url


def test_api_checks_against_passages_and_against_the_collection(served: str):
    with httpx.Client(base_url=served, timeout=300) as client:
        given = client.post("/api/check", json={"text": TEXT, "passages": ["An unrelated note about ferries.", PASSAGE]})
        assert given.status_code == 200, given.text
        first, second = given.json()["sentences"]
        assert first["supported"] and {c["passage"] for c in first["citations"]} == {1}
        assert not second["supported"]

        # without passages: the seeds are searched, and a citation is a span of a document, with its title and date
        claim = "The US was reducing its troops in Iraq from 5,200 to about 3,000."
        searched = client.post("/api/check", json={"text": claim + " " + INVENTED}).json()["sentences"]
        assert searched[0]["supported"] and not searched[1]["supported"]
        for c in searched[0]["citations"]:
            document = client.get(f"/api/documents/{c['document_id']}").json()
            assert document["text"][c["start"]:c["end"]] == c["text"] and c["title"]
        assert any("3,000" in c["text"] for c in searched[0]["citations"])


@pytest.mark.parametrize("body,status", [
    ({"text": ""}, 400),
    ({"text": "Fine.", "passages": [1]}, 422),
    ({"text": "Fine.", "passages": []}, 400),
    ({"passages": ["a"]}, 422),
    ({"text": "word " * 200_000}, 400),  # 1 MB: under the JSON body limit, over the text limit
])
def test_api_refuses_bad_input_with_a_one_line_4xx(served: str, body: dict, status: int):
    response = httpx.post(served + "/api/check", json=body, timeout=120)
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    assert message and "\n" not in message
