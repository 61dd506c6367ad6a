"""Each request observed once: its X-Request-ID and trace context, one JSON log line, and the request
metrics (count and latency by method, route template and status).

The request id is the caller's ``X-Request-ID`` when it is 1 to 200 visible ASCII characters, else a new
one; it comes back on the answer. A valid W3C ``traceparent`` puts its trace id on every log line of
the request (and OpenTelemetry, when enabled, continues the caller's trace).

A pure ASGI middleware (no ``BaseHTTPMiddleware``, which runs the app in a task of its own and passes
every message through a memory stream): it watches the answer's start message go by, adds the request
id to it, and counts and logs the request there, so the latency is the time to the answer's status and
headers, as before. A request whose app raised before answering is left to the server-error handler
outside, as before.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from disputes.adapters.logs import REQUEST_CONTEXT, RequestContext
from disputes.adapters.metrics import HTTP_DURATION, HTTP_REQUESTS

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[!-~]{1,200}$")
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
access_log = logging.getLogger("disputes.access")


def request_context(headers: Headers) -> RequestContext:
    """The request's id (the caller's, if usable) and the trace it belongs to (if the caller said)."""
    given = headers.get(REQUEST_ID_HEADER, "")
    request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    found = _TRACEPARENT.match(headers.get("traceparent", "").strip().lower())
    if found is None or set(found.group(1)) == {"0"} or set(found.group(2)) == {"0"}:
        return RequestContext(request_id)
    return RequestContext(request_id, trace_id=found.group(1), parent_id=found.group(2))


def _principal(scope: Scope) -> str | None:
    actor = scope.get("state", {}).get("actor")
    return None if actor is None else f"{actor.role.value}:{actor.id}"


class ObserveMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = request_context(Headers(scope=scope))
        start = time.perf_counter()

        async def observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = context.request_id
                _record(scope, context, int(message["status"]), time.perf_counter() - start)
            await send(message)

        token = REQUEST_CONTEXT.set(context)
        try:
            await self.app(scope, receive, observed)
        finally:
            REQUEST_CONTEXT.reset(token)


def _record(scope: Scope, context: RequestContext, status: int, seconds: float) -> None:
    """The request's metrics and its access log line."""
    method = str(scope["method"])
    route = str(getattr(scope.get("route"), "path", "unmatched"))
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route, str(status)).observe(seconds)
    extra = {
        "request_id": context.request_id,
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "principal": _principal(scope),
    }
    if context.trace_id is not None:
        extra["trace_id"] = context.trace_id
    access_log.info("request", extra=extra)
