"""A first run that explains itself: missing indexes, empty questions, busy ports, an empty collection, piped output."""
from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, assistant_cmd, clean_env, free_port, run_cli
from servers import build_index


@pytest.mark.parametrize("command", [["ask", "What is it?"], ["status"], ["sources"], ["serve", "--port", str(free_port())]])
def test_a_missing_index_is_a_usage_error_and_is_not_created(command, tmp_path: Path):
    missing = tmp_path / "no-such-index"
    run = run_cli(*command, "--index", missing)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith(f"error: no index at {missing}") and len(run.stderr.strip().splitlines()) == 1
    assert not missing.exists()


@pytest.mark.parametrize("question, reason", [("  ", "the question is empty"), ("???", "the question has no words")])
def test_a_question_that_cannot_be_asked_is_a_usage_error(question: str, reason: str, tmp_path: Path):
    run = run_cli("ask", question, "--index", tmp_path / "index")
    assert run.returncode == 2 and run.stderr.strip() == f"error: {reason}"


def test_a_busy_port_is_a_one_line_error_before_serving_is_announced(tmp_path: Path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = run_cli("serve", "--port", port, "--create", "--index", tmp_path / "index", timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip() == f"error: port {port} on 127.0.0.1 is already in use (another server?): choose another with --port"
    assert "serving" not in run.stdout + run.stderr


def test_a_root_path_that_is_not_a_path_is_a_usage_error(tmp_path: Path):
    run = run_cli("serve", "--root-path", "assistant", "--create", "--index", tmp_path / "index")
    assert run.returncode == 2 and "must start with /" in run.stderr


def test_sources_piped_prints_whole_ids_one_line_each(seeds_dir: Path, tmp_path: Path):
    index = build_index(tmp_path / "index", seeds_dir)
    listing = run_cli("sources", "--index", index)  # stdout is a pipe here
    assert listing.returncode == 0
    header, *rows = listing.stdout.splitlines()
    assert header.split("\t")[:3] == ["id", "source", "title"]
    fields = [row.split("\t") for row in rows]
    assert len(rows) == len(list(seeds_dir.glob("*.txt"))) and all(len(f) == len(header.split("\t")) for f in fields)
    # an id copied from the listing opens its document
    ask = run_cli("ask", "How many US troops will remain in Iraq?", "--index", index, "--json")
    cited = {c["document_id"] for c in json.loads(ask.stdout)["citations"]}
    assert cited and cited <= {f[0] for f in fields}


def test_serve_create_on_an_empty_collection_says_so_in_the_chat(browser, tmp_path: Path):
    from processes import stop, wait_ready

    port = free_port()
    index = tmp_path / "new-index"
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*assistant_cmd(), "serve", "--port", str(port), "--index", str(index), "--create"],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=clean_env(), cwd=str(REPO))
        try:
            wait_ready(f"http://127.0.0.1:{port}/healthz", proc, log, timeout=180)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/")
            notice = page.locator("#aui-examples .aui-empty-collection")
            notice.wait_for(timeout=30_000)
            assert "The collection is empty" in notice.inner_text() and "Collection" in notice.inner_text()
            page.fill("#aui-question textarea", "Who won the match?")
            page.press("#aui-question textarea", "Enter")
            turn = page.locator(".aui-turn[data-state=done]")
            turn.wait_for(timeout=60_000)
            assert "The collection is empty" in turn.inner_text() and "assistant ingest" in turn.inner_text()
            page.close()
        finally:
            stop(proc)
    assert index.is_dir()
