"""Retrieval benchmark: hit@1, hit@5, MRR and latency of dense, BM25, hybrid and reranked retrieval, follow-ups
raw vs rewritten vs standalone, and retrieval latency at 100k chunks.

    python bench/retrieval.py                      # wiki corpus + its questions (ingest ~3 min on 2 cores)
    python bench/retrieval.py --index /tmp/wikiidx # keep the index between runs (ingest is idempotent)
    python bench/retrieval.py --seeds              # also the seed articles: seeds_extra.jsonl and dev.jsonl
    python bench/retrieval.py --scale 100000       # also latency with 100k chunks in the collection
    python bench/retrieval.py --scale 100000 --scale-only --scale-index /tmp/scaled   # only that, index kept
    python bench/retrieval.py --json out.json      # every figure and every miss, for later comparison
    python bench/retrieval.py --scale 100000 --scale-only --replicas   # on a `chroma run` server, behind two
        # `assistant serve` replicas: how long an upload on one takes to be found by keyword on the other, each
        # replica's start and peak memory, disk per million chunks

A passage is a hit when its text contains one of the case's evidence_any strings (matched as score.py does:
case-insensitive, whitespace runs collapsed, curly quotes straight). Ranks are counted over the top 10.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from assistant.config import Settings  # noqa: E402
from assistant.evaluation.metrics import norm  # noqa: E402  (the scorer's own matching: FORMAT.md)
from machine import machine as _machine  # noqa: E402

DATA = REPO / "bench" / "data"
SHARED = REPO.parent / "shared"
DEPTH = 10  # ranks beyond this count as misses


# -- helpers ---------------------------------------------------------------------------------------

def machine() -> dict:
    return _machine(onnx_threads=os.environ.get("ASSISTANT_THREADS", "auto"))


def hit_rank(texts: list[str], evidence: list[str]) -> int | None:
    needles = [norm(e) for e in evidence]
    for rank, text in enumerate(texts[:DEPTH], 1):
        t = norm(text)
        if any(n in t for n in needles):
            return rank
    return None


def summarise(ranks: list[int | None]) -> dict:
    n = max(len(ranks), 1)
    return {"n": len(ranks), "hit@1": sum(r == 1 for r in ranks) / n, "hit@5": sum(r is not None and r <= 5 for r in ranks) / n,
            "mrr": sum(1 / r for r in ranks if r) / n}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def lat(values: list[float]) -> dict:
    return {"p50_ms": pct(values, 0.5), "p95_ms": pct(values, 0.95), "mean_ms": statistics.fmean(values) if values else 0}


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# -- the arms ---------------------------------------------------------------------------------------

class Arms:
    """Each retrieval variant as a function query -> (ranked texts, extra info), timed."""

    def __init__(self, assistant, rerank_depths: list[int]):
        from assistant.onnx_models import cross_encoder
        from assistant.index.retrieve import Retriever

        self.a = assistant
        self.store = assistant.store
        # the default fused retriever, whatever the environment says
        self.hybrid_retriever = Retriever(self.store, Settings.load(index_dir=assistant.settings.index_dir, fusion="relative_score"))
        self.rrf_retriever = Retriever(self.store, Settings.load(index_dir=assistant.settings.index_dir, fusion="rrf"))
        self.default_retriever = assistant.retriever
        self.ce = cross_encoder()
        self.depths = rerank_depths
        self.ce.score("warm up", ["warm up"])

    def dense(self, q: str):
        hits = self.store.dense_search(self.store.embedder.embed_query(q), DEPTH)
        return [c.text for c, _ in hits]

    def bm25(self, q: str):
        hits = self.store.bm25_search(q, DEPTH)
        chunks = self.store.get_chunks([cid for cid, _ in hits])
        return [chunks[cid].text for cid, _ in hits if cid in chunks]

    def hybrid_passages(self, q: str, k: int):
        return self.hybrid_retriever.retrieve(q, k=k)

    def rrf(self, q: str):
        return [p.chunk.text for p in self.rrf_retriever.retrieve(q, k=DEPTH)]

    def default(self, q: str):
        return [p.chunk.text for p in self.default_retriever.retrieve(q, k=DEPTH)]

    def passage_scores(self, q: str, passages) -> list[float]:
        return self.ce.score(q, [p.chunk.text for p in passages])

    def sentence_scores(self, q: str, passages) -> list[float]:
        """Each passage's best sentence score (question x sentence), a finer-grained rerank."""
        from assistant.ingest.chunking import sentence_spans

        pairs, owner = [], []
        for i, p in enumerate(passages):
            for a, b in sentence_spans(p.chunk.text):
                pairs.append(p.chunk.text[a:b])
                owner.append(i)
        best = [-1e9] * len(passages)
        for i, s in zip(owner, self.ce.score(q, pairs)):
            best[i] = max(best[i], s)
        return best

    def rerank_passage(self, q: str, passages):
        scores = self.passage_scores(q, passages)
        return [p for _, p in sorted(zip(scores, passages), key=lambda x: -x[0])], scores


