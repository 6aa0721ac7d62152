"""Synthetic disfluent questions made from SQuAD 1.1 questions, each token labelled keep or delete.

Deleting the tokens labelled delete gives back the fluent question exactly. Kinds (the rules here only make
training data; the product's cleaner, assistant/question/disfluency.py, is the tagger learned from it):

- restart: an abandoned start (another question's first words or, a tenth of the time, all of it; a different
  wh-word with a word or two; or the question's own first words) + an editing phrase + the real question
  ("Which king or no make that what treaty ended the war?");
- correction: a name, number or word of the question first said wrong (another of the same article) + an
  editing phrase + the right one, the words before it sometimes said twice
  ("What did the Romans, no sorry, the Greeks use to keep time?");
- filler: uh, um, like, you know, well, so ... at the start or inside, with or without commas, and hedges inside
  ("kind of", "sort of", "I guess");
- repetition: a word or two said twice ("the the", "did the did the"), or a word broken off ("how lo- long");
- trailing: ", actually", "I mean", ", you know", or a question tag (", right", ", do you know") before the end;
- mixed: a correction or restart plus a filler;
- fluent: the question unchanged (over a quarter of them), so that the cleaner learns to leave "What does the
  word sorry mean?" or "Which countries have no army?" alone;
- aside: a question with a topic said first or a clarification after a comma, every word meant ("Beyonce, when
  was she born?", "when was it signed, what year"): a comma before a wh-word is not always a restart.

Every example may also be lowercased or lose its question mark, as typed questions do. The articles of
heldout_articles.txt make the reporting set, with some editing phrases that training never shows (UNSEEN_EDITS),
so that the figures say how the tagger does on wordings nobody here wrote.
"""
from __future__ import annotations

import gzip
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from assistant.question.disfluency import DELETE, KEEP, TOKEN, WH_WORDS
from training.squad import DATA_DIR, reader_title
from training.synthetic import STOPWORDS, values

HELDOUT_FILE = Path(__file__).resolve().parent / "heldout_articles.txt"

EDITS = ["no", "no wait", "wait", "wait no", "sorry", "no sorry", "sorry no", "I mean", "I meant", "or rather",
         "rather", "make that", "scratch that", "oops", "er", "uh", "um", "uh no", "um no", "let me rephrase",
         "let me rephrase that", "actually", "actually no", "hmm no", "correction", "no no", "or", "or no",
         "or no make that", "I'm sorry", "sorry I mean", "no I mean", "or wait", "hold on", "strike that",
         "my mistake", "uh I mean", "no actually", "I should say", "whoops", "excuse me", "no sorry I meant",
         "wait a second", "or should I say", "um actually", "err", "no no wait", "sorry, I mean", "ah no",
         "oh sorry", "no, make that", "uh, sorry", "well no", "I mean to say", "that is", "or, um"]
UNSEEN_EDITS = ["my bad", "I misspoke", "pardon me", "let me start over", "nope", "hang on", "I take that back",
                "no no no", "oh wait", "eh, sorry", "ugh, no", "no, hold on", "let me correct that", "I meant to ask"]
FILLERS = ["uh", "um", "umm", "uhh", "er", "erm", "hmm", "like", "you know", "I mean", "well", "so", "okay",
           "ok", "oh", "ah", "basically", "right", "let's see", "let me think", "eh"]
# hedges said inside a question ("what was the, kind of, main cause"): "kind of" and "sort of" are also meant in
# "What kind of engine ...", which AMBIGUOUS shows the tagger often, fluent
HEDGES = ["kind of", "sort of", "I guess", "I think", "like", "basically", "literally", "roughly"]
STARTERS = ["so", "well", "okay", "ok so", "um", "uh", "hmm", "so uh", "okay, so", "hey", "right so", "alright",
            "er", "well, um", "oh", "now", "tell me", "quick question"]
TRAILERS = ["actually", "I mean", "you know", "I guess", "I think", "then", "again", "though", "exactly"]
# a question tag or a plea said after the question ("..., right?", "..., do you know?")
TAGS = ["right", "do you know", "any idea", "if you know", "by any chance", "do you remember", "you think",
        "is that right", "please", "anyone"]
WH_STARTS = ["what", "who", "which", "when", "where", "why", "how", "how many", "how much", "in what", "what year",
             "in which", "what kind of", "whose", "is", "did", "was", "does"]
KINDS = {"fluent": 0.25, "aside": 0.06, "restart": 0.2, "correction": 0.2, "filler": 0.12, "repetition": 0.06,
         "trailing": 0.06, "mixed": 0.05}
