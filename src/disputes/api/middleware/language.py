"""The language of every answer: ``Accept-Language`` among zh-CN and en, else the policy's
``default_language``; kept on the request (``request.state.language``) for the routes and the problem
handlers, and named on the answer by ``Content-Language``."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from disputes.i18n import DEFAULT_LANGUAGE, negotiate


def request_language(request: Request) -> str:
    """The language the middleware chose for this request (the default outside it)."""
    return str(getattr(request.state, "language", DEFAULT_LANGUAGE))


def scope_language(scope: Scope) -> str:
    return str(scope.get("state", {}).get("language", DEFAULT_LANGUAGE))


class LanguageMiddleware:
    def __init__(self, app: ASGIApp, default_language: str = DEFAULT_LANGUAGE) -> None:
        self.app = app
        self.default_language = default_language

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        language = negotiate(Headers(scope=scope).get("accept-language"), self.default_language)
        scope.setdefault("state", {})["language"] = language

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Language"] = language
                vary = headers.get("Vary")
                if vary is None:
                    headers["Vary"] = "Accept-Language"
                elif "accept-language" not in vary.lower():
                    headers["Vary"] = vary + ", Accept-Language"
            await send(message)

        await self.app(scope, receive, send_with_language)
