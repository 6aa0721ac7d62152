"""Namesakes (issue 22): a question whose name fits two things ("When was X founded?" where two documents are about
two different things called X) should give each answer with its own source. Target: every valid answer given for
>= 0.6 of the namesake questions.

Built from SQuAD 1.1 train (../shared/data/qa/squad-1.1-train.json.gz), the REPORTING half of bench/split.py only
(articles whose title squad_article_half() puts in "report"), by rule, with a fixed seed:

- frames: questions that name their article's subject X (the title, or the title without a trailing "(...)" or
  ", ...", capitalised as a name) and ask for a date, a number or a name; the question with X taken out is its
  frame, its wordings merged into one family where they ask the same thing (FAMILIES: "When was X founded?" and
  "In what year was X established?", "What is the population of X?" and "How many people live in X?", "Who
  founded X?" and "Who was the founder of X?"). A frame asked about two or more articles is reusable;
- a namesake case pairs two questions of one frame from two articles A and B with different answers (neither in
  the other's document, neither naming its subject). Document A is A's answering paragraph (after A's lead
  paragraph, unless --one-paragraph) under A's title ("Madonna (entertainer)", "Punjab, Pakistan"). Document B is
  B's answering paragraph (and lead) with B's name replaced by X, titled "X (B's title)" as a disambiguated title
  would be ("Madonna (John von Neumann)"). A's question is asked; both SQuAD answers are valid. Pairs are taken
  from each frame in turn, each article asked about once (a pair may also appear the other way round);
- a control case is the same pair with B left as it is (its own name and title): only A's answer is valid, and B's
  answer in the answer text is counted as wrongly added.

Each case is ingested into its own fresh index (a temporary folder; two .txt files, the title on the first line)
and asked once. A valid answer counts as given when one of its SQuAD strings (case-insensitive, spaces collapsed,
accents dropped) is in answer.text; "with own source" also needs a sentence holding it to cite its own document.
Reported per kind: all valid answers given (the target), all with their own sources, at least one given,
abstained, a disagreement listed (len(answer.disagreement) >= 2) and, for controls, B's answer wrongly added.
About 1.5 s a case on two cores (47 pairs, 94 cases, in under 3 minutes).

    python bench/namesakes.py --tiny                      # 3 cases per kind, about 20 s
    python bench/namesakes.py --limit 20 --json namesakes.json
    python bench/namesakes.py                             # every case built (--limit defaults to 60 per kind)

--json FILE: every case (question, documents' titles, valid answers, the answer text, what was given) and the
summary.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from assistant.config import Settings  # noqa: E402
from assistant.core import Assistant  # noqa: E402
from machine import machine  # noqa: E402
from split import squad_article_half  # noqa: E402
from training.squad import DATA_DIR, Article, Paragraph, Question, read_articles, reader_title  # noqa: E402

SQUAD_11 = DATA_DIR / "squad-1.1-train.json.gz"
SEED = 22
# questions for a date, a number or a name
OPENINGS = ("when ", "who ", "whom ", "how many ", "how much ", "how long ", "how old ", "how tall ", "how high ",
            "how large ", "how big ", "how far ", "what is the population of ", "what was the population of ")
YEAR = re.compile(r"^(?:in )?(?:what|which) year (was|were|did|does|is) ")
# Wordings of one frame: the first family whose pattern starts a question's template names its frame (what follows
# the pattern, "in 2011", stays part of the frame); a template no family takes is a frame of its own.
FAMILIES = [
    ("population", r"(?:what is|what was|what's) the (?:total |estimated |current )?population (?:size )?of x"
                   r"|what (?:is|was) x's (?:total |estimated |current )?population"
                   r"|how many (?:people|residents|inhabitants) (?:live|lived|are living|reside|resided|were living"
                   r"|were residing|are estimated to live) in x|how many (?:people|residents|inhabitants) does x have"
                   r"|how (?:big|large) is the population of x"),
    ("area", r"(?:what is|what's) the (?:total |land )?area of x(?: in square (?:miles|kilometers|kilometres))?"
             r"|what is x's (?:total |land )?area|how (?:large|big) is x(?: in (?:terms of )?square (?:miles"
             r"|kilometers|kilometres))?|how many square (?:miles|kilometers|kilometres) (?:is|does) x(?: cover"
             r"| have)?|how large in square (?:miles|kilometers|kilometres) is x"),
    ("founded", r"when (?:was|were) x (?:founded|established|formed|created|set up)"),
    ("incorporated", r"when (?:was|were) x incorporated"),
    ("built", r"when (?:was|were) x (?:built|constructed|completed|erected)"),
    ("opened", r"when did x open|when (?:was|were) x opened"),
    ("born", r"when was x born|what is x's (?:birth ?date|date of birth)|when is x's birthday"),
    ("birthplace", r"where was x born|(?:in )?what (?:city|town) was x born(?: in)?|what was x's birthplace"),
    ("died", r"when did x die|when was x's death"),
    ("capital", r"what is the (?:name of the )?capital (?:city )?of x|what is x's capital(?: city)?"
                r"|what city is (?:the )?capital of x"),
    ("largest city", r"what is the largest city (?:in|of) x|what is x's largest city"),
    ("official language", r"what (?:is|are) the official languages? of x|what (?:is|are) x's official languages?"),
    ("founder", r"who (?:founded|established|created|started) x|who (?:was|is) the founder of x"),
    ("mayor", r"who (?:is|was) the (?:current )?mayor of x|who is x's mayor"),
    ("mother", r"who (?:was|is) x's mother|who (?:was|is) the mother of x|what was (?:the name of )?x's mother"
               r"(?:'s name)?"),
    ("father", r"who (?:was|is) x's father|who (?:was|is) the father of x|what was (?:the name of )?x's father"
               r"(?:'s name)?"),
    ("spouse", r"who (?:was|is) x's (?:wife|husband|spouse)|who did x marry"),
    ("gdp", r"what (?:is|was) (?:the gdp of x|x's gdp)|how (?:big|large) is x's gdp"),
    ("location", r"where is x(?: located)?"),
    ("county", r"(?:in )?(?:what|which) county is x(?: located)?(?: in)?"),
    ("original name", r"what was (?:the )?(?:original|former|earlier) name of x|what was x's (?:original|former)"
                      r" name|what was x (?:originally|formerly|first) (?:called|named|known as)"),
    ("official name", r"what is (?:the )?official name of x|what is x's official name"),
    ("nickname", r"what (?:is|was) x's nickname|what (?:is|was) the nickname of x|what is x nicknamed"),
    ("employees", r"how many (?:people|employees) (?:work (?:at|for) x|does x employ)"
                  r"|how many employees does x have"),
    ("elevation", r"what is the elevation of x|how many (?:feet|meters|metres) above sea(?: level)? is x"),
]
FAMILY_PATTERNS = [(key, re.compile(rf"^(?:{pattern})(?![\w'])")) for key, pattern in FAMILIES]


def norm(text: str) -> str:
    """Lower case, spaces collapsed, accents dropped ("Tenochtitlán" gives "tenochtitlan")."""
    folded = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return " ".join(folded.lower().split())


def names(title: str) -> list[str]:
    """The forms of an article's title that name its subject, longest first: "Plymouth, Devon" -> also "Plymouth"."""
    forms = {title, re.sub(r"\s*\(.*\)\s*$", "", title), title.split(",")[0].strip()}
    return sorted((f for f in forms if len(f) >= 3), key=len, reverse=True)


