"""The chat page in headless Chromium: ask, click a marker, see exactly the cited span; nothing leaves localhost; no XSS."""
from __future__ import annotations

import json
import re
from pathlib import Path
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
PEARS = "How much did prices for pears rise at the regional market?"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"  # vendored: the test needs no network
NUMBER = re.compile(r"\d\.\d\d|p ?[≥=<]|\bp \d")  # a probability as the page used to show it ("p ≥ 0.62")


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


def assert_no_number_without_hover(page) -> None:
    """Verdicts are words on the page; their numbers are only in title attributes (shown on hover)."""
    said = " ".join(page.locator(".aui-foot, .aui-doubt, #aui-header, #aui-convs").all_inner_texts())
    assert not NUMBER.search(said), said
    assert "extractive" not in said and "searched for" not in said


class Page:
    """A fresh page on the app that records every request and dialog."""

    def __init__(self, browser, url: str, width: int = 1400, height: int = 900, context=None):
        self.page = (context or browser).new_page()
        self.page.set_viewport_size({"width": width, "height": height})
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
    words = {"v-supported": "Answers the question: ", "v-uncertain": "May not answer it: ",
             "v-weak": "Only partly backed by its source: "}[verdict]
    assert first.get_attribute("title").startswith(words), first.get_attribute("title")
    if verdict != "v-supported":  # a doubted sentence says so where it stands, not only on hover
        assert first.locator(".aui-doubt").count() == 1
    assert_no_number_without_hover(page.page)
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
    follow = page.ask("How many US soldiers would it affect?")
    assert page.page.locator(".aui-turn").count() == 2
    # The follow-up was answered as a question of its own, said in words under the answer.
    assert follow.locator(".aui-understood").inner_text().startswith("Understood as “")
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


def test_example_questions_are_asked_as_a_person_would_and_each_is_answered(page):
    chips = page.page.locator("button.aui-example")
    chips.first.wait_for(timeout=60_000)  # each was asked before it is offered
    assert 1 <= chips.count() <= 4
    offered = [chips.nth(i).inner_text() for i in range(chips.count())]
    assert all(q.startswith(("Who is ", "What is ")) and "articles" not in q for q in offered), offered
    chips.last.click()
    page.page.locator(".aui-turn[data-state=done]").wait_for(timeout=60_000)
    turn = page.page.locator(".aui-turn").last
    assert turn.locator(".aui-q").inner_text() == offered[-1]
    assert turn.locator(".aui-abstain").count() == 0 and turn.locator("button.aui-cite").count() >= 1


def test_an_unanswerable_question_is_shown_as_an_abstention_and_the_article_pane_follows(page, server):
    # The pane shows the current answer's first citation...
    cited = page.ask(D02)
    first = api(server, "ask", question=D02, history=[])["citations"][0]
    page.page.locator("#aui-viewer mark.aui-hl").wait_for()
    assert page.page.locator("#aui-viewer mark.aui-hl").text_content() == first["text"]
    assert cited.locator(".aui-strip button.aui-chip").first.inner_text().startswith("[1]")
    # ... and nothing after an answer that cites none, never an earlier answer's article.
    turn = page.ask("Who won the 2020 US presidential election?")
    assert turn.locator(".aui-abstain .aui-badge").text_content() == "Not in the articles"
    assert turn.locator("button.aui-cite").count() == 0
    page.page.wait_for_timeout(500)  # the article would follow the answer right after it
    assert page.page.locator("#aui-viewer mark.aui-hl").count() == 0
    assert page.page.locator("#aui-viewer .aui-hint").count() == 1
    assert "This answer cites no article." in page.page.locator("#aui-sources").inner_text()


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
    again = tmp_path / "pelican-census (copy).md"
    again.write_bytes(good.read_bytes())
    page.page.get_by_role("tab", name="Collection").click()
    page.page.locator("#aui-docs table").wait_for()
    # Re-index re-reads every ingested file: nothing changed on disk, so nothing changes in the index.
    page.page.click("#aui-reindex")
    page.page.locator("#aui-result").get_by_text("Re-indexed").wait_for(timeout=60_000)
    assert "7 unchanged" in page.page.locator("#aui-result").inner_text()
    page.page.set_input_files("#aui-upload input[type=file]", [str(good), str(empty), str(again)])
    page.page.locator("#aui-upload").get_by_text("pelican-census").first.wait_for()
    page.page.click("#aui-add")
    page.page.locator("#aui-result").get_by_text("Uploaded").wait_for(timeout=60_000)
    text = page.page.locator("#aui-result").inner_text()
    assert "1 added" in text and "empty.txt:" in text
    page.page.locator("#aui-docs").get_by_text("Pelican census").wait_for()
    # Each file of the upload says how it went, a failure with its reason.
    assert page.page.locator("#aui-result .aui-file.ok").first.inner_text().startswith("pelican-census.md")
    assert "empty.txt not added: " in page.page.locator("#aui-result .aui-file.fail").inner_text()
    # the same file under another name is not added twice, and says which document holds it
    assert page.page.locator("#aui-result .aui-file.ok").nth(1).inner_text() == (
        "pelican-census (copy).md already in the collection as pelican-census.md")
    assert "1 already in the collection under another name" in text
    assert page.page.locator("#aui-docs").get_by_text("pelican-census (copy).md").count() == 0
    # Newest first: the upload is the first row, not somewhere down an A-Z list.
    assert "pelican-census.md" in page.page.locator("#aui-docs tbody tr").first.inner_text()
    # The headers sort: by title, A to Z on a second press.
    page.page.locator("#aui-docs th button[data-sort=title]").click()
    page.page.locator("#aui-docs th button[data-sort=title]").click()
    titles = [t.lower() for t in page.page.locator("#aui-docs .aui-doc-title").all_inner_texts()]
    assert titles == sorted(titles)
    # The new article answers questions right away.
    page.page.get_by_role("tab", name="Chat").click()
    turn = page.ask("How many pelicans did the census on Lake Orvel count?")
    assert "377" in turn.inner_text()
    # Remove it: gone from the list and from the index.
    page.page.get_by_role("tab", name="Collection").click()
    remove = page.page.locator("#aui-docs tr", has_text="pelican-census.md").locator("button.aui-remove")
    remove.click()  # the first press asks, next to the row
    assert remove.inner_text() == "Remove? Press again"
    assert page.page.locator("#aui-docs").get_by_text("Pelican census").count() == 1
    remove.click()
    page.page.locator("#aui-result").get_by_text("Removed").wait_for(timeout=30_000)
    page.page.locator("#aui-docs").get_by_text("Pelican census").wait_for(state="detached")
    sources = [c["source"] for c in api(server, "ask", question="How many pelicans did the census on Lake Orvel count?",
                                          history=[])["citations"]]
    assert "pelican-census.md" not in sources
    assert page.external() == []


