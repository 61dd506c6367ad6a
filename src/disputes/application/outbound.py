"""Recorded events as the outside world receives them: CloudEvents 1.0, built with the CloudEvents SDK,
the same for webhooks, the ``/events`` feed, its Server-Sent Events and the NATS stream.

- ``id``: derived from the aggregate and its version, so it is the same on every retry, on every
  channel and after any restart (a receiver recognises a repeat by it; NATS's ``Nats-Msg-Id`` is it too).
- ``type``: ``disputes.`` + the event's name as in the history (``disputes.ClaimOpened``).
- ``subject``: the claim's id (a reminder's claim too), an order's id, a merchant's id (standing).
- ``sequence``: the store position, as a string; ``data``: {claim_id, aggregate, subject, version,
  position, actor, data}.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from cloudevents.core.bindings.http import to_structured
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from eventsourcing.persistence import Notification

from disputes.application.claims import DisputesApplication
from disputes.application.records import EventRecord, event_record

SOURCE = "/disputes"
TYPE_PREFIX = "disputes."
CONTENT_TYPE = JSONFormat.CONTENT_TYPE
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
EVENT_ID_NAMESPACE = UUID("9a7c3f52-1e4b-4f0a-8d2e-6b5f1c0a9e31")
AGGREGATES = {
    "disputes.domain.claim:Claim": "claim",
    "disputes.domain.order:Order": "order",
    "disputes.domain.standing:MerchantStanding": "standing",
    "disputes.domain.reminder:Reminder": "reminder",
}
"""Each aggregate's topic and its short name (NATS subjects: ``disputes.<aggregate>.<EventName>``)."""
SUBJECT_ATTRIBUTE = {"order": "order_id", "standing": "merchant_id", "reminder": "claim_id"}
"""The aggregate's attribute that is the subject of its events (a claim's is its own id)."""
_FORMAT = JSONFormat()


def event_id(originator_id: UUID | str, version: int) -> str:
    return str(uuid5(EVENT_ID_NAMESPACE, f"{originator_id}/{version}"))


def aggregate_of(topic: str) -> str:
    """``claim`` for ``disputes.domain.claim:Claim.Refunded``, and so on."""
    module, _, qualname = topic.partition(":")
    owner = qualname.split(".")[0]
    return AGGREGATES.get(f"{module}:{owner}", owner.lower())


@dataclass(frozen=True)
class OutboundEvent:
    """One recorded event, ready to go out."""

    position: int
    aggregate: str
    subject: str
    record: EventRecord

    @property
    def id(self) -> str:
        return event_id(self.record.claim_id, self.record.version)

    @property
    def name(self) -> str:
        return self.record.type

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.record.type

    @property
    def time(self) -> datetime:
        return self.record.recorded_at

    def cloud_event(self) -> CloudEvent:
        record = self.record
        return CloudEvent(
            attributes={
                "specversion": "1.0",
                "id": self.id,
                "source": SOURCE,
                "type": self.type,
                "subject": self.subject,
                "time": record.recorded_at,
                "datacontenttype": "application/json",
                "sequence": str(self.position),
            },
            data={
                "claim_id": self.subject if self.aggregate in ("claim", "reminder") else None,
                "aggregate": self.aggregate,
                "subject": self.subject,
                "version": record.version,
                "position": self.position,
                "actor": record.actor.as_dict(),
                "data": record.data,
            },
        )

    def body(self) -> bytes:
        """The event in structured mode: the body of a webhook delivery and of a NATS message."""
        return to_structured(self.cloud_event(), _FORMAT).body


def batch_body(events: Sequence[OutboundEvent]) -> bytes:
    """A CloudEvents JSON batch (``application/cloudevents-batch+json``): an array of structured events."""
    return b"[" + b",".join(event.body() for event in events) + b"]"


class OutboundEvents:
    """Reads the notification log as outbound events; remembers each non-claim aggregate's subject."""

    def __init__(self, app: DisputesApplication, cache_size: int = 10_000) -> None:
        self.app = app
        self.cache_size = cache_size
        self._subjects: dict[str, str] = {}

    def head(self) -> int:
        return int(self.app.recorder.max_notification_id() or 0)

    def after(self, position: int, limit: int) -> list[OutboundEvent]:
        """Up to ``limit`` events recorded after ``position``, in store order."""
        notifications = self.app.recorder.select_notifications(position, limit, inclusive_of_start=False)
        return [self.event(n) for n in notifications]

    def at(self, position: int) -> OutboundEvent | None:
        """The event recorded at ``position``, if any."""
        found = self.app.recorder.select_notifications(position, 1, stop=position)
        return self.event(found[0]) if found else None

    def at_positions(self, positions: Sequence[int], span: int = 5_000) -> dict[int, OutboundEvent]:
        """The events recorded at these positions: one read of the log when they lie close together."""
        if not positions:
            return {}
        low, high = min(positions), max(positions)
        if high - low >= span:
            return {p: e for p in positions if (e := self.at(p)) is not None}
        wanted = set(positions)
        found = self.app.recorder.select_notifications(low, high - low + 1, stop=high)
        return {int(n.id): self.event(n) for n in found if int(n.id) in wanted}

    def event(self, notification: Notification) -> OutboundEvent:
        domain_event = self.app.mapper.to_domain_event(notification)
        record = event_record(domain_event)
        aggregate = aggregate_of(notification.topic)
        return OutboundEvent(int(notification.id), aggregate, self._subject(aggregate, domain_event), record)

    def _subject(self, aggregate: str, domain_event: Any) -> str:
        originator = str(domain_event.originator_id)
        attribute = SUBJECT_ATTRIBUTE.get(aggregate)
        if attribute is None:
            return originator
        value = getattr(domain_event, attribute, None)
        if value is None:
            value = self._subjects.get(originator)
        if value is None:
            # A later event of an order or a standing: the aggregate knows whose it is.
            aggregate_now: Any = self.app.repository.get(domain_event.originator_id, version=domain_event.originator_version)
            value = getattr(aggregate_now, attribute, originator)
        if len(self._subjects) >= self.cache_size:
            self._subjects.clear()
        self._subjects[originator] = str(value)
        return str(value)