def _incremental(score_fn, q: str, passages, depths: list[int]) -> tuple[list[float], dict[int, float]]:
    """Scores for the top max(depths) passages, scored in slices so each depth's cost is timed as if it stopped there."""
    scores: list[float] = []
    elapsed, cost, done = 0.0, {}, 0
    for depth in sorted(depths):
        t = time.perf_counter()
        scores += score_fn(q, passages[done:depth])
        elapsed += _ms(t)
        cost[depth], done = elapsed, depth
    return scores, cost


def _order(scores: list[float], passages) -> list:
    return [p for _, _, p in sorted(zip(scores, range(len(scores)), passages), key=lambda x: (-x[0], x[1]))]


def run_arms(arms: Arms, cases: list[dict], query_of=None) -> tuple[dict, dict, dict]:
    """Ranks and latencies of every arm on cases; also the top cross-encoder score per case (for abstention).

    Queries go through the product's clean-up (disfluencies, misspellings) first, as `ask` does; one arm shows the
    hybrid retriever on the question as typed.
    """
    from assistant.question.normalize import normalize_question

    query_of = query_of or (lambda c: normalize_question(c["question"], arms.store))
    ranks: dict[str, list] = defaultdict(list)
    times: dict[str, list] = defaultdict(list)
    misses: dict[str, list] = defaultdict(list)
    top_ce: dict[str, float] = {}
    max_depth = max(arms.depths)
    for n, case in enumerate(cases, 1):
        print(f"  {n}/{len(cases)}", end="\r", file=sys.stderr, flush=True)
        q = query_of(case)
        ev = case.get("evidence_any") or []
        results = {}
        t = time.perf_counter(); results["dense"] = arms.dense(q); times["dense"].append(_ms(t))
        t = time.perf_counter(); results["bm25"] = arms.bm25(q); times["bm25"].append(_ms(t))
        t = time.perf_counter(); passages = arms.hybrid_passages(q, max(DEPTH, max_depth)); times["hybrid"].append(_ms(t))
        results["hybrid"] = [p.chunk.text for p in passages]
        t = time.perf_counter(); results["hybrid rrf"] = arms.rrf(q); times["hybrid rrf"].append(_ms(t))
        t = time.perf_counter(); results["retriever(default settings)"] = arms.default(q); times["retriever(default settings)"].append(_ms(t))
        t = time.perf_counter(); results["hybrid, question as typed"] = arms.default(case["question"])
        times["hybrid, question as typed"].append(_ms(t))
        passage_ce, passage_cost = _incremental(arms.passage_scores, q, passages, arms.depths)
        sentence_ce, sentence_cost = _incremental(arms.sentence_scores, q, passages, arms.depths)
        top_ce[case["id"]] = max(passage_ce) if passage_ce else float("-inf")
        for depth in arms.depths:
            head, tail = passages[:depth], passages[depth:]
            order = _order(passage_ce[:depth], head)
            results[f"+rerank passage@{depth}"] = [p.chunk.text for p in order + tail]
            times[f"+rerank passage@{depth}"].append(times["hybrid"][-1] + passage_cost[depth])
            # the cross-encoder's order fused with the hybrid order: keeps BM25/dense agreement as a vote
            fused = {id(p): 1 / (60 + r) for r, p in enumerate(head, 1)}
            for r, p in enumerate(order, 1):
                fused[id(p)] += 1 / (60 + r)
            blend = sorted(head, key=lambda p: -fused[id(p)])
            results[f"+rerank passage@{depth} rrf-blend"] = [p.chunk.text for p in blend + tail]
            times[f"+rerank passage@{depth} rrf-blend"].append(times[f"+rerank passage@{depth}"][-1])
            order = _order(sentence_ce[:depth], head)
            results[f"+rerank sentence-max@{depth}"] = [p.chunk.text for p in order + tail]
            times[f"+rerank sentence-max@{depth}"].append(times["hybrid"][-1] + sentence_cost[depth])
        if case.get("answerable", True) and ev:
            for arm, texts in results.items():
                r = hit_rank(texts, ev)
                ranks[arm].append(r)
                if r is None or r > 5:
                    misses[arm].append(case["id"])
    return ranks, times, {"misses": misses, "top_ce": top_ce}


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