def test_page_assets_are_all_served_locally(server):
    html = httpx.get(server + "/").text
    assert "fonts.googleapis" not in html and "cdn.jsdelivr" not in html


def test_a_conversation_is_kept_across_a_reload_reopened_renamed_and_deleted(browser, server):
    context = browser.new_context()
    page = Page(browser, server, context=context)
    page.ask(D02)
    page.page.click("#aui-new")  # a new chat never mixes with the old one
    page.page.locator(".aui-empty").wait_for()
    page.ask(PEARS)
    assert page.page.locator(".aui-turn").count() == 1
    page.page.locator("#aui-convs .aui-conv").nth(1).wait_for()
    page.page.reload()
    page.page.wait_for_selector("#aui-question textarea")
    convs = page.page.locator("#aui-convs .aui-conv")
    convs.nth(1).wait_for()
    assert convs.count() == 2 and PEARS in convs.first.inner_text() and D02[:40] in convs.nth(1).inner_text()
    assert page.page.locator(".aui-turn").count() == 0  # a reload opens a new chat, the old ones listed
    # Reopened: its turn, its sources, its article; and a follow-up continues it.
    convs.nth(1).locator(".aui-conv-open").click()
    page.page.locator(".aui-turn[data-state=done]").wait_for()
    assert page.page.locator(".aui-turn .aui-q").all_inner_texts() == [D02]
    assert "3,000" in page.page.locator(".aui-turn").inner_text()
    page.page.locator("#aui-viewer mark.aui-hl").wait_for()
    follow = page.ask("How many US soldiers would it affect?")
    assert page.page.locator(".aui-turn").count() == 2
    assert follow.locator(".aui-understood").count() == 1  # read as a follow-up of the reopened question
    assert "2 questions" in convs.first.inner_text()  # the reopened one moved to the top
    # Rename in place (Enter), delete the other after a second press.
    convs.first.locator("button.aui-conv-rename").click()
    page.page.locator("#aui-convs input.aui-conv-input").fill("Troops in Iraq")
    page.page.locator("#aui-convs input.aui-conv-input").press("Enter")
    page.page.locator("#aui-convs").get_by_text("Troops in Iraq").wait_for()
    delete = page.page.locator("#aui-convs .aui-conv", has_text="pears").locator("button.aui-conv-delete")
    delete.click()
    assert delete.inner_text() == "Delete? Press again" and convs.count() == 2
    delete.click()
    page.page.locator("#aui-convs .aui-conv", has_text="pears").wait_for(state="detached")
    page.page.reload()
    page.page.wait_for_selector("#aui-question textarea")
    page.page.locator("#aui-convs").get_by_text("Troops in Iraq").wait_for()
    assert convs.count() == 1
    assert_no_number_without_hover(page.page)
    assert page.external() == []
    context.close()


