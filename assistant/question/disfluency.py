"""Take the abandoned parts out of a typed question with a learned token tagger.

"Which king or no make that what treaty ended the war?" -> "What treaty ended the war?"
"When did Newton's, uh Leibniz's, calculus appear, actually?" -> "When did Leibniz's calculus appear?"

Each token of the question is tagged keep or delete by a linear-chain model (first-order Viterbi over hashed
features of the word and its neighbours), trained by training/train_disfluency.py on synthetic disfluencies of
SQuAD questions; its weights are models/disfluency/tagger.npz. Deleting the tagged tokens is the whole edit: the
words that stay keep their spelling and order.
"""
from __future__ import annotations

import re
import threading
from contextlib import nullcontext
import zlib
from importlib import resources

import numpy as np

# numbers with separators stay one token ("1,000" is no comma); words keep inner apostrophes and hyphens
TOKEN = re.compile(r"\d+(?:[.,:]\d+)+|\w+(?:['’\-]\w+)*|[^\w\s]")
WH_WORDS = frozenset({"what", "who", "whom", "whose", "which", "when", "where", "why", "how"})
BREAKS = frozenset({",", ";", ":", "-", "—", "–", "...", "…", "(", ")"})
FEATURE_BITS = 20
DELETE, KEEP = 1, 0
MIN_WORDS_LEFT = 2  # a cut that leaves less than this is no question: the question is kept whole


def tokenize(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in TOKEN.finditer(text)]


def shape(token: str) -> str:
    if not token[:1].isalnum():
        return token[:1]
    out = re.sub(r"[A-Z]+", "X", re.sub(r"[a-z]+", "x", re.sub(r"\d+", "d", token)))
    return out[:4]


def recurrence(i: int, low: list[str], shapes: list[str], word) -> list[str]:
    """Token i's features of the same word again soon: a repetition, the repair of a correction ("the Romans,
    no, the Greeks"), or a word broken off and said in full ("lo- long")."""
    n, w, f = len(low), low[i], []
    for d in range(1, 7):
        if i + d < n and low[i + d] == w:
            f.append("again=%d" % d)
            f.append("again=%d|%s" % (d, word(i + d - 1)))
            break
    for d in range(2, 6):
        if i + d < n and shapes[i + d] == shapes[i] and low[i + d][-2:] == w[-2:] and w[:1].isalnum():
            f.append("like=%d|%s" % (d, word(i + 1)))
            break
    if i + 2 < n and low[i:i + 2] == low[i + 2:i + 4]:
        f.append("bigram-again")
    if w[:1].isalpha():
        # a word broken off and said again in full ("how lo- long"): the start of a word that follows
        for d in (1, 2, 3):
            if i + d < n and low[i + d] != w and low[i + d].startswith(w):
                f.append("start-of=%d" % d)
                break
    elif 0 < i < n - 1 and low[i - 1][:1].isalpha() and low[i + 1] != low[i - 1] \
            and low[i + 1].startswith(low[i - 1]):
        f.append("breaks-off")  # the dash after such a start
    return f