def name_pattern(title: str) -> re.Pattern:
    """Any form of the title, with the "the" before it, as whole words."""
    alternatives = "|".join(re.escape(f) for f in names(title))
    return re.compile(rf"(?<!\w)(the\s+)?({alternatives})(?!\w)", re.IGNORECASE)


def frame(question: str, title: str) -> tuple[str, str] | None:
    """(the question's frame, the name as the question writes it), or None when it does not name its article's
    subject once or asks for neither a date, a number nor a name."""
    q = " ".join(question.strip().rstrip("?").split())
    found = list(name_pattern(title).finditer(q))
    if len(found) != 1:
        return None
    m = found[0]
    if not any(ch.isupper() for ch in m.group(2)):  # "When were antibiotics created?" names no one thing
        return None
    name = next(f for f in names(title) if norm(f) == norm(m.group(2)))  # as the title writes it
    template = norm(q[:m.start()] + "X" + q[m.end():])
    template = YEAR.sub(r"when \1 ", template)
    for key, pattern in FAMILY_PATTERNS:
        hit = pattern.match(template)
        if hit:
            rest = template[hit.end():].strip()
            return (f"{key}: {rest}" if rest else key), name
    if not template.startswith(OPENINGS) or len(template.split()) < 3:
        return None
    return template, name


@dataclass
class Entry:
    article: Article
    paragraph: Paragraph
    question: Question
    name: str  # the subject's name as the question writes it


def documents_text(article: Article, paragraph: Paragraph, lead: bool) -> str:
    first = article.paragraphs[0]
    parts = [first.context, paragraph.context] if lead and first is not paragraph else [paragraph.context]
    return "\n\n".join(" ".join(p.split()) for p in parts)


