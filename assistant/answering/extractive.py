"""The embedded default answerer: no LLM; quotes the source sentences that answer the question.

Candidate sentences of the retrieved passages are scored by the packaged answer-bearing model (does this sentence
hold the answer? MODEL_CARD.md), and its logit is combined with evidence it cannot see (answer_evidence.py) by one
fitted logistic regression (calibration.py): the calibrated probability that the sentence answers. The answer is the
most probable sentence, with the others that are probable enough beside it; below the fitted threshold it abstains
(policy.py decides each of these).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from . import policy
from .drafts import Draft, Span
from .evidence import Evidence, QuestionEvidence, idf_weights
from .calibration import combination
from ..ingest.chunking import chunk_sentences, ends_a_sentence
from ..config import Settings
from .disagreement import AskedTime, arrange, asked_time, compares, remove_time
from ..onnx_models import answer_model, conversation_model
from ..question.rewrite import conversation_input, scoring_query
from .model_input import resolve_pronoun, titled
from ..schema import Message, Passage

MAX_SENTENCE_CHARS = 600  # longer "sentences" (tables, run-ons) are scored on their start: ~128 tokens
LEADING_NOISE = re.compile(r"^(?:[\s•·*\-–—>]+|(?:However|But|And|Instead|Meanwhile|Still|Also|So|Yet|Moreover|"
                           r"Furthermore|In addition|Indeed|Nonetheless|Nevertheless),\s+|(?:But|And|So|Yet)\s+)")


@dataclass
class Candidate:
    span: Span
    rank: int  # rank of the passage it came from
    context: str = ""  # the neighbouring sentences and the document title
    score: float | None = None  # the answer model's logit
    scored_text: str = ""  # the sentence as the model reads it: after its title, its pronoun resolved
    previous: str = ""  # the sentence before it in its passage (read by the context model only)
    p: float = 0.0  # calibrated probability that it answers the question (calibration.py)
    headline: bool = False  # a headline or caption: compared by the disagreement check, never quoted alone


class ExtractiveAnswerer:
    name = "extractive"
    uses_store = True  # scores with the collection's BM25 vocabulary: bind(store)
    may_fall_back = False  # it is the fallback

    def __init__(self, settings: Settings):
        self.settings = settings
        self.model = answer_model()
        self.combination = combination()
        self.store = None
        self.evidence = Evidence(None)

    def bind(self, store) -> None:
        """Give access to the collection's term statistics (evidence features and the sentence budget's prior)."""
        self.store = store
        self.evidence = Evidence(store)

    # -- candidates --------------------------------------------------------------------------
    @staticmethod
    def candidates(passages: list[Passage], headlines: bool = False) -> list[Candidate]:
        """The sentences of the passages that may be quoted as an answer; headlines=True: only the lines that may
        not (headlines and captions), which the disagreement check still reads as what their source says."""
        seen, out = set(), []
        for rank, p in enumerate(passages):
            c = p.chunk
            spans = chunk_sentences(c)
            for k, (a, b) in enumerate(spans):
                noise = LEADING_NOISE.match(c.text[a:b])
                a += len(noise.group(0)) if noise else 0
                key = (c.document_id, c.start + b)
                # a headline or caption (no terminal punctuation) is not quoted as an answer sentence
                if key in seen or len(c.text[a:b].split()) < 4 or ends_a_sentence(c.text[a:b]) == headlines:
                    continue
                seen.add(key)
                around = [c.text[x:y] for x, y in spans[max(0, k - 1):k + 2]]
                before = [c.text[x:y] for x, y in spans[max(0, k - 3):k]]
                out.append(Candidate(Span.within(c, c.start + a, c.start + b), rank, " ".join(around) + " " + c.title,
                                     scored_text=titled(resolve_pronoun(c.text[a:b], before, c.title), c.title),
                                     previous=before[-1] if before else "", headline=headlines))
        return out

    def model_input(self, c: Candidate) -> str:
        text = (c.scored_text or c.span.text)[:MAX_SENTENCE_CHARS]
        return f"{text} || {c.previous[:MAX_SENTENCE_CHARS]}" if self.combination.context_input and c.previous else text

    def score(self, question: str, query: str, cands: list[Candidate], about: QuestionEvidence) -> None:
        """Set each unscored candidate's model logit and calibrated probability (about: the question's evidence)."""
        todo = [c for c in cands if c.score is None]
        for c, logit in zip(todo, self.logits(question, query, [self.model_input(c) for c in todo])):
            c.score = logit
        for c, features in zip(todo, self.evidence.rows(about, todo)):
            c.p = self.combination.probability(features)

    def logits(self, question: str, query: str, texts: list[str]) -> list[float]:
        """How likely each text is to answer, as logits. A question that stands alone is read as typed by the answer
        model. A follow-up (its query carries the subject of the turn it leans on) is read as "{question} ||
        {subject}" by the conversation model, the answer model trained further on such follow-ups
        (models/conversation/MODEL_CARD.md); its best few texts (follow_up_rereads) are read again by the answer model,
        the question as typed, and rank by the mean of the two logits, the rest below them. Public sets' follow-ups
        answered right (bench/public.py; tune / report half): the answer model alone 0.83 / 0.74, the conversation
        model alone 0.77 / 0.78, the mean over every text 0.83 / 0.81, the mean over the conversation model's best 4
        0.83 / 0.81 (best 2: 0.82 / 0.81; the answer model's best 4 instead: 0.84 / 0.78). Re-reading four texts rather
        than all of them keeps a follow-up's cost near one model's."""
        conversation = conversation_input(question, query)
        if conversation == question or not texts:
            return self.model.score(scoring_query(question, query), texts)
        # loaded on the first follow-up (a server warms it up): a one-question `assistant ask` never waits for it
        read = conversation_model().score(conversation, texts)
        best = sorted(range(len(texts)), key=lambda i: -read[i])[:self.settings.follow_up_rereads]
        again = self.model.score(scoring_query(question, query), [texts[i] for i in best])
        mean = {i: (read[i] + a) / 2 for i, a in zip(best, again)}
        floor = min(mean.values())
        return [mean[i] if i in mean else min(read[i], floor) for i in range(len(texts))]

    def prior_order(self, query: str, cands: list[Candidate]) -> list[Candidate]:
        """The candidates, most promising first by a cheap prior that only budgets which ones the model scores:
        the query's rare words in the sentence (and the one before it), and the passage's rank."""
        if self.store is None:
            return cands
        vocabulary = self.store.vocabulary
        weight = idf_weights(vocabulary, query)
        total = sum(weight.values()) or 1.0
        stems = vocabulary.stems_of([c.span.text for c in cands])

        def prior(k: int) -> float:
            c, own = cands[k], set(stems[k])
            before = set(stems[k - 1]) if k > 0 and cands[k - 1].rank == c.rank else set()
            overlap = sum(w for t, w in weight.items() if t in own) / total
            context = sum(w for t, w in weight.items() if t in before and t not in own) / total
            return overlap + 0.5 * context + 0.3 / (1 + c.rank)

        return [cands[k] for k in sorted(range(len(cands)), key=prior, reverse=True)]

    def shortlist(self, question: str, query: str, passages: list[Passage], about: QuestionEvidence) -> list[Candidate]:
        """The scored candidates, most probable first (about: the question's evidence, measured once a question). One
        round of sentence_budget sentences decides when its best is confident; otherwise the next ones up to
        sentence_budget_max are scored too."""
        s = self.settings
        order = self.prior_order(query, self.candidates(passages))
        scored = order[:s.sentence_budget]
        self.score(question, query, scored, about)
        if scored and policy.searches_further(max(c.p for c in scored)) and len(order) > len(scored):
            scored = order[:max(s.sentence_budget_max, s.sentence_budget)]
            self.score(question, query, scored, about)
        return sorted(scored, key=lambda c: -c.p)

    # -- answering ---------------------------------------------------------------------------
    def answer(self, question: str, query: str, passages: list[Passage], history: list[Message]) -> Iterator[Draft]:
        s = self.settings
        when = asked_time(question)
        if (when.present or when.period) and any(p.chunk.date for p in passages):
            # a time asked about is answered by the documents' dates (disagreement.arrange), not by the sentences' words
            question, query = remove_time(question, when), remove_time(query, when)
        else:
            when = AskedTime(untimed=question)
        about = self.evidence.about(question, query, passages)
        ranked = self.shortlist(question, query, passages, about)
        if not ranked:
            yield Draft("abstain", "nothing relevant was retrieved")
            return
        best = ranked[0]
        if policy.abstains(best.p):
            yield Draft("abstain", f"no sentence answers with enough confidence (best {best.p:.2f})", [best.span], best.p)
            return
        chosen = [best] + [c for c in ranked[1:] if policy.shown_beside(c.p, s)][:s.max_answer_sentences - 1]
        # a dated headline ("… about 2,500 US troops") may give another source's value: compared, never the lead
        # ... read only when arrange compares sources (with a period asked about, another sentence may lead)
        compared = bool(when.period) or compares(question, when, best.span.text)
        heads = self.candidates(passages, headlines=True)[:s.sentence_budget] if compared else []
        self.score(question, query, heads, about)
        pool = sorted(ranked + heads, key=lambda c: -c.p)
        for c, given in arrange(question, when, pool, chosen, policy.thresholds().answer_threshold):
            text = c.span.text.strip()
            text = text[:1].upper() + text[1:]
            yield Draft("delta", text + " ")
            yield Draft("sentence", text, [c.span], c.p, values=given)


def register(registry) -> None:
    registry.answerers.add("extractive", ExtractiveAnswerer)
