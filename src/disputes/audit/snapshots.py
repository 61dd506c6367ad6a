"""Snapshots checked against their events: a snapshot is a cache, and must equal the replay of the events
it stands for.

No command reads a snapshot (the application rebuilds every aggregate from its events), so a tampered
snapshot cannot change a decision; it could still mislead a reader of the table, or a future change
that trusted it. :func:`verify_snapshots` replays each snapshot's aggregate up to the snapshot's
version and compares every field; the first that differs is the fault.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import project_aggregate
from eventsourcing.persistence import StoredEvent

from disputes.adapters.database import DatabaseUrl, connect
from disputes.application.claims import DisputesApplication
from disputes.audit import IntegrityFault

SELECT_SNAPSHOTS = (
    "SELECT originator_id, originator_version, topic, state FROM {table} ORDER BY originator_id, originator_version"
)
IGNORED = frozenset({"_pending_events"})


@dataclass(frozen=True)
class SnapshotReport:
    checked: int
    fault: IntegrityFault | None

    def summary(self) -> str:
        if self.fault is not None:
            return f"verify-store: {self.fault.detail}"
        return f"{self.checked} snapshot{'' if self.checked == 1 else 's'} equal the replay of their events"


def snapshots_table(app: DisputesApplication) -> str:
    """The library's snapshot table: ``disputes_snapshots`` on PostgreSQL, ``stored_snapshots`` on SQLite."""
    snapshots = app.snapshots
    assert snapshots is not None, "snapshotting is on in every process (IS_SNAPSHOTTING_ENABLED)"
    return str(getattr(snapshots.recorder, "events_table_name"))  # noqa: B009 - not in the ABC


def stored_snapshots(app: DisputesApplication, db: DatabaseUrl) -> Iterator[StoredEvent]:
    with connect(db, write=False) as conn:
        cursor = conn.execute(SELECT_SNAPSHOTS.format(table=snapshots_table(app)))
        for originator_id, version, topic, state in cursor:
            yield StoredEvent(
                originator_id=originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id)),
                originator_version=int(version),
                topic=str(topic),
                state=bytes(state),
            )


def state_of(aggregate: Any) -> dict[str, Any]:
    return {name: value for name, value in vars(aggregate).items() if name not in IGNORED}


def differing(cached: Any, replayed: Any) -> list[str]:
    """The fields in which a snapshot's aggregate differs from the replay of its events.

    A counter the aggregate keeps only to enforce a cap (``COUNTERS``, e.g. a claim's messages) that
    the snapshot lacks altogether was not kept yet when the snapshot was taken: it is left out, so an
    upgrade does not make every older snapshot a fault. A snapshot that has it must have it right.
    """
    ours, theirs = state_of(cached), state_of(replayed)
    later = {name for name in getattr(type(replayed), "COUNTERS", ()) if name not in ours}
    return sorted(
        name for name in (ours.keys() | theirs.keys()) - later if ours.get(name) != theirs.get(name)
    )


def verify_snapshots(app: DisputesApplication, db: DatabaseUrl) -> SnapshotReport:
    """Every snapshot against the replay of its aggregate's events up to its version."""
    checked = 0
    for stored in stored_snapshots(app, db):
        where = f"the snapshot of {stored.originator_id} at version {stored.originator_version}"
        try:
            snapshot: Any = app.mapper.to_domain_event(stored)
            cached: Any = snapshot.mutate(None)
        except Exception as exc:
            return SnapshotReport(
                checked, IntegrityFault(f"{where} no longer decodes ({type(exc).__name__})", code="snapshot-altered")
            )
        replayed: Any = project_aggregate(
            None, app.events.get(UUID(str(stored.originator_id)), lte=stored.originator_version)
        )
        if replayed is None:
            return SnapshotReport(
                checked, IntegrityFault(f"{where} has no events behind it", code="snapshot-altered")
            )
        differ = differing(cached, replayed)
        if differ:
            return SnapshotReport(
                checked,
                IntegrityFault(
                    f"{where} differs from the replay of its events ({', '.join(differ)})", code="snapshot-altered"
                ),
            )
        checked += 1
    return SnapshotReport(checked, None)
