"""The one fitted combination behind the extractive answerer's confidence: P(this sentence answers the question).

The answer-bearing model's logit and a handful of evidence features it cannot see (answer_evidence.py) enter one
logistic regression; its weights, the abstention threshold and the input format of the model live in
models/answer_bearing/answerer.json, written by training/fit_answerer.py from the tuning half of bench/data only.
Without that file the model's own sigmoid is used (weight 1 on the logit) and nothing else counts.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..model_files import ANSWER_MODEL_DIR

WEIGHTS_FILE = ANSWER_MODEL_DIR / "answerer.json"


@dataclass
class Combination:
    weights: dict[str, float] = field(default_factory=lambda: {"logit": 1.0})
    bias: float = 0.0
    threshold: float = 0.5  # abstain when the best sentence's probability is under this
    context_input: bool = False  # the model reads "{sentence} || {previous sentence}" (model-context.onnx)

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * features[name] for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> "Combination":
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(weights=dict(data["weights"]), bias=float(data["bias"]), threshold=float(data["threshold"]),
                   context_input=bool(data.get("context_input", False)))


@lru_cache(maxsize=1)
def combination() -> Combination:
    return Combination.load()
