"""The HTTP API: thin routers that translate requests into application calls."""
