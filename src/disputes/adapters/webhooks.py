"""Webhook subscriptions and their deliveries (tables of migration 0050).

A subscription's secret (``whsec_`` + base64 of 32 random bytes) is returned once by :meth:`add` and
rests in ``webhook_subscriptions.secret``, because each delivery is signed with its bytes; nothing
here lists, returns or logs it otherwise (:class:`Subscription` has no field for it; the delivery
worker reads it with :meth:`WebhookStore.secret`).

Deliveries are queued per subscription in store order, in the transaction that moves the
subscription's position (compare-and-set), so a worker killed at any point queues nothing twice and
loses nothing; a row is marked delivered only after a 2xx answer (at least once).
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from disputes.adapters.database import ConnectionSource, placeholders
from disputes.domain.errors import DisputesError, InvalidValue

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
ACTIVE = "active"
DELETED = "deleted"
DeliveryStatus = Literal["pending", "delivered", "failed"]
DELIVERY_STATUSES: tuple[DeliveryStatus, ...] = ("pending", "delivered", "failed")

_SUB_COLUMNS = "id, url, event_types, description, status, position, created_at, created_by, deleted_at"
INSERT_SUBSCRIPTION = (
    "INSERT INTO webhook_subscriptions (id, url, event_types, description, secret, status, position, "
    "created_at, created_by) VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?)"
)
SELECT_SUBSCRIPTIONS = f"SELECT {_SUB_COLUMNS} FROM webhook_subscriptions ORDER BY created_at, id"
SELECT_ACTIVE = f"SELECT {_SUB_COLUMNS} FROM webhook_subscriptions WHERE status = 'active' ORDER BY created_at, id"
SELECT_SUBSCRIPTION = f"SELECT {_SUB_COLUMNS} FROM webhook_subscriptions WHERE id = ?"
SELECT_SECRET = "SELECT secret FROM webhook_subscriptions WHERE id = ?"
DELETE_SUBSCRIPTION = (
    "UPDATE webhook_subscriptions SET status = 'deleted', deleted_at = ? WHERE id = ? AND status = 'active'"
)
ADVANCE = "UPDATE webhook_subscriptions SET position = ? WHERE id = ? AND position = ?"
REWIND = "UPDATE webhook_subscriptions SET position = ? WHERE id = ? AND position > ?"
QUEUE = (
    "INSERT INTO webhook_deliveries (subscription_id, position, event_id, event_type, subject, status, "
    "attempts, next_attempt_at, updated_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?) "
    "ON CONFLICT (subscription_id, position) DO UPDATE SET status = 'pending', attempts = 0, "
    "last_status_code = NULL, last_error = NULL, next_attempt_at = excluded.next_attempt_at, "
    "delivered_at = NULL, updated_at = excluded.updated_at"
)
"""A row again for a position already queued only after a redelivery: it starts over."""
_DELIVERY_COLUMNS = (
    "position, event_id, event_type, subject, status, attempts, last_status_code, last_error, "
    "next_attempt_at, delivered_at"
)
DUE = (
    f"SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.subscription_id = ? "
    "AND d.status = 'pending' AND d.next_attempt_at <= ? AND NOT EXISTS ("
    "SELECT 1 FROM webhook_deliveries e WHERE e.subscription_id = d.subscription_id "
    "AND e.subject = d.subject AND e.status = 'pending' AND e.position < d.position) "
    "ORDER BY d.position LIMIT ?"
)
"""Pending deliveries whose time has come and that no earlier pending delivery of the same subject
(claim) holds back: never out of order within one claim."""
NEXT_ATTEMPT = (
    "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE subscription_id = ? AND status = 'pending'"
)
LIST_DELIVERIES = (
    f"SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries WHERE subscription_id = ? AND position > ? "
    "ORDER BY position LIMIT ?"
)
LIST_DELIVERIES_BY_STATUS = (
    f"SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries WHERE subscription_id = ? AND status = ? "
    "AND position > ? ORDER BY position LIMIT ?"
)
RECORD_ATTEMPT = (
    "UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, last_status_code = ?, "
    "last_error = ?, next_attempt_at = ?, delivered_at = ?, updated_at = ? "
    "WHERE subscription_id = ? AND position = ? AND status = 'pending'"
)
COUNT_BY_STATUS = "SELECT status, COUNT(*) FROM webhook_deliveries GROUP BY status"


class WebhookNotFound(DisputesError):
    code = "webhook-not-found"
    title = "No such webhook subscription"
    status = 404


@dataclass(frozen=True)
class Subscription:
    """A subscription as listed: never its secret."""

    id: str
    url: str
    event_types: tuple[str, ...]
    description: str
    status: str
    position: int
    created_at: datetime
    created_by: str
    deleted_at: datetime | None

    def wants(self, event_name: str) -> bool:
        return "*" in self.event_types or event_name in self.event_types


@dataclass(frozen=True)
class Delivery:
    position: int
    event_id: str
    event_type: str
    subject: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class Queued:
    """An event to queue for a subscription."""

    position: int
    event_id: str
    event_type: str
    subject: str


@dataclass(frozen=True)
class Attempt:
    """What one attempt at a delivery came to."""

    position: int
    status: DeliveryStatus
    status_code: int | None
    error: str | None
    next_attempt_at: datetime | None


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("a naive time cannot be stored")
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _time(text: Any) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def _subscription(row: Sequence[Any]) -> Subscription:
    created = _time(row[6])
    assert created is not None
    return Subscription(
        id=str(row[0]),
        url=str(row[1]),
        event_types=tuple(json.loads(row[2])),
        description=str(row[3]),
        status=str(row[4]),
        position=int(row[5]),
        created_at=created,
        created_by=str(row[7]),
        deleted_at=_time(row[8]),
    )


def _delivery(row: Sequence[Any]) -> Delivery:
    return Delivery(
        position=int(row[0]),
        event_id=str(row[1]),
        event_type=str(row[2]),
        subject=str(row[3]),
        status=row[4],
        attempts=int(row[5]),
        last_status_code=None if row[6] is None else int(row[6]),
        last_error=None if row[7] is None else str(row[7]),
        next_attempt_at=_time(row[8]),
        delivered_at=_time(row[9]),
    )


class WebhookStore:
    """The subscriptions and deliveries tables, through the process's connections."""

    def __init__(self, source: ConnectionSource) -> None:
        self.source = source
        self.dialect = source.url.dialect

    def _sql(self, sql: str) -> str:
        return placeholders(sql, self.dialect)

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[Any]:
        with self.source.transaction(write=write) as conn:
            yield conn

    def _rows(self, sql: str, params: Sequence[Any] = (), *, write: bool = False) -> list[Any]:
        with self._transaction(write=write) as conn:
            return list(conn.execute(self._sql(sql), tuple(params)).fetchall())

    # --- subscriptions ------------------------------------------------------------------------------
    def add(
        self, *, url: str, event_types: Sequence[str], description: str, created_by: str, position: int, now: datetime
    ) -> tuple[Subscription, str]:
        """A new subscription, delivering the events recorded after ``position``; and its secret, shown now only."""
        if not event_types:
            raise InvalidValue('event_types must name at least one event type, or be ["*"]')
        subscription_id = f"wh_{uuid.uuid4().hex}"
        secret = new_secret()
        types = json.dumps(list(dict.fromkeys(event_types)))
        with self._transaction() as conn:
            conn.execute(
                self._sql(INSERT_SUBSCRIPTION),
                (subscription_id, url, types, description, secret, position, _text(now), created_by),
            )
        return self.get(subscription_id), secret

    def get(self, subscription_id: str) -> Subscription:
        rows = self._rows(SELECT_SUBSCRIPTION, (subscription_id,))
        if not rows:
            raise WebhookNotFound(f"no webhook subscription {subscription_id}")
        return _subscription(rows[0])

    def subscriptions(self, *, active_only: bool = False) -> list[Subscription]:
        return [_subscription(row) for row in self._rows(SELECT_ACTIVE if active_only else SELECT_SUBSCRIPTIONS)]

    def delete(self, subscription_id: str, now: datetime) -> Subscription:
        """Stop deliveries to it (its record and deliveries stay, for the audit); deleting twice is harmless."""
        self.get(subscription_id)
        with self._transaction() as conn:
            conn.execute(self._sql(DELETE_SUBSCRIPTION), (_text(now), subscription_id))
        return self.get(subscription_id)

    def secret(self, subscription_id: str) -> str:
        """The signing secret, for the delivery worker only."""
        rows = self._rows(SELECT_SECRET, (subscription_id,))
        if not rows:
            raise WebhookNotFound(f"no webhook subscription {subscription_id}")
        return str(rows[0][0])

    # --- the queue ----------------------------------------------------------------------------------
    def queue(self, subscription_id: str, old: int, new: int, events: Sequence[Queued], now: datetime) -> bool:
        """Queue ``events`` and move the position from ``old`` to ``new``, in one transaction.

        False (nothing queued) when the position is no longer ``old``: another worker moved it, or a
        redelivery rewound it.
        """
        at = _text(now)
        with self._transaction() as conn:
            moved = conn.execute(self._sql(ADVANCE), (new, subscription_id, old)).rowcount
            if moved != 1:
                return False
            rows = [(subscription_id, e.position, e.event_id, e.event_type, e.subject, at, at) for e in events]
            if rows:
                conn.cursor().executemany(self._sql(QUEUE), rows)
        return True

    def rewind(self, subscription_id: str, from_position: int) -> Subscription:
        """Deliver again every event from ``from_position`` on (queued again as the worker reaches it)."""
        subscription = self.get(subscription_id)
        with self._transaction() as conn:
            conn.execute(self._sql(REWIND), (max(0, from_position - 1), subscription_id, max(0, from_position - 1)))
        return subscription

    def due(self, subscription_id: str, now: datetime, limit: int = 100) -> list[Delivery]:
        return [_delivery(row) for row in self._rows(DUE, (subscription_id, _text(now), limit))]

    def next_attempt(self, subscription_id: str) -> datetime | None:
        rows = self._rows(NEXT_ATTEMPT, (subscription_id,))
        return _time(rows[0][0]) if rows else None

    def record_attempts(self, subscription_id: str, attempts: Sequence[Attempt], now: datetime) -> None:
        """Record a round's attempts in one transaction (one commit, however many were sent)."""
        if not attempts:
            return
        at = _text(now)
        rows = [
            (
                a.status,
                a.status_code,
                a.error,
                _text(a.next_attempt_at),
                at if a.status == "delivered" else None,
                at,
                subscription_id,
                a.position,
            )
            for a in attempts
        ]
        with self._transaction() as conn:
            conn.cursor().executemany(self._sql(RECORD_ATTEMPT), rows)

    def deliveries(
        self, subscription_id: str, *, status: DeliveryStatus | None = None, after: int = 0, limit: int = 100
    ) -> list[Delivery]:
        self.get(subscription_id)
        if status is None:
            rows = self._rows(LIST_DELIVERIES, (subscription_id, after, limit))
        else:
            rows = self._rows(LIST_DELIVERIES_BY_STATUS, (subscription_id, status, after, limit))
        return [_delivery(row) for row in rows]

    def counts(self) -> dict[str, int]:
        """Deliveries by status, over every subscription."""
        found: dict[str, int] = {status: 0 for status in DELIVERY_STATUSES}
        for status, count in self._rows(COUNT_BY_STATUS):
            found[str(status)] = int(count)
        return found
