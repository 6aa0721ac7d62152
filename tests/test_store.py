"""The store: the backend chosen in one place (embedded index or Chroma server), and a bad location a one-line reason."""
from __future__ import annotations

import pytest

from assistant.schema import AssistantError
from assistant.store import Store, has_terms, open_chroma
from conftest import free_port


def test_the_embedded_backend_lives_in_the_index_folder(settings_factory):
    settings = settings_factory()
    store = Store(settings)
    assert store.backend == "chroma-embedded"
    assert store.location == str(settings.index_dir.resolve())
    assert (settings.index_dir / "chroma").is_dir() and store.size_on_disk() > 0


@pytest.mark.parametrize("url, reason", [
    ("ftp://example.org", "not a Chroma server URL: ftp://example.org"),
    ("http://127.0.0.1:{port}", "cannot open the Chroma index at http://127.0.0.1:{port}: "),
])
def test_a_server_that_is_not_one_is_a_one_line_reason(settings_factory, url: str, reason: str):
    port = free_port()
    settings = settings_factory(chroma_url=url.format(port=port))
    with pytest.raises(AssistantError) as caught:
        open_chroma(settings)
    assert str(caught.value).startswith(reason.format(port=port)) and "\n" not in str(caught.value)
    assert not settings.index_dir.exists()  # a server was asked for: no embedded index is made instead


def test_has_terms_says_whether_bm25_would_index_anything():
    assert has_terms("Luanda is the capital")
    assert not has_terms("the of and")