UNCHANGED = ("fluent", "aside")  # kinds whose every word is meant: nothing to delete
# words that are fillers or editing phrases in one question and meant in another ("Which countries have no
# army?"): fluent questions holding them are shown more often, and some are made from CONTENT_USES
AMBIGUOUS = re.compile(r"\b(?:no|sorry|rather|mean|meant|like|well|so|wait|actually|okay|right|or|not|correction|"
                       r"oops|scratch|hold|excuse|pardon|er|um|uh|kind|sort|guess|think|know|please|more or less)\b", re.I)
CONTENT_USES = ["What does the word {e} mean?", "What does {e} mean in {name}?", "Why did {name} say {e}?",
                "Who said {e} to {name}?", "Why did {name} vote no on the {word}?", "Which {word} has no {word2}?",
                "Is there no {word} in {name}?", "Why was {name} sorry about the {word}?",
                "Would {name} rather keep the {word}?", "What did {name} like about the {word}?",
                "How well did {name} do in {number}?", "What did {name} mean by {word}?",
                "Why did {name} not wait for the {word}?", "Was the {word} right or wrong?",
                "Did {name} say no to the {word}?", "Why did {name} have no {word} in {number}?",
                "What is the {word} rather than the {word2}?", "Who wrote the song {E}?",
                "Is {word} a word like {word2}?", "Which {word} did {name} hold in {number}?",
                "Why was the answer no for {name}?", "How is the {word} of {name} so {word2}?",
                "What kind of {word} did {name} use?", "What sort of {word} was built in {number}?",
                "Which kind of {word} does {name} have?", "Do you know what {name} said about the {word}?",
                "What did {name} think of the {word}?", "Is the {word} right for {name}?",
                "Was the {word} more or less than {number}?", "Why did {name} say please?",
                "Is the {word} a natural right?"]
CONTENT_WORDS = ["no", "sorry", "rather", "wait", "actually", "okay", "well", "like", "oops", "mean", "so", "right",
                 "um", "uh", "er", "hmm"]
DASHES = ["-", "—", "–", "--"]


@dataclass
class Example:
    text: str  # the disfluent question as typed
    labels: list[int]  # one per assistant.question.disfluency.tokenize(text) token
    fluent: str  # what deleting the labelled tokens gives (the question as it was written, cased as typed)
    kind: str
    article: str


@dataclass
class Source:
    title: str
    questions: list[str]
    names: list[str]
    numbers: list[str]
    words: list[str]


def read_sources(data_dir: Path = DATA_DIR, keep: Callable[[str], bool] | None = None) -> list[Source]:
    """SQuAD 1.1's articles (those whose title keep() accepts): their questions, and the names, numbers and words
    a correction may wrongly say first."""
    with gzip.open(data_dir / "squad-1.1-train.json.gz", "rt", encoding="utf-8") as f:
        data = json.load(f)["data"]
    sources = []
    for article in data:
        if keep is not None and not keep(reader_title(article["title"])):
            continue
        questions = [qa["question"].strip() for p in article["paragraphs"] for qa in p["qas"]]
        questions = [q for q in questions if 3 <= len(q.split()) <= 30]
        found = values(*(p["context"] for p in article["paragraphs"]))
        words = sorted({w for q in questions for w in re.findall(r"\b[a-z]{4,}\b", q) if w not in STOPWORDS})
        sources.append(Source(reader_title(article["title"]), questions, sorted(found["name"]),
                              sorted(found["number"] | found["year"]), words))
    return sources


def read_heldout(path: Path = HELDOUT_FILE) -> set[str]:
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


# -- token pieces ----------------------------------------------------------------------------------------------
# A piece is (token, label, space before it). The fluent question's pieces keep its own spacing.

def pieces(text: str, label: int, first_space: bool = True) -> list[tuple[str, int, bool]]:
    out = []
    for k, m in enumerate(TOKEN.finditer(text)):
        space = first_space if k == 0 else text[m.start() - 1:m.start()].isspace()
        out.append((m.group(), label, space))
    return out


