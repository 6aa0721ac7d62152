"""Sentence spans and token-sized chunks whose offsets point exactly into the document text."""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from ..schema import Chunk, Document

# Abbreviations Punkt's English model misses in news text; a split after them cuts a sentence in two.
EXTRA_ABBREVIATIONS = {"gen", "lt", "col", "sgt", "capt", "maj", "rep", "sen", "gov", "mr", "mrs", "ms", "dr",
                       "prof", "st", "no", "vs", "jan", "feb", "aug", "sept", "oct", "nov", "dec", "u.s", "u.k",
                       "u.n", "e.g", "i.e", "etc", "approx", "inc", "ltd", "co", "corp", "jr", "sr"}


@lru_cache(maxsize=1)
def _punkt():
    from nltk.tokenize.punkt import PunktTokenizer

    tokenizer = PunktTokenizer("english")
    tokenizer._params.abbrev_types.update(EXTRA_ABBREVIATIONS)
    return tokenizer


@lru_cache(maxsize=1)
def encoding():
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


INITIAL_END = re.compile(r"(?<![\w.])[A-Z][a-z]+ [A-Z]\.$")  # "... Samuel A." (a first name and an initial)


ABBREVIATION_END = re.compile(r"(?:\b[A-Z]\.){2,}$")  # "E.R.", "U.S."
SENTENCE_STARTS = set("the a an then it he she they this that these those in on at but and so we i you his her their its "
                      "there when after before as if for however while during".split())


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence of text[start:end], in text's coordinates.

    Lines are split first (headlines and list items carry no full stop), then Punkt splits each line;
    llama-index's SentenceSplitter would do the same but re-finds chunk offsets with str.find, which
    is wrong for repeated text, so we keep the spans ourselves. A sentence never ends inside quotation
    marks or brackets that close shortly after (join_enclosed).
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text[start:end]):
        base = start + line.start()
        line_spans: list[tuple[int, int]] = []
        for a, b in _punkt().span_tokenize(line.group()):
            a, b = base + a, base + b
            # Punkt leaves Unicode spaces (no-break space) at a span's edges; a sentence starts at its first letter
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if b > a:
                # Punkt ends a sentence at a middle initial ("Samuel A. Ward"): join such a split back
                first = re.match(r"[A-Za-z]+", text[a:b])
                initial = INITIAL_END.search(text, *line_spans[-1]) if line_spans else None
                # ... and a split before a lower-case word after an abbreviation ("the play E.R. by Josep Benet")
                abbreviation = line_spans and ABBREVIATION_END.search(text, *line_spans[-1])
                if first and ((initial and first.group()[0].isupper() and first.group().lower() not in SENTENCE_STARTS)
                              or (abbreviation and first.group()[0].islower())):
                    line_spans[-1] = (line_spans[-1][0], b)
                else:
                    line_spans.append((a, b))
        spans.extend(join_enclosed(text, line_spans))
    return spans


# Quotation marks and brackets a sentence does not end inside. Straight double quotes open and close alike.
PAIRS = {"(": ")", "[": "]", "{": "}", "“": "”", "«": "»"}
ENCLOSED_JOIN = 3  # a quotation or bracket closes within this many more of Punkt's sentences, or it is left split
ENCLOSED_CHARS = 600  # ... and within this many characters (a quotation running over a paragraph stays split)


def open_marks(part: str) -> bool:
    """Whether part leaves a quotation or a bracket open."""
    return part.count('"') % 2 == 1 or any(part.count(o) > part.count(c) for o, c in PAIRS.items())


QUOTED_END = re.compile(r"[.!?…][\"”’»)\]]+$")  # terminal punctuation inside closing quotation marks or brackets


