"""On PostgreSQL the database itself refuses changes to events and seal; a superuser can still switch the
guard off, and then the seal is what finds the change."""

from __future__ import annotations

import psycopg
import pytest

from disputes.adapters.database import DatabaseUrl, connect
from disputes.application.claims import DisputesApplication
from disputes.audit.chain import seal_new_events, seal_reader
from disputes.audit.verify_store import verify_store
from support.audit import Clock, Tamper, busy_store

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """This module runs on PostgreSQL only."""
    return postgres_url


def test_the_seal_is_append_only(app: DisputesApplication, db: DatabaseUrl, clock: Clock) -> None:
    busy_store(app, clock, claims=1, steps=2)
    seal_new_events(app, db)

    for statement in ("UPDATE audit_seal SET hash = 'x'", "DELETE FROM audit_seal", "TRUNCATE audit_seal"):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"), connect(db) as conn:
            conn.execute(statement)


def test_the_guard_refuses_an_update_until_a_superuser_disables_it_and_the_seal_finds_it(
    app: DisputesApplication, db: DatabaseUrl, clock: Clock, tamper: Tamper
) -> None:
    busy_store(app, clock, claims=2, steps=3)
    seal_new_events(app, db)

    with pytest.raises(psycopg.errors.RaiseException, match="append-only"), connect(db) as conn:
        conn.execute("UPDATE disputes_events SET state = state WHERE notification_id = 3")
    tamper.replace_in_state(3, b"50.00", b"5.00")

    with seal_reader(db) as reader:
        report = verify_store(app, reader)
    assert report.fault is not None
    assert (report.fault.position, report.fault.code) == (3, "altered")
