"""Answering: the answerers (extractive, llm), their drafts, evidence and calibration, and sentence verification."""
