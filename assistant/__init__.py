"""assistant: a conversational retrieval assistant whose every sentence cites an exact, verified span."""

__version__ = "0.1.0"
