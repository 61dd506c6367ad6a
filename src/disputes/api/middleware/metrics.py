"""A small Prometheus text exposition: request counts by route and status, and the store's head."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from disputes.application.claims import DisputesApplication

_lock = threading.Lock()
_requests: Counter[tuple[str, str, int]] = Counter()
_seconds: dict[tuple[str, str], float] = {}
_started = time.time()


async def count_requests(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    start = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    path = getattr(route, "path", "unmatched")
    with _lock:
        _requests[(request.method, path, response.status_code)] += 1
        key = (request.method, path)
        _seconds[key] = _seconds.get(key, 0.0) + time.perf_counter() - start
    return response


def render_metrics(app: DisputesApplication) -> str:
    lines = [
        "# HELP disputes_up 1 while the server runs.",
        "# TYPE disputes_up gauge",
        "disputes_up 1",
        "# HELP disputes_start_time_seconds When the process started.",
        "# TYPE disputes_start_time_seconds gauge",
        f"disputes_start_time_seconds {_started:.3f}",
    ]
    try:
        head = app.recorder.max_notification_id() or 0
        lines += [
            "# HELP disputes_events_head_position Position of the last recorded event.",
            "# TYPE disputes_events_head_position gauge",
            f"disputes_events_head_position {head}",
        ]
    except Exception:  # the store is down: /readyz says so; metrics still answer
        pass
    lines += [
        "# HELP disputes_http_requests_total HTTP requests by method, route and status.",
        "# TYPE disputes_http_requests_total counter",
    ]
    with _lock:
        for (method, path, status), count in sorted(_requests.items()):
            lines.append(
                f'disputes_http_requests_total{{method="{method}",route="{path}",status="{status}"}} {count}'
            )
        lines += [
            "# HELP disputes_http_request_seconds_total Time spent answering, by method and route.",
            "# TYPE disputes_http_request_seconds_total counter",
        ]
        for (method, path), seconds in sorted(_seconds.items()):
            lines.append(
                f'disputes_http_request_seconds_total{{method="{method}",route="{path}"}} {seconds:.6f}'
            )
    return "\n".join(lines) + "\n"
