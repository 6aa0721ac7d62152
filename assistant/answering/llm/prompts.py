"""The prompts (prompts/NAME.txt) as chat messages, with document text fenced as data."""
from __future__ import annotations

import importlib.resources
import re
from functools import lru_cache

from ...schema import AssistantError
from .stream import MARKER_RE


@lru_cache(maxsize=None)
def load_prompt(name: str) -> tuple[tuple[str, str], ...]:
    """prompts/NAME.txt as chat messages: its [system], [user] and [assistant] parts, in order."""
    text = importlib.resources.files("assistant.prompts").joinpath(f"{name}.txt").read_text(encoding="utf-8")
    parts = tuple((m.group(1), m.group(2).strip()) for m in re.finditer(
        r"^\[(system|user|assistant)\]\n(.*?)(?=^\[(?:system|user|assistant)\]\n|\Z)", text, re.S | re.M))
    if not parts or parts[-1][0] != "user":
        raise AssistantError(f"prompts/{name}.txt must end with a [user] part")
    return parts


def render(name: str, values: dict[str, str]) -> list[dict]:
    """The chat messages of a prompt with its placeholders filled."""
    return [{"role": role, "content": fill(text, values)} for role, text in load_prompt(name)]


def fill(template: str, values: dict[str, str]) -> str:
    """Replace {name} placeholders in one pass, so text put in (articles, questions) is never expanded again."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


def as_data(text: str) -> str:
    """Flatten untrusted text onto one line and defuse what could pass for our ids or fences."""
    text = re.sub(r"\s+", " ", text).strip()
    text = MARKER_RE.sub(lambda m: m.group(0).replace("[", "(").replace("]", ")"), text)
    return text.replace("<<<", "«").replace(">>>", "»")
