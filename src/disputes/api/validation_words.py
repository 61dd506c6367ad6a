"""pydantic's validation errors told in the caller's language: what to send instead, never pydantic's own
text ("send amounts as strings, e.g. \"100.00\"", "an ISO 4217 code such as CNY", ...).

A message is chosen by the field (amounts, currencies, delivery times) and else by pydantic's error
type; every one is in the ``validation`` catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from disputes.i18n import text

AMOUNT_FIELDS = frozenset({"amount", "claimed_amount", "order_amount", "total_amount", "unit_price"})
_BY_TYPE = {
    "missing": "missing",
    "extra_forbidden": "extra",
    "string_type": "string",
    "int_type": "integer",
    "int_parsing": "integer",
    "int_from_float": "integer",
    "bool_type": "boolean",
    "bool_parsing": "boolean",
    "string_pattern_mismatch": "pattern",
    "model_type": "object",
    "model_attributes_type": "object",
    "dict_type": "object",
    "list_type": "list",
    "timezone_aware": "datetime",
    "datetime_type": "datetime",
    "datetime_parsing": "datetime",
    "datetime_from_date_parsing": "datetime",
}
_LIMITS = {
    "string_too_long": ("too_long", "max_length"),
    "string_too_short": ("too_short", "min_length"),
    "too_long": ("too_many", "max_length"),
    "too_short": ("too_few", "min_length"),
    "greater_than_equal": ("too_small", "ge"),
    "greater_than": ("too_small", "gt"),
    "less_than_equal": ("too_big", "le"),
    "less_than": ("too_big", "lt"),
}


def _leaf(loc: tuple[Any, ...]) -> str | None:
    names = [part for part in loc if isinstance(part, str)]
    return names[-1] if len(names) > 1 or (names and names[0] not in ("body", "query", "path", "header")) else None


def message(error: Mapping[str, Any], language: str) -> str:
    """What the client should send instead, for one pydantic error."""
    kind = str(error.get("type", ""))
    leaf = _leaf(tuple(error.get("loc", ())))
    ctx = error.get("ctx") or {}
    if kind not in ("missing", "extra_forbidden"):
        if leaf in AMOUNT_FIELDS:
            key = "money" if kind == "string_type" else "money_format"
            return text(language, "validation." + key)
        if leaf == "currency":
            return text(language, "validation.currency")
        if leaf == "delivered_at":
            return text(language, "validation.delivered_at")
    if kind in ("enum", "literal_error"):
        return text(language, "validation.choice", choices=str(ctx.get("expected", "")).replace("'", ""))
    if kind in _LIMITS:
        key, name = _LIMITS[kind]
        return text(language, "validation." + key, limit=ctx.get(name, "?"))
    if kind == "value_error" and "RFC 3339" in str(error.get("msg", "")):
        return text(language, "validation.datetime")
    return text(language, "validation." + _BY_TYPE.get(kind, "invalid"))


def where(loc: tuple[Any, ...] | list[Any], language: str) -> str:
    """The field's path (``lines.0.unit_price``), or "the body"."""
    parts = [str(p) for p in loc]
    shown = parts[1:] if len(parts) > 1 and parts[0] in ("body", "query", "path", "header") else parts
    return ".".join(shown) if shown and shown != ["body"] else text(language, "validation.body")


def described(errors: list[Mapping[str, Any]], language: str) -> tuple[str, list[dict[str, Any]]]:
    """The problem's detail (its first error) and every error as ``{loc, msg, type}`` in ``language``."""
    listed = [
        {"loc": [str(p) for p in err.get("loc", ())], "msg": message(err, language), "type": err.get("type")}
        for err in errors
    ]
    if not listed:
        return text(language, "problems.validation-error.detail"), listed
    first = errors[0]
    detail = text(language, "validation.field", field=where(tuple(first.get("loc", ())), language), message=listed[0]["msg"])
    return detail, listed
