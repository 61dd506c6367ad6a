"""Chain records straight from the stored state: what the export and the store check read at speed.

The public form of an event (:func:`disputes.application.records.event_record`) is defined over the
decoded domain event. Building a domain event only to describe it costs most of an export, so this
module reads the stored JSON itself with orjson and turns the transcoded values (``money``, ``actor``,
``datetime_iso``, ``uuid_hex``, ``decimal_str``) into exactly what ``plain()`` makes of the decoded
objects, validating them the same way (an actor's role and id, a decimal, an ISO time).

Whatever this path is not sure to read as the aggregate layer does (a cipher or compressor on the
mapper, an unknown transcoding, a class version to upcast, a float or an integer beyond 64 bits, a
value that does not validate) is handed back as ``None``: the caller then takes the aggregate layer's
way, whose verdict and message stay the reference. tests/audit/test_raw_records.py holds both ways to
the same records, and the same hashes and lines.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Notification, find_id_convertor
from eventsourcing.utils import resolve_topic

from disputes.adapters.event_store import StoredRow
from disputes.application.claims import DisputesApplication
from disputes.application.records import rfc3339
from disputes.audit.canonical import line, record_hash
from disputes.domain.parties import Actor

RawDecoder = Callable[[Notification | StoredRow], "dict[str, Any] | None"]

_ENVELOPE = frozenset({"originator_topic", "timestamp", "actor", "buyer"})
_CACHE_LIMIT = 100_000
_SORT = orjson.OPT_SORT_KEYS
_POSITION = b',"position":'


def _utc_text(text: str, moment: datetime) -> str:
    """``rfc3339(moment)`` for ``moment = datetime.fromisoformat(text)``, read off ``text`` when it is
    already UTC in ``isoformat()``'s own form (what the transcoder stores): ``YYYY-MM-DDTHH:MM:SS`` and
    ``.ffffff`` or not, then ``+00:00``; microseconds of zero are left out, as isoformat leaves them."""
    if text[10:11] == "T" and text[-6:] == "+00:00":
        if len(text) == 25:
            return text[:19] + "Z"
        if len(text) == 32 and text[19] == ".":
            return text[:19] + "Z" if text[20:26] == "000000" else text[:26] + "Z"
    return rfc3339(moment)


class _Unsure(Exception):
    """The stored state holds something only the aggregate layer may read."""


class _Reader:
    """Per application: topics resolved once, actors and amounts validated once each."""

    def __init__(self, app: DisputesApplication) -> None:
        self.usable = app.mapper.cipher is None and app.mapper.compressor is None
        self.types: dict[str, tuple[str, type[Any]]] = {}
        self.actors: dict[tuple[str, str], dict[str, str]] = {}
        self.amounts: dict[str, str] = {}
        self.moments: dict[str, str] = {}
        self.ids: dict[int | str, str] = {}

    def event_class(self, topic: str) -> tuple[str, type[Any]]:
        known = self.types.get(topic)
        if known is None:
            cls = resolve_topic(topic)
            if getattr(cls, "class_version", 1) != 1:
                raise _Unsure(topic)
            known = self.types[topic] = (cls.__name__, cls)
        return known

    def claim_id(self, cls: type[Any], stored: Any) -> str:
        """The aggregate id as text, cached by the stored id (a UUID's number, or the stored text): the
        events of a claim share it."""
        kind = type(stored)
        convert = find_id_convertor(cls, kind)  # type: ignore[arg-type]  # cached by the library
        key = stored.int if kind is UUID else stored if kind is str else None
        known = self.ids.get(key) if key is not None else None
        if known is None:
            known = str(convert(stored))
            if key is not None:
                if len(self.ids) >= _CACHE_LIMIT:
                    self.ids.clear()
                self.ids[key] = known
        return known

    def actor(self, data: Any) -> dict[str, str]:
        if type(data) is not dict or data.keys() != {"role", "id"}:
            raise _Unsure("actor")
        role, ident = data["role"], data["id"]
        if type(role) is not str or type(ident) is not str:
            raise _Unsure("actor")
        known = self.actors.get((role, ident))
        if known is None:
            try:
                known = Actor(role, ident).as_dict()  # type: ignore[arg-type]  # validates as decoding does
            except Exception:
                raise _Unsure("actor") from None
            if len(self.actors) >= _CACHE_LIMIT:
                self.actors.clear()
            self.actors[(role, ident)] = known
        return {"role": known["role"], "id": known["id"]}

    def amount(self, text: Any) -> str:
        known = self.amounts.get(text) if type(text) is str else None
        if known is None:
            try:
                known = str(Decimal(text))
            except Exception:
                raise _Unsure("amount") from None
            if len(self.amounts) >= _CACHE_LIMIT:
                self.amounts.clear()
            self.amounts[text] = known
        return known

    def moment(self, text: Any) -> str:
        """A stored ISO time as RFC 3339 UTC (events of one command share theirs: cached)."""
        known = self.moments.get(text) if type(text) is str else None
        if known is None:
            if type(text) is not str:
                raise _Unsure("datetime_iso")
            known = _utc_text(text, datetime.fromisoformat(text))
            if len(self.moments) >= _CACHE_LIMIT:
                self.moments.clear()
            self.moments[text] = known
        return known

    def value(self, value: Any) -> Any:
        kind = type(value)
        if kind is str or kind is int or value is None or kind is bool:
            return value
        if kind is dict:
            if "_type_" in value and value.keys() == {"_type_", "_data_"}:
                return self.transcoded(value["_type_"], value["_data_"])
            return {k: v if type(v) is str else self.value(v) for k, v in value.items()}
        if kind is list:
            return [self.value(v) for v in value]
        if kind is float:
            raise _Unsure("float")
        return value

    def transcoded(self, name: Any, data: Any) -> Any:
        try:
            if name == "datetime_iso":
                return self.moment(data)
            if name == "money":
                if type(data) is not dict or data.keys() != {"amount", "currency"}:
                    raise _Unsure(name)
                return {"amount": self.amount(data["amount"]), "currency": data["currency"]}
            if name == "actor":
                return self.actor(data)
            if name == "uuid_hex":
                if type(data) is not str:
                    raise _Unsure(name)
                return str(UUID(data))
            if name == "decimal_str":
                return self.amount(data)
        except _Unsure:
            raise
        except Exception:
            raise _Unsure(str(name)) from None
        raise _Unsure(str(name))

    def record(self, notification: Notification | StoredRow) -> dict[str, Any] | None:
        """The record ``event_record(decoded).as_dict()`` would give, or None when unsure."""
        if not self.usable:
            return None
        try:
            state = orjson.loads(notification.state)
            if type(state) is not dict or "class_version" in state:
                return None
            type_name, cls = self.event_class(notification.topic)
            claim_id = self.claim_id(cls, notification.originator_id)
            actor = state.get("actor") or state.get("buyer")
            stamp = state.get("timestamp")
            if type(stamp) is not dict or stamp.get("_type_") != "datetime_iso" or type(actor) is not dict:
                return None
            if actor.get("_type_") != "actor" or actor.keys() != {"_type_", "_data_"}:
                return None
            return {
                "claim_id": claim_id,
                "version": int(notification.originator_version),
                "type": type_name,
                "recorded_at": self.moment(stamp["_data_"]),
                "actor": self.actor(actor["_data_"]),
                "data": {
                    k: v if type(v) is str else self.value(v) for k, v in state.items() if k not in _ENVELOPE
                },
            }
        except (_Unsure, orjson.JSONDecodeError, ValueError, TypeError, AttributeError):
            return None


def raw_decoder(app: DisputesApplication) -> RawDecoder:
    """A function from a stored event to its public record (as a dict), or None: decode it instead."""
    return _Reader(app).record


def chain_line(position: int, record: dict[str, Any], prev_hash: str) -> tuple[dict[str, Any], bytes]:
    """The chain record of a raw-read ``record`` and its events.jsonl line, hashed and written once.

    orjson with sorted keys writes the canonical bytes for such a record (strings, integers within 64
    bits, booleans, null, lists and dicts with string keys: tests/audit/test_fast_canonical.py); the
    line is the same bytes with ``"hash"`` put in its sorted place, just before ``"position"`` (every
    member after ``data`` is a number, a hash, a time or a class name: none can hold that text).
    Anything orjson refuses goes the standard library's way.
    """
    record["position"] = position
    record["prev_hash"] = prev_hash
    try:
        body = orjson.dumps(record, option=_SORT)
    except (orjson.JSONEncodeError, TypeError):  # pragma: no cover - a raw-read record always encodes
        record["hash"] = record_hash(record)
        return record, line(record)
    digest = hashlib.sha256(body).hexdigest()
    record["hash"] = digest
    cut = body.rindex(_POSITION) + 1
    return record, b"".join((body[:cut], b'"hash":"', digest.encode(), b'",', body[cut:], b"\n"))
