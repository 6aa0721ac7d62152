"""The chat page in headless Chromium: ask, click a marker, see exactly the cited span; nothing leaves localhost; no XSS."""
from __future__ import annotations

from urllib.parse import urlparse

import httpx
import pytest

from conftest import PDF_PAGES, make_pdf
from servers import assistant_serve, build_index

D02 = "How many US troops did General McKenzie say would remain in Iraq after the reduction?"
XSS_TITLE = 'Zorblat <img src=x onerror="window.__xss=\'title\'"> lantern report'
XSS_TEXT = (
    f"{XSS_TITLE}\n\n"
    "The Zorblat lantern festival <img src=x onerror=\"window.__xss='img';alert('img')\"> in Quillby drew 4,812 visitors "
    "<script>window.__xss='script';alert('script')</script> this spring.\n\n"
    "Organisers of the Zorblat festival said the lanterns were made of recycled paper and <b>glue</b>.\n"
)
LOCAL = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(scope="module")
def server(seeds_dir, tmp_path_factory):
    """`assistant serve` over the seed articles, an article with HTML in it and a PDF; yields its URL."""
    work = tmp_path_factory.mktemp("browser")
    xss = work / "files" / "zorblat.txt"
    xss.parent.mkdir()
    xss.write_text(XSS_TEXT, encoding="utf-8")
    pdf = work / "files" / "orchard.pdf"
    pdf.write_bytes(make_pdf(PDF_PAGES, title="Orchard report"))
    with assistant_serve(build_index(work / "index", seeds_dir, xss, pdf)) as url:
        yield url


class Page:
    """A fresh page on the app that records every request and dialog."""

    def __init__(self, browser, url: str):
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(url + "/")
        self.page.wait_for_selector("#aui-question textarea")

    def ask(self, question: str) -> "Locator":  # noqa: F821
        turns = self.page.locator(".aui-turn").count()
        self.page.fill("#aui-question textarea", question)
        self.page.press("#aui-question textarea", "Enter")
        turn = self.page.locator(".aui-turn").nth(turns)
        turn.locator("xpath=self::*[@data-state='done']").wait_for(timeout=60_000)
        return turn

    def external(self) -> list[str]:
        return [u for u in self.requests if urlparse(u).scheme not in ("data", "blob") and urlparse(u).hostname not in LOCAL]


@pytest.fixture
def page(browser, server):
    p = Page(browser, server)
    yield p
    p.page.close()


def api(server, name: str, **data):
    from gradio_client import Client

    return Client(server + "/", verbose=False).predict(**data, api_name=f"/{name}")


def test_marker_opens_the_article_with_exactly_the_cited_span_highlighted(page, server):
    turn = page.ask(D02)
    assert "3,000" in turn.inner_text()
    marker = turn.locator("button.aui-cite").first
    n = int(marker.inner_text().strip("[]"))
    marker.click()
    mark = page.page.locator("#aui-viewer mark.aui-hl")
    mark.wait_for()
    # The reference: the same question through the API, and the document text at the citation's offsets.
    expected = next(c for c in api(server, "ask", question=D02, history=[])["citations"] if c["marker"] == n)
    doc = api(server, "document", document_id=expected["document_id"])
    assert mark.text_content() == doc["text"][expected["start"]:expected["end"]] == expected["text"]
    assert page.page.locator("#aui-viewer mark.aui-hl").count() == 1
    assert page.page.locator("#aui-viewer .aui-doc-text").text_content() == doc["text"]
    # The highlight was scrolled into its box's view.
    box = page.page.locator("#aui-viewer .aui-doc-scroll").bounding_box()
    hl = mark.bounding_box()
    assert box["y"] <= hl["y"] < box["y"] + box["height"]
    # The sources panel lists the cited article with the span in context; clicking it opens the same span.
    # One card per article: its title once, the cited spans (with context) under it.
    card = page.page.locator(f'#aui-sources .aui-src-card:has(button[data-cite="m{n}"])')
    assert card.locator(".aui-src-title").inner_text() == (expected["title"] or expected["source"])
    assert expected["text"][:40] in card.locator(f'button.aui-src[data-cite="m{n}"]').inner_text()
    titles = page.page.locator("#aui-sources .aui-src-title").all_inner_texts()
    assert len(titles) == len(set(titles)), titles
    # Verdicts: every sentence says, in plain words, how sure the answer model is that it answers.
    first = turn.locator(".aui-sent").first
    verdict = next(c for c in first.get_attribute("class").split() if c.startswith("v-"))
    assert verdict in ("v-supported", "v-uncertain", "v-weak"), verdict
    words = {"v-supported": "Likely answers (p ", "v-uncertain": "May not answer the question (p ",
             "v-weak": "Only partly backed by its source"}[verdict]
    assert first.get_attribute("title").startswith(words), first.get_attribute("title")
    if verdict != "v-supported":  # a doubted sentence says so where it stands, not only on hover
        assert first.locator(".aui-doubt").count() == 1
    # The search query is there on demand.
    turn.locator("details.aui-details summary").click()
    assert "McKenzie" in turn.locator(".aui-query").inner_text()
    assert page.external() == [], "the page made requests outside localhost"