def features(tokens: list[str]) -> list[list[str]]:
    """The feature names of each token: the word, its neighbours up to 3 away, shapes, where the next break, the
    next wh-word and the next recurrence of the word are, and the words around them (the editing phrase)."""
    low = [t.lower() for t in tokens]
    n = len(low)
    shapes = [shape(t) for t in tokens]

    def word(j: int) -> str:
        return low[j] if 0 <= j < n else ("<s>" if j < 0 else "</s>")

    def shp(j: int) -> str:
        return shapes[j] if 0 <= j < n else ("<s>" if j < 0 else "</s>")

    next_break = [n] * (n + 1)
    next_wh = [n] * (n + 1)
    for j in range(n - 1, -1, -1):
        next_break[j] = j if low[j] in BREAKS else next_break[j + 1]
        next_wh[j] = j if low[j] in WH_WORDS else next_wh[j + 1]
    out = []
    last_break = -1
    for i in range(n):
        w = low[i]
        f = ["b", "w=" + w, "s=" + shp(i), "suf=" + w[-3:], "pos=%d" % min(i, 6), "end=%d" % min(n - 1 - i, 6),
             "w-1=" + word(i - 1), "w+1=" + word(i + 1), "w-2=" + word(i - 2), "w+2=" + word(i + 2),
             "w-3=" + word(i - 3), "w+3=" + word(i + 3),
             "w-1w=" + word(i - 1) + "|" + w, "ww+1=" + w + "|" + word(i + 1),
             "w+1w+2=" + word(i + 1) + "|" + word(i + 2), "w-2w-1=" + word(i - 2) + "|" + word(i - 1),
             "s-1s=" + shp(i - 1) + shp(i), "ss+1=" + shp(i) + shp(i + 1), "s+1s+2=" + shp(i + 1) + shp(i + 2)]
        if i == 0:
            f.append("first")
        if w[:1].isalpha() and tokens[i][:1].isupper() and i > 0:
            f.append("cap")
        f += recurrence(i, low, shapes, word)
        b = next_break[i + 1] if i + 1 <= n else n
        if b < n:
            f += ["brk=%d" % min(b - i, 6), "brk+1=" + word(b + 1), "brk-1=" + word(b - 1),
                  "brk+1s=" + shp(b + 1), "brk+2=" + word(b + 2)]
        else:
            f.append("nobrk")
        f.append("since-brk=%d" % min(i - last_break, 6))
        if w in BREAKS:
            last_break = i
        h = next_wh[i + 1] if i + 1 <= n else n
        if h < n:
            f += ["wh=%d" % min(h - i, 8), "wh-1=" + word(h - 1), "wh-2=" + word(h - 2) + "|" + word(h - 1),
                  "wh|first=%s" % (low[0] in WH_WORDS)]
        else:
            f.append("nowh")
        out.append(f)
    return out


def context_features(tokens: list[str], first: list[int]) -> list[list[str]]:
    """The second stage's extra features: what the first stage deleted around each token. A restart or a
    correction deletes a run of words *before* the editing phrase, which the first stage finds most reliably;
    the second sees that run and where the token stands to it (before it at the start, the same word after it)."""
    low = [t.lower() for t in tokens]
    n = len(low)
    runs = []  # (start, end) of each run of first-stage deletions
    i = 0
    while i < n:
        if first[i] == DELETE:
            j = i
            while j + 1 < n and first[j + 1] == DELETE:
                j += 1
            runs.append((i, j))
            i = j + 1
        else:
            i += 1
    out = []
    for i in range(n):
        label = lambda j: str(first[j]) if 0 <= j < n else "x"  # noqa: E731
        f = ["p=" + label(i), "pp=" + label(i - 1) + label(i) + label(i + 1),
             "pw=" + label(i) + low[i]]
        after = next(((a, b) for a, b in runs if a > i), None)
        before = next(((a, b) for a, b in reversed(runs) if b < i), None)
        if after:
            a, b = after
            nxt = low[b + 1] if b + 1 < n else "</s>"
            kept_before = all(first[j] == KEEP for j in range(i))
            f += ["run=%d" % min(a - i, 8), "run+1=" + nxt, "run+1wh=%s" % (nxt in WH_WORDS),
                  "run-start=%s|%d" % (kept_before, min(a - i, 8)),
                  "run-start-wh=%s|%s" % (kept_before, nxt in WH_WORDS)]
            for d in range(1, 6):
                if b + d < n and low[b + d] == low[i]:
                    f += ["par=%d" % d, "par-aligned=%s" % (d == a - i)]
                    break
        else:
            f.append("norun")
        if before:
            a, b = before
            f += ["since-run=%d" % min(i - b, 8), "run-len=%d" % min(b - a + 1, 5)]
            for d in range(1, 6):
                if a - d >= 0 and low[a - d] == low[i]:
                    f.append("par-before=%d" % d)
                    break
        out.append(f)
    return out


def hashed(rows: list[list[str]], bits: int = FEATURE_BITS) -> list[list[int]]:
    mask = (1 << bits) - 1
    return [[zlib.crc32(name.encode("utf-8")) & mask for name in names] for names in rows]


def viterbi(emission: np.ndarray, transition: np.ndarray) -> list[int]:
    """The best label sequence; emission [n] is the delete score of each token (keep scores 0), transition
    [3, 2] the score of (previous label or start, label)."""
    n = len(emission)
    if n == 0:
        return []
    score = [transition[2, KEEP], transition[2, DELETE] + emission[0]]
    back = []
    for i in range(1, n):
        new, ptr = [], []
        for label in (KEEP, DELETE):
            options = [score[p] + transition[p, label] for p in (KEEP, DELETE)]
            best = 0 if options[0] >= options[1] else 1
            new.append(options[best] + (emission[i] if label == DELETE else 0.0))
            ptr.append(best)
        score = new
        back.append(ptr)
    label = 0 if score[0] >= score[1] else 1
    labels = [label]
    for ptr in reversed(back):
        label = ptr[label]
        labels.append(label)
    return labels[::-1]


