"""The OpenAPI document, made for client generators: clean operationIds, a summary on every operation,
request examples, the ``Idempotency-Key`` header declared where it works, the response headers, every
error answer as problem+json naming the problem types it may carry (each resolves at
``/problems/{code}``), tag descriptions, and no schema that nothing uses.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from disputes.api.middleware.idempotency import HEADER as IDEMPOTENCY_HEADER
from disputes.api.middleware.idempotency import NEVER_STORED, REPLAYED_HEADER
from disputes.api.middleware.observe import REQUEST_ID_HEADER
from disputes.api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE
from disputes.api.responses import LINK_HEADER, POSITION_HEADER
from disputes.api.schemas.common import Problem
from disputes.domain import errors

TAGS = [
    {"name": "claims", "description": "Open a claim on an order and act on it: each command answers the "
     "claim, its version as the `ETag` (send it back in `If-Match`) and the position of its last event."},
    {"name": "reads", "description": "Lists, queues, timelines, scorecards and reports from the read models; "
     "`?min_position=` (a command's `X-Disputes-Position`) waits until they show your own write."},
    {"name": "orders", "description": "The platform's record of orders, which claims are judged against."},
    {"name": "standing", "description": "A merchant's standing (warnings, restrictions) and its appeals."},
    {"name": "audit", "description": "Signed, verifiable exports of the audit trail."},
    {"name": "administration", "description": "Tokens of principals (admins)."},
    {"name": "events", "description": "Events out: webhook subscriptions and their deliveries (CloudEvents signed "
     "as Standard Webhooks), and the event feed, as a batch or Server-Sent Events (docs/events.md)."},
    {"name": "rules", "description": "The rules in force, published in plain words in every language, without a "
     "token: time limits and what happens when they pass, eligibility, appeals, rights, other channels."},
    {"name": "operations", "description": "Liveness, readiness and Prometheus metrics, without a token."},
    {"name": "documentation", "description": "Where to start, and what each problem type means."},
]

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_ALWAYS = {422: "malformed input (`errors` lists each)", 500: "a bug; logged, never shown"}
_SECURED = {
    401: "no token, or an unknown, revoked or expired one",
    403: "the route is not for this role",
}
_WITH_BODY = {413: "the body is larger than the server accepts"}
_KEYED = {409: "a request with this Idempotency-Key is still running; retry after Retry-After seconds"}
_ON_A_CLAIM = {404: "no such claim, or not visible to you"}


def _codes(base: type[errors.DisputesError], status: int) -> list[str]:
    """The problem codes of ``base`` and its subclasses that answer with ``status``."""
    found, todo = [], [base]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.status == status and cls.code not in found:
            found.append(cls.code)
    return sorted(found)


_AT_START_ONLY = {"invalid-policy"}
"""Value errors no request causes (a bad policy file stops the start)."""
_INPUT = ["validation-error", "invalid-json", "json-too-deep", "invalid-characters"]
_CLAIM_WRONG_ACTOR = _codes(errors.ClaimError, 403)
PROBLEM_TYPES: dict[int, list[str]] = {
    401: ["unauthorized", "invalid-token"],
    413: ["payload-too-large"],
    412: ["stale-version"],
    500: ["internal-error"],
}
"""The problem types of a status wherever it is answered; the others depend on the route (below)."""


def problem_types(method: str, path: str, status: int, operation: dict[str, Any]) -> list[str]:
    """The problem types ``method path`` may answer with ``status``."""
    if status == 500 and path == "/exports/{job_id}":
        return sorted([*PROBLEM_TYPES[500], "export-failed", "export-interrupted"])
    if status in PROBLEM_TYPES:
        return PROBLEM_TYPES[status]
    claim = path.startswith("/claims/{claim_id}")
    merchant, order = path.startswith("/merchants/"), path.startswith("/orders/")
    keyed = method == "post" and path not in NEVER_STORED
    found: list[str] = []
    if status == 403:
        found = ["forbidden-role"]
        if claim:
            found += _CLAIM_WRONG_ACTOR
        if merchant:
            found += _codes(errors.StandingError, 403)
    elif status == 404:
        found = ["claim-not-found", "version-not-found"] if claim else ["not-found"]
        found += ["order-unknown"] if order else []
        found += ["standing-not-found"] if merchant else []
        found += ["principal-not-found"] if path == "/principals/{token_id}" else []
        found += ["export-not-found"] if path == "/exports/{job_id}" else []
    elif status == 409:
        found = ["idempotency-key-in-flight", "idempotency-answer-lost"] if keyed else []
        if claim or path == "/claims":
            found += [*_codes(errors.ClaimError, 409), "concurrent-update"]
        found += [*_codes(errors.OrderError, 409), "refund-exceeds-order"] if order else []
        found += [*_codes(errors.StandingError, 409), "concurrent-update"] if merchant else []
        found += ["last-admin-token"] if path == "/principals/{token_id}" else []
        found += ["audit-chain-broken"] if path.startswith("/exports") else []
    elif status == 422:
        found = list(_INPUT)
        parameters = {p["name"].lower() for p in operation.get("parameters", [])}
        found += ["invalid-if-match"] if "if-match" in parameters else []
        found += ["invalid-idempotency-key", "idempotency-key-reused"] if keyed else []
        if claim or path == "/claims" or order:
            found += [code for code in _codes(errors.InvalidValue, 422) if code not in _AT_START_ONLY]
    elif status == 503:
        parameters = {p["name"] for p in operation.get("parameters", [])}
        found = ["views-behind"] if "min_position" in parameters else []
        found += ["store-unavailable"] if path == "/readyz" else []
        found += ["signing-key-missing", "export-busy"] if path == "/exports" else []
    return sorted(set(found))


# --- headers -----------------------------------------------------------------------------------------

HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {"description": 'the claim\'s version, `"<version>"`: send it as `If-Match`', "schema": {"type": "string"}},
    POSITION_HEADER: {
        "description": "the store position of the command's last event, or the position the views read have "
        "reached: pass it as `?min_position=` to read your own write",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "Location": {"description": "the new claim's URL; the export job's (`POST /exports`, 202)", "schema": {"type": "string"}},
    REPLAYED_HEADER: {
        "description": "`true` when this is the stored answer to an earlier request with the same "
        "Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {"description": "seconds to wait before asking again", "schema": {"type": "string"}},
    LINK_HEADER: {
        "description": 'RFC 8288, only when another page follows: `<...>; rel="next"`, this request with '
        "`after_version` set to the last version of this page",
        "schema": {"type": "string"},
        "example": '</claims/6f1d3c1e-5d0a-4d43-9a53-2f0f6a7c1b11/history?limit=200&after_version=200>; rel="next"',
    },
    REQUEST_ID_HEADER: {
        "description": "the request's id in the server's logs: yours if you sent a usable one",
        "schema": {"type": "string"},
    },
}
IDEMPOTENCY_PARAMETER = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": "1 to 200 visible ASCII characters, new for each new request: a retry with the same key "
    "and request gets the first answer again, and nothing is recorded twice (kept 24 hours)",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"},
}
REQUEST_ID_PARAMETER = {
    "name": REQUEST_ID_HEADER,
    "in": "header",
    "required": False,
    "description": "your id for the request: it appears in the server's logs and comes back on the answer "
    "(one that is not 1 to 200 visible ASCII characters is replaced, never refused)",
    "schema": {"type": "string"},
}


def _headers_of(method: str, path: str, status: str, operation: dict[str, Any], schema_ref: str) -> list[str]:
    names = [REQUEST_ID_HEADER]
    keyed = method == "post" and path not in NEVER_STORED
    if status[0] == "2":
        if schema_ref.endswith("/ClaimPublic"):
            names.append("ETag")
        if (method == "post" and schema_ref.endswith("/ClaimPublic")) or any(
            p["name"] == "min_position" for p in operation.get("parameters", [])
        ):
            names.append(POSITION_HEADER)
        if (status == "201" and path == "/claims") or (status == "202" and path == "/exports"):
            names.append("Location")
        if any(p["name"] == "after_version" for p in operation.get("parameters", [])):
            names.append(LINK_HEADER)
        if status == "202" and path.startswith("/exports"):
            names.append("Retry-After")
        if keyed:
            names.append(REPLAYED_HEADER)
    if status == "503" or (status == "409" and keyed):
        names.append("Retry-After")
    return names


# --- request examples --------------------------------------------------------------------------------

EXAMPLES: dict[str, dict[str, Any]] = {
    "ClaimCreate": {
        "order_id": "o-1001",
        "kind": "refund_only",
        "reason": "damaged",
        "claimed_amount": "80.00",
        "description": "The vase arrived broken.",
    },
    "MerchantResponseCreate": {"decision": "offer", "amount": "40.00", "message": "Half back; keep the vase."},
    "OfferAnswerCreate": {"accept": True},
    "MessageCreate": {"body": "The parcel left us intact; see the packing photos."},
    "EvidenceCreate": {
        "kind": "photo",
        "description": "The broken vase, as unpacked",
        "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "size_bytes": 482133,
    },
    "MediationRequestCreate": {"reason": "The merchant refuses."},
    "AssignmentCreate": {},
    "EvidenceRequestCreate": {"from_party": "merchant", "description": "Photos of the packing, please."},
    "DecisionCreate": {"outcome": "partial_refund", "amount": "50.00", "rationale": "Damage shown on photos."},
    "ReturnShipmentCreate": {"carrier": "SF Express", "tracking_number": "SF1234567890"},
    "ReturnReceiptCreate": {"condition": "as_sent"},
    "RefundCreate": {"amount": "50.00", "payment_reference": "pay-77821"},
    "LegalEscalationCreate": {"reason": "The buyer filed suit.", "case_reference": "(2026) Hu 0101 Min Chu 123"},
    "LegalOutcomeCreate": {"outcome": "The court ordered a full refund.", "reference": "(2026) Hu 0101 Min Chu 123"},
    "WithdrawalCreate": {"reason": "The parcel turned up."},
    "AppealCreate": {"reason": "The vase left us intact; see the packing photos."},
    "AppealDecisionCreate": {"outcome": "upheld", "rationale": "The photos show the damage."},
    "ClosureCreate": {"summary": "Refunded in part; both sides informed."},
    "OrderRecord": {
        "buyer_id": "b1",
        "merchant_id": "m1",
        "currency": "CNY",
        "total_amount": "100.00",
        "placed_at": "2026-11-18T09:00:00Z",
        "delivered_at": None,
        "lines": [{"line_id": "vase", "sku": "V-7", "title": "Celadon vase", "quantity": 1, "unit_price": "100.00"}],
    },
    "DeliveryCreate": {"delivered_at": "2026-11-20T10:00:00Z"},
    "StandingAppealDecisionCreate": {"outcome": "overturned", "rationale": "Carrier damage, not the merchant's."},
    "ExportCreate": {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"},
    "PrincipalCreate": {"role": "merchant", "id": "m2", "ttl_seconds": 2592000},
    "WebhookCreate": {
        "url": "https://hooks.example.com/disputes",
        "event_types": ["ClaimOpened", "AcceptedByDefault", "DeadlineReminder"],
        "description": "the platform's messaging service",
    },
    "Redelivery": {"from_position": 1200},
}
"""One example request body per body schema, by schema name (a test checks each against its model)."""


# --- the document ------------------------------------------------------------------------------------


def operation_id(route: APIRoute) -> str:
    """The route's name in lower camel case: ``open_claim`` -> ``openClaim``."""
    head, *rest = re.split(r"[_\-]+", route.name)
    return head + "".join(word.capitalize() for word in rest)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}}


