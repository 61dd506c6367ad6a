"""Secrets and modes: production refuses unsafe settings, security headers, CORS, failed-login log."""

from __future__ import annotations

import json
import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from disputes.domain.errors import DisputesError
from disputes.settings import Settings

auth_log = logging.getLogger("disputes.auth")

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
# The interactive docs load their scripts and styles: they get a CSP that lets them.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
    "connect-src 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})
HSTS = "max-age=63072000; includeSubDomains"


class UnsafeSettings(DisputesError):
    code = "unsafe-settings"
    title = "Unsafe settings for production"
    status = 500


def _temporary_roots() -> list[Path]:
    roots = {Path(tempfile.gettempdir()), Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")}
    return [root.resolve() for root in roots]


def unsafe_for_production(settings: Settings) -> list[str]:
    """What keeps these settings from being used in production (empty when nothing does)."""
    found: list[str] = []
    db = settings.database
    if db.dialect == "sqlite":
        assert db.sqlite_path is not None
        path = db.sqlite_path.resolve()
        if str(db.sqlite_path) in ("", ":memory:") or any(path.is_relative_to(r) for r in _temporary_roots()):
            found.append(f"DISPUTES_DATABASE_URL: SQLite under a temporary directory ({db.sqlite_path})")
    if settings.signing_key_file is None:
        found.append("DISPUTES_SIGNING_KEY_FILE is not set (exports could not be signed)")
    elif not settings.signing_key_file.is_file():
        found.append(f"DISPUTES_SIGNING_KEY_FILE: no such file {settings.signing_key_file}")
    if settings.debug:
        found.append("DISPUTES_DEBUG is on")
    return found


def check_production(settings: Settings) -> None:
    """In production (DISPUTES_ENV=production), refuse to start with unsafe settings."""
    if settings.env != "production":
        return
    found = unsafe_for_production(settings)
    if found:
        raise UnsafeSettings("refusing to start in production: " + "; ".join(found))


class SecurityHeadersMiddleware:
    """Adds the security headers to every answer, errors and replays included."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path") in DOCS_PATHS

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if docs:
                    headers["Content-Security-Policy"] = DOCS_CSP
                if self.hsts:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, with_headers)


def log_failed_authentication(
    reason: str, *, method: str, path: str, client: str | None, scheme: str | None
) -> None:
    """One JSON line per failed authentication; never the token, nor any part of it."""
    record = {
        "event": "authentication_failed",
        "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "reason": reason,
        "method": method,
        "path": path,
        "client": client,
        "scheme": scheme,
    }
    auth_log.warning(json.dumps(record, sort_keys=True))
