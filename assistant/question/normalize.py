"""Clean a typed question before retrieval: fillers and abandoned starts out, misspelled words matched to the collection.

People type "which pope, no wait, who brought back the abacus" or "who was achiles mom". Retrieval and the
cross-encoder both do better on "who brought back the abacus" and "who was achilles mom": the restart keeps what
follows the correction, and a word the collection never uses is replaced by the collection's nearest word.
"""
from __future__ import annotations

import re
import unicodedata

from ..lexicon import FUNCTION_WORDS, WORD, english_words

# fillers; one before a capitalised word is part of a name ("Umm Qasr")
FILLERS = re.compile(r"(?:^|(?<=[\s,]))(?i:u+h+|u+m+|e+r+m*|h+m+|you know|like)\s*,\s*|"
                     r"\b(?i:u+h+|u+m+m*|e+rm+|h+m+m+)\b(?![ \t]+[A-Z])[,.]?\s*")
WH = r"(?:what|who|whom|whose|which|when|where|why|how|is|are|was|were|did|does|do|can|could|in|on|at)"
MARKERS = r"(?:no,?\s+wait|wait,?\s+no|no|sorry|i mean|or rather|make that|scratch that|oops)"
# a correction marker followed by a fresh question: everything before it was abandoned. Without punctuation before
# it only a wh-word may follow ("what protects no what is a statocyst"), or "vote no when..." would be cut.
RESTART = re.compile(rf"(?:(?:[,;]|\s[—–-]+|[—–])\s*\b{MARKERS}\b\s*[,—–-]*\s*(?={WH}\b)|"
                     rf"\s(?:no,?\s+wait|no|sorry|i mean|scratch that|oops)\b,?\s*(?=(?:what|who|whom|whose|which|where|why|how)\b)|"
                     rf"\s(?:no,?\s+)?tell me\b,?\s*(?={WH}\b))",
                     re.I)
# a marker with only a fragment after it ("held — I mean which hotel"): drop the marker, keep both parts
MARKER = re.compile(r"(?:[,;]|\s[—–-]+|[—–])\s*\b(?:no,?\s+i mean|i mean|no wait|or rather|sorry|actually)\b\s*[,—–-]*\s*|"
                    r"\s*[,—–-]*\s*\b(?:i mean)\s*[?.!]*$", re.I)
# an unpunctuated correction: "the English rather original meaning", "Norse found no wait Normandy not Norse"
REPAIR = re.compile(r"\s+(?i:no,?\s+wait|i mean|or rather|rather(?!\s+than)|sorry)\s+(?!(?i:what|who|whom|whose|"
                    r"which|when|where|why|how|than|to)\b)(?=[\w'-])")
# "... Normandy not Norse": the word the user took back
TAKEN_BACK = re.compile(r"\s+not\s+([\w'-]+)\s*(?=[?.!]*$)")
MAX_CORRECTIONS = 10  # a pasted paragraph is not a typo: stop matching after this many unknown words


def clean_disfluency(question: str) -> str:
    text = FILLERS.sub("", question)
    restart = None
    for m in RESTART.finditer(text):
        restart = m
    if restart is not None and len(WORD.findall(text[restart.end():])) >= 3:
        text = text[restart.end():]
    text = MARKER.sub(" ", text)
    repair = REPAIR.search(text)
    if repair:
        text = apply_repair(text, repair)
    text = re.sub(r"\s+", " ", text).strip(" ,;—–-")
    text = re.sub(r"([?.!])\1+", r"\1", text)
    return text or question.strip()


def apply_repair(text: str, marker: re.Match) -> str:
    """Replace what an unpunctuated correction takes back by what follows the marker."""
    before, after = text[:marker.start()], text[marker.end():]
    taken = TAKEN_BACK.search(after)
    if taken and re.search(rf"\b{re.escape(taken.group(1))}\b", before):
        # "is Norse found no wait Normandy not Norse" -> "is Normandy found"
        fix = after[:taken.start()].strip()
        return re.sub(rf"\b{re.escape(taken.group(1))}\b", lambda _: fix, before, count=1) + after[taken.end():]
    pre, post = before.split(), after.split()
    if not pre or pre[-1].lower() in FUNCTION_WORDS:
        return text  # "would you rather stay", "was he sorry": not a correction
    # the words taken back end like the repair's n-th word ("Norse leader I mean Norman leader": n = 2)
    n = next((k for k in (2, 3) if len(post) >= k and len(pre) >= k and
              post[k - 1].strip("?.!,").lower() == pre[-1].lower()), 1)
    if len(pre) > n and post and pre[-n - 1].lower() == post[0].lower():
        n += 1  # "the Normans no wait the Vikings": the repair brings its own "the"
    return " ".join(pre[:-n]) + " " + after


