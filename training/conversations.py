"""Multi-turn conversations made from SQuAD: the questions of a paragraph asked in order, later ones leaning on the
earlier turns as people write them, and topic changes to another article.

A SQuAD paragraph has about five questions written one after the other by one person; many name the same subject
("When did Chopin leave Warsaw?", "Where did Chopin settle?"). Asked in a chat, the later ones would not repeat it:
"Where did he settle?", "What about his father?", "And in 1830?". Each later question here is rewritten that way
when it shares a subject with the turn before it (its standalone wording, or the answer of that turn):

- pronoun: the shared phrase becomes he/she/it/they (him/her/them after a verb or preposition);
- possessive: "Chopin's teacher" / "the teacher of Chopin" -> "his teacher";
- there: "in Warsaw" -> "there";
- drop: a trailing "in/of/for/at ... Warsaw" is left out ("What is the largest city?");
- ellipsis: a question that repeats the last one but for a few words becomes "And in 1990?" / "What about Korea?".

Every turn keeps its original `standalone` question, the phrase it leaves to the history (`refers`) and how
(`how`), so a model can learn whether and how a question depends on the conversation. A topic change starts a run
of another article's paragraph: that turn is self-contained and must be answered as if asked alone.

These rules only generate data (training and evaluation conversations); the product never runs them.

usage: python -m training.conversations [--tiny] [--out FILE] [--conversations N] [--heldout]
  writes one conversation a line (JSON: {"turns": [...]}) from the articles NOT in heldout_articles.txt (--heldout:
  only those), so that a model trained on them can be evaluated on the held-out ones (training/public_sets.py).
"""
from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from training.squad import Article, Paragraph, Question, read_articles

AUXILIARY = ("did", "does", "do", "was", "is", "were", "are", "has", "have", "had", "can", "could", "will", "would",
             "should", "might", "may")
PREPOSITIONS = ("in", "of", "for", "at", "on", "about", "during", "from", "to", "by", "with", "under", "into", "than")
CONJUNCTIONS = ("and", "or", "but", "when", "where", "that", "which", "who", "after", "before", "since", "while", "if",
                "as", "because", "so", "than")
WH = ("what", "which", "who", "whom", "whose", "when", "where", "why", "how")
# a capitalised run, "of"/"the"/"de" allowed inside ("University of Notre Dame")
NAME = re.compile(r"\b[A-Z][\w'’\-.]*(?:\s+(?:(?:of|the|de|and|du|von|van)\s+)*[A-Z0-9][\w'’\-.]*)*")
THE_PHRASE = re.compile(r"\bthe ((?:[a-z][a-z\-]+ ){0,2}[a-z][a-z\-]+)")
PRONOUNS = {  # subject, object, possessive
    "he": ("he", "him", "his"), "she": ("she", "her", "her"), "it": ("it", "it", "its"), "they": ("they", "them", "their")}
ELLIPSIS_OPENERS = ("And {}?", "What about {}?", "How about {}?", "And {} then?", "What about {} instead?")
STOP = {"the", "a", "an", "what", "which", "who", "when", "where", "how", "why", "is", "was", "did", "does", "do",
        "in", "of", "and", "or", "to", "for", "on", "at", "by", "with", "from", "that", "this", "as", "be", "are",
        "were", "has", "have", "had", "it", "its", "name", "one", "many", "much", "year", "type", "kind", "part",
        "number", "first", "other", "most", "same", "time", "some"}


@dataclass
class Turn:
    question: str  # as the user types it in the chat
    standalone: str  # the SQuAD question: what `question` means in its conversation
    answers: list[str]
    article: str
    paragraph: int
    refers: str | None = None  # the phrase of `standalone` that `question` leaves to the history; None: self-contained
    how: str | None = None  # pronoun | possessive | there | drop | ellipsis
    referent: str | None = None  # question: named by the last turn's question; answer: it is the last turn's answer
    topic_change: bool = False  # the first turn about another article than the turn before


INSTITUTION = re.compile(r"\b(?:Union|University|College|Church|Society|Republic|Company|Party|Army|War|Court|Council|"
                         r"Empire|Kingdom|States|Pact|Treaty|Act|Convention|Valley|River|City|Street|Museum|Bank)\b")
VERBS = {"use", "play", "found", "defeat", "marry", "visit", "lead", "join", "leave", "beat", "meet", "see", "call", "name",
         "replace", "win", "become", "succeed", "influence", "support", "attack", "own", "buy", "sell", "build", "invade",
         "rule", "describe", "consider", "make", "help", "follow", "take", "give", "hold", "reach", "enter", "like"}


