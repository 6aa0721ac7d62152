"""The request bodies the API accepts (pydantic): OpenAI chat completions and the REST ask."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MODEL_ID = "assistant"


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text or "" for p in self.content if p.type in ("text", "input_text"))
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatRequest(BaseModel):
    """OpenAI chat completion request: the last user message is the question, earlier turns the history."""

    model_config = ConfigDict(extra="allow")  # temperature, max_tokens... are accepted and ignored
    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    source_list: bool = Field(True, description=(
        "end the content with a Markdown Sources list (marker, title, date, quoted span) for clients that show only "
        "the content; false for clients that render `citations` themselves"))


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    question: str
    history: list[Turn] = Field(default_factory=list, description="earlier turns, oldest first")
