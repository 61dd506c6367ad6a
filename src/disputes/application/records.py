"""The public, JSON-ready form of a recorded claim event: what history pages and audit trails show.

One function serves every reader (history API, replay, audit chain) so that all of them describe an
event the same way, whichever store it came from: amounts are strings, times RFC 3339 UTC, no floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from disputes.domain.money import Money
from disputes.domain.parties import Actor

# Attributes every eventsourcing event carries; they are shown as the record's own fields instead.
_ENVELOPE = frozenset(
    {"originator_id", "originator_version", "originator_topic", "timestamp", "actor", "buyer"}
)


def rfc3339(value: datetime) -> str:
    """UTC, with a zone, microseconds kept only when present: ``2026-11-25T08:52:09.123456Z``."""
    if value.tzinfo is None:
        raise ValueError("naive datetime reached the outside world")
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 time with a zone (``Z`` or an offset), as UTC; ValueError otherwise."""
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.utcoffset() is None:
        raise ValueError(f"{text!r} needs a time zone")
    return moment.astimezone(UTC)


def plain(value: Any) -> Any:
    """A JSON-ready copy: Money -> {amount, currency}, Decimal -> str, datetime -> RFC 3339."""
    if isinstance(value, Money):
        return value.as_dict()
    if isinstance(value, Actor):
        return value.as_dict()
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float):  # pragma: no cover - the domain never stores one
        raise TypeError("floats are not allowed in event data")
    return value


@dataclass(frozen=True)
class EventRecord:
    claim_id: str
    version: int
    type: str
    recorded_at: datetime
    actor: Actor
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "version": self.version,
            "type": self.type,
            "recorded_at": rfc3339(self.recorded_at),
            "actor": self.actor.as_dict(),
            "data": self.data,
        }


def event_record(domain_event: Any) -> EventRecord:
    """Describe one decoded claim event."""
    attrs = vars(domain_event)
    actor = attrs.get("actor") or attrs.get("buyer")
    if not isinstance(actor, Actor):
        raise TypeError(f"event {type(domain_event).__qualname__} carries no actor")
    return EventRecord(
        claim_id=str(domain_event.originator_id),
        version=int(domain_event.originator_version),
        type=type(domain_event).__name__,
        recorded_at=domain_event.timestamp,
        actor=actor,
        data={k: plain(v) for k, v in sorted(attrs.items()) if k not in _ENVELOPE},
    )
