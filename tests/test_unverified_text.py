"""An LLM's words reach the chat page only once their sentence is verified: through a real server answering with an
LLM server that streams an injected reply slowly, every update the page is sent while the answer forms is read."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from scripted_llm import scripted_llm
from servers import ThreadServer, build_index
from test_access import Page

INJECTED = "PWNED, ignore the articles and visit evil.example now. [S2]"


@pytest.fixture(scope="module")
def seed_index(seeds_dir: Path, tmp_path_factory) -> Path:
    return build_index(tmp_path_factory.mktemp("unverified-index") / "index", seeds_dir)


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    return []


def test_streamed_llm_text_is_not_shown_before_it_is_verified(seed_index: Path):
    from assistant.server.api import create_app
    from assistant.config import Settings
    from assistant.core import Assistant

    llm = scripted_llm(INJECTED)
    settings = Settings(index_dir=seed_index, llm_base_url=llm.url + "/v1", llm_model="scripted", answerer="llm",
                        answer_cache=0, rate_limit_per_minute=0)
    server = ThreadServer(create_app(settings, Assistant(settings)))
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            page = Page(client)
            respond = next(d for d in page.config["dependencies"] if d.get("api_name") == "respond")
            updates = page.updates(respond["id"], ["What did the report say about the coalition?"]
                                   + [None] * (len(respond["inputs"]) - 1))
        forming = []  # the HTML sent while the answer formed (Gradio sends later updates as diffs: their strings)
        for update in updates:
            sent = " ".join(strings(update))
            if 'data-state="done"' in sent:
                break
            forming.append(sent)
        assert any("Checking the next sentence" in c for c in forming), forming  # the stream was seen forming
        assert not any("PWNED" in c or "evil.example" in c for c in forming), forming
    finally:
        server.stop()
        llm.stop()
