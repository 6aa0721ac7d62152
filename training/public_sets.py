"""Question sets of seven kinds over a collection of SQuAD articles, for bench/public.py and the fits of training/.

Writes, into --out (bench/data/public/ by default):
- articles/*.txt: the collection, one SQuAD article a file (title on the first line, paragraphs separated by blank
  lines, as in bench/data/wiki/);
- questions.jsonl: cases in the shape of shared/eval/FORMAT.md, plus `kind`, `standalone` (what a follow-up or a
  messy question means on its own) and `near` (the article an unanswerable question is about).

Kinds:
- fluent: answerable SQuAD 1.1 questions as written;
- followup: a later question of a conversation (training/conversations.py) that leans on the turn before it
  ("When did he leave?"), with `history` = the earlier user turns; topic_change: the first question of a thread
  about another article, self-contained, asked after a thread about the first one (both articles on the same half);
- disfluent: a SQuAD question made messy (training/disfluent.py);
- restart_followup: a question taken back and restarted as its follow-up, which leans on what was taken back
  ("When was the Royal Society founded, no sorry, who founded it?"): a thread's question as written, an editing
  phrase, then the next question of the thread as a follow-up of it (training/conversations.py), with or without an
  unrelated question of another article before it in the chat;
- adversarial: real SQuAD 2.0 unanswerable questions, written to look answerable from an article of the collection;
- unanswerable: SQuAD questions about articles that are NOT in the collection, kept only where they name something
  (a name, a year, a number) the collection never mentions and no answer string of theirs occurs anywhere in it.

Articles: the held-out articles of training/heldout_articles.txt (never trained on by training/; the shipped model
saw them, see bench/data/public/README.md). Every case carries the article it is about, so bench/split.py puts all
the questions of one article on the same half.

usage: python -m training.public_sets [--tiny] [--out DIR] [--per-kind N] [--answerable-articles N]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from split import half  # noqa: E402
from training.conversations import thread  # noqa: E402
from training.disfluent import EDITS, lower_first, disfluent  # noqa: E402
from training.pairs import read_heldout  # noqa: E402
from training.squad import Article, read_articles  # noqa: E402
from training.synthetic import values  # noqa: E402

OUT = ROOT / "bench" / "data" / "public"
# SQuAD 2.0 dev articles held out from training/ (their answerable questions are not in ../shared/data/qa)
DEV_ADVERSARIAL = ("Construction", "Geology", "Jacksonville, Florida", "Oxygen", "Prime number", "Southern California",
                   "University of Chicago")
TINY_ANSWERABLE = ("Spectre (2015 film)", "YouTube", "Xbox 360")  # two on one half: a topic change
TINY_ADVERSARIAL = ("Prime number",)
TINY_FOREIGN = ("Software testing",)


def file_name(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "_", ascii_title).strip("_") + ".txt"


def article_text(article: Article) -> str:
    paragraphs = [" ".join(p.context.split()) for p in article.paragraphs]
    return article.title + "\n\n" + "\n\n".join(paragraphs) + "\n"


def side(title: str) -> str:
    return half({"id": title, "sources": [file_name(title)]})


def evidence(paragraph, answers: list[str]) -> list[str]:
    return [" ".join(s.split()) for s in paragraph.sentences if any(a in s for a in answers)]


def answerable_case(case_id: str, kind: str, article: Article, paragraph, question: str, answers: list[str],
                    **extra) -> dict:
    return {"id": case_id, "kind": kind, "question": question, "answerable": True, "answer_any": sorted(set(answers)),
            "evidence_any": evidence(paragraph, answers), "sources": [file_name(article.title)], **extra}


def questions_of(article: Article) -> list[tuple[int, object]]:
    return [(i, q) for i, p in enumerate(article.paragraphs) for q in p.questions if q.answers]


def spread(per_article: dict[str, list], total: int, rng: random.Random) -> list:
    """`total` items, half from the articles of each half of bench/split.py (so both halves have enough of every
    kind), taken round-robin over those articles (each list shuffled), so every article counts."""
    taken: list = []
    for which in ("tune", "report"):
        pools = {t: rng.sample(items, len(items)) for t, items in sorted(per_article.items()) if side(t) == which}
        wanted = len(taken) + (total + 1) // 2 if which == "tune" else total
        while len(taken) < wanted and any(pools.values()):
            for t in pools:
                if pools[t] and len(taken) < wanted:
                    taken.append(pools[t].pop())
    return taken


def fluent_and_disfluent(articles: list[Article], per_kind: int, rng: random.Random, used: set[str]) -> list[dict]:
    """Two disjoint samples of answerable questions: one as written, one made messy."""
    pools = {a.title: [(a, i, q) for i, q in questions_of(a) if q.text.strip() not in used] for a in articles}
    picked = spread(pools, 2 * per_kind, rng)
    cases = []
    for n, (article, i, q) in enumerate(picked):
        paragraph = article.paragraphs[i]
        text = q.text.strip()
        if n % 2 == 0:
            cases.append(answerable_case(f"pub-fluent-{n // 2:04d}", "fluent", article, paragraph, text, q.answers))
        else:
            messy, how = disfluent(text, paragraph.context, q.answers, rng)
            cases.append(answerable_case(f"pub-disfluent-{n // 2:04d}", "disfluent", article, paragraph, messy,
                                         q.answers, standalone=text, disfluency=how))
    return cases


def conversation_cases(articles: list[Article], followups: int, topic_changes: int, rng: random.Random,
                       used: set[str]) -> list[dict]:
    """Conversations of one or two threads: the turns that lean on the one before (followup) and the first turn of a
    second thread about another article of the same half (topic_change) become cases; every case's history is the
    user turns before it, as typed."""
    by_side: dict[str, list[Article]] = {}
    for a in articles:
        by_side.setdefault(side(a.title), []).append(a)
    cases: list[dict] = []
    counts = Counter()
    per_article = Counter()
    cap = max(2, (followups + topic_changes) // max(1, len(articles)) + 2)
    attempts = 0
    while (counts["followup"] < followups or counts["topic_change"] < topic_changes) and attempts < 20000:
        attempts += 1
        first = rng.choice(articles)
        if per_article[first.title] >= cap:
            continue
        paragraph = rng.randrange(len(first.paragraphs))
        turns = thread(first, paragraph, rng, max_turns=rng.randint(2, 4))
        if len(turns) < 2:
            continue
        peers = [a for a in by_side[side(first.title)] if a.title != first.title]
        second = rng.choice(peers) if peers and counts["topic_change"] < topic_changes and rng.random() < 0.6 else None
        if second:
            more = thread(second, rng.randrange(len(second.paragraphs)), rng, max_turns=rng.randint(1, 3))
            if more:
                more[0].topic_change = True
                turns += more
        if not any(t.how for t in turns) and not any(t.topic_change for t in turns):
            continue
        conv = len({c["conversation"] for c in cases})
        for k, turn in enumerate(turns[1:], 1):
            kind = "topic_change" if turn.topic_change else "followup" if turn.how else None
            if kind is None or counts[kind] >= (topic_changes if kind == "topic_change" else followups):
                continue
            article = first if turn.article == first.title else second
            counts[kind] += 1
            per_article[article.title] += 1
            used.add(turn.standalone)
            cases.append(answerable_case(
                f"pub-{kind}-{counts[kind] - 1:04d}", kind, article, article.paragraphs[turn.paragraph], turn.question,
                turn.answers, history=[t.question for t in turns[:k]], standalone=turn.standalone,
                conversation=f"conv-{conv:04d}", **({"refers": turn.refers, "how": turn.how, "referent": turn.referent}
                                                    if turn.how else {})))
    return cases


def restart_followup_cases(articles: list[Article], count: int, rng: random.Random, used: set[str]) -> list[dict]:
    """A thread's question said and taken back, then the next question of the thread as a follow-up of it (its
    phrase left to the question taken back, not to an answer): "{question}, {editing phrase} {follow-up}". Half of
    them come after an unrelated question of another article of the same half, so that what was taken back, not the
    turn before, is what the follow-up leans on."""
    pools: dict[str, list] = {}
    for article in articles:
        for index, paragraph in enumerate(article.paragraphs):
            turns = thread(article, index, rng, max_turns=5)
            for before, turn in zip(turns, turns[1:]):
                if turn.how and turn.referent == "question" and turn.standalone not in used:
                    pools.setdefault(article.title, []).append((article, paragraph, before, turn))
    firsts = {a.title: q.text.strip() for a in articles for _, q in questions_of(a)[:1]}
    cases = []
    for n, (article, paragraph, before, turn) in enumerate(spread(pools, count, rng)):
        said = f"{before.standalone.strip().rstrip('?').rstrip()}, {rng.choice(EDITS)} {lower_first(turn.question)}"
        others = sorted(t for t in firsts if t != article.title and side(t) == side(article.title))
        history = [firsts[rng.choice(others)]] if others and rng.random() < 0.5 else []
        cases.append(answerable_case(f"pub-restart_followup-{n:04d}", "restart_followup", article, paragraph, said,
                                     turn.answers, history=history, standalone=turn.standalone, refers=turn.refers,
                                     how=turn.how, abandoned=before.standalone))
    return cases


def adversarial_cases(articles: list[Article], count: int, rng: random.Random) -> list[dict]:
    pools = {a.title: [(a, p, q) for p in a.paragraphs for q in p.questions if q.kind == "unanswerable"] for a in articles}
    return [{"id": f"pub-adversarial-{n:04d}", "kind": "adversarial", "question": q.text.strip(), "answerable": False,
             "near": file_name(a.title), **({"plausible": q.plausible} if q.plausible else {})}
            for n, (a, p, q) in enumerate(spread({t: v for t, v in pools.items() if v}, count, rng))]


def unanswerable_cases(foreign: list[Article], collection_text: str, count: int, rng: random.Random) -> list[dict]:
    """Questions about articles left out of the collection, whose answers the collection never states."""
    text = " ".join(collection_text.lower().split())

    def mentioned(phrase: str) -> bool:
        return re.search(rf"(?<!\w){re.escape(' '.join(phrase.lower().split()))}(?!\w)", text) is not None

    def about_something_else(q) -> bool:
        """It names something the collection never mentions, and no answer of it occurs there ("What was the new
        army called?" names nothing and could be asked of any history article)."""
        names = set().union(*values(q.text).values())
        return any(not mentioned(n) for n in names) and not any(mentioned(x) for x in q.answers)

    pools = {a.title: [(a, q) for _, q in questions_of(a) if about_something_else(q)] for a in foreign}
    return [{"id": f"pub-unanswerable-{n:04d}", "kind": "unanswerable", "question": q.text.strip(), "answerable": False,
             "near": file_name(a.title)}  # a file NOT in articles/: the article it was written about
            for n, (a, q) in enumerate(spread(pools, count, rng))]


def choose_articles(tiny: bool, answerable_count: int) -> tuple[list[Article], list[Article], list[Article]]:
    """(answerable articles, adversarial-only articles, articles left out for plain unanswerable questions)."""
    if tiny:
        wanted = set(TINY_ANSWERABLE + TINY_ADVERSARIAL + TINY_FOREIGN)
        articles = {a.title: a for a in read_articles(keep=wanted.__contains__)}
        return ([articles[t] for t in TINY_ANSWERABLE], [articles[t] for t in TINY_ADVERSARIAL],
                [articles[t] for t in TINY_FOREIGN])
    heldout = read_heldout()
    articles = {a.title: a for a in read_articles(keep=heldout.__contains__)}
    with_answers = sorted((a for a in articles.values() if questions_of(a)), key=lambda a: len(article_text(a)))
    answerable = with_answers[:answerable_count]  # the shortest: the collection ingests in minutes on 2 cores
    return answerable, [articles[t] for t in DEV_ADVERSARIAL], with_answers[answerable_count:]


def build(out: Path, tiny: bool, per_kind: int, answerable_count: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    answerable, adversarial_only, foreign = choose_articles(tiny, answerable_count)
    collection = answerable + adversarial_only
    folder = out / "articles"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt"):
        old.unlink()
    for a in collection:
        (folder / file_name(a.title)).write_text(article_text(a), encoding="utf-8")
    used: set[str] = set()
    cases = conversation_cases(answerable, per_kind, per_kind // 2, rng, used)
    cases += fluent_and_disfluent(answerable, per_kind, rng, used)
    cases += adversarial_cases(collection, per_kind, rng)
    cases += unanswerable_cases(foreign, "\n".join(article_text(a) for a in collection), per_kind, rng)
    # a kind added later draws from its own generator: the cases of the kinds above stay as they were
    cases += restart_followup_cases(answerable, per_kind // 2, random.Random(seed + 1), used)
    with open(out / "questions.jsonl", "w", encoding="utf-8") as f:
        for case in cases:
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--tiny", action="store_true", help="5 articles, a few cases a kind (use with --out)")
    parser.add_argument("--per-kind", type=int, default=300, help="cases of each kind (topic changes: half as many)")
    parser.add_argument("--answerable-articles", type=int, default=26)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cases = build(args.out, args.tiny, 6 if args.tiny else args.per_kind, args.answerable_articles, args.seed)
    kinds = Counter((c["kind"], half(c)) for c in cases)
    print(f"{len(cases)} cases written to {args.out / 'questions.jsonl'}; "
          f"{len(list((args.out / 'articles').glob('*.txt')))} articles in {args.out / 'articles'}")
    for kind in ("fluent", "followup", "topic_change", "disfluent", "adversarial", "unanswerable", "restart_followup"):
        print(f"  {kind:<13} tune {kinds[(kind, 'tune')]:>4}  report {kinds[(kind, 'report')]:>4}")


if __name__ == "__main__":
    main()