def correct_spelling(question: str, words: dict[str, int], known_stem=None) -> str:
    """Replace words the collection never uses by its nearest word (1 edit, 2 for long words), keeping case.

    known_stem(word) -> bool tells whether another form of the word occurs (then it is not a misspelling).
    """
    if not words:
        return question
    squashed = _index(words)[2]

    tried = 0

    def fix(m: re.Match) -> str:
        nonlocal tried
        word = m.group(0)
        low = word.lower()
        if low in words or len(low) < 4:
            return word
        plain = unicodedata.normalize("NFKD", low).encode("ascii", "ignore").decode()
        if plain != low and plain in words:  # "Kadhimí" for "Kadhimi"
            return _case(word, plain)
        if low.replace("-", "") in squashed:  # "utf8" for "utf-8"
            return _case(word, squashed[low.replace("-", "")])
        if len(low) < 5 or is_english(low) or (known_stem is not None and known_stem(low)) or tried >= MAX_CORRECTIONS:
            return word
        tried += 1
        best = nearest(low, words)
        return _case(word, best) if best else word

    return WORD.sub(fix, question)


def is_english(word: str) -> bool:
    """A vocabulary word or an inflection of one ("router", "hackers" are not whole BERT words; "rout", "hacker" are)."""
    vocab = english_words()
    if word in vocab:
        return True
    for suffix in ("s", "es", "ed", "d", "er", "ers", "r", "rs", "ing", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and word[:-len(suffix)] in vocab:
            return True
    return False


def nearest(word: str, words: dict[str, int]) -> str | None:
    from rapidfuzz.distance import DamerauLevenshtein
    from rapidfuzz.process import extract

    _, by_length, _, memo = _index(words)
    if word in memo:
        return memo[word]
    limit = 1 if len(word) <= 7 else 2
    bucket = [w for n in range(len(word) - limit, len(word) + limit + 1) for w in by_length.get(n, ())]
    found = extract(word, bucket, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=8)
    # fewest edits first, then the word the collection uses most; same first letter preferred (typos rarely hit it)
    found.sort(key=lambda f: (f[1], f[0][:1] != word[:1], -words[f[0]]))
    memo[word] = found[0][0] if found else None
    return memo[word]


def _case(original: str, word: str) -> str:
    return word[:1].upper() + word[1:] if original[:1].isupper() else word


_groups: dict[int, tuple] = {}


def _index(words: dict[str, int]):
    # one grouping per vocabulary object (the BM25 index swaps its dict when it is rebuilt)
    entry = _groups.get(id(words))
    if entry is None or entry[0] is not words:
        by_length: dict[int, list[str]] = {}
        squashed: dict[str, str] = {}
        for w in words:
            by_length.setdefault(len(w), []).append(w)
            if "-" in w:
                squashed.setdefault(w.replace("-", ""), w)
        _groups.clear()
        entry = _groups[id(words)] = (words, by_length, squashed, {})  # the last: nearest() answers so far
    return entry


def normalize_question(question: str, store=None) -> str:
    """The question without disfluencies, its misspelled words matched to the collection behind store."""
    text = clean_disfluency(question)
    bm25 = getattr(store, "bm25", None)
    if bm25 is not None and not bm25.words:
        store.sync_bm25()  # an index saved before the vocabulary existed is rebuilt here; retrieval syncs anyway
    if bm25 is None or not bm25.words:
        return text
    stems = getattr(bm25.model, "vocab_dict", None) or {}

    def known_stem(word: str) -> bool:
        tokens = bm25.tokenize([word], return_ids=False)[0]
        return bool(tokens) and all(t in stems for t in tokens)  # every part of "al-muhandes", not just "al"

    return correct_spelling(text, bm25.words, known_stem)
