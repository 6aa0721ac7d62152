"""Dated sources: titles, dates and urls from files and metadata files, shown with every citation; answers that say
when their sources disagree, and questions about now or about a time (through Assistant.ask, the CLI and REST)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from conftest import run_cli
from servers import assistant_serve

TROOPS = "How many US troops are in Iraq?"
HASH_NAME = re.compile(r"^\d{3}_[0-9a-f]{16}(\.txt)?$")
SEEDS_METADATA = Path(__file__).resolve().parents[1].parent / "shared" / "seeds-metadata.csv"


def open_assistant(settings):
    from assistant.core import Assistant

    return Assistant(settings)


@pytest.fixture(scope="module")
def seeds_index(seeds_dir: Path, tmp_path_factory) -> Path:
    """The seeds ingested with ../shared/seeds-metadata.csv, as the quickstart does."""
    index = tmp_path_factory.mktemp("dated") / "index"
    result = run_cli("ingest", seeds_dir, "--index", index, "--metadata", SEEDS_METADATA, "--json")
    assert result.returncode == 0, result.stderr
    return index


@pytest.fixture(scope="module")
def seeds_assistant(seeds_index: Path):
    from assistant.config import Settings
    from assistant.core import Assistant

    return Assistant(Settings.load(index_dir=seeds_index))


def quoted_dates(answer) -> list[str]:
    """The dates of the documents the quoted (non-note) sentences cite, in the order shown."""
    cites = {c.marker: c for c in answer.citations}
    return [cites[s.citations[0]].date for s in answer.sentences if s.verdict != "note" and s.citations]


def test_troops_answer_lists_differing_figures_newest_first_with_months(seeds_assistant):
    answer = seeds_assistant.ask(TROOPS)
    assert not answer.abstained
    assert all(c.date for c in answer.citations), [c.to_dict() for c in answer.citations]
    groups = answer.disagreement
    assert len(groups) >= 2, answer.text
    dates = [g["date"] for g in groups]
    assert dates == sorted(dates, reverse=True) and dates[0].startswith("2024")
    assert len({g["document_id"] for g in groups}) == len(groups)
    note = answer.sentences[0]
    assert note.verdict == "note" and note.text.startswith("The sources give different answers")
    assert "January 2024" in note.text and "September 2020" in note.text
    assert "2,500" in note.text and "2,000" in note.text
    assert note.text.index("2,500") < note.text.index("2,000")
    assert all(not HASH_NAME.match(c.title) and c.title for c in answer.citations)


def test_sources_naming_different_people_list_the_one_each_gives_for_what_was_asked(seeds_assistant):
    """The 2024 report names Iraq's prime minister Mohammed Shia Al Sudani beside the 'US-led' coalition; the 2020
    one names its caretaker prime minister Adel Abdul Mahdi beside Mr Pompeo and Iraq, three times. Each source's
    answer is the prime minister it names, said once, not every capitalised word of its sentence."""
    answer = seeds_assistant.ask("Who is the Iraqi prime minister?")
    by_date = {g["date"][:4]: g["values"] for g in answer.disagreement}
    assert len(by_date) == 2 and [v[0].split()[-1] for v in by_date.values()] == ["Sudani", "Mahdi"], answer.text
    assert all(len(v) == 1 for v in by_date.values()), by_date
    note = answer.sentences[0].text
    assert "Pompeo" not in note and "US-led" not in note and note.index("Sudani") < note.index("Adel Abdul Mahdi")


@pytest.mark.parametrize("question", ["Who is Qassem Soleimani?", "Who was Abu Mahdi al-Muhandis?", "Who killed Soleimani?",
                                      # one report spells him Qassem, another Qasem and calls him General
                                      "Who was killed in the US drone strike near Baghdad airport?"])
def test_reports_of_one_event_that_name_other_people_do_not_disagree(seeds_assistant, question):
    """Every seed names Soleimani beside Iran, Baghdad and al-Muhandis: a question about a person is answered, and
    the other names are not listed as the sources' different answers."""
    answer = seeds_assistant.ask(question)
    assert not answer.abstained, answer.text
    assert not answer.disagreement and "different answers" not in answer.text, answer.text
    assert "Soleimani" in answer.text or "Muhandis" in answer.text