def scores(weights: np.ndarray, rows: list[list[int]]) -> np.ndarray:
    return np.array([weights[r].sum() for r in rows], dtype=np.float32)


class Tagger:
    """Two stages of the same kind: the first tags from the words, the second from the words and the first's tags."""

    def __init__(self, weights: np.ndarray, transitions: np.ndarray, bits: int):
        self.weights = weights.astype(np.float32)  # [stages, 2**bits]: the delete score of each feature
        self.transitions = transitions.astype(np.float32)  # [stages, previous label or start, label]
        self.bits = bits

    @classmethod
    def load(cls, path=None) -> "Tagger":
        opened = resources.as_file(resources.files("assistant.models.disfluency") / "tagger.npz") if path is None \
            else nullcontext(path)
        with opened as file, np.load(file) as data:
            return cls(data["weights"], data["transitions"], int(data["bits"]))

    def tag(self, tokens: list[str]) -> list[int]:
        if not tokens:
            return []
        rows = hashed(features(tokens), self.bits)
        labels = viterbi(scores(self.weights[0], rows), self.transitions[0])
        for stage in range(1, len(self.weights)):
            extra = hashed(context_features(tokens, labels), self.bits)
            labels = viterbi(scores(self.weights[stage], [a + b for a, b in zip(rows, extra)]),
                             self.transitions[stage])
        return labels


_tagger: Tagger | None = None
_lock = threading.Lock()


def tagger() -> Tagger:
    global _tagger
    if _tagger is None:
        with _lock:
            if _tagger is None:
                _tagger = Tagger.load()
    return _tagger


def remove_tagged(text: str, spans: list[tuple[int, int]], labels: list[int]) -> str:
    """The text without the tokens tagged delete: each kept token keeps the space before it in the original; one
    space joins two words that a cut brought together."""
    parts: list[str] = []
    previous_end, cut = None, False
    for (start, end), label in zip(spans, labels):
        if label == DELETE:
            cut = True
            previous_end = end
            continue
        gap = text[previous_end:start] if previous_end is not None else ""
        if parts:
            if cut and not gap and text[start:end][:1].isalnum():
                gap = " "
            parts.append(" " if "\n" in gap else gap)
        parts.append(text[start:end])
        previous_end, cut = end, False
    return "".join(parts)


def clean(question: str, model: Tagger | None = None) -> str:
    """The question without the words the tagger takes for fillers, repetitions, and abandoned or corrected
    parts; a question where it finds none comes back unchanged."""
    return cut(question, model)[0]


def cut(question: str, model: Tagger | None = None) -> tuple[str, str]:
    """(the question as meant, the start it took back): clean's text, and the words deleted before its first kept
    word, as typed (an abandoned start with its editing words, or fillers alone: the tagger tells only keep from
    delete); ("question", "") where nothing is taken out. Words deleted further on (a filler, a hedge, a word said
    twice, a corrected name) are no start."""
    spans = tokenize(question)
    if not spans:
        return question, ""
    tokens = [question[a:b] for a, b in spans]
    labels = (model or tagger()).tag(tokens)
    if DELETE not in labels:
        return question, ""
    kept = [t for t, label in zip(tokens, labels) if label == KEEP]
    if sum(t[:1].isalnum() for t in kept) < MIN_WORDS_LEFT:
        return question, ""
    # a cut never leaves a break at either end ("— who developed it", "what year ,")
    first, last = 0, len(labels) - 1
    while first <= last and (labels[first] == DELETE or tokens[first] in BREAKS):
        labels[first] = DELETE
        first += 1
    while last >= first and (labels[last] == DELETE or tokens[last] in BREAKS):
        labels[last] = DELETE
        last -= 1
    text = remove_tagged(question, spans, labels)
    if question.lstrip()[:1].isupper() and text[:1].islower():
        text = text[:1].upper() + text[1:]  # the question began with a capital; its new first word does too
    return text, question[spans[0][0]:spans[first - 1][1]] if first else ""