# -- follow-ups -------------------------------------------------------------------------------------

def run_followups(assistant, arms: Arms, cases: list[dict]) -> dict:
    from assistant.evaluation.run import replay

    rows = []
    for case in cases:
        messages = replay(assistant, case["history"])
        t = time.perf_counter()
        rewritten = assistant.rewrite(case["question"], messages)
        rewrite_ms = _ms(t)
        row = {"id": case["id"], "history": case["history"], "question": case["question"], "rewritten": rewritten,
               "standalone": case.get("standalone"), "rewrite_ms": rewrite_ms,
               "history_answers": [m.content for m in messages if m.role == "assistant"]}
        for label, q in (("raw", case["question"]), ("rewritten", rewritten), ("standalone", case.get("standalone"))):
            if not q:
                continue
            passages = arms.hybrid_passages(q, max(DEPTH, max(arms.depths)))
            row[f"{label}_hybrid"] = hit_rank([p.chunk.text for p in passages], case["evidence_any"])
            order, _ = arms.rerank_passage(q, passages[:max(arms.depths)])
            row[f"{label}_rerank"] = hit_rank([p.chunk.text for p in order], case["evidence_any"])
        rows.append(row)
    out = {"rows": rows}
    for label in ("raw", "rewritten", "standalone"):
        for arm in ("hybrid", "rerank"):
            key = f"{label}_{arm}"
            got = [r[key] for r in rows if key in r]
            if got:
                out[key] = summarise(got)
    out["rewrite_latency"] = lat([r["rewrite_ms"] for r in rows])
    return out


# -- 100k chunks ------------------------------------------------------------------------------------

