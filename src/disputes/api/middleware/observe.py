"""Each request observed once: its X-Request-ID and trace context, one JSON log line, and the request
metrics (count and latency by method, route template and status).

The request id is the caller's ``X-Request-ID`` when it is 1 to 200 visible ASCII characters, else a new
one; it comes back on the answer. A valid W3C ``traceparent`` puts its trace id on every log line of
the request (and OpenTelemetry, when enabled, continues the caller's trace).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from disputes.adapters.logs import REQUEST_CONTEXT, RequestContext
from disputes.adapters.metrics import HTTP_DURATION, HTTP_REQUESTS

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[!-~]{1,200}$")
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
access_log = logging.getLogger("disputes.access")


def request_context(request: Request) -> RequestContext:
    """The request's id (the caller's, if usable) and the trace it belongs to (if the caller said)."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    found = _TRACEPARENT.match(request.headers.get("traceparent", "").strip().lower())
    if found is None or set(found.group(1)) == {"0"} or set(found.group(2)) == {"0"}:
        return RequestContext(request_id)
    return RequestContext(request_id, trace_id=found.group(1), parent_id=found.group(2))


def _principal(request: Request) -> str | None:
    actor = getattr(request.state, "actor", None)
    return None if actor is None else f"{actor.role.value}:{actor.id}"


async def observe_requests(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    context = request_context(request)
    token = REQUEST_CONTEXT.set(context)
    start = time.perf_counter()
    try:
        response = await call_next(request)
    finally:
        REQUEST_CONTEXT.reset(token)
    seconds = time.perf_counter() - start
    route = str(getattr(request.scope.get("route"), "path", "unmatched"))
    status = str(response.status_code)
    HTTP_REQUESTS.labels(request.method, route, status).inc()
    HTTP_DURATION.labels(request.method, route, status).observe(seconds)
    response.headers[REQUEST_ID_HEADER] = context.request_id
    extra = {
        "request_id": context.request_id,
        "method": request.method,
        "route": route,
        "status": response.status_code,
        "duration_ms": round(seconds * 1000, 3),
        "principal": _principal(request),
    }
    if context.trace_id is not None:
        extra["trace_id"] = context.trace_id
    access_log.info("request", extra=extra)
    return response
