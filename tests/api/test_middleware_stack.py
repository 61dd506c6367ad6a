"""The middleware stack stays plain ASGI: no layer runs the app in a task of its own (docs/performance.md)."""

from __future__ import annotations

from starlette.middleware.base import BaseHTTPMiddleware

from disputes.api.app import create_app
from disputes.api.middleware.observe import REQUEST_ID_HEADER
from support.http import Api


def test_no_middleware_around_the_routes_is_a_base_http_middleware(api: Api) -> None:
    stack = create_app(api.container).user_middleware
    assert len(stack) >= 5  # security headers, language, observation, input guard, idempotency
    assert [m.cls for m in stack if isinstance(m.cls, type) and issubclass(m.cls, BaseHTTPMiddleware)] == []
    answer = api.http.get("/healthz", headers={REQUEST_ID_HEADER: "stack-check"})
    assert answer.status_code == 200
    assert answer.headers[REQUEST_ID_HEADER] == "stack-check"
    assert answer.headers["X-Content-Type-Options"] == "nosniff" and answer.headers["Content-Language"]
