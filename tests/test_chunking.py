"""Extraction and chunking: every chunk's offsets point exactly at its text; formats and encodings come out right."""
from __future__ import annotations

import codecs

import pytest

from assistant.ingest.chunking import chunk_document, count_tokens, sentence_spans
from assistant.ingest.extract import ExtractError, decode_text, extract_bytes
from assistant.ingest.pipeline import document_from_bytes
from conftest import HTML_PAGE, MARKDOWN_PAGE, PDF_PAGES, make_pdf


def assert_offsets(doc, chunks, max_tokens):
    """The offset property, plus: chunks cover the text in order and overlap by whole sentences only."""
    assert chunks, "a document with text has chunks"
    for chunk in chunks:
        assert doc.text[chunk.start:chunk.end] == chunk.text
        assert chunk.text.strip() == chunk.text and chunk.text
        assert chunk.document_id == doc.id
    starts = [c.start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert chunks[0].start == sentence_spans(doc.text)[0][0]
    assert chunks[-1].end == len(doc.text.rstrip())
    for a, b in zip(chunks, chunks[1:]):
        assert not doc.text[a.end:b.start].strip(), "consecutive chunks leave nothing but whitespace between them"
    # every sentence lies wholly inside some chunk (sentences under the token limit are never cut)
    for s, e in sentence_spans(doc.text):
        if count_tokens(doc.text[s:e]) <= max_tokens:
            assert any(c.start <= s and e <= c.end for c in chunks), doc.text[s:e]


@pytest.mark.parametrize("max_tokens", [80, 250])
def test_every_chunk_of_every_seed_article_points_at_its_text(seeds_dir, max_tokens):
    seeds = sorted(seeds_dir.glob("*.txt"))
    assert len(seeds) >= 5
    for path in seeds:
        data = path.read_bytes()
        doc = document_from_bytes(data, path.name, str(seeds_dir))
        chunks = chunk_document(doc, max_tokens=max_tokens, overlap_sentences=1)
        assert_offsets(doc, chunks, max_tokens)
        for chunk in chunks:
            assert chunk.page is None  # pages belong to PDFs only
            assert chunk.tokens == count_tokens(chunk.text)
        if max_tokens == 80:
            assert len(chunks) > 2  # small chunks: many per article
            # a chunk of several sentences shares its last sentence with the next chunk
            shared = [doc.text[b.start:a.end] for a, b in zip(chunks, chunks[1:]) if b.start < a.end]
            assert shared
            spans = {doc.text[s:e] for s, e in sentence_spans(doc.text)}
            assert all(text in spans for text in shared)


def test_default_chunks_are_about_200_to_300_tokens(seeds_dir):
    sizes = []
    for path in sorted(seeds_dir.glob("*.txt")):
        doc = document_from_bytes(path.read_bytes(), path.name)
        chunks = chunk_document(doc)
        sizes += [c.tokens for c in chunks[:-1]]  # the last chunk of an article is what is left
        assert all(c.tokens <= 250 + 5 for c in chunks)  # + the blank lines between sentences
    assert sizes and sum(sizes) / len(sizes) >= 150


def test_pdf_chunks_point_at_their_text_and_carry_page_numbers():
    data = make_pdf(PDF_PAGES, title="Orchard report")
    doc = document_from_bytes(data, "orchard.pdf")
    assert doc.title == "Orchard report"
    assert len(doc.pages) == 3
    chunks = chunk_document(doc, max_tokens=12, overlap_sentences=1)
    assert_offsets(doc, chunks, 12)
    bounds = doc.pages + [len(doc.text)]
    for chunk in chunks:
        assert chunk.page in (1, 2, 3)
        assert bounds[chunk.page - 1] <= chunk.start < bounds[chunk.page]
        first_line = chunk.text.split("\n")[0]
        assert any(first_line in line for line in PDF_PAGES[chunk.page - 1]), (chunk.page, chunk.text)
    assert {c.page for c in chunks} == {1, 2, 3}
    assert "Pears are" not in doc.text[: doc.pages[1]] and "Prices for pears" in doc.text[doc.pages[1]: doc.pages[2]]


def test_html_text_has_no_script_style_or_navigation():
    doc = document_from_bytes(HTML_PAGE.encode(), "bridge.html")
    assert doc.title == "Harbour Bridge Reopens"
    for secret in ("scriptsecret", "stylesecret", "display", "trackVisitor", "navsecret", "headersecret",
                   "footersecret", "asidesecret", "noscriptsecret", "<", "Sport"):
        assert secret not in doc.text
    assert "The harbour bridge reopened on Monday after two years of repairs, the city council said." in doc.text
    # a link inside a sentence does not cut it
    assert "Engineers replaced the main cables and strengthened the deck." in doc.text
    chunks = chunk_document(doc, max_tokens=20)
    assert_offsets(doc, chunks, 20)


def test_html_of_scripts_only_has_no_text():
    page = "<html><head><script>" + "var x = 'tracking';" * 200 + "</script></head><body><script>alert(1)</script></body></html>"
    with pytest.raises(ExtractError, match="no text"):
        extract_bytes(page.encode(), "scripts.html")


def test_markdown_keeps_headings_as_text():
    doc = document_from_bytes(MARKDOWN_PAGE.encode(), "festival.md")
    assert doc.title == "River Festival Draws Crowds"
    for heading in ("River Festival Draws Crowds", "Opening day", "Music and food"):
        assert heading in doc.text
    chunks = chunk_document(doc, max_tokens=15)
    assert_offsets(doc, chunks, 15)
    assert any("Music and food" in c.text for c in chunks)


TEXT = "Café owners in Zürich praised the naïve façade of the new museum.\nIt cost 5 million francs.\n"


@pytest.mark.parametrize("encoding,bom", [
    ("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE), ("cp1252", b""), ("latin-1", b""),
])
def test_text_encodings_decode_to_the_right_characters(encoding, bom):
    data = bom + TEXT.encode(encoding)
    doc = document_from_bytes(data, "museum.txt")
    assert doc.text == TEXT.strip()
    assert "Zürich" in doc.text and "façade" in doc.text and "naïve" in doc.text


def test_cp1252_punctuation_decodes():
    text = "The “quoted” price was 20 € — a bargain, said Zoë.\n"
    assert decode_text(text.encode("cp1252")) == text


@pytest.mark.parametrize("data,reason", [
    (b"", "empty"),
    (b"  \n\t\n", "empty"),
    (bytes.fromhex("89504e470d0a1a0a") + bytes(200), "binary"),
    ("Zürich is a city. ".encode() * 20 + b"\xff\xfe broken \x80 bytes", "mis-encoded"),
    (b"\xff\xfe" + "Zürich".encode("utf-16-le") + b"\x00\xd8", "utf-16"),
    (bytes(range(128, 256)) * 8, "encoding"),
])
def test_bad_text_is_refused_with_a_reason(data, reason):
    with pytest.raises(ExtractError, match=reason) as info:
        extract_bytes(data, "bad.txt")
    assert "\n" not in str(info.value)


def test_a_sentence_longer_than_a_chunk_is_split_with_exact_offsets():
    run_on = " ".join(f"item{i} naïve–café" for i in range(400))  # one 'sentence' of ~2,000 tokens
    doc = document_from_bytes(f"Intro line here.\n{run_on}\nLast line here.".encode(), "long.txt")
    chunks = chunk_document(doc, max_tokens=100)
    for chunk in chunks:
        assert doc.text[chunk.start:chunk.end] == chunk.text
    assert "".join(c.text for c in chunks if c.start >= doc.text.index("item0")) .replace(" ", "") \
        .startswith(run_on[:50].replace(" ", ""))
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(doc.text) if not ch.isspace())


def test_a_middle_initial_does_not_end_a_sentence():
    text = "The music was composed by Samuel A. Ward. He lived in Newark. Plan B. Then the crew, John S. Bull, left."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "The music was composed by Samuel A. Ward.", "He lived in Newark.", "Plan B.", "Then the crew, John S. Bull, left."]


