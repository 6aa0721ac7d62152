"""The store: the backend chosen in one place (embedded index or Chroma server), and a bad location a one-line reason."""
from __future__ import annotations

import pytest

from assistant.schema import AssistantError
from assistant.index.store import Store, has_terms, open_chroma
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


def test_chunks_keep_the_sentences_found_at_ingest(settings_factory, seeds_dir):
    """The sentence spans found while chunking come back with every chunk from the index, equal to what the sentence
    splitter finds on the chunk's own text: a question reads them instead of splitting again."""
    from assistant.ingest.chunking import sentence_spans
    from assistant.core import Assistant

    assistant = Assistant(settings_factory())
    assistant.ingest([seeds_dir])
    chunks = list(assistant.store.all_chunks())
    assert len(chunks) > 10
    for chunk in chunks:
        assert chunk.sentences, chunk.id
        assert chunk.sentences == sentence_spans(chunk.text)
        assert all(chunk.text[a:b].strip() == chunk.text[a:b] for a, b in chunk.sentences)


def test_an_answer_from_an_index_needs_no_sentence_splitter(settings_factory, seeds_dir):
    """Asking in a fresh process loads neither nltk, tiktoken nor llama-index: the chunks carry their sentences and
    token counts, and llama-index only writes."""
    import subprocess
    import sys

    from assistant.core import Assistant

    settings = settings_factory()
    Assistant(settings).ingest([seeds_dir])
    code = ("import sys; from pathlib import Path; from assistant.config import Settings; "
            "from assistant.core import Assistant; "
            f"a = Assistant(Settings(index_dir=Path({str(settings.index_dir)!r})), preload=True); "
            "answer = a.ask('How many US troops will remain in Iraq?'); "
            "print(answer.citations[0].text if answer.citations else '-'); "
            "print(sorted(m for m in ('nltk', 'tiktoken', 'llama_index.core') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True).stdout
    cited, loaded = out.strip().splitlines()
    assert any(figure in cited for figure in ("2,500", "3,000", "2,000")), cited  # a troop figure is cited
    assert loaded == "[]"