def build_scaled(source_store, target: int, index_dir: Path, seed: int = 0, workers: int = 4,
                 batch_chunks: int = 8000, chroma_url: str | None = None) -> tuple[object, float]:
    """A collection of `target` chunks: the real chunks plus variants of them (sentences shuffled, a few words
    dropped) with their real embeddings jittered, written with Store.bulk_add in batches of batch_chunks,
    `workers` Chroma writes at once (a bulk load of known vectors)."""
    import numpy as np

    from assistant.ingest.chunking import chunk_id, count_tokens, sentence_spans
    from assistant.index.embed import get_embedder
    from assistant.schema import Chunk, Document
    from assistant.index.store import PAGE, Store

    rng = np.random.default_rng(seed)
    real: dict[str, list[tuple[str, list[float], dict]]] = defaultdict(list)
    offset = 0
    while True:
        got = source_store.chunks.get(include=["embeddings", "documents", "metadatas"], limit=PAGE, offset=offset)
        if not len(got["ids"]):
            break
        for text, vec, meta in zip(got["documents"], got["embeddings"], got["metadatas"]):
            real[meta.get("source", "")].append((text, list(vec), meta))
        offset += PAGE
    settings = Settings.load(index_dir=index_dir, chroma_url=chroma_url)
    store = Store(settings, get_embedder(settings))
    total = sum(len(v) for v in real.values())
    variants = -(-target // total)
    t0 = time.perf_counter()
    store.commit_start()
    made = 0
    pending: list = []
    write_s = write_cpu = 0.0

    def flush() -> None:
        nonlocal write_s, write_cpu
        t, cpu = time.perf_counter(), time.process_time()
        store.bulk_add(pending, workers=workers)
        write_s += time.perf_counter() - t
        write_cpu += time.process_time() - cpu
        pending.clear()
    # each real chunk's sentences and token count, once: the variants reuse them (splitting and counting every
    # variant's text again took most of a million-chunk build's time, which is the generator's, not the load's)
    split = {text: ([text[a:b] for a, b in sentence_spans(text)] or [text], count_tokens(text))
             for items in real.values() for text, _, _ in items}
    for v in range(variants):
        for source, items in real.items():
            if made >= target:
                break
            items = items[: target - made]
            texts, vectors, tokens = [], [], []
            for text, vec, _ in items:
                sentences, n_tokens = split[text]
                if v:
                    sentences = list(sentences)
                    rng.shuffle(sentences)
                    words = " ".join(sentences).split()
                    keep = rng.random(len(words)) > 0.1
                    text = " ".join(w for w, k in zip(words, keep) if k) or text
                    noise = rng.normal(0, 0.025, len(vec))
                    vec = np.asarray(vec) + noise
                    vec = (vec / np.linalg.norm(vec)).tolist()
                    n_tokens = max(1, round(n_tokens * len(text) / max(len(" ".join(sentences)), 1)))
                texts.append(text)
                vectors.append(vec)
                tokens.append(n_tokens)
            body = "\n\n".join(texts)
            doc_id = f"scaled-{v}-{abs(hash(source)) % 10**10}"
            doc = Document(id=doc_id, source=f"v{v}/{source}", title=source, sha256=doc_id, text=body)
            chunks, pos = [], 0
            for text, n_tokens in zip(texts, tokens):
                chunks.append(Chunk(id=chunk_id(doc_id, pos, pos + len(text)), document_id=doc_id, start=pos,
                                    end=pos + len(text), text=text, tokens=n_tokens, source=doc.source, title=source))
                pos += len(text) + 2
            pending.append((doc, chunks, vectors))
            made += len(chunks)
            if sum(len(c) for _, c, _ in pending) >= batch_chunks:
                flush()
    flush()
    print(f"  bulk load: {made} chunks written in {write_s:.1f} s = {made / write_s:.0f} chunks/s, "
          f"{write_cpu:.1f} CPU-s in this process ({made / max(write_cpu, 1e-9):.0f} chunks per CPU-s; {workers} writers, "
          f"batches of {batch_chunks}; load average {[round(x, 2) for x in os.getloadavg()]})")
    t = time.perf_counter()
    store.commit()
    print(f"  commit (the writer's keyword index, from the change log): {time.perf_counter() - t:.1f} s")
    return store, time.perf_counter() - t0


def scaled_store(chroma_url: str, index_dir: Path):
    """A writer's Store on a collection built before (--scale-on), its keyword index built from the collection."""
    from assistant.index.embed import get_embedder
    from assistant.index.store import Store

    settings = Settings.load(index_dir=index_dir, chroma_url=chroma_url)
    store = Store(settings, get_embedder(settings))
    t = time.perf_counter()
    store.sync_keywords()
    print(f"  keyword index built from the collection ({store.count_chunks()} chunks): {time.perf_counter() - t:.0f} s")
    return store


def run_scaled(store, cases: list[dict]) -> dict:
    from assistant.index.retrieve import Retriever

    retriever = Retriever(store, store.settings)
    from assistant.question.normalize import normalize_question

    clean, embed, dense, bm25, total = [], [], [], [], []
    for case in cases:
        t = time.perf_counter(); q = normalize_question(case["question"], store); clean.append(_ms(t))
        t = time.perf_counter(); vec = store.embedder.embed_query(q); embed.append(_ms(t))
        t = time.perf_counter(); store.dense_search(vec, 30); dense.append(_ms(t))
        t = time.perf_counter(); store.bm25_search(q, 30); bm25.append(_ms(t))
        t = time.perf_counter(); retriever.retrieve(q, k=8); total.append(_ms(t))
    # the whole answer as a user waits for it (retrieval, the answer model, verification), on the same collection
    from assistant.core import Assistant

    assistant = Assistant(store.settings)
    assistant.ask(cases[0]["question"])  # models loaded before timing
    asks, abstained = [], 0
    for case in cases:
        t = time.perf_counter(); answer = assistant.ask(case["question"]); asks.append(_ms(t))
        abstained += answer.abstained
    return {"chunks": store.count_chunks(), "queries": len(cases), "question_cleanup": lat(clean), "query_embedding": lat(embed), "dense_search": lat(dense),
            "bm25_search": lat(bm25), "hybrid_retrieve": lat(total), "ask": lat(asks), "ask_abstained": abstained}


def run_replicas(chroma_url: str, chroma_dir: Path, work: Path, chunks: int) -> dict:
    """Two `assistant serve` replicas on the scaled collection: each one's time to ready (its keyword index built
    from the collection), how long an upload on A takes to be found by keyword on B (and a removal to be gone),
    peak memory per replica, disk per million chunks."""
    import httpx

    sys.path.insert(0, str(REPO / "tests"))
    from servers import assistant_serve

    env = {"ASSISTANT_CHROMA_URL": chroma_url, "ASSISTANT_RATE_LIMIT": "0", "ASSISTANT_ANSWER_CACHE": "0"}
    out: dict = {}
    text = ("# Varnholt ferry\n\nThe Varnholt ferry of Quillby carried 7,213 passengers across the Wend in its "
            "first qorvane season.\n")
    question = {"question": "How many passengers did the qorvane Varnholt ferry carry?"}

    def found(url: str) -> bool:
        answer = httpx.post(url + "/api/ask", json=question, timeout=300).json()
        return any(c["source"] == "varnholt.md" and c.get("bm25_rank") for c in answer["contexts"])

    def until(url: str, want: bool) -> float:
        t = time.perf_counter()
        while found(url) != want:
            pass
        return time.perf_counter() - t

    ready = []
    with ExitStack() as stack:
        urls = []
        for name in ("a", "b"):
            (work / name).mkdir(parents=True, exist_ok=True)
            t = time.perf_counter()
            urls.append(stack.enter_context(assistant_serve(work / name / "index", env, timeout=3600)))
            ready.append(time.perf_counter() - t)
        a, b = urls
        out["ready_s"] = ready
        found(b)  # B has answered before the upload: what follows is its catching up, not its first start
        t = time.perf_counter()
        added = httpx.post(a + "/api/documents", files=[("file", ("varnholt.md", text.encode(), "text/markdown"))], timeout=600)
        out["upload_s"] = time.perf_counter() - t
        assert added.status_code == 201, added.text
        out["upload_to_keyword_on_b_s"] = until(b, True)
        doc = next(d for d in httpx.get(a + "/api/documents", timeout=60).json()["documents"] if d["source"] == "varnholt.md")
        t = time.perf_counter()
        httpx.delete(f"{a}/api/documents/{doc['id']}", timeout=600)
        out["removal_s"] = time.perf_counter() - t
        out["removal_to_gone_on_b_s"] = until(b, False)
        out["peak_rss_mb"] = [_peak_rss_mb(url) for url in urls]
    keyword_bytes = [sum(f.stat().st_size for f in (work / n / "index" / "keywords").rglob("*") if f.is_file()) for n in "ab"]
    chroma_bytes = sum(f.stat().st_size for f in chroma_dir.rglob("*") if f.is_file())
    out["disk_gb_per_million_chunks"] = {"chroma": chroma_bytes / chunks * 1e6 / 1e9,
                                         "keyword_index_per_replica": keyword_bytes[0] / chunks * 1e6 / 1e9}
    return out


def _peak_rss_mb(url: str) -> float:
    """VmHWM of the process listening on url's port (found through /proc)."""
    port = int(url.rsplit(":", 1)[1])
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if int(parts[1].split(":")[1], 16) == port and parts[3] == "0A":
            inode = parts[9]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]" for fd in os.listdir(f"/proc/{pid}/fd")):
                status = Path(f"/proc/{pid}/status").read_text()
                return int(next(x for x in status.splitlines() if x.startswith("VmHWM")).split()[1]) / 1024
        except OSError:
            continue
    return float("nan")