def editing(phrase: str, rng: random.Random, before_word: bool = True) -> list[tuple[str, int, bool]]:
    """An editing phrase between commas, dashes, dots or nothing, its first letter sometimes capitalised."""
    if rng.random() < 0.15:
        phrase = phrase[:1].upper() + phrase[1:]
    style = rng.random()
    if style < 0.4:
        open_, close = ",", rng.choice([",", ",", ""])
    elif style < 0.55:
        open_, close = rng.choice(DASHES), rng.choice(["", rng.choice(DASHES)])
    elif style < 0.62:
        open_, close = rng.choice(["...", "…"]), rng.choice(["", "..."])
    else:
        open_, close = "", rng.choice(["", "", ","])
    out = []
    if open_:
        out += pieces(open_, DELETE, first_space=open_ in DASHES and rng.random() < 0.6)
    out += pieces(phrase, DELETE)
    if close:
        out += pieces(close, DELETE, first_space=close in DASHES and rng.random() < 0.6)
    return out


def render(items: list[tuple[str, int, bool]]) -> str:
    return "".join((" " if space and k else "") + token for k, (token, _, space) in enumerate(items))


# -- kinds -----------------------------------------------------------------------------------------------------

def restart(q: list, source: Source, rng: random.Random, edits: list[str]) -> list | None:
    choice = rng.random()
    words = [t for t, _, _ in q]
    if choice < 0.4:
        other = rng.choice(source.questions)
        start = [t for t, _, _ in pieces(other, DELETE)]
        # mostly its first words; sometimes all of it, a whole question taken back ("Who wrote it, sorry, when ...")
        start = start[:-1] if choice < 0.1 and start[-1:] == ["?"] else start[: rng.randint(1, 5)]
        if [w.lower() for w in start] == [w.lower() for w in words[:len(start)]]:
            return None
    elif choice < 0.75:
        wh = rng.choice(WH_STARTS)
        extra = rng.sample(source.words, min(len(source.words), rng.randint(0, 2))) if source.words else []
        if rng.random() < 0.3 and source.names:
            extra = [rng.choice(source.names)]
        start = wh.split() + (["the"] if extra and rng.random() < 0.4 else []) + " ".join(extra).split()
        if words[0].lower() == start[0] and len(start) == 1:
            return None
    else:  # the question's own first words, given up on and said again
        start = words[: rng.randint(1, min(4, max(1, len(words) - 3)))]
    if not start:
        return None
    if rng.random() < 0.5:
        start[0] = start[0][:1].upper() + start[0][1:]
    abandoned = [(t, DELETE, True) for t in start]
    phrase = [] if rng.random() < 0.1 else editing(rng.choice(edits), rng)
    if not phrase:
        phrase = pieces(rng.choice([",", "-", "—", "..."]), DELETE, first_space=False)
    real = list(q)
    if rng.random() < 0.65 and real[0][0][:1].isupper() and not _is_name(real[0][0], words):
        real[0] = (real[0][0][:1].lower() + real[0][0][1:], KEEP, True)
    return abandoned + phrase + [(t, KEEP, True) if k == 0 else (t, KEEP, s) for k, (t, _, s) in enumerate(real)]


def _is_name(token: str, words: list[str]) -> bool:
    return token.lower() not in WH_WORDS and token.lower() not in STOPWORDS


def wrong_for(token: str, source: Source, rng: random.Random) -> str | None:
    """Another thing of the same sort from the article: a name for a name, a number for a number, a word with the
    same ending for a word."""
    bare = re.sub(r"['’]s$", "", token)
    suffix = token[len(bare):]
    if re.fullmatch(r"\d[\d,.]*", bare):
        pool = [n for n in source.numbers if n != bare]
        if not pool or rng.random() < 0.3:
            digits = int(re.sub(r"\D", "", bare)[:6] or 1)
            return str(max(0, digits + rng.choice([-10, -2, -1, 1, 2, 5, 10, 100])))
        return rng.choice(pool)
    if bare[:1].isupper():
        pool = [n for n in source.names if n.split()[-1] != bare and len(n.split()) <= 3]
        return rng.choice(pool) + suffix if pool else None
    pool = [w for w in source.words if w != bare.lower() and w[-2:] == bare[-2:]] or \
        [w for w in source.words if w != bare.lower()]
    return rng.choice(pool) if pool else None