def precise(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every error answer as problem+json naming its types, the headers, examples."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
    document["tags"] = TAGS
    for path, method, operation in _operations(document):
        operation["summary"] = _summary(operation)
        responses: dict[str, Any] = operation["responses"]
        parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
        keyed = method == "post" and path not in NEVER_STORED
        if keyed:
            parameters.append(dict(IDEMPOTENCY_PARAMETER))
        parameters.append(dict(REQUEST_ID_PARAMETER))
        extra = dict(_ALWAYS)
        if operation.get("security"):
            extra.update(_SECURED)
        if method in ("post", "put"):
            extra.update(_WITH_BODY)
        if keyed:
            extra.update(_KEYED)
        if "{claim_id}" in path:
            extra.update(_ON_A_CLAIM)
        for code, description in extra.items():
            responses.setdefault(str(code), _problem_response(description))
        for status, response in responses.items():
            schema_ref = ""
            if status[0] in "45":
                types = problem_types(method, path, int(status), operation)
                response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}}
                if types:
                    response["description"] = (
                        response.get("description", "").rstrip(". ")
                        + ". Problem types: "
                        + ", ".join(f"`{PROBLEM_BASE}{code}`" for code in types)
                    )
                    response["x-problem-types"] = [PROBLEM_BASE + code for code in types]
            else:
                for media in response.get("content", {}).values():
                    schema_ref = str(media.get("schema", {}).get("$ref", ""))
            names = _headers_of(method, path, status, operation, schema_ref)
            response["headers"] = {name: copy.deepcopy(HEADERS[name]) for name in names}
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            name = str(body["schema"].get("$ref", "")).rsplit("/", 1)[-1]
            if name in EXAMPLES:
                body["example"] = EXAMPLES[name]
    return without_unused_schemas(document)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.rsplit("/", 1)[-1]
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def without_unused_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """Drop the component schemas that no operation reaches (FastAPI's own 422 schemas, for one)."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    reached: set[str] = set()
    todo = list(_refs(document.get("paths", {})))
    while todo:
        name = todo.pop()
        if name not in reached and name in schemas:
            reached.add(name)
            todo += _refs(schemas[name])
    for name in set(schemas) - reached:
        del schemas[name]
    return document


def _summary(operation: dict[str, Any]) -> str:
    """The operation's own summary, or, where FastAPI made one up from the function's name, the first
    sentence of its description."""
    summary = str(operation.get("summary", ""))
    made_up = re.sub(r"(?<!^)(?=[A-Z])", " ", str(operation.get("operationId", ""))).title()
    description = str(operation.get("description", "")).strip()
    if summary != made_up or not description:
        return summary
    first = description.split("\n\n")[0].replace("\n", " ")
    for boundary in (r"(?<=[.;:])\s", r"(?<=\.)\s"):
        sentence = re.split(boundary, first)[0]
        if sentence.count("(") == sentence.count(")"):
            return sentence.rstrip(".;:")
    return first.rstrip(".")


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
