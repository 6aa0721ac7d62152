"""Teach the shipped answer model to read a follow-up after the turn it leans on, on this 2-core CPU.

    python -m training.train_conversation_model --out build/conversation-model      # CPU, under an hour
    python -m training.train_conversation_model --tiny --out /tmp/x                 # end to end, a minute

It continues from assistant/models/answer_bearing/model.onnx (dequantized: training/base_model.py) rather than from
the packaged cross-encoder: a CPU fine-tunes MiniLM-L12 at about 10 pairs a second, so what the model already knows
must be kept, not relearned. The pairs (seeded, training articles only, never training/heldout_articles.txt):
- follow-ups as the product reads them, "{question} || {subject of the turn it leans on}"
  (training/conversation_pairs.py) - the kind the shipped model never saw;
- questions that stand alone after another turn (topic changes, self-contained ones), as typed;
- single-question pairs of training/pairs.py, unanswerable ones included, so that abstention is not forgotten.
Then the recipe of train_answer_model (weighted binary cross-entropy, AdamW, linear warm-up and decay), export to
int8 ONNX, and a training.json. The figures that decide whether it ships are bench/public.py's (reporting half).
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

import torch

from training.base_model import load_trained
from training.conversation_pairs import conversation_pairs
from training.export import export_int8
from training.pairs import PairOptions, build_pairs, read_heldout
from training.squad import DATA_DIR, read_articles
from training.train_answer_model import Recipe, fine_tune

SHIPPED = Path(__file__).resolve().parent.parent / "assistant" / "models" / "answer_bearing"
CPU_RECIPE = dict(batch_size=32, learning_rate=2e-5, max_length=256)
MIX = {"follow_up": 12_000, "standalone": 5_000, "single": 7_000}  # pairs of each kind
TINY_MIX = {"follow_up": 48, "standalone": 16, "single": 32}


def mixed_pairs(mix: dict[str, int], seed: int, tiny: bool, data_dir: Path) -> list:
    heldout = read_heldout()
    articles = sorted(read_articles(data_dir, keep=lambda t: t not in heldout), key=lambda a: a.title)
    if tiny:
        articles = articles[:3]
    rng = random.Random(seed)
    talk = conversation_pairs(articles, rng)
    follow_up = [p for p in talk if p.kind.endswith("_read_as_follow_up")]
    standalone = [p for p in talk if not p.kind.endswith("_read_as_follow_up")]
    single, _ = build_pairs(articles, heldout, PairOptions(), seed)

    def sample(pool: list, n: int) -> list:
        # whole questions, not scattered sentences: a question's positive is learned against its own negatives
        questions = list(dict.fromkeys(p.question for p in pool))
        rng.shuffle(questions)
        by_question: dict[str, list] = {}
        for p in pool:
            by_question.setdefault(p.question, []).append(p)
        out = []
        for q in questions:
            if len(out) >= n:
                break
            out += by_question[q]
        return out

    return sample(follow_up, mix["follow_up"]) + sample(standalone, mix["standalone"]) + sample(single, mix["single"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="the model folder to write (default: a new temporary folder)")
    parser.add_argument("--tiny", action="store_true", help="a few dozen pairs: checks the pipeline end to end")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the number of pairs of each kind")
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    args = parser.parse_args()
    recipe = Recipe(**CPU_RECIPE)
    mix = TINY_MIX if args.tiny else {k: int(v * args.scale) for k, v in MIX.items()}
    out = args.out or Path(tempfile.mkdtemp(prefix="conversation-model-"))
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(recipe.seed)
    model, start_check = load_trained(SHIPPED)
    pairs = mixed_pairs(mix, recipe.seed, args.tiny, args.data)
    kinds: dict[str, int] = {}
    for p in pairs:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    print(f"{len(pairs)} pairs: {kinds}", flush=True)
    recipe.max_pairs = len(pairs)
    training = fine_tune(model, pairs, recipe, torch.device("cpu"))
    export_check = export_int8(model.float().eval(), out, recipe.max_length)
    shutil.copy(SHIPPED / "tokenizer.json", out / "tokenizer.json")
    report = {"recipe": asdict(recipe), "mix": mix, "pairs_by_kind": kinds, "tiny": args.tiny,
              "continued_from": "assistant/models/answer_bearing/model.onnx", "start_check": start_check,
              "training": training, "export_check": export_check}
    (out / "training.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(json.dumps(report, indent=1), flush=True)
    print(f"model written to {out}", flush=True)


if __name__ == "__main__":
    main()
