"""Word lists and word patterns in one place: data, not judgement.

Each list keeps the exact contents its users were tuned with, named by what it is for; they differ on purpose
(a verifier ignores "said"; the spelling corrector must not take "would" for a typo). English words for the
spelling corrector come from a real vocabulary file, not from a model object.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .model_files import model_dir

# a word, any script; the collection's vocabulary (store) and the spelling corrector (normalize) both use it
WORD = re.compile(r"[^\W\d_][\w'-]*[^\W_]")

MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"

# words of a question that say what kind of thing is asked, not which thing: not evidence of the subject
# (answer_evidence; BM25 stems, hence "articl")
QUESTION_WORDS = {"what", "who", "whom", "whose", "which", "when", "where", "why", "how", "did", "does", "do", "is",
                  "are", "was", "were", "name", "many", "much", "according", "articl", "say", "said", "tell"}

# the words a follow-up question may consist of without naming its topic (rewrite)
FOLLOW_UP_STOPWORDS = {
    "what", "who", "whom", "which", "when", "where", "why", "how", "did", "does", "do", "is", "are", "was", "were",
    "the", "a", "an", "of", "in", "on", "for", "to", "and", "or", "by", "with", "about", "many", "much", "would",
    "could", "should", "will", "can", "has", "have", "had", "be", "been", "according", "articles", "say", "said"}

# a word before a correction that shows it is no correction ("would you rather stay") (normalize)
FUNCTION_WORDS = {"the", "a", "an", "of", "in", "on", "at", "to", "for", "is", "was", "are", "were", "did", "does", "do",
                  "and", "or", "by", "with", "from", "he", "she", "it", "they", "i", "you", "we", "be", "been",
                  "would", "could", "should", "will", "can", "may", "might", "must", "has", "have", "had"}

# words that carry no claim a sentence must find in its evidence (verify, and the LLM rewrite check)
STOPWORDS = frozenset("""a about after all also an and any are as at be been being but by can could did do does for
from had has have he her him his how i if in into is it its me more most no not now of on one or our out over she so
some such than that the their them then there these they this those to too under up very was we were what when where
which while who whom whose why will with would you your yes said says say according article articles source sources
report reports document documents""".split())

# words people say while they think, hedge or take back what they said ("uh", "no wait", "I mean", "kind of", "hey,
# quick question"): trimmed off the ends of the start a question took back, which they never name (normalize)
SPEECH_WORDS = frozenset("""uh uhh um umm er err erm hmm ah oh eh ugh oops whoops wait sorry mean meant rather actually
okay ok well like know right so hey quick question kind sort guess think basically literally anyway alright""".split())
# the words of an editing phrase that are not speech words ("scratch that", "make that", "let me rephrase", "hold on"):
# trimmed off the end of the words a question took back, where the phrase stands (normalize)
EDITING_WORDS = frozenset("""scratch make strike hold on let me rephrase correction nope pardon excuse misspoke bad
correct say should start over take back""".split())

# quantifiers that change what a sentence claims: a sentence must find them in what it cites (verify)
CLAIM_WORDS = frozenset("""all every none no nobody nothing never not neither nor majority minority most half
few several many dozens hundreds thousands millions billions twice double doubled triple tripled""".split())

NUMBER_WORDS = frozenset("""one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million
billion""".split())


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """English words the spelling corrector never "corrects" ("router", "Linux"): the whole words of the BERT
    uncased WordPiece vocabulary, read from the packaged reranker's vocab.txt, a token a line (9 ms; loading its
    tokenizer.json to ask for the same vocabulary took 75 ms of a first question)."""
    vocab = (model_dir("reranker_en") / "vocab.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in vocab if w.isalpha())
