"""Every error as RFC 9457 problem+json, mapped in this one place, in the caller's language.

``title`` and ``detail`` are in the language the request negotiated (``Accept-Language``, else the
policy's ``default_language``): English keeps the error's own words; another language takes the
problem type's title and detail from the ``problems`` catalogue, unless the raiser already wrote the
detail in that language (validation errors, 403s naming who may act).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from disputes.adapters.database import (
    STORE_RETRY_AFTER_SECONDS,
    StoreUnavailable,
    is_unavailable,
    unavailability_errors,
)
from disputes.api.middleware.language import request_language
from disputes.api.validation_words import described
from disputes.domain.errors import DisputesError
from disputes.i18n import CATALOGUES, DEFAULT_LANGUAGE

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "/problems/"
log = logging.getLogger("disputes.api")

_HTTP_CODES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "Invalid request"),
    503: ("unavailable", "Service unavailable"),
}


class ApiProblem(Exception):
    """An error the HTTP layer itself raises (authentication, headers)."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        headers: dict[str, str] | None = None,
        *,
        localised: bool = False,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail
        self.headers = headers or {}
        self.localised = localised
        """True when ``detail`` is written in the request's language already."""


def localise(language: str, code: str, title: str, detail: str, *, localised: bool = False) -> tuple[str, str]:
    """``title`` and ``detail`` in ``language``: the catalogue's, or the given English ones."""
    if language == DEFAULT_LANGUAGE:
        return title, detail
    key = f"problems.{code}."
    if CATALOGUES.has(key + "title"):
        title = CATALOGUES.text(language, key + "title")
        if not localised:
            detail = CATALOGUES.text(language, key + "detail")
    return title, detail


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    claim_id: str | None = None,
    headers: dict[str, str] | None = None,
    language: str = DEFAULT_LANGUAGE,
    localised: bool = False,
    **extra: Any,
) -> JSONResponse:
    title, detail = localise(language, code, title, detail, localised=localised)
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": title, "status": status, "detail": detail}
    if claim_id is not None:
        body["claim_id"] = claim_id
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _claim_id(request: Request) -> str | None:
    """The claim the request's path names, for the problems the HTTP layer itself raises."""
    value = request.path_params.get("claim_id")
    return value if isinstance(value, str) else None


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into problem+json."""

    @app.exception_handler(DisputesError)
    async def domain_error(request: Request, exc: DisputesError) -> JSONResponse:
        return problem(
            exc.status,
            exc.code,
            exc.title,
            exc.detail,
            claim_id=exc.claim_id,
            headers=exc.headers or None,
            language=request_language(request),
            localised=getattr(exc, "localised", False),
            **exc.extra,
        )

    @app.exception_handler(ApiProblem)
    async def api_problem(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem(
            exc.status,
            exc.code,
            exc.title,
            exc.detail,
            claim_id=_claim_id(request),
            headers=exc.headers,
            language=request_language(request),
            localised=exc.localised,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Where and what to send instead, in the caller's language; never the (possibly hostile or
        # secret) input echoed back, nor pydantic's own texts.
        language = request_language(request)
        detail, errors = described(list(exc.errors()), language)
        return problem(
            422,
            "validation-error",
            "Invalid request",
            detail,
            claim_id=_claim_id(request),
            errors=errors,
            language=language,
            localised=True,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, title = _HTTP_CODES.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem(
            exc.status_code,
            code,
            title,
            detail,
            headers=getattr(exc, "headers", None),
            language=request_language(request),
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_unavailable(exc):  # raised outside the routes (a middleware's own store access)
            return store_unavailable(request, exc)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "internal-error",
            "Internal error",
            "the server failed; the error was logged",
            language=request_language(request),
        )

    async def store_error(request: Request, exc: Exception) -> JSONResponse:
        if is_unavailable(exc):
            return store_unavailable(request, exc)
        return await unexpected(request, exc)

    for error in unavailability_errors():
        app.add_exception_handler(error, store_error)


def store_unavailable(request: Request, exc: BaseException) -> JSONResponse:
    """503 with Retry-After: the database did not answer in time."""
    log.warning("store unavailable on %s %s: %s: %s", request.method, request.url.path,
                type(exc).__name__, str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    return problem(
        StoreUnavailable.status,
        StoreUnavailable.code,
        StoreUnavailable.title,
        "the database does not answer: retry shortly (with the same Idempotency-Key, a retry never "
        "records twice)",
        headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)},
        language=request_language(request),
    )
