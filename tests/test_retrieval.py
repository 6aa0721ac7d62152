"""Retrieval as a user meets it: exact rare terms and paraphrases both find their passage, follow-ups find theirs
through the rewriter, removed or replaced text never comes back, relative-score fusion keeps a passage only one
retriever ranks first, the rewriter resolves "the second one" and an untitled "he"; and the bench question sets are sound."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "bench" / "data"
DEV = REPO.parent / "shared" / "eval" / "dev.jsonl"


def _norm(text: str) -> str:
    import re

    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).casefold()


def _has(texts: list[str], evidence: list[str]) -> bool:
    return any(_norm(e) in _norm(t) for t in texts for e in evidence)


# -- the bench's question sets --------------------------------------------------------------------

@pytest.mark.parametrize("name,folder", [("wiki_questions.jsonl", DATA / "wiki"), ("seeds_extra.jsonl", None)])
def test_question_sets_point_at_real_evidence(name: str, folder: Path | None, seeds_dir: Path):
    folder = folder or seeds_dir
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len({r["id"] for r in rows}) == len(rows), "duplicate ids"
    for r in rows:
        assert r["question"].strip() and isinstance(r["answerable"], bool), r["id"]
        if r.get("history") is not None:
            assert r["history"] and all(isinstance(h, str) and h.strip() for h in r["history"]), r["id"]
            assert r.get("standalone"), f"{r['id']}: a follow-up needs its hand-written standalone question"
        if not r["answerable"]:
            assert not r.get("answer_any") and not r.get("evidence_any"), r["id"]
            continue
        assert r["answer_any"] and r["evidence_any"] and r["sources"], r["id"]
        texts = [(folder / s).read_text(encoding="utf-8") for s in r["sources"]]
        for evidence in r["evidence_any"]:
            # exact substrings of the source text, so a cited span can be checked against them
            assert any(evidence in t for t in texts), f"{r['id']}: {evidence!r} is not in {r['sources']}"


# -- lexical and semantic matches both reach the user -----------------------------------------------

ARTICLES = {
    "pump-manual.txt": "Pump controller manual\n\nThe controller shows fault code ZX-4471Q when the intake valve is blocked "
                       "by debris. Clear the strainer and restart the pump.\n",
    "pump-faq.txt": "Pump controller questions\n\nFault code ZX-4417R means the outlet pressure sensor has failed and must be "
                    "replaced. Fault code XZ-7714 means the motor overheated; let it cool for an hour.\n",
    "pump-care.txt": "Looking after your pump\n\nA blocked valve or a clogged filter means the controller reports a fault. "
                     "Check the filters every month and keep debris away from the intake.\n",
    "winter-safety.txt": "Winter safety\n\nHikers who fall into icy water should climb out at once, strip off soaked "
                         "clothing and warm up gradually, because hypothermia sets in within minutes.\n",
    "winter-driving.txt": "Winter driving\n\nFit snow tyres before the first frost and carry a shovel, a blanket and a torch "
                          "in the boot. Black ice means longer braking distances.\n",
    "lake-fishing.txt": "Ice fishing\n\nAnglers drill a hole through the frozen lake and wait beside it on a folding stool "
                        "with a thermos of tea.\n",
}
# Everyday notes sharing a word or two with the questions below, as any real collection has: more of them than
# the passages an answer is built from (top_k), so a passage that only matches in meaning must still outrank them.
DECOYS = [
    "The duck pond in the park was dredged after the summer.", "Frozen peas keep for a year in the freezer.",
    "Share prices kept plunging through the afternoon.", "Visitors must buy a ticket before entering the museum.",
    "The night train runs through the tunnel after midnight.", "Koi carp live in the garden pond all year round.",
    "A dog walker found the lost wallet on the bridge.", "Sales of frozen desserts rose sharply in July.",
    "Trains must slow down through the old station.", "The walker's guide lists every footpath after the ridge.",
    "What the council must do about the pond is still debated.", "After the frost, the gardener covered the beds.",
]


@pytest.fixture
def small_assistant(settings_factory, tmp_path: Path):
    from assistant.core import Assistant

    folder = tmp_path / "articles"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    for n, text in enumerate(DECOYS):
        (folder / f"note-{n:02d}.txt").write_text(f"Note {n}\n\n{text}\n", encoding="utf-8")
    assistant = Assistant(settings_factory())
    summary = assistant.ingest([folder])
    assert not summary.failed and summary.added == len(ARTICLES) + len(DECOYS)
    return assistant, folder


def test_rare_exact_term_and_paraphrase_both_find_their_passage(small_assistant):
    assistant, _ = small_assistant
    store = assistant.store

    # An exact code: only the lexical match tells ZX-4471Q from its look-alikes.
    code_q = "What does ZX-4471Q mean?"
    best_id = store.bm25_search(code_q, 5)[0][0]
    assert "ZX-4471Q" in store.get_chunks([best_id])[best_id].text
    top = assistant.retriever.retrieve(code_q)  # the passages an answer is built from
    assert any("ZX-4471Q" in p.chunk.text for p in top), [p.chunk.text for p in top]

    # A paraphrase sharing no content word with its passage: BM25 cannot see it, the dense side must.
    para_q = "What must a walker do after plunging through a frozen pond?"
    bm25_ids = [cid for cid, _ in store.bm25_search(para_q, 5)]
    assert not any("Hikers who fall" in c.text for c in store.get_chunks(bm25_ids).values())
    top = assistant.retriever.retrieve(para_q)
    assert any("Hikers who fall into icy water" in p.chunk.text for p in top), [p.chunk.text for p in top]


# -- removed and replaced text never comes back -----------------------------------------------------

def _everything(assistant, query: str) -> list[str]:
    """Chunk texts from each retriever separately and from the fused retriever."""
    store = assistant.store
    dense = [c.text for c, _ in store.dense_search(store.embedder.embed_query(query), 50)]
    bm25 = [c.text for c in store.get_chunks([cid for cid, _ in store.bm25_search(query, 50)]).values()]
    bm25_raw = store.bm25_search(query, 50)  # ids straight from BM25, before resolving against Chroma
    fused = [p.chunk.text for p in assistant.retriever.retrieve(query, k=50)]
    known = {c.id for c in store.all_chunks()}
    assert all(cid in known for cid, _ in bm25_raw), "BM25 returned a chunk id that is no longer in the collection"
    return dense + bm25 + fused


def test_removed_and_replaced_documents_never_come_back(small_assistant, settings_factory):
    from assistant.core import Assistant

    assistant, folder = small_assistant
    # a second Assistant on the same index, as another process would be: its BM25 was loaded before the change
    other = Assistant(settings_factory())
    assert _has(_everything(other, "ZX-4471Q intake valve"), ["ZX-4471Q"])

    doc = next(d for d in assistant.documents() if d.source.endswith("pump-manual.txt"))
    assert assistant.remove(doc.id)
    for a in (assistant, other):
        assert not _has(_everything(a, "fault code ZX-4471Q intake valve blocked debris strainer"), ["ZX-4471Q"])

    # replaced: the old wording of an edited article is gone from both retrievers
    (folder / "winter-driving.txt").write_text("Winter driving\n\nCarry chains for mountain passes.\n", encoding="utf-8")
    # removed from the folder: a mirrored re-ingest drops it (the removed manual's file goes too, or it would return)
    (folder / "lake-fishing.txt").unlink()
    (folder / "pump-manual.txt").unlink()
    summary = other.ingest([folder])
    assert summary.updated == 1 and summary.removed == 1
    for a in (assistant, other):
        texts = _everything(a, "snow tyres shovel blanket torch boot frozen lake anglers thermos tea stool")
        assert not _has(texts, ["snow tyres", "thermos of tea", "ZX-4471Q"]), texts
        assert _has(_everything(a, "chains for mountain passes"), ["Carry chains for mountain passes"])


def test_removed_documents_never_come_back_with_a_chroma_server(chroma_server, settings_factory, tmp_path: Path):
    from assistant.core import Assistant

    folder = tmp_path / "server-articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Quarry notes\n\nThe quokkaberry grows only beside the old quarry.\n", encoding="utf-8")
    (folder / "b.txt").write_text("Garden notes\n\nTomatoes need full sun and regular watering.\n", encoding="utf-8")
    collection = f"retr{tmp_path.name[-8:].replace('-', '')}"
    one = Assistant(settings_factory(chroma_url=chroma_server, collection=collection, index_dir=tmp_path / "one"))
    one.ingest([folder])
    # another client of the same server with its own BM25 copy, built before the removal
    two = Assistant(settings_factory(chroma_url=chroma_server, collection=collection, index_dir=tmp_path / "two"))
    assert _has(_everything(two, "quokkaberry"), ["quokkaberry"])
    doc = next(d for d in one.documents() if d.source == "a.txt")
    assert one.remove(doc.id)
    for a in (one, two):
        assert not _has(_everything(a, "quokkaberry quarry"), ["quokkaberry"])


# -- follow-ups -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seeds_assistant(tmp_path_factory):
    from assistant.config import Settings
    from assistant.core import Assistant

    seeds = REPO.parent / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.fail(f"the seed articles are missing: expected them in {seeds}")
    assistant = Assistant(Settings.load(index_dir=tmp_path_factory.mktemp("seeds-index")))
    assistant.ingest([seeds])
    return assistant


@pytest.mark.parametrize("case_id", ["d10", pytest.param("d19", marks=pytest.mark.xfail(strict=True, reason=(
    "a known miss of the follow-up model (assistant/models/followup/MODEL_CARD.md): a bare demonstrative 'that' "
    "standing for the previous question's event is not taken for a follow-up")))])
def test_dev_follow_up_finds_its_evidence_only_through_rewriting(seeds_assistant, case_id: str):
    from assistant.evaluation.run import replay

    case = next(c for c in map(json.loads, filter(str.strip, DEV.read_text().splitlines())) if c["id"] == case_id)
    history = replay(seeds_assistant, case["history"])
    retriever = seeds_assistant.retriever
    # the passages the answerer would get (top_k of them)
    raw = [p.chunk.text for p in retriever.retrieve(case["question"])]
    assert not _has(raw, case["evidence_any"]), "the raw follow-up alone already finds its evidence: not a follow-up test"
    rewritten = seeds_assistant.rewrite(case["question"], history)
    top = [p.chunk.text for p in retriever.retrieve(rewritten)]
    assert _has(top, case["evidence_any"]), f"rewritten to {rewritten!r}; passages: {top}"


# -- fusion: relative score by default, reciprocal rank as a setting --------------------------------

def _fusion_retriever(assistant, fusion: str | None, monkeypatch):
    from assistant.config import Settings
    from assistant.index.retrieve import Retriever

    monkeypatch.delenv("ASSISTANT_FUSION", raising=False)  # "default" means no setting of the developer's
    overrides = {"fusion": fusion} if fusion else {}
    return Retriever(assistant.store, Settings.load(index_dir=assistant.settings.index_dir, **overrides))


def _first_hit(texts: list[str], evidence: str) -> int | None:
    """1-based rank of the first text holding evidence."""
    return next((n for n, t in enumerate(texts, 1) if _has([t], [evidence])), None)


@pytest.mark.parametrize("fusion", ["rrf", None])
def test_both_fusions_return_ranked_passages(seeds_assistant, fusion: str | None, monkeypatch):
    retriever = _fusion_retriever(seeds_assistant, fusion, monkeypatch)
    assert retriever.settings.fusion == (fusion or "relative_score")
    passages = retriever.retrieve("How many US troops did General McKenzie say would remain in Iraq after the reduction?")
    assert 0 < len(passages) <= retriever.settings.top_k
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert all(p.dense_rank or p.bm25_rank for p in passages), "every passage says which retriever found it"
    assert _has([passages[0].chunk.text], ["from 5,200 to 3,000"]), [p.chunk.text for p in passages]


# Why each question qualifies (probed with dense_search and bm25_search over every chunk of the seeds, and checked
# again in the test): its answer passage is BM25's rank 1 but not dense's. Both questions share rare words with the
# passage (d03: "spokesman", "Abdel Mahdi"; the second: "Middle East", "forces"), while the embedder prefers other
# passages about Iraq's government or US forces (dense ranks 7 and 12 when this was written). Reciprocal rank fusion
# put them 3rd and 5th; relative-score fusion keeps BM25's wide margin (1st and 2nd).
FUSION_CASES = [
    ("What is the name of the spokesman for Prime Minister Adel Abdel Mahdi?", "Abdelkarim Khalaf, spokesman"),  # dev d03
    ("Who leads American forces in the Middle East?", "commander of the Centcom region"),
]


@pytest.mark.parametrize("question,evidence", FUSION_CASES)
def test_default_fusion_keeps_a_passage_only_one_retriever_ranks_first(seeds_assistant, question: str, evidence: str,
                                                                       monkeypatch):
    store = seeds_assistant.store
    everything = store.count_chunks()
    holders = [c for c in store.all_chunks() if _has([c.text], [evidence])]
    assert len(holders) == 1, "the evidence must lie in one passage for its rank to mean anything"
    dense = [c.text for c, _ in store.dense_search(store.embedder.embed_query(question), everything)]
    bm25_ids = [cid for cid, _ in store.bm25_search(question, everything)]
    found = store.get_chunks(bm25_ids)
    bm25 = [found[cid].text for cid in bm25_ids if cid in found]
    firsts = [_first_hit(dense, evidence) == 1, _first_hit(bm25, evidence) == 1]
    assert sum(firsts) == 1, f"dense rank {_first_hit(dense, evidence)}, BM25 rank {_first_hit(bm25, evidence)}"

    top = [p.chunk.text for p in _fusion_retriever(seeds_assistant, None, monkeypatch).retrieve(question)]
    rank = _first_hit(top, evidence)
    assert rank is not None and rank <= 3, f"default fusion ranks the answer passage {rank}: {top}"


def test_an_unknown_fusion_setting_is_a_one_line_error(cli, tmp_path: Path):
    result = cli("ask", "x", "--index", tmp_path / "index", env={"ASSISTANT_FUSION": "bogus"}, cwd=tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "fusion" in lines[0] and "bogus" in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