def correction(q: list, source: Source, rng: random.Random, edits: list[str]) -> list | None:
    words = [t for t, _, _ in q]
    targets = [k for k, w in enumerate(words) if w[:1].isalnum() and k > 0 and
               (w[:1].isupper() or w[:1].isdigit() or (len(w) >= 4 and w.lower() not in STOPWORDS))]
    if not targets:
        return None
    # names and numbers are what people most often get wrong and take back
    strong = [k for k in targets if words[k][:1].isupper() or words[k][:1].isdigit()]
    t = rng.choice(strong) if strong and rng.random() < 0.65 else rng.choice(targets)
    wrong = wrong_for(words[t], source, rng)
    if not wrong or wrong.lower() == words[t].lower():
        return None
    back = rng.choice([0, 0, 0, 1, 1, 2])  # the repair says the words before the corrected one again
    s = max(0, t - back)
    if any(not words[k][:1].isalnum() for k in range(s, t)):
        s = t
    said = [(w, DELETE, True if k == 0 else q[s + k][2]) for k, w in enumerate(words[s:t])]
    said[:1] = [(said[0][0], DELETE, q[s][2])] if said else []
    reparandum = said + [(w, DELETE, True) for w in wrong.split()]
    if not said:
        reparandum[0] = (reparandum[0][0], DELETE, q[t][2])
    phrase = editing(rng.choice(edits), rng) if rng.random() < 0.9 else []
    repair = [(w, KEEP, True if k == 0 else sp) for k, (w, _, sp) in enumerate(q[s:t + 1])]
    rest = list(q[t + 1:])
    if phrase and phrase[0][0] == "," and rest and rest[0][0][:1].isalnum() and rng.random() < 0.35:
        repair.append((",", DELETE, False))  # "Newton's, uh Leibniz's, calculus": the aside closed by a comma
    return q[:s] + reparandum + phrase + repair + rest


def insert_filler(q: list, rng: random.Random) -> list:
    filler = rng.choice(HEDGES) if rng.random() < 0.35 else rng.choice(FILLERS)
    at = rng.randint(1, max(1, len(q) - 1))
    if not q[at - 1][0][:1].isalnum() and at < len(q) and not q[at][0][:1].isalnum():
        return q
    items = pieces(filler, DELETE)
    if rng.random() < 0.45:
        items = [(",", DELETE, False)] + items + ([(",", DELETE, False)] if rng.random() < 0.7 else [])
    elif rng.random() < 0.1:
        items = [("—", DELETE, True)] + items + [("—", DELETE, True)]
    return q[:at] + items + q[at:]


def starter(q: list, rng: random.Random) -> list:
    items = pieces(rng.choice(STARTERS), DELETE)
    items[0] = (items[0][0][:1].upper() + items[0][0][1:] if rng.random() < 0.6 else items[0][0], DELETE, True)
    if rng.random() < 0.6:
        items.append((",", DELETE, False))
    first = q[0]
    word = first[0]
    if rng.random() < 0.6 and word[:1].isupper() and word.lower() in WH_WORDS | {"is", "did", "was", "does", "in"}:
        word = word.lower()
    return items + [(word, KEEP, True)] + q[1:]


