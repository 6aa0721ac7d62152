"""The regular expressions that cleaned disfluent questions before the learned tagger (assistant/question/disfluency.py)
replaced them, kept as the baseline training/train_disfluency.py measures the tagger against. The product no
longer runs them.
"""
from __future__ import annotations

import re

from assistant.lexicon import FUNCTION_WORDS, WORD

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