def pronoun_of(phrase: str, article_text: str) -> str:
    """he/she/it/they for a phrase: plural by its last word; a person where the sentences after those naming it
    start with he/his or she/her far more than with it/they, and the article rarely puts it after "in"/"at"."""
    last = phrase.split()[-1]
    if phrase[0].islower():
        return "they" if re.fullmatch(r"[a-z\-]*[^su]s", last) else "it"
    if len(phrase.split()) == 1 and re.fullmatch(r"\w+(?:ans|[A-Z]s)", last):
        return "they"
    if INSTITUTION.search(phrase):
        return "it"
    counts = {"he": 0, "she": 0, "it": 0}
    sentences = re.split(r"(?<=[.!?])\s+", article_text)
    for sentence, after in zip(sentences, sentences[1:]):
        if last in sentence:
            for word in re.findall(r"[a-z]+", after.lower())[:3]:
                pronoun = {"he": "he", "his": "he", "him": "he", "she": "she", "her": "she", "it": "it", "its": "it",
                           "they": "it", "their": "it"}.get(word)
                counts[pronoun or "it"] += pronoun is not None
    person = max(("he", "she"), key=counts.get)
    places = len(re.findall(rf"\b(?:in|at) {re.escape(phrase)}\b(?!['’])", article_text))
    return person if counts[person] >= 3 and counts[person] >= 2 * counts["it"] and 4 * places < counts[person] else "it"


def shared_phrases(standalone: str, earlier: str) -> list[str]:
    """Phrases of `standalone` also in `earlier`: names and "the ..." noun phrases, longest first."""
    found = set()
    for m in NAME.finditer(standalone):
        name = m.group().rstrip(".")
        words = name.split()
        if m.start() == 0 and words[0].lower() in WH + AUXILIARY + ("in", "the", "after", "before", "during", "according"):
            words = words[1:]
            name = " ".join(words)
        name = re.sub(r"['’]s$", "", name)
        if len(name) > 2 and name.lower() not in STOP and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", earlier):
            found.add(name)
    for m in THE_PHRASE.finditer(standalone):
        words = m.group(1).split()
        for k in range(len(words), 0, -1):
            phrase = "the " + " ".join(words[:k])
            if words[k - 1] not in STOP and re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", earlier, re.I):
                found.add(phrase)
                break
    return sorted(found, key=lambda p: (-len(p), p))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def refer(standalone: str, phrase: str, pronoun: str, rng: random.Random, article_text: str = "") -> tuple[str, str] | None:
    """`standalone` with `phrase` left to the history: (the question as typed, how), or None where it would read
    badly (the phrase modifies a noun, "Armenian church"; or heads a longer phrase, "the synagogue in Susiya")."""
    subject, obj, possessive = PRONOUNS[pronoun]
    p = re.escape(phrase)
    text = standalone.rstrip()
    end = re.search(rf"\s+(?:in|of|for|at|on|about|during)\s+(?:the\s+)?{p}\s*\?$", text)
    if end and len(text[:end.start()].split()) >= 4 and rng.random() < 0.35:
        return _capital(text[:end.start()]) + "?", "drop"
    m = re.search(rf"(?:\bthe )?(?<!\w){p}['’]s?(?!\w)", text)
    if m:
        return _capital(text[:m.start()] + possessive + text[m.end():]), "possessive"
    m = re.search(rf"\bthe ((?:[a-z]+ ){{0,1}}[a-z]+) of (?:the )?{p}(?!\w)", text, re.I)
    if m:
        return _capital(text[:m.start()] + f"{possessive} {m.group(1)}" + text[m.end():]), "possessive"
    m = re.search(rf"(?:\bthe )?(?<!\w){p}(?!\w)", text, re.I if phrase.startswith("the ") else 0)
    if not m:
        return None
    before, after = text[:m.start()].split(), text[m.end():].split()
    previous = before[-1].lower() if before else ""
    following = after[0].strip("?,.") if after else ""
    if following[:1].isupper() or following[:1].isdigit() or \
            (following and f"{phrase} {following}".lower() in article_text.lower()) or \
            (len(after) > 1 and following in ("in", "of", "at") and after[1][:1].isupper()) or \
            (phrase.startswith("the ") and following and following not in AUXILIARY + PREPOSITIONS
             and not following.endswith("ed")):
        return None  # the phrase modifies a noun ("Armenian church") or heads a longer one ("the synagogue in Susiya")
    closing = following in ("",) + AUXILIARY + PREPOSITIONS + CONJUNCTIONS or following.endswith(("ed", "ing"))
    if previous in ("in", "at") and phrase[0].isupper() and pronoun == "it" and closing and rng.random() < 0.7:
        start = m.start() - len(before[-1]) - 1
        return _capital(text[:start] + "there" + text[m.end():]), "there"
    if not before or previous in AUXILIARY or previous in ("and", "that"):
        word = subject
    elif (previous in PREPOSITIONS or previous in VERBS or previous.endswith("ed")) and closing:
        word = obj
    else:
        return None
    return _capital(text[:m.start()] + word + text[m.end():]), "pronoun"


