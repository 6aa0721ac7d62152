"""The fine-tuned model as int8 ONNX: opset 17, eager attention, per-channel dynamic quantization, checked.

Per-tensor quantization moved some logits by more than 2 (MODEL_CARD.md), hence per_channel=True; the SDPA
attention path exported a graph that was wrong for padded batches, hence the eager model (base_model.py) and a
check on a padded batch here.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic

from training.base_model import PROBES
from tokenizers import Tokenizer

from assistant.onnx_models import model_dir

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class Logits(torch.nn.Module):
    """The classifier with positional inputs and one output, as onnxruntime feeds it."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits


def probe_batch(max_length: int) -> dict[str, np.ndarray]:
    """The probe pairs as one padded batch: padding is where a wrong export shows."""
    tokenizer = Tokenizer.from_file(str(model_dir("reranker_en") / "tokenizer.json"))
    tokenizer.enable_truncation(max_length)
    tokenizer.enable_padding()
    encodings = tokenizer.encode_batch(PROBES)
    return {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}


def run(path: Path, feed: dict[str, np.ndarray]) -> np.ndarray:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feed)[0][:, 0]


def export_int8(model: torch.nn.Module, out: Path, max_length: int = 512) -> dict:
    """Writes out/model.onnx (int8) and returns how far its logits, and the fp32 export's, are from PyTorch's."""
    feed = probe_batch(max_length)
    sample = tuple(torch.from_numpy(feed[name]) for name in INPUTS)
    with torch.no_grad():
        reference = Logits(model)(*sample)[:, 0].numpy()
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUTS} | {"logits": {0: "batch"}}
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model-fp32.onnx"
        torch.onnx.export(Logits(model), sample, str(fp32), input_names=list(INPUTS), output_names=["logits"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)
        quantize_dynamic(str(fp32), str(out / "model.onnx"), weight_type=QuantType.QInt8, per_channel=True)
        exported = run(fp32, feed)
    quantized = run(out / "model.onnx", feed)
    return {"max_abs_fp32_onnx_vs_torch": float(np.max(np.abs(exported - reference))),
            "max_abs_int8_vs_fp32": float(np.max(np.abs(quantized - reference))),
            "size_mb": round((out / "model.onnx").stat().st_size / 1e6, 1)}
