"""The ASGI middleware around every route: security headers, input checks, idempotency keys, metrics."""