def repetition(q: list, rng: random.Random) -> list | None:
    spots = [k for k in range(len(q) - 1) if q[k][0][:1].isalnum()]
    if not spots:
        return None
    # people repeat short function words most ("the the", "of of"): half the repetitions are of those
    small = [k for k in spots if q[k][0].lower() in STOPWORDS]
    k = rng.choice(small) if small and rng.random() < 0.5 else rng.choice(spots)
    n = 2 if k + 1 < len(q) and q[k + 1][0][:1].isalnum() and rng.random() < 0.3 else 1
    said = [(t, DELETE, sp) for t, _, sp in q[k:k + n]]
    if n == 1 and len(q[k][0]) >= 4 and q[k][0].isalpha() and rng.random() < 0.35:
        # a word broken off and said again ("how lo- long"): its first letters and a dash
        said = [(q[k][0][:rng.randint(1, len(q[k][0]) // 2 + 1)], DELETE, q[k][2]), ("-", DELETE, False)]
    middle = pieces(rng.choice(["uh", "um", "I mean", ","]), DELETE, first_space=False) if rng.random() < 0.25 else []
    again = [(t, KEEP, True if j == 0 else sp) for j, (t, _, sp) in enumerate(q[k:k + n])]
    if middle and middle[0][0] != ",":
        middle[0] = (middle[0][0], DELETE, True)
    return q[:k] + said + middle + again + q[k + n:]


def trailing(q: list, rng: random.Random) -> list:
    end = len(q) - 1 if q and q[-1][0] in "?.!" else len(q)
    phrase = pieces(rng.choice(TAGS) if rng.random() < 0.33 else rng.choice(TRAILERS), DELETE)
    if rng.random() < 0.7:
        phrase = [(",", DELETE, False)] + phrase
    return q[:end] + phrase + q[end:]


ADDENDA = ["what year", "in what year", "which year", "the {word}", "the one with the {word}", "is it {name} or",
           "{name}", "roughly", "and where", "and why", "and when", "exactly", "the {word} one", "in {name}",
           "approximately", "or not", "if any"]


def aside(q: list, source: Source, rng: random.Random) -> list | None:
    """The question with a topic in front or a clarification after it, all of it meant."""
    words = [t for t, _, _ in q]
    if rng.random() < 0.5:
        names = [w for k, w in enumerate(words) if k > 0 and w[:1].isupper() and w.lower() not in STOPWORDS]
        topic = rng.choice(names) if names else (rng.choice(source.words) if source.words else None)
        if not topic:
            return None
        head = pieces(rng.choice(["{}", "{}", "about {}", "{} question"]).format(topic), KEEP)
        head[0] = (head[0][0], KEEP, False)
        first = q[0][0]
        opens = first.lower() in WH_WORDS | {"is", "did", "was", "does", "in"}
        if first[:1].isupper() and opens and rng.random() < 0.7:
            first = first.lower()
        return head + [(rng.choice([",", ",", ":", " -"]).strip(), KEEP, False)] + [(first, KEEP, True)] + q[1:]
    end = len(q) - 1 if q[-1][0] in "?.!" else len(q)
    name = rng.choice(source.names) if source.names else "it"
    word = rng.choice(source.words) if source.words else "one"
    added = pieces(rng.choice(ADDENDA).format(name=name, word=word), KEEP)
    return q[:end] + [(rng.choice([",", ",", "-", "—"]), KEEP, False)] + added + q[end:]


def make(question: str, source: Source, kind: str, rng: random.Random, edits: list[str] = EDITS) -> Example | None:
    q = pieces(question, KEEP, first_space=False)
    if len(q) < 3:
        return None
    if rng.random() < 0.2:  # typed in a hurry: all lower case, sometimes no question mark
        q = [(t.lower(), label, s) for t, label, s in q]
    if rng.random() < 0.15 and q[-1][0] == "?":
        q = q[:-1]
    out: list | None = q
    if kind == "restart":
        out = restart(q, source, rng, edits)
    elif kind == "correction":
        out = correction(q, source, rng, edits)
    elif kind == "filler":
        out = starter(q, rng) if rng.random() < 0.5 else insert_filler(q, rng)
    elif kind == "repetition":
        out = repetition(q, rng)
    elif kind == "trailing":
        out = trailing(q, rng)
    elif kind == "aside":
        out = aside(q, source, rng)
    elif kind == "mixed":
        out = restart(q, source, rng, edits) if rng.random() < 0.4 else correction(q, source, rng, edits)
        if out is not None:
            out = insert_filler(out, rng) if rng.random() < 0.5 else trailing(out, rng)
    if out is None:
        return None
    text = render(out)
    kept = [(t, label, s) for t, label, s in out if label == KEEP]
    fluent = render(kept)
    tokens = [m.group() for m in TOKEN.finditer(text)]
    if tokens != [t for t, _, _ in out]:
        return None  # a piece that tokenizes differently once joined ("10" + ",000"): skip rather than mislabel
    return Example(text, [label for _, label, _ in out], fluent, kind, source.title)


def content_use(source: Source, rng: random.Random) -> str | None:
    if not source.names or len(source.words) < 2:
        return None
    word, word2 = rng.sample(source.words, 2)
    e = rng.choice(CONTENT_WORDS)
    number = rng.choice(source.numbers) if source.numbers else "1900"
    return rng.choice(CONTENT_USES).format(e=e, E=e.title(), name=rng.choice(source.names), word=word, word2=word2,
                                           number=number)


def examples(sources: list[Source], per_question: float, seed: int, edits: list[str] = EDITS,
             limit: int | None = None) -> list[Example]:
    rng = random.Random(seed)
    kinds, weights = list(KINDS), list(KINDS.values())
    ambiguous = [(q, s) for s in sources for q in s.questions if AMBIGUOUS.search(q)]  # of these articles only
    out = []
    for source in sources:
        for question in source.questions:
            if rng.random() >= per_question:
                continue
            kind = rng.choices(kinds, weights)[0]
            if kind == "fluent" and rng.random() < 0.4:  # a fluent question that holds a word fillers use too
                if rng.random() < 0.5 and ambiguous:
                    question, source = rng.choice(ambiguous)
                else:
                    question = content_use(source, rng) or question
            made = make(question, source, kind, rng, edits)
            if made is not None:
                out.append(made)
    rng.shuffle(out)
    return out[:limit] if limit else out


def split_sources(sources: list[Source], heldout: set[str]) -> tuple[list[Source], list[Source]]:
    return [s for s in sources if s.title not in heldout], [s for s in sources if s.title in heldout]