def renamed(text: str, title: str, name: str, with_the: bool) -> tuple[str, int]:
    """text with every form of title (and its "the") replaced by name ("the name" when the question says so)."""
    def swap(m: re.Match) -> str:
        at_start = m.group(0)[0].isupper() and (m.start() == 0 or text[max(0, m.start() - 2):m.start()].strip()
                                                 in ("", ".", "\n"))
        if with_the:
            return ("The " if at_start else "the ") + name
        return name
    return name_pattern(title).subn(swap, text)


def holds(text: str, answers: list[str]) -> bool:
    t = norm(text)
    return any(norm(a).strip("\"'.,; ") in t for a in answers if a.strip("\"'.,; "))


def load_entries() -> tuple[dict[str, list[Entry]], int]:
    """Per frame asked about two or more articles, one entry per article; and how many questions fit a frame."""
    with gzip.open(SQUAD_11, "rt", encoding="utf-8") as f:
        squad11 = {reader_title(a["title"]) for a in json.load(f)["data"]}
    articles = read_articles(keep=lambda t: t in squad11 and squad_article_half(t) == "report")
    by_frame: dict[str, dict[str, Entry]] = {}
    fitting = 0
    for article in articles:
        for paragraph in article.paragraphs:
            for question in paragraph.questions:
                if not question.answers or question.kind != "answerable":
                    continue
                found = frame(question.text, article.title)
                if found:
                    fitting += 1
                    by_frame.setdefault(found[0], {}).setdefault(
                        article.title, Entry(article, paragraph, question, found[1]))
    reusable = {f: list(per_article.values()) for f, per_article in by_frame.items() if len(per_article) >= 2}
    return reusable, fitting


def build_cases(frames: dict[str, list[Entry]], limit: int, lead: bool, seed: int = SEED) -> list[dict]:
    """Up to `limit` pairs (A, B), taken from each frame in turn, each article A asked about once; each pair gives a
    namesake case and its control."""
    rng = random.Random(seed)
    queues = []
    for key in sorted(frames):
        entries = frames[key]
        pairs = [(a, b) for a in entries for b in entries if a is not b]
        rng.shuffle(pairs)
        queues.append((key, pairs))
    rng.shuffle(queues)
    used_a: set[str] = set()
    chosen: list[tuple[str, Entry, Entry]] = []
    while len(chosen) < limit and any(pairs for _, pairs in queues):
        for key, pairs in queues:
            while pairs:
                a, b = pairs.pop()
                if a.article.title not in used_a and pair_ok(a, b, lead):
                    used_a.add(a.article.title)
                    chosen.append((key, a, b))
                    break
            if len(chosen) >= limit:
                break
    cases = []
    for i, (key, a, b) in enumerate(chosen):
        with_the = bool(re.search(rf"\bthe\s+{re.escape(a.name)}", a.question.text, re.IGNORECASE))
        text_a = documents_text(a.article, a.paragraph, lead)
        text_b = documents_text(b.article, b.paragraph, lead)
        common = {"frame": key, "question": a.question.text, "article_a": a.article.title,
                  "article_b": b.article.title, "answers_a": a.question.answers, "answers_b": b.question.answers,
                  "doc_a": {"title": a.article.title, "text": text_a}}
        cases.append({**common, "id": f"namesake-{i}", "kind": "namesake",
                      "doc_b": {"title": f"{a.name} ({b.article.title})",
                                "text": renamed(text_b, b.article.title, a.name, with_the)[0]}})
        cases.append({**common, "id": f"control-{i}", "kind": "control",
                      "doc_b": {"title": b.article.title, "text": text_b}})
    return cases


def pair_ok(a: Entry, b: Entry, lead: bool) -> bool:
    """Different subjects and answers, neither answer in the other's document, neither name in the other's text,
    B's answer still there (and still B's) once B is renamed."""
    if a.article.title == b.article.title or {norm(n) for n in names(a.article.title)} & {norm(n) for n in names(
            b.article.title)}:
        return False
    text_a = documents_text(a.article, a.paragraph, lead)
    text_b = documents_text(b.article, b.paragraph, lead)
    if holds(text_a, b.question.answers) or holds(text_b, a.question.answers):
        return False
    if name_pattern(a.article.title).search(text_b) or name_pattern(b.article.title).search(text_a):
        return False
    if any(name_pattern(e.article.title).search(x) for e in (a, b) for x in e.question.answers):
        return False
    new_b, count = renamed(text_b, b.article.title, a.name, False)
    return count > 0 and holds(new_b, b.question.answers) and not holds(new_b, a.question.answers)