def test_now_leads_with_the_newest_figure_and_a_period_with_its_own(seeds_assistant):
    now = seeds_assistant.ask("How many US troops are in Iraq now?")
    assert quoted_dates(now)[0].startswith("2024") and "2,500" in [s for s in now.sentences if s.verdict != "note"][0].text
    then = seeds_assistant.ask("How many US troops were in Iraq in September 2020?")
    assert not then.abstained
    assert quoted_dates(then)[0] == "2020-09"
    first = [s for s in then.sentences if s.verdict != "note"][0]
    assert "2,000" in first.text or "3,000" in first.text


@pytest.fixture(scope="module")
def served(seeds_index: Path):
    with assistant_serve(seeds_index) as url:
        yield url


def test_chat_page_shows_the_disagreement_and_dated_source_cards(browser, served):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(served + "/")
        page.wait_for_selector("#aui-question textarea")
        page.fill("#aui-question textarea", TROOPS)
        page.press("#aui-question textarea", "Enter")
        turn = page.locator(".aui-turn").first
        turn.locator("xpath=self::*[@data-state='done']").wait_for(timeout=90_000)
        note = turn.locator(".aui-note").first.inner_text()
        assert note.startswith("The sources give different answers")
        assert note.index("January 2024") < note.index("September 2020")
        cards = page.locator("#aui-sources .aui-src-card")
        assert cards.count() >= 2
        heads = [cards.nth(k).locator(".aui-src-head").inner_text() for k in range(cards.count())]
        assert all(re.search(r"(January|September|October) 20(20|24)", h) for h in heads), heads
        titles = [cards.nth(k).locator(".aui-src-title").inner_text() for k in range(cards.count())]
        assert all(t and not HASH_NAME.match(t) for t in titles), titles
    finally:
        page.close()


def test_rest_and_cli_carry_dates_titles_and_the_disagreement(seeds_index: Path, served):
    shown = run_cli("ask", TROOPS, "--index", seeds_index)
    assert shown.returncode == 0, shown.stderr
    assert "January 2024" in shown.stdout and "September 2020" in shown.stdout
    listing = run_cli("sources", "--index", seeds_index, "--json")
    docs = json.loads(listing.stdout)
    assert all(d["title"] and not HASH_NAME.match(d["title"]) for d in docs)
    assert {d["source"]: d["date"] for d in docs}["002_29a7f50eab184bfe.txt"] == "2020-09"
    got = httpx.post(served + "/api/ask", json={"question": TROOPS}, timeout=120).json()
    assert all(c["date"] and c["date_shown"] and c["title"] and "url" in c for c in got["citations"])
    assert [g["date"] for g in got["disagreement"]][:1] == ["2024-01"]
    assert got["answer"].startswith("The sources give different answers")
    chat = httpx.post(served + "/v1/chat/completions", timeout=120,
                      json={"model": "assistant", "messages": [{"role": "user", "content": TROOPS}]}).json()
    message = chat["choices"][0]["message"]
    assert all(c["date"] and c["title"] for c in message["citations"])