def join_enclosed(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join Punkt's sentences that split inside quotation marks or brackets (`article "Have you eaten yet?" is`):
    a sentence that leaves one open takes the next ones until it closes, if it closes soon; offsets unchanged."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        a, b = spans[i]
        if out and QUOTED_END.search(text, *out[-1]) and text[a:a + 1].islower():
            out[-1] = (out[-1][0], b)  # `"Have you eaten yet?" was published`: the quotation ended, not the sentence
            i += 1
            continue
        joined = i
        if open_marks(text[a:b]):
            for j in range(i + 1, min(len(spans), i + 1 + ENCLOSED_JOIN)):
                if spans[j][1] - a > ENCLOSED_CHARS:
                    break
                if not open_marks(text[a:spans[j][1]]):
                    joined = j
                    break
        out.append((a, spans[joined][1]))
        i = joined + 1
    return out


# A sentence ends with terminal punctuation, perhaps followed by closing quotation marks or brackets.
TERMINAL = re.compile(r"[.!?…][\"'”’»)\]]*$")


def ends_a_sentence(part: str) -> bool:
    """Whether part ends as a sentence does: a headline, a caption or a menu line (no full stop) does not."""
    return bool(TERMINAL.search(part.rstrip()))


def chunk_sentences(chunk: Chunk) -> list[tuple[int, int]]:
    """(start, end) of each sentence of chunk.text: the spans found at ingest (the same Punkt gives on the chunk's
    own text, without loading it at question time), else Punkt's on the chunk's text."""
    return chunk.sentences if chunk.sentences is not None else sentence_spans(chunk.text)


def encode_sentences(spans: list[tuple[int, int]]) -> str:
    """Sentence spans as Chroma metadata (a string: Chroma keeps scalars): "0:120,121:250"."""
    return ",".join(f"{a}:{b}" for a, b in spans)


def decode_sentences(value: object) -> list[tuple[int, int]] | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return [(int(a), int(b)) for a, b in (pair.split(":") for pair in value.split(","))]
    except ValueError:  # not written by encode_sentences: split the text afresh
        return None


def chunk_id(document_id: str, start: int, end: int) -> str:
    return hashlib.sha1(f"{document_id}:{start}:{end}".encode()).hexdigest()[:20]


def chunk_document(doc: Document, max_tokens: int = 250, overlap_sentences: int = 1) -> list[Chunk]:
    """Pack whole sentences into chunks of at most max_tokens (a longer sentence stands alone, split by
    tokens), each chunk starting with the last overlap_sentences of the previous one."""
    text = doc.text
    sentences: list[tuple[int, int, int]] = []  # start, end, tokens
    for a, b in sentence_spans(text):
        n = count_tokens(text[a:b])
        if n <= max_tokens:
            sentences.append((a, b, n))
        else:
            sentences.extend(_split_long(text, a, b, max_tokens))
    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        j, tokens = i, 0
        while j < len(sentences) and (j == i or tokens + sentences[j][2] <= max_tokens):
            tokens += sentences[j][2]
            j += 1
        start, end = sentences[i][0], sentences[j - 1][1]
        chunks.append(Chunk(
            id=chunk_id(doc.id, start, end), document_id=doc.id, start=start, end=end, text=text[start:end],
            tokens=count_tokens(text[start:end]), source=doc.source, title=doc.title, page=doc.page_at(start), date=doc.date, url=doc.url,
            sentences=[(a - start, b - start) for a, b, _ in sentences[i:j]],
        ))
        if j >= len(sentences):
            break
        i = max(j - overlap_sentences, i + 1)
    return chunks


def _split_long(text: str, a: int, b: int, max_tokens: int) -> list[tuple[int, int, int]]:
    """Cut an over-long 'sentence' (a table row, a run-on list) at token boundaries, keeping offsets."""
    enc = encoding()
    tokens = enc.encode(text[a:b], disallowed_special=())
    # decode_with_offsets gives each token's character offset, so cuts fall between whole characters
    _, starts = enc.decode_with_offsets(tokens)
    step = -(-len(tokens) // -(-len(tokens) // max_tokens))  # equal pieces: no stub of a few tokens at the end
    cuts = [a + starts[k] for k in range(step, len(tokens), step)]
    pieces = []
    for start, end in zip([a] + cuts, cuts + [b]):
        # a token carries its leading space; it belongs between pieces, not at the start of a chunk
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            pieces.append((start, end, count_tokens(text[start:end])))
    return pieces