def test_export_and_copy_carry_every_quoted_span_with_its_source(browser, server):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = Page(browser, server, context=context)
    page.ask(D02)
    page.ask(PEARS)
    with page.page.expect_download() as download:
        page.page.locator("#aui-export a.aui-export-json").click()
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert [t["question"] for t in exported["turns"]] == [D02, PEARS]
    cited = [c for t in exported["turns"] for c in t["answer"]["citations"]]
    assert cited
    for c in cited:  # the API's shape: each span is the document's text at its offsets
        doc = api(server, "document", document_id=c["document_id"])
        assert doc["text"][c["start"]:c["end"]] == c["text"]
        assert c["source"] == doc["source"] and c["title"] == doc["title"]
    with page.page.expect_download() as download:
        page.page.locator("#aui-export a.aui-export-md").click()
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert f"## {D02}" in markdown and f"characters {cited[0]['start']}–{cited[0]['end']}" in markdown
    # Copy: the latest answer with its sources, as Markdown on the clipboard.
    last = page.page.locator(".aui-turn").nth(1)
    last.locator("button.aui-copy").click()
    last.locator("button.aui-copy", has_text="Copied").wait_for()
    copied = page.page.evaluate("navigator.clipboard.readText()")
    pears = exported["turns"][1]["answer"]
    assert copied.startswith(pears["sentences"][0]["body"][:30]) and "Sources:" in copied
    assert " ".join(pears["citations"][0]["text"].split()) in copied
    context.close()


def test_a_phone_screen_has_no_horizontal_scrolling(browser, server):
    page = Page(browser, server, width=390, height=844)
    turn = page.ask(D02)
    turn.locator("button.aui-cite").first.click()
    page.page.locator("#aui-viewer mark.aui-hl").wait_for()
    wide = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert page.page.evaluate(wide) <= 0
    box = page.page.locator("#aui-question textarea").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.page.get_by_role("tab", name="Collection").click()
    page.page.locator("#aui-docs table").wait_for()
    assert page.page.evaluate(wide) <= 0
    page.page.close()


def test_keyboard_reaches_markers_and_sources_and_the_page_passes_axe(page, server):
    turn = page.ask(D02)
    # Keyboard: a marker and a source are buttons, reached with Tab and opened with Enter.
    marker = turn.locator("button.aui-cite").first
    marker.focus()
    page.page.keyboard.press("Enter")
    page.page.locator("#aui-viewer mark.aui-hl").wait_for()
    source = page.page.locator("#aui-sources button.aui-src").first
    source.focus()
    page.page.keyboard.press("Shift+Tab")
    page.page.keyboard.press("Tab")
    assert page.page.evaluate("document.activeElement.classList.contains('aui-src')")
    page.page.keyboard.press("Enter")
    page.page.locator("#aui-sources button.aui-src.active").wait_for()
    # WCAG 2 A and AA (contrast included), checked by axe-core in the page.
    page.page.add_script_tag(path=str(AXE))
    for tab in ("Chat", "Collection"):
        page.page.get_by_role("tab", name=tab).click()
        page.page.wait_for_timeout(300)
        result = page.page.evaluate("""async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}});
            return r.violations.map((v) => ({id: v.id, nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + n.failureSummary)}));
        }""")
        assert result == [], f"{tab}: {json.dumps(result, indent=1)}"


def test_check_tab_marks_a_pasted_answer_sentence_by_sentence(page):
    """A reader pastes an answer from elsewhere: each sentence is marked, with the articles' spans that back it
    quoted; the pasted text is data, never markup."""
    page.page.get_by_role("tab", name="Check a text").click()
    pasted = ("The US decided to reduce its troop presence in Iraq from 5,200 to 3,000 troops. "
              "The festival was cancelled because of a flood. "
              "A last word <img src=x onerror=\"window.__xss='check'\"> from the reader.")
    page.page.fill("#aui-check-text textarea", pasted)
    page.page.click("#aui-check")
    result = page.page.locator("#aui-check-result")
    result.wait_for(timeout=60_000)
    rows = result.locator(".aui-check-row")
    assert rows.count() == 3
    backed, invented, markup = rows.nth(0), rows.nth(1), rows.nth(2)
    assert backed.get_attribute("data-supported") == "true" and "backed by the articles" in backed.inner_text()
    assert "3,000" in " ".join(backed.locator(".aui-check-quote").all_inner_texts())
    assert invented.get_attribute("data-supported") == "false" and "not backed" in invented.inner_text()
    assert "<img src=x" in markup.inner_text()  # shown as the text it is
    assert page.page.evaluate("window.__xss") is None and page.external() == []
    assert re.search(r"\b[12] of 3 sentences backed", result.inner_text())
