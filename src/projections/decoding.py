"""Stored events decoded with orjson, for a rebuild's partitions: the domain events the library's mapper
makes, built without its JSON decoder's per-object hook.

The mapper (``app.mapper.to_domain_event``) decodes the stored JSON with the standard library and a hook
that turns each ``{"_type_": ..., "_data_": ...}`` object into its value. Here orjson reads the state
and the values of the transcodings this application registers (``datetime_iso``, ``uuid_hex``,
``decimal_str``, ``money``, ``actor``) are made exactly as those transcodings make them; immutable
values that recur (a claim's id, its times, amounts and actors) are made once and shared.

Whatever this path is not sure to read as the library does (a cipher or compressor on the mapper, other
transcodings, a class version to upcast, a float, an integer orjson refuses, a value the transcoding
would refuse) goes to the library's mapper: its event, or its error, stays the reference.
tests/projections/test_fast_rebuild.py holds both ways to equal events over a varied mix.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    UUIDAsHex,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic

from disputes.adapters.event_store import StoredRow
from disputes.adapters.transcodings import ActorAsDict, MoneyAsDict
from disputes.domain.money import Money
from disputes.domain.parties import Actor, Role

CACHE_LIMIT = 100_000
"""Values kept per kind before the cache starts afresh."""
TRANSCODINGS: dict[str, type[Any]] = {
    "uuid_hex": UUIDAsHex,
    "decimal_str": DecimalAsStr,
    "datetime_iso": DatetimeAsISO,
    "money": MoneyAsDict,
    "actor": ActorAsDict,
}
"""The transcodings this decoder reads itself; with any other registered, every event goes the library's way."""

_MONEY = ("amount", "currency")
_ACTOR = ("role", "id")
_new = object.__new__
_set = object.__setattr__


class _Unsure(Exception):
    """The stored state holds something only the library may read."""


class EventDecoder:
    """``decode(row)``: the domain event of a stored row, as ``app.mapper.to_domain_event(row)`` makes it."""

    def __init__(self, app: Application[Any]) -> None:
        mapper = app.mapper
        self.library: Callable[[Any], Any] = mapper.to_domain_event
        transcoder = mapper.transcoder
        names = getattr(transcoder, "names", {})
        self.usable = (
            mapper.cipher is None
            and mapper.compressor is None
            and type(transcoder) is JSONTranscoder
            and {name: type(t) for name, t in names.items()} == TRANSCODINGS
        )
        self.fallbacks = 0
        """Events handed to the library (for tests and the curious)."""
        self._classes: dict[str, tuple[type[Any], dict[Any, Any], Callable[[Any], Any]] | None] = {}
        self._ids: dict[Callable[[Any], Any], dict[Any, Any]] = {}
        """Per id convertor: the aggregates' ids by their stored text (a claim's events share theirs)."""
        self._moments: dict[str, datetime] = {}
        self._money: dict[tuple[str, str], Any] = {}
        self._actors: dict[tuple[str, str], Any] = {}

    def decode(self, row: StoredRow) -> Any:
        if self.usable:
            event = self._read(row)
            if event is not None:
                return event
        self.fallbacks += 1
        return self.library(row)

    def _event_class(self, topic: str) -> tuple[type[Any], dict[Any, Any], Callable[[Any], Any]] | None:
        cls = resolve_topic(topic)
        known: tuple[type[Any], dict[Any, Any], Callable[[Any], Any]] | None
        if getattr(cls, "class_version", 1) != 1:
            known = None  # upcasting is the library's
        else:
            convert = find_id_convertor(cls, str)
            known = (cls, self._ids.setdefault(convert, {}), convert)
        self._classes[topic] = known
        return known

    def _read(self, row: StoredRow) -> Any:
        topic = row.topic
        known = self._classes[topic] if topic in self._classes else self._event_class(topic)
        if known is None or type(row.originator_id) is not str:
            return None
        cls, ids, convert = known
        try:
            state = orjson.loads(row.state)
            if type(state) is not dict or "class_version" in state or (len(state) == 2 and "_type_" in state):
                return None
            for key, value in state.items():
                kind = type(value)
                if kind is dict or kind is list or kind is float:
                    state[key] = self._value(value)
            text = row.originator_id
            originator_id = ids.get(text)
            if originator_id is None:
                if len(ids) >= CACHE_LIMIT:
                    ids.clear()
                originator_id = ids[text] = convert(text)
        except (_Unsure, orjson.JSONDecodeError, ValueError, TypeError, ArithmeticError):
            return None
        state["originator_id"] = originator_id
        state["originator_version"] = row.originator_version
        event = _new(cls)
        _set(event, "__dict__", state)
        return event

    def _value(self, value: Any) -> Any:
        kind = type(value)
        if kind is dict:
            if len(value) == 2 and "_type_" in value:
                if "_data_" not in value:
                    raise _Unsure("a _type_ without _data_")
                return self._transcoded(value["_type_"], value["_data_"])
            for key, item in value.items():
                inner = type(item)
                if inner is dict or inner is list or inner is float:
                    value[key] = self._value(item)
            return value
        if kind is list:
            return [self._value(item) for item in value]
        if kind is float:
            raise _Unsure("float")
        return value

    def _transcoded(self, name: Any, data: Any) -> Any:
        if name == "datetime_iso":
            if type(data) is not str:
                raise _Unsure(name)
            moment = self._moments.get(data)
            if moment is None:
                if len(self._moments) >= CACHE_LIMIT:
                    self._moments.clear()
                moment = self._moments[data] = datetime.fromisoformat(data)
            return moment
        if name == "money":
            return self._pair(self._money, data, _MONEY, _money)
        if name == "actor":
            return self._pair(self._actors, data, _ACTOR, _actor)
        if name == "uuid_hex" and type(data) is str:
            return UUID(data)
        if name == "decimal_str" and type(data) is str:
            return Decimal(data)
        raise _Unsure(str(name))

    @staticmethod
    def _pair(
        cache: dict[tuple[str, str], Any], data: Any, fields: tuple[str, str], make: Callable[[str, str], Any]
    ) -> Any:
        """A value stored as an object of two text ``fields`` (``money``, ``actor``), made once per pair."""
        if type(data) is not dict or len(data) != 2:
            raise _Unsure(fields[0])
        try:
            key = (data[fields[0]], data[fields[1]])
        except KeyError:
            raise _Unsure(fields[0]) from None
        made = cache.get(key)
        if made is None:
            if type(key[0]) is not str or type(key[1]) is not str:
                raise _Unsure(fields[0])
            if len(cache) >= CACHE_LIMIT:
                cache.clear()
            try:
                made = cache[key] = make(*key)
            except Exception:
                raise _Unsure(fields[0]) from None
        return made


def _money(amount: str, currency: str) -> Money:
    return Money(Decimal(amount), currency)  # as MoneyAsDict.decode


def _actor(role: str, ident: str) -> Actor:
    return Actor(Role(role), ident)  # as ActorAsDict.decode (which validates the id)