def ellipsis(standalone: str, earlier: str, rng: random.Random) -> tuple[str, str] | None:
    """"And in 1990?" for a question that repeats the last one but for a few words: (typed, the words kept)."""
    a, b = earlier.rstrip("?").split(), standalone.rstrip("?").split()
    start = 0
    while start < min(len(a), len(b)) and a[start].lower() == b[start].lower():
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end].lower() == b[-1 - end].lower():
        end += 1
    kept = b[start:len(b) - end]
    if start == 0 or not kept or len(kept) > 4 or start + end < max(4, int(0.6 * len(b))) or len(a) - start - end > 5:
        return None
    if not all(w[:1].isupper() or w[:1].isdigit() for w in kept) or \
            not all(w[:1].isupper() or w[:1].isdigit() for w in a[start:len(a) - end]):
        return None  # only a name, number or year swapped for another reads as "And in 1990?"
    if start > 0 and b[start - 1].lower() in PREPOSITIONS:  # "in 1990" reads better than "1990"
        kept = [b[start - 1]] + kept
    return rng.choice(ELLIPSIS_OPENERS).format(" ".join(kept)), " ".join(b[start:len(b) - end])


def follow_on(q: Question, last: Turn, article: Article, index: int, rng: random.Random, text: str,
              rewrite_share: float = 0.85) -> Turn:
    """The turn for question q asked after `last` in the same thread: rewritten to lean on it where it can."""
    turn = Turn(q.text.strip(), q.text.strip(), q.answers, article.title, index)
    if rng.random() > rewrite_share:
        return turn
    short = ellipsis(q.text, last.standalone, rng)
    if short:
        turn.question, turn.refers, turn.how, turn.referent = short[0], short[1], "ellipsis", "question"
        return turn
    candidates = [(p, "question") for p in shared_phrases(q.text, last.standalone)]
    candidates += [(a, "answer") for a in last.answers if len(a) > 2 and a[0].isupper()
                   and len(a.split()) <= 5 and re.search(rf"(?<!\w){re.escape(a)}(?!\w)", q.text)]
    for phrase, referent in sorted(candidates, key=lambda c: -len(c[0])):
        typed = refer(q.text, phrase, pronoun_of(phrase, text), rng, text)
        if typed and typed[0] != q.text:
            turn.question, turn.how = typed
            turn.refers, turn.referent = phrase, referent
            return turn
    return turn


def thread(article: Article, index: int, rng: random.Random, max_turns: int = 5) -> list[Turn]:
    """The answerable questions of one paragraph, in SQuAD's order, each leaning on the one before where it can."""
    paragraph: Paragraph = article.paragraphs[index]
    questions = [q for q in paragraph.questions if q.answers][:max_turns]
    text = " ".join(p.context for p in article.paragraphs)
    turns: list[Turn] = []
    for q in questions:
        turns.append(follow_on(q, turns[-1], article, index, rng, text) if turns else
                     Turn(q.text.strip(), q.text.strip(), q.answers, article.title, index))
    return turns


def conversation(segments: list[tuple[Article, int]], rng: random.Random, max_turns: int = 4) -> list[Turn]:
    """Threads of several paragraphs one after another: each new thread's first turn is a topic change."""
    turns: list[Turn] = []
    for article, index in segments:
        run = thread(article, index, rng, max_turns=rng.randint(2, max_turns))
        if turns and run:
            run[0].topic_change = True
        turns += run
    return turns


def conversations(articles: list[Article], count: int, rng: random.Random, max_segments: int = 3) -> list[list[Turn]]:
    """`count` conversations of 1-3 threads, each thread from a random paragraph of a different article."""
    paragraphs = [(a, i) for a in articles for i, p in enumerate(a.paragraphs) if sum(bool(q.answers) for q in p.questions) >= 2]
    made = []
    for _ in range(count):
        segments: list[tuple[Article, int]] = []
        for _ in range(rng.randint(1, max_segments)):
            article, index = rng.choice(paragraphs)
            if not segments or article.title != segments[-1][0].title or len({a.title for a, _ in paragraphs}) == 1:
                segments.append((article, index))
        made.append(conversation(segments, rng))
    return made


def main() -> None:
    from training.pairs import read_heldout

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("build/conversations.jsonl"))
    parser.add_argument("--conversations", type=int, default=20000)
    parser.add_argument("--heldout", action="store_true", help="only the held-out articles (for evaluation)")
    parser.add_argument("--tiny", action="store_true", help="one article, 20 conversations")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    heldout = read_heldout()
    keep = (lambda t: t == "IPod") if args.tiny else (lambda t: (t in heldout) == args.heldout)
    articles = [a for a in read_articles(keep=keep) if any(q.answers for p in a.paragraphs for q in p.questions)]
    made = conversations(articles, 20 if args.tiny else args.conversations, random.Random(args.seed))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for turns in made:
            f.write(json.dumps({"turns": [asdict(t) for t in turns]}, ensure_ascii=False) + "\n")
    later = [t for turns in made for t in turns[1:]]
    hows = {h: sum(t.how == h for t in later) for h in ("pronoun", "possessive", "there", "drop", "ellipsis")}
    print(f"{len(made)} conversations, {len(later)} later turns: {sum(t.topic_change for t in later)} topic changes, "
          f"{sum(t.how is not None for t in later)} leaning on the history {hows}; written to {args.out}")


if __name__ == "__main__":
    main()
