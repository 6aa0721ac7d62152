"""The question: its clean-up against the collection (normalize) and a follow-up made standalone (rewrite)."""