@contextmanager
def chroma_server(path: Path):
    """A `chroma run` on a free port, its data in path; yields its URL."""
    sys.path.insert(0, str(REPO / "tests"))
    from conftest import clean_env, free_port
    from processes import stop, wait_ready

    exe = Path(sys.executable).parent / "chroma"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    path.mkdir(parents=True, exist_ok=True)
    with open(path / "server.log", "wb") as log:
        proc = subprocess.Popen([str(exe), "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=clean_env())
        try:
            wait_ready(url + "/api/v2/heartbeat", proc, path / "server.log", timeout=120)
            yield url
        finally:
            stop(proc)


# -- report -----------------------------------------------------------------------------------------

def table(title: str, ranks: dict, times: dict | None = None) -> None:
    print(f"\n{title}")
    print(f"  {'arm':38s} {'n':>4s} {'hit@1':>6s} {'hit@5':>6s} {'MRR':>6s}" + ("   p50 ms   p95 ms" if times else ""))
    for arm, r in ranks.items():
        s = summarise(r)
        line = f"  {arm:38s} {s['n']:4d} {s['hit@1']:6.3f} {s['hit@5']:6.3f} {s['mrr']:6.3f}"
        if times and arm in times:
            line += f" {pct(times[arm], .5):8.1f} {pct(times[arm], .95):8.1f}"
        print(line)


def evaluate_set(name: str, assistant, arms: Arms, cases: list[dict], report: dict) -> None:
    single = [c for c in cases if not c.get("history")]
    answerable = [c for c in single if c.get("answerable", True)]
    kinds = defaultdict(list)
    for c in answerable:
        kinds[c.get("kind", "answerable")].append(c)
    ranks, times, extra = run_arms(arms, single)
    table(f"[{name}] single-turn answerable questions ({len(answerable)}), latency over all {len(single)} single-turn questions",
          ranks, times)
    mrr = {arm: summarise(r)["mrr"] for arm, r in ranks.items()}
    if ranks:
        beats = mrr["hybrid"] > mrr["dense"] and mrr["hybrid"] > mrr["bm25"]
        print(f"  hybrid MRR {mrr['hybrid']:.3f} vs dense {mrr['dense']:.3f} / BM25 {mrr['bm25']:.3f}: "
              f"target 'hybrid beats both' {'met' if beats else 'NOT met'}")
    by_kind = {}
    for kind, group in kinds.items():
        ids = {c["id"] for c in group}
        order = [c["id"] for c in answerable]
        kr = {arm: [r for cid, r in zip(order, rs) if cid in ids] for arm, rs in ranks.items()}
        table(f"[{name}] kind={kind}", {a: kr[a] for a in ("dense", "bm25", "hybrid") + tuple(k for k in kr if k.startswith("+"))})
        by_kind[kind] = {arm: summarise(r) for arm, r in kr.items()}
    # how separable answerable and unanswerable questions are by the best cross-encoder score (abstention signal)
    groups = defaultdict(list)
    for c in single:
        if c["id"] in extra["top_ce"]:
            groups[(c.get("kind") or "unanswerable") if not c.get("answerable", True) else "answerable"].append(extra["top_ce"][c["id"]])
    if groups:
        print(f"\n[{name}] best cross-encoder logit over the reranked candidates (median / min / max):")
        for g, vals in groups.items():
            print(f"  {g:14s} n={len(vals):3d}  median {statistics.median(vals):6.2f}  min {min(vals):6.2f}  max {max(vals):6.2f}")
    report[name] = {"arms": {arm: summarise(r) for arm, r in ranks.items()},
                    "latency": {arm: lat(t) for arm, t in times.items()}, "by_kind": by_kind,
                    "misses@5": extra["misses"], "top_ce_by_group": {g: sorted(v) for g, v in groups.items()}}
    followups = [c for c in cases if c.get("history") and c.get("answerable", True) and c.get("evidence_any")]
    if followups:
        fu = run_followups(assistant, arms, followups)
        print(f"\n[{name}] follow-ups ({len(followups)}): raw vs rewritten vs hand-written standalone")
        print(f"  {'query':12s} {'arm':8s} {'n':>4s} {'hit@1':>6s} {'hit@5':>6s} {'MRR':>6s}")
        for key, s in fu.items():
            if isinstance(s, dict) and "mrr" in s:
                label, arm = key.split("_")
                print(f"  {label:12s} {arm:8s} {s['n']:4d} {s['hit@1']:6.3f} {s['hit@5']:6.3f} {s['mrr']:6.3f}")
        raw, rew, std = (fu.get(f"{x}_hybrid", {}).get("mrr") for x in ("raw", "rewritten", "standalone"))
        if raw is not None and rew is not None:
            print(f"  rewritten/raw MRR (hybrid): {rew / raw if raw else float('inf'):.2f}x (target >= 1.5x)")
        if std:
            print(f"  rewritten/standalone MRR (hybrid): {rew / std:.2f}x (target >= 0.9x)")
        print(f"  rewrite latency p50 {fu['rewrite_latency']['p50_ms']:.1f} ms, p95 {fu['rewrite_latency']['p95_ms']:.1f} ms")
        bad = [r for r in fu["rows"] if (r.get("rewritten_hybrid") or 99) > 5]
        if bad:
            print("  follow-ups whose rewritten query misses the top 5 (hybrid):")
            for r in bad:
                print(f"    {r['id']}: {r['question']!r} -> {r['rewritten']!r}")
        report[name]["followups"] = fu


def print_scaled(res: dict, report: dict) -> None:
    print(f"\nretrieval latency with {res['chunks']} chunks ({res['queries']} queries, {report['machine']['cores']} cores):")
    for part in ("question_cleanup", "query_embedding", "dense_search", "bm25_search", "hybrid_retrieve", "ask"):
        print(f"  {part:16s} p50 {res[part]['p50_ms']:7.1f} ms  p95 {res[part]['p95_ms']:7.1f} ms")
    print(f"  (ask: the whole answer, {res['ask_abstained']} of {res['queries']} abstained; "
          f"load average {[round(x, 2) for x in os.getloadavg()]})")
    print(f"  target: hybrid p95 <= 150 ms -> {'met' if res['hybrid_retrieve']['p95_ms'] <= 150 else 'NOT met'}")
    print(f"  target: ask p50 <= 250 ms -> {'met' if res['ask']['p50_ms'] <= 250 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DATA / "wiki")
    parser.add_argument("--questions", type=Path, default=DATA / "wiki_questions.jsonl")
    parser.add_argument("--index", type=Path, help="index folder to (re)use; a temporary one by default")
    parser.add_argument("--seeds", action="store_true", help="also the seed articles with seeds_extra.jsonl and dev.jsonl")
    parser.add_argument("--rerank-depths", default="10,20", help="how many fused candidates the cross-encoder reorders")
    parser.add_argument("--scale", type=int, default=0, help="also measure retrieval latency with this many chunks (e.g. 100000)")
    parser.add_argument("--scale-index", type=Path, help="folder for the scaled index (reused when it holds enough chunks)")
    parser.add_argument("--scale-only", action="store_true", help="skip the quality runs (with --scale)")
    parser.add_argument("--replicas", action="store_true",
                        help="with --scale: build it on a `chroma run` server and measure two replicas on it")
    parser.add_argument("--scale-on", nargs=2, metavar=("CHROMA_URL", "CHROMA_DIR"),
                        help="with --replicas: measure on a collection already built on this `chroma run` (its --path "
                             "folder, for the disk figure) instead of building one")
    parser.add_argument("--json", type=Path, help="write every figure and miss here")
    args = parser.parse_args()

    from assistant.core import Assistant

    report: dict = {"machine": machine()}
    print("machine:", json.dumps(report["machine"]))
    tmp = Path(tempfile.mkdtemp(prefix="bench-retrieval-"))
    try:
        index = args.index or tmp / "wiki"
        assistant = Assistant(Settings.load(index_dir=index))
        t = time.perf_counter()
        summary = assistant.ingest([args.corpus])
        ingest_s = time.perf_counter() - t
        docs, chunks = assistant.store.documents.count(), assistant.store.count_chunks()
        print(f"corpus: {args.corpus} -> {docs} documents, {chunks} chunks; ingest {ingest_s:.1f} s "
              f"(added {summary.added}, unchanged {summary.unchanged})")
        report["corpus"] = {"path": str(args.corpus), "documents": docs, "chunks": chunks, "ingest_s": ingest_s}
        cases = load(args.questions)
        if not args.scale_only:
            arms = Arms(assistant, [int(x) for x in args.rerank_depths.split(",")])
            evaluate_set(args.questions.stem, assistant, arms, cases, report)

        if args.seeds and not args.scale_only:
            seeds_assistant = Assistant(Settings.load(index_dir=tmp / "seeds"))
            seeds_assistant.ingest([SHARED / "seeds"])
            seeds_arms = Arms(seeds_assistant, arms.depths)
            for path in (DATA / "seeds_extra.jsonl", SHARED / "eval" / "dev.jsonl"):
                if path.exists():
                    evaluate_set(path.stem, seeds_assistant, seeds_arms, load(path), report)

        if args.scale and args.replicas:
            with ExitStack() as stack:
                if args.scale_on:
                    url, chroma_dir = args.scale_on[0], Path(args.scale_on[1])
                    store = scaled_store(url, tmp / "scaled")
                else:
                    chroma_dir = tmp / "chroma"
                    url = stack.enter_context(chroma_server(chroma_dir))
                    store, build_s = build_scaled(assistant.store, args.scale, tmp / "scaled", chroma_url=url)
                    print(f"\nscaled collection on {url}: {store.count_chunks()} chunks built in {build_s:.0f} s")
                report["scaled"] = res = run_scaled(store, [c for c in cases if not c.get("history")])
                print_scaled(res, report)
                if args.json:  # kept if the replicas' part fails: the build alone can take half an hour
                    args.json.write_text(json.dumps(report, indent=1, default=str))
                del store
                report["replicas"] = rep = run_replicas(url, chroma_dir, tmp / "replicas", res["chunks"])
                print(f"\ntwo replicas on it: {json.dumps(rep, indent=1)}")
        elif args.scale:
            scale_dir = args.scale_index or tmp / "scaled"
            from assistant.index.embed import get_embedder
            from assistant.index.store import Store

            existing = None
            if scale_dir.exists():
                s = Settings.load(index_dir=scale_dir)
                existing = Store(s, get_embedder(s))
                if existing.count_chunks() < args.scale:
                    existing = None
                    shutil.rmtree(scale_dir)
            if existing is None:
                store, build_s = build_scaled(assistant.store, args.scale, scale_dir)
                print(f"\nscaled index: {store.count_chunks()} chunks built in {build_s:.0f} s")
            else:
                store = existing
            report["scaled"] = res = run_scaled(store, [c for c in cases if not c.get("history")])
            print_scaled(res, report)
        if args.json:
            args.json.write_text(json.dumps(report, indent=1, default=str))
            print(f"\nwrote {args.json}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
