"""Canonical JSON and the record hash of the audit chain.

canonical(x) is JSON with keys sorted (by code point), separators ``,`` and ``:``, no whitespace,
non-ASCII written as UTF-8 (not ``\\u`` escapes) and no floats. For these records (ASCII keys, integers
and strings only) it coincides with RFC 8785 (JCS). ``hash = sha256(canonical(record without "hash"))``.

The definition is the standard library's output (``json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``). orjson writes exactly the same bytes with ``OPT_SORT_KEYS`` for every value a
parsed record can hold (dicts with string keys, lists, strings, integers within 64 bits, booleans,
null: tests/audit/test_fast_canonical.py checks every code point, integer bounds and key order; it
refuses integers beyond 64 bits) and is several times faster: ``disputes verify`` uses it for such
records (disputes.audit.chunks) and this module for anything else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from json.encoder import (  # type: ignore[attr-defined]
    c_encode_basestring,
    c_make_encoder,
)
from typing import Any

from disputes.application.records import EventRecord
from disputes.audit.format import FORMAT, ZERO_HASH

__all__ = [
    "FORMAT",
    "ZERO_HASH",
    "canonical",
    "canonical_parsed",
    "chain_record",
    "line",
    "record_hash",
]

_encoder = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, check_circular=False
)


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


# The C encoder behind _encoder, built once: json.JSONEncoder.encode builds a new one on every call.
_fast_encode: Callable[[Any, int], Any] | None = (
    c_make_encoder(None, _refuse, c_encode_basestring, None, ":", ",", True, False, False)
    if c_make_encoder is not None and c_encode_basestring is not None
    else None
)


def _no_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("floats are not allowed in the audit trail (amounts are decimal strings)")
    if isinstance(value, dict):
        for item in value.values():
            _no_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _no_floats(item)


def canonical(value: Any) -> bytes:
    """The canonical UTF-8 bytes of a JSON-ready value."""
    _no_floats(value)
    return _encoder.encode(value).encode("utf-8")


def canonical_parsed(value: Any) -> bytes:
    """:func:`canonical` for a value parsed from JSON that refused floats: no float walk, C speed."""
    if _fast_encode is None:  # pragma: no cover - CPython always has the C encoder
        return _encoder.encode(value).encode("utf-8")
    return "".join(_fast_encode(value, 0)).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_hash(record: dict[str, Any]) -> str:
    """The hash of a chain record: sha256 of the canonical JSON of every field except ``hash``."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return sha256_hex(canonical(body))


def chain_record(position: int, event: EventRecord, prev_hash: str) -> dict[str, Any]:
    """The canonical record of one stored event, with its ``prev_hash`` and its own ``hash``."""
    record: dict[str, Any] = event.as_dict()
    record["position"] = position
    record["prev_hash"] = prev_hash
    record["hash"] = record_hash(record)
    return record


def line(record: dict[str, Any]) -> bytes:
    """One events.jsonl line: the canonical JSON of the whole record (with its hash) and a newline.

    Only for records made by :func:`chain_record`, whose hashing has already refused floats.
    """
    return _encoder.encode(record).encode("utf-8") + b"\n"


def reject_float(text: str) -> Any:
    """``json.loads(..., parse_float=reject_float, parse_constant=reject_float)``: floats are faults."""
    raise ValueError(f"float {text} in a record (amounts must be decimal strings)")
