"""MODEL_CARD.md of the disfluency tagger: what it does, how it was made, its held-out figures beside the rules."""
from __future__ import annotations

from pathlib import Path

SETS = (("report", "held-out articles, synthetic"),
        ("unseen_phrases", "held-out articles, editing phrases never trained on"))


def _table(evaluation: dict) -> str:
    rows = ["| cleaner | set | questions | exact, all | exact, disfluent | fluent questions damaged | "
            "fluent + aside damaged |", "|---|---|---|---|---|---|---|"]
    for name, label in (("rules", "regular expressions (before)"), ("tagger", "this tagger")):
        if name not in evaluation:
            continue
        for key, title in SETS:
            f = evaluation[name][key]
            damage = (f"{f['damage_fluent']:.3f} | {f.get('damage_unchanged', 0):.3f}" if "fluent" in f["per_kind"]
                      else "– | –")  # a set without fluent questions says nothing of damage
            rows.append(f"| {label} | {title} | {f['questions']} | {f['exact']:.3f} | {f['exact_disfluent']:.3f} | "
                        f"{damage} |")
        wiki = evaluation[name].get("wiki_disfluent")
        if wiki:
            rows.append(f"| {label} | bench/data hand-written `disfluent` questions | {wiki['questions']} | "
                        f"{wiki['accepted']:.3f} | | | |")
    return "\n".join(rows)


def _kinds(evaluation: dict) -> str:
    kinds = sorted(evaluation["tagger"]["report"]["per_kind"])
    rows = ["| cleaner | " + " | ".join(kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
    for name in ("rules", "tagger"):
        if name in evaluation:
            per = evaluation[name]["report"]["per_kind"]
            rows.append(f"| {name} | " + " | ".join(f"{per[k]['exact']:.3f} (n={per[k]['n']})" for k in kinds) + " |")
    return "\n".join(rows)


def write_card(out: Path, summary: dict) -> Path:
    data, recipe, evaluation = summary["data"], summary["recipe"], summary["evaluation"]
    tiny = ("\n**A `--tiny` smoke run**: a few articles, one epoch. It shows the pipeline works end to end; it is "
            "not a useful model.\n" if summary["tiny"] else "")
    timing = summary.get("ms_per_question") or {}
    text = f"""# disfluency tagger: which words of a typed question were abandoned
{tiny}
Tags each token of a question keep or delete; `assistant/question/disfluency.py` deletes the tagged ones, so that
"Which king or no make that what treaty ended the war?" is searched as "What treaty ended the war?" and
"When did Newton's, uh Leibniz's, calculus appear, actually?" as "When did Leibniz's calculus appear?".
Two first-order linear-chain stages (Viterbi over keep/delete), each an averaged structured perceptron, numpy
only: the second stage also reads what the first deleted around each token (a restart's abandoned words come
*before* the editing phrase the first stage finds; the second sees that run, and the same word said after it).
Its training tags come from first stages that never saw those questions (two halves, each tagged by the other's
model). Features (hashed into 2^{recipe['bits']} weights, `tagger.npz`, float16): the word, its shape and suffix, the
words and shapes up to 3 away, the position, whether the word (or one of its shape) comes again soon or is the start
of a word that follows (a word broken off: "lo- long"), the words around the next comma or dash and before the next
wh-word. Speed: {timing.get('p50', '?')} ms p50, {timing.get('p95', '?')} ms
p95 a question (measured by the training run on a shared 2-core machine under heavy load; the p95 is
that load's).

## Data
Synthetic disfluencies of SQuAD 1.1 training questions (CC BY-SA 4.0, Rajpurkar et al. 2016) made by
`training/disfluency.py`: restarts (a tenth of them a whole question taken back), corrections (a name, number or
word of the same article said first, then an editing phrase, then the right one), fillers and hedges ("kind of",
"sort of", "I guess"), repetitions (half of them of a function word: "the the") and words broken off ("how lo-
long"), trailing "actually"/"I mean" and question tags (", right", ", do you know"), mixes, and a quarter left
fluent ("What kind of engine ..." among them); some lowercased or without their question mark.
{recipe['edits']} editing phrases in training.
{data['training']:,} training questions from {data['training_articles']} articles ({recipe['copies']} made of each
question); {data['tuning']:,} tuning questions from other training articles chose the epoch
of each stage (the second's: {summary['training']['best_epoch']} of {recipe['epochs']}) and the delete bias
({summary['training']['delete_bias']}: the best exact match with at most 1 % of the fluent tuning questions changed,
or where no bias gets there, the fewest changed). The {data['reporting_articles']} articles of
`training/heldout_articles.txt` are never trained or tuned on; the figures below are theirs.

## Held-out figures
"Exact": the cleaned question is token for token the fluent one (the first letter's case aside). "Damaged": a
fluent question the cleaner changed. The hand-written questions of `bench/data/wiki_questions.jsonl` (kind
`disfluent`; mostly typos, which the spelling correction handles, not this tagger) count as right when the output
is one of the accepted forms in `bench/data/disfluent_cleaned.jsonl`.

{_table(evaluation)}

Exact match per kind, held-out synthetic set:

{_kinds(evaluation)}

## What it replaced
All the disfluency regular expressions of `normalize.py` (FILLERS, RESTART, MARKER, REPAIR, TAKEN_BACK,
`clean_disfluency`, `apply_repair`) are retired: on the held-out synthetic set the tagger is far ahead of them and
damages fluent questions about as often. They are kept, unused by the product, in `bench/disfluency_rules.py` as
the baseline of the table above. The spelling correction against the collection's words stays in `normalize.py`
(matching, not judgement). On the 25 hand-written disfluent questions (most of which hold only typos, and were
written beside those rules) the rules still do better.

## Limits
Known misses (strict xfails in `tests/test_normalize.py`): a name said wrong then right with a filler between
("Newton's, uh Leibniz's"), "Umm" before a name taken for a filler, "vote no when ..." read as a restart. About
3 % of fluent held-out questions are changed, mostly by dropping a filler-like word used as content ("actually",
"so", "no").
Deletion only: a correction that needs words moved ("is Norse found no wait Normandy not Norse") is cleaned to
what deleting gives. English questions only. Editing phrases far from those of training are caught by context
(the wh-word that starts again, the word said twice), less reliably (see the unseen-phrases row).
The hedges and question tags of training (since 8 December 2026) overlap with those of the public sets' disfluent
kind (`training/disfluent.py`, another generator: "kind of", "I guess", ", right?", ", do you know?"), so that
kind no longer measures only phrasings never trained on. Trained with seed {recipe['seed']}: of seeds 13, 14 and
15 (8 December 2026), the one that answered the public sets' tuning half best (disfluent and restart questions,
`bench/public.py --half tune`; the three were within 0.01 of each other) among those that pass the hand-written
cases of `tests/test_normalize.py`.

Rebuild: `python -m training.train_disfluency` ({summary['seconds']:.0f} s on this machine's CPU).
"""
    path = out / "MODEL_CARD.md"
    path.write_text(text, encoding="utf-8")
    return path