def given_with_source(answer, answers: list[str], source_name: str) -> bool:
    """A sentence of the answer holds one of the strings and cites the document named source_name."""
    by_marker = {c.marker: Path(c.source).name for c in answer.citations}
    return any(holds(s.body, answers) and source_name in {by_marker.get(m) for m in s.citations}
               for s in answer.sentences)


def run_case(case: dict, order: list[str]) -> dict:
    """Ingest the case's two documents into a fresh index and ask its question."""
    with tempfile.TemporaryDirectory(prefix="namesakes-") as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        files = {}
        for n, which in enumerate(order, 1):  # neutral file names, in a random order
            doc = case[f"doc_{which}"]
            files[which] = f"{n}.txt"
            (docs / files[which]).write_text(f"{doc['title']}\n\n{doc['text']}\n", encoding="utf-8")
        assistant = Assistant(Settings.load(index_dir=Path(tmp) / "index"))
        assistant.ingest([docs])
        t0 = time.perf_counter()
        answer = assistant.ask(case["question"])
        latency = (time.perf_counter() - t0) * 1000
    text = answer.text
    given_a, given_b = holds(text, case["answers_a"]), holds(text, case["answers_b"])
    own_a = given_with_source(answer, case["answers_a"], files["a"])
    own_b = given_with_source(answer, case["answers_b"], files["b"])
    if case["kind"] == "namesake":
        all_given, all_own, any_given = given_a and given_b, own_a and own_b, given_a or given_b
    else:
        all_given, all_own, any_given = given_a, own_a, given_a
    return {"id": case["id"], "kind": case["kind"], "frame": case["frame"], "question": case["question"],
            "titles": [case["doc_a"]["title"], case["doc_b"]["title"]],
            "answers_a": case["answers_a"], "answers_b": case["answers_b"], "answer": text,
            "abstained": answer.abstained, "given_a": given_a, "given_b": given_b, "all_given": all_given,
            "all_given_own_source": all_own, "any_given": any_given,
            "disagreement": [{"values": d.get("values"), "title": d.get("title")} for d in answer.disagreement],
            "disagreement_listed": len(answer.disagreement) >= 2,
            "b_wrongly_added": case["kind"] == "control" and given_b, "latency_ms": round(latency, 1)}


def summary(results: list[dict]) -> dict[str, dict]:
    table = {}
    for kind in ("namesake", "control"):
        rows = [r for r in results if r["kind"] == kind]
        if not rows:
            continue
        share = lambda key: round(sum(bool(r[key]) for r in rows) / len(rows), 3)  # noqa: E731
        table[kind] = {"cases": len(rows), "all_given": share("all_given"),
                       "all_given_own_source": share("all_given_own_source"), "any_given": share("any_given"),
                       "abstained": share("abstained"), "disagreement_listed": share("disagreement_listed")}
        if kind == "control":
            table[kind]["b_wrongly_added"] = share("b_wrongly_added")
        else:
            table[kind]["target_all_given"] = 0.6
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=60, help="cases per kind (namesake, control); default 60")
    parser.add_argument("--tiny", action="store_true", help="3 cases per kind")
    parser.add_argument("--one-paragraph", action="store_true", help="documents without their article's lead")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", type=Path, help="write every case's outcome and the summary here")
    args = parser.parse_args()
    limit = 3 if args.tiny else args.limit
    started = time.perf_counter()
    print(json.dumps({"machine": machine()}), flush=True)
    frames, fitting = load_entries()
    cases = build_cases(frames, limit, lead=not args.one_paragraph, seed=args.seed)
    print(json.dumps({"half": "report", "questions_fitting_a_frame": fitting, "reusable_frames": len(frames),
                      "articles_in_frames": len({e.article.title for v in frames.values() for e in v}),
                      "pairs": len(cases) // 2, "cases": len(cases)}), flush=True)
    rng = random.Random(args.seed)
    results = []
    for case in cases:
        order = ["a", "b"]
        rng.shuffle(order)
        r = run_case(case, order)
        results.append(r)
        print(json.dumps({k: r[k] for k in ("id", "all_given", "any_given", "abstained", "disagreement_listed",
                                            "b_wrongly_added", "latency_ms")}), flush=True)
    table = summary(results)
    total = round(time.perf_counter() - started, 1)
    for kind, row in table.items():
        print(json.dumps({kind: row}))
    print(json.dumps({"total_s": total}))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "summary": table, "total_s": total,
                                         "cases": results}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
