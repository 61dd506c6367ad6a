"""The keyed run a request is (``Idempotency-Key``), and its mark in the transaction of its events.

Kept apart from :mod:`disputes.adapters.idempotency` because the event store needs it: the recorders
mark the run whose command they record (``committed_at`` of its row, migration 0081) in the same
transaction, so that a key whose process died after the commit is never run again.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

from disputes.adapters.database import Dialect, placeholders
from disputes.domain.parties import Actor

MARK_COMMITTED = (
    "UPDATE idempotency_keys SET committed_at = ? "
    "WHERE role = ? AND principal_id = ? AND idempotency_key = ? AND attempt = ? AND status IS NULL"
)


@dataclass(frozen=True)
class Attempt:
    """The right to run a keyed request: this run owns the key's in-flight row."""

    actor: Actor
    key: str
    token: str


RUNNING: ContextVar[Attempt | None] = ContextVar("disputes_keyed_run", default=None)
"""The keyed run the current request is, if any (set by the idempotency middleware)."""


def utc_text(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds, as migration 0015 keeps times (sorts in time order)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def mark_committed(attempt: Attempt, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    """The statement, and its parameters, that mark ``attempt``'s row as committed: run in the
    transaction that records the command's events, so that the mark and the events stand or fall
    together."""
    values = (utc_text(datetime.now(UTC)), attempt.actor.role.value, attempt.actor.id, attempt.key, attempt.token)
    return placeholders(MARK_COMMITTED, dialect), values