def test_an_abbreviation_before_a_lower_case_word_does_not_end_a_sentence():
    text = "It is based on the stage play E.R. by Josep Maria Benet i Jornet. He moved to the U.S. It rained."
    assert [text[a:b] for a, b in sentence_spans(text)][0] == "It is based on the stage play E.R. by Josep Maria Benet i Jornet."


@pytest.mark.parametrize("text, sentences", [
    # a quoted title ending in "?" inside a sentence (the chat once quoted `Robert Phiddian's article "Have you eaten yet?`)
    ('Robert Phiddian\'s article "Have you eaten yet?" was published in 2019. It was popular.',
     ['Robert Phiddian\'s article "Have you eaten yet?" was published in 2019.', "It was popular."]),
    ("He wrote “Stop. Think.” and left. Then he came back.", ["He wrote “Stop. Think.” and left.", "Then he came back."]),
    ("He wrote “Stop. Think. Go.” Then he came back.", ["He wrote “Stop. Think. Go.”", "Then he came back."]),
    ("The figure (see the map. It shows growth) rose. Next comes more.",
     ["The figure (see the map. It shows growth) rose.", "Next comes more."]),
    # a quotation running over many sentences is not one "sentence": Punkt's split stays
    ("“We will stay. We will help. We will train. We will leave. Always.” The end.",
     ["“We will stay.", "We will help.", "We will train.", "We will leave.", "Always.”", "The end."]),
])
def test_a_sentence_does_not_end_inside_quotation_marks_or_brackets(text, sentences):
    spans = sentence_spans("Intro line.\n" + text, 12)
    assert [("Intro line.\n" + text)[a:b] for a, b in spans] == sentences


def test_a_line_without_terminal_punctuation_is_not_a_sentence_end():
    from assistant.ingest.chunking import ends_a_sentence

    assert not ends_a_sentence("Live updates: Follow the latest news on Israel-Gaza")
    assert not ends_a_sentence("Eighteen astronauts in a 1986 photograph")
    assert ends_a_sentence("Eighteen astronauts have lost their lives.") and ends_a_sentence("He said “No.”")
    assert ends_a_sentence("Was it (as they say) true?") and ends_a_sentence("It is (see above.)")
