"""The server: the HTTP API, the chat page, access control, the reverse-proxy root path, readiness and uploads."""
