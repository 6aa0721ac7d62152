"""More than one machine: two `assistant serve` replicas on one `chroma run` server behind nginx (the README's
configuration). What one replica ingests the other cites; what one removes the other never cites once the
removal has returned (its answer cache is keyed by the collection revision read from Chroma)."""
from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from nginx import replicas_nginx
from servers import assistant_serve

FESTIVAL = (
    "# Quillby River Festival\n\n"
    "The Quillby river festival drew 4,812 visitors on Saturday, the organisers said.\n\n"
    "Boat races on the Wend ran all afternoon and the lantern parade started at nine.\n"
)
QUESTION = "How many visitors did the Quillby river festival draw?"


def cited(answer: dict) -> list[tuple[str, int, int]]:
    return [(c["document_id"], c["start"], c["end"]) for c in answer["citations"]]


@pytest.fixture(scope="module")
def replicas(chroma_server: str, tmp_path_factory):
    """Two replicas (each with its own folder, as on two machines) on one Chroma collection, and nginx before them."""
    root = tmp_path_factory.mktemp("replicas")
    env = {"ASSISTANT_CHROMA_URL": chroma_server, "ASSISTANT_COLLECTION": "replicated", "ASSISTANT_RATE_LIMIT": "0"}
    with ExitStack() as stack:
        folders = [root / f"replica{n}" for n in (1, 2)]
        for folder in folders:
            folder.mkdir()
        urls = [stack.enter_context(assistant_serve(folder / "index", env)) for folder in folders]
        balanced = stack.enter_context(replicas_nginx(urls, root / "nginx"))
        yield urls, balanced


def test_one_replica_ingests_another_cites_then_a_removal_is_never_cited(replicas, seeds_dir: Path):
    (first, second), balanced = replicas
    seed = sorted(seeds_dir.glob("*.txt"))[0]
    files = [("file", ("festival.md", FESTIVAL.encode(), "text/markdown")),
             ("file", (seed.name, seed.read_bytes(), "text/plain"))]
    added = httpx.post(first + "/api/documents", files=files, timeout=300)
    assert added.status_code == 201 and added.json()["added"] == 2, added.text

    there = httpx.post(second + "/api/ask", json={"question": QUESTION}, timeout=120).json()
    assert "4,812" in there["answer"] and there["citations"], there
    festival_id = there["citations"][0]["document_id"]
    here = httpx.post(first + "/api/ask", json={"question": QUESTION}, timeout=120).json()
    assert here["answer"] == there["answer"] and cited(here) == cited(there)
    for _ in range(4):  # nginx takes turns: both replicas answer through it, the same
        through = httpx.post(balanced + "/api/ask", json={"question": QUESTION}, timeout=120).json()
        assert through["answer"] == there["answer"] and cited(through) == cited(there)

    removed = httpx.delete(f"{first}/api/documents/{festival_id}", timeout=120)
    assert removed.status_code == 200, removed.text
    # the second replica answered this question before and cached it: it must see the removal all the same
    for url in (second, balanced, balanced, first):
        after = httpx.post(url + "/api/ask", json={"question": QUESTION}, timeout=120).json()
        assert festival_id not in {c["document_id"] for c in after["citations"]}, (url, after)
        assert "4,812" not in after["answer"]
    assert httpx.get(second + "/api/documents", timeout=30).json()["documents"][0]["source"] == seed.name
