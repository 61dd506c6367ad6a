"""Reading a file of orders (JSON Lines) that a platform back-fills: one order per line, as the body of
``PUT /orders/{order_id}`` with its ``order_id``.

Every line is checked before anything is recorded: a file with a bad line is refused whole, naming the
line's number and what is wrong with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from disputes.domain.errors import DisputesError, InvalidValue
from disputes.domain.order import OrderFacts
from disputes.domain.parties import PRINCIPAL_ID_PATTERN

_ID = re.compile(PRINCIPAL_ID_PATTERN)
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$")
FIELDS = frozenset({"order_id", "buyer_id", "merchant_id", "currency", "total_amount", "placed_at", "delivered_at", "lines"})
LINE_FIELDS = frozenset({"line_id", "sku", "title", "quantity", "unit_price"})


class OrdersFileError(InvalidValue):
    code = "invalid-orders-file"
    title = "Invalid orders file"


@dataclass(frozen=True)
class OrderLineOfFile:
    number: int
    order_id: str
    facts: OrderFacts
    delivered_at: datetime | None


def read_orders(path: Path) -> list[OrderLineOfFile]:
    """Every order of the file, checked; :class:`OrdersFileError` at the first bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OrdersFileError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise OrdersFileError(f"{path} is not UTF-8 text") from None
    orders = list(_orders(text))
    if not orders:
        raise OrdersFileError(f"{path} holds no orders")
    return orders


def _orders(text: str) -> Iterator[OrderLineOfFile]:
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            order = _order(number, raw)
        except DisputesError as exc:
            raise OrdersFileError(f"line {number}: {exc.detail}") from None
        if order.order_id in seen:
            raise OrdersFileError(f"line {number}: order {order.order_id} is on line {seen[order.order_id]} too")
        seen[order.order_id] = number
        yield order


def _order(number: int, raw: str) -> OrderLineOfFile:
    try:
        data = json.loads(raw, parse_float=_no_float, parse_constant=_no_float)
    except json.JSONDecodeError as exc:
        raise InvalidValue(f"not JSON ({exc.msg} at character {exc.pos + 1})") from None
    if not isinstance(data, dict):
        raise InvalidValue("each line is one JSON object")
    _known(data, FIELDS, "")
    missing = sorted(FIELDS - {"delivered_at"} - set(data))
    if missing:
        raise InvalidValue(f"missing {', '.join(missing)}")
    lines = data["lines"]
    if not isinstance(lines, list):
        raise InvalidValue("lines must be a list")
    for i, line in enumerate(lines):
        if not isinstance(line, dict):
            raise InvalidValue(f"lines[{i}] must be an object")
        _known(line, LINE_FIELDS, f"lines[{i}].")
        for name in ("line_id", "sku", "title", "unit_price"):
            _text(line.get(name), f"lines[{i}].{name}")
        _id(line["line_id"], f"lines[{i}].line_id")
        if not isinstance(line.get("quantity"), int) or isinstance(line.get("quantity"), bool):
            raise InvalidValue(f"lines[{i}].quantity must be a whole number")
    order_id = _id(data["order_id"], "order_id")
    facts = OrderFacts.parse(
        buyer_id=_id(data["buyer_id"], "buyer_id"),
        merchant_id=_id(data["merchant_id"], "merchant_id"),
        currency=_text(data["currency"], "currency"),
        total_amount=_text(data["total_amount"], "total_amount"),
        placed_at=_time(data["placed_at"], "placed_at"),
        lines=lines,
    )
    delivered = data.get("delivered_at")
    return OrderLineOfFile(number, order_id, facts, None if delivered is None else _time(delivered, "delivered_at"))


def _no_float(text: str) -> Any:
    raise InvalidValue(f"{text} is a JSON number where a decimal string is due (send amounts as \"12.50\")")


def _known(data: dict[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidValue(f"unknown field {where}{unknown[0]}")


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidValue(f"{name} must be a non-empty string")
    return value


def _id(value: Any, name: str) -> str:
    text = _text(value, name)
    if not _ID.fullmatch(text):
        raise InvalidValue(f"{name} {text!r} must be 1-64 letters, digits and ._:@- starting with a letter or digit")
    return text


def _time(value: Any, name: str) -> datetime:
    text = _text(value, name)
    if not _RFC3339.match(text):
        raise InvalidValue(f"{name} must be an RFC 3339 time with a zone, e.g. 2026-11-20T09:00:00Z")
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")).astimezone(UTC)
