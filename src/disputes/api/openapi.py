"""The OpenAPI document, made precise about errors: every error answer is problem+json, and every
operation lists the problems the HTTP layer itself may answer with (the fuzzer holds the server to it).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from disputes.api.problems import PROBLEM_MEDIA_TYPE
from disputes.api.schemas.common import Problem

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_ALWAYS = {
    422: "malformed input (problem+json; `errors` lists each)",
    500: "a bug; logged, never shown",
}
_SECURED = {
    401: "no token, or an unknown, revoked or expired one",
    403: "the route is not for this role",
}
_WITH_BODY = {413: "the body is larger than the server accepts"}
_KEYED = {409: "a request with this Idempotency-Key is still running"}
_ON_A_CLAIM = {404: "no such claim, or not visible to you"}


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}}


def precise(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every 4xx and 5xx answer as problem+json and the HTTP layer's problems listed."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            extra = dict(_ALWAYS)
            if operation.get("security"):
                extra.update(_SECURED)
            if method in ("post", "put"):
                extra.update(_WITH_BODY)
            if method == "post":
                extra.update(_KEYED)
            if "{claim_id}" in path:
                extra.update(_ON_A_CLAIM)
            for code, description in extra.items():
                responses.setdefault(str(code), _problem_response(description))
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}
    return document


def install(api: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            document = get_openapi(
                title=api.title,
                version=api.version,
                description=api.description,
                routes=api.routes,
            )
            api.openapi_schema = precise(document)
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