def test_file_and_folder_metadata_bad_rows_and_relabelling_without_reembedding(settings_factory, tmp_path: Path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "bridge.html").write_text(
        '<html><head><title>Harbour bridge reopens</title>'
        '<meta property="article:published_time" content="2021-05-04T09:00:00Z">'
        '<link rel="canonical" href="https://news.example/bridge"></head>'
        "<body><article><p>The harbour bridge reopened on Tuesday after two years of repairs costing 40 million euros."
        "</p></article></body></html>")
    (folder / "festival.md").write_text("---\ntitle: Quillby festival\ndate: 2019-08\nurl: javascript:alert(1)\n---\n"
                                        "The Quillby river festival drew 4,812 visitors on Saturday, the organisers said.\n")
    (folder / "plain.txt").write_text("Orchard prices\n\nPear prices rose by a fifth at the regional market this autumn.\n")
    (folder / "metadata.csv").write_text(
        'path,title,date,url,note\n'
        'plain.txt,"<img src=x onerror=alert(1)> Orchards",2022,https://farm.example/pears,x\n'
        'missing.txt,Nothing,2020,,\n'
        'festival.md,,not a date,,\n')
    assistant = open_assistant(settings_factory())
    summary = assistant.ingest([folder]).to_dict()
    assert summary["added"] == 3 and summary["documents"] == 3  # metadata.csv is not an article
    reasons = " | ".join(f"{f['path']}: {f['reason']}" for f in summary["failed"])
    assert "unknown path: missing.txt" in reasons and "unreadable date 'not a date'" in reasons
    docs = {d.source: d for d in assistant.documents()}
    assert (docs["bridge.html"].title, docs["bridge.html"].date, docs["bridge.html"].url) == \
        ("Harbour bridge reopens", "2021-05-04", "https://news.example/bridge")
    assert (docs["festival.md"].title, docs["festival.md"].date, docs["festival.md"].url) == ("Quillby festival", "2019-08", "")
    assert docs["plain.txt"].title == "<img src=x onerror=alert(1)> Orchards" and docs["plain.txt"].date == "2022"
    chunks_before = {c.id for c in assistant.store.all_chunks()}

    (folder / "metadata.csv").write_text("path,date\nplain.txt,2023-03\n")
    again = assistant.ingest([folder]).to_dict()
    assert again["relabelled"] == 1 and again["updated"] == 0 and again["added"] == 0 and again["failed"] == []
    plain = {d.source: d for d in assistant.documents()}["plain.txt"]
    assert (plain.title, plain.date, plain.url) == ("Orchard prices", "2023-03", "")  # the file's own title again
    assert {c.id for c in assistant.store.all_chunks()} == chunks_before
    answer = assistant.ask("How much did pear prices rise at the regional market?")
    assert [c.date for c in answer.citations] == ["2023-03"]


def test_bad_metadata_file_is_one_line_not_an_abort(settings_factory, tmp_path: Path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Harbour news\n\nThe ferry to the island now leaves every forty minutes.\n")
    (folder / "metadata.jsonl").write_text('{"path": "a.txt", "date": "2020-02"}\n{not json\n[1, 2]\n')
    summary = open_assistant(settings_factory()).ingest([folder]).to_dict()
    assert summary["added"] == 1
    assert [f["path"] for f in summary["failed"]] == ["metadata.jsonl:2", "metadata.jsonl:3"]


def test_namesakes_each_answer_with_its_own_source(settings_factory, tmp_path: Path):
    folder = tmp_path / "towns"
    folder.mkdir()
    (folder / "illinois.txt").write_text(
        "Springfield, Illinois\n\nSpringfield is the capital of the U.S. state of Illinois. Springfield was founded in "
        "1821 by settlers from Kentucky. It became the state capital in 1839.\n")
    (folder / "massachusetts.txt").write_text(
        "Springfield, Massachusetts\n\nSpringfield is a city in western Massachusetts on the Connecticut River. "
        "Springfield was founded in 1636 by William Pynchon. It is the home of the Basketball Hall of Fame.\n")
    assistant = open_assistant(settings_factory())
    assistant.ingest([folder])
    answer = assistant.ask("When was Springfield founded?")
    assert {g["title"] for g in answer.disagreement} == {"Springfield, Illinois", "Springfield, Massachusetts"}, answer.text
    assert "1821" in answer.text and "1636" in answer.text
