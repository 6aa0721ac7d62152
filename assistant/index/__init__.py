"""The index: the chunk store (Chroma and BM25), retrieval over it, and the embedders."""