def test_a_pdf_citation_opens_on_its_page(page, server):
    turn = page.ask("How much did prices for pears rise at the regional market?")
    marker = turn.locator("button.aui-cite").first
    n = int(marker.inner_text().strip("[]"))
    marker.click()
    mark = page.page.locator("#aui-viewer mark.aui-hl")
    mark.wait_for()
    cite = next(c for c in api(server, "ask", question="How much did prices for pears rise at the regional market?",
                               history=[])["citations"] if c["marker"] == n)
    assert cite["source"] == "orchard.pdf" and cite["page"] == 2
    assert mark.text_content() == cite["text"]
    assert "PDF page 2 of 3" in page.page.locator("#aui-viewer .aui-doc-meta").inner_text()
    assert "page 2" in page.page.locator(f'#aui-sources button.aui-src[data-cite="m{n}"] .aui-src-meta').inner_text()


def test_source_click_and_follow_up_and_new_conversation(page):
    first = page.ask(D02)
    first_text = first.inner_text()
    follow = page.ask("How many US soldiers would that affect?")
    assert page.page.locator(".aui-turn").count() == 2
    follow.locator("details.aui-details summary").click()
    assert follow.locator(".aui-query").inner_text() != "How many US soldiers would that affect?"
    # Clicking a source of the latest answer opens its span too.
    src = page.page.locator("#aui-sources button.aui-src").first
    if src.count():
        src.click()
        page.page.locator("#aui-viewer mark.aui-hl").wait_for()
    page.page.click("#aui-new")
    page.page.locator(".aui-empty").wait_for()
    assert page.page.locator(".aui-turn").count() == 0
    assert first_text not in page.page.locator("#aui-chat").inner_text()
    assert page.external() == []


def test_example_questions_come_from_the_collection_and_answer(page):
    chips = page.page.locator("button.aui-example")
    chips.first.wait_for()
    assert 1 <= chips.count() <= 4
    chips.first.click()
    page.page.locator(".aui-turn[data-state=done]").wait_for(timeout=60_000)
    assert page.page.locator(".aui-turn .aui-q").first.inner_text() == chips.first.inner_text()


def test_an_unanswerable_question_is_shown_as_an_abstention(page):
    turn = page.ask("Who won the 2020 US presidential election?")
    assert turn.locator(".aui-abstain .aui-badge").text_content() == "Not in the articles"
    assert turn.locator("button.aui-cite").count() == 0


def test_an_article_with_html_in_it_shows_as_text_and_runs_nothing(page, server):
    turn = page.ask("How many visitors did the Zorblat lantern festival in Quillby draw?")
    assert "4,812" in turn.inner_text()
    assert "<img src=x onerror=" in turn.inner_text() or "<script>" in turn.inner_text()
    turn.locator("button.aui-cite").first.click()
    page.page.locator("#aui-viewer mark.aui-hl").wait_for()
    viewer = page.page.locator("#aui-viewer").inner_text()
    assert "<script>window.__xss='script';alert('script')</script>" in viewer
    assert XSS_TITLE in viewer
    page.page.get_by_role("tab", name="Collection").click()
    page.page.locator("#aui-docs table").wait_for()
    assert XSS_TITLE in page.page.locator("#aui-docs").inner_text()
    page.page.wait_for_timeout(500)  # give an injected onerror handler time to fire, if one were there
    assert page.page.evaluate("window.__xss") is None
    assert page.page.locator("#aui-chat img, #aui-sources img, #aui-viewer img, #aui-docs img, script[src='x']").count() == 0
    assert page.dialogs == []


def test_collection_upload_lists_failures_and_removes(page, server, tmp_path):
    good = tmp_path / "pelican-census.md"
    good.write_text("# Pelican census\n\nThe 2031 pelican census on Lake Orvel counted 377 pelicans.\n", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    page.page.get_by_role("tab", name="Collection").click()
    page.page.locator("#aui-docs table").wait_for()
    # Re-index re-reads every ingested file: nothing changed on disk, so nothing changes in the index.
    page.page.click("#aui-reindex")
    page.page.locator("#aui-result").get_by_text("Re-indexed").wait_for(timeout=60_000)
    assert "7 unchanged" in page.page.locator("#aui-result").inner_text()
    page.page.set_input_files("#aui-upload input[type=file]", [str(good), str(empty)])
    page.page.locator("#aui-upload").get_by_text("pelican-census").first.wait_for()
    page.page.click("#aui-add")
    page.page.locator("#aui-result").get_by_text("Uploaded").wait_for(timeout=60_000)
    text = page.page.locator("#aui-result").inner_text()
    assert "1 added" in text and "empty.txt:" in text
    page.page.locator("#aui-docs").get_by_text("Pelican census").wait_for()
    assert "pelican-census.md" in page.page.locator("#aui-docs").inner_text()
    # The new article answers questions right away.
    page.page.get_by_role("tab", name="Chat").click()
    turn = page.ask("How many pelicans did the census on Lake Orvel count?")
    assert "377" in turn.inner_text()
    # Remove it: gone from the list and from the index.
    page.page.get_by_role("tab", name="Collection").click()
    page.page.click("#aui-pick input")
    page.page.get_by_role("option", name="Pelican census (pelican-census.md)").click()
    page.page.click("#aui-remove")
    page.page.locator("#aui-result").get_by_text("Removed").wait_for(timeout=30_000)
    page.page.locator("#aui-docs").get_by_text("Pelican census").wait_for(state="detached")
    sources = [c["source"] for c in api(server, "ask", question="How many pelicans did the census on Lake Orvel count?",
                                          history=[])["citations"]]
    assert "pelican-census.md" not in sources
    assert page.external() == []


def test_page_assets_are_all_served_locally(server):
    html = httpx.get(server + "/").text
    assert "fonts.googleapis" not in html and "cdn.jsdelivr" not in html
