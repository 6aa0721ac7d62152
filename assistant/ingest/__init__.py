"""Ingest: reading files into documents (extract), cutting them into chunks (chunking), the ingest run (pipeline)."""
