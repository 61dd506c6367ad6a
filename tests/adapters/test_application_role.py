"""Least privilege on PostgreSQL: what a login user in ``disputes_app`` may and may not do.

The database is migrated by its owner (the suite's superuser); the application then connects as a
login user of this test's own, a member of the group role that migration 0030 creates.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import psycopg
import pytest

from disputes.adapters.database import DatabaseUrl
from disputes.adapters.migrations import apply_migrations
from disputes.audit.chain import seal_new_events
from disputes.audit.verify_store import verify_store_at
from disputes.bootstrap import bootstrap, build_application, build_runner
from disputes.domain.parties import Actor, Role
from disputes.domain.vocabulary import ClaimKind, ClaimReason, MerchantDecision
from disputes.engines.deadlines import DeadlineEngine
from disputes.settings import Settings
from projections import catalog
from projections.runner import reset
from projections.store import ViewStore
from support import CLAIMANT_FACTS, LoginUser, ManualClock, open_with_order

APPEND_ONLY = {"SELECT", "INSERT"}
READ_WRITE = {"SELECT", "INSERT", "UPDATE", "DELETE"}
GRANTS = {
    "schema_migrations": {"SELECT"},
    "principal_tokens": {"SELECT", "INSERT", "UPDATE"},
    "projection_positions": {"SELECT", "INSERT", "UPDATE"},
    "audit_seal": APPEND_ONLY,
}
"""Tables whose grants differ from the rule's default for tables of later migrations (READ_WRITE)."""
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
PROTECTED = ("disputes_events", "disputes_snapshots", "audit_seal")

BUYER = Actor(Role.BUYER, "buyer-1")
MERCHANT = Actor(Role.MERCHANT, "merchant-1")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def expected_grants(table: str) -> set[str]:
    """The rule: the event store's tables and the seal are append-only; later tables read-write."""
    if table.endswith(("_events", "_snapshots")):
        return APPEND_ONLY
    return GRANTS.get(table, READ_WRITE)


@pytest.fixture
def owner_url(postgres_url: str) -> str:
    apply_migrations(DatabaseUrl.parse(postgres_url))
    return postgres_url


@pytest.fixture
def app_url(owner_url: str, app_role_login: LoginUser) -> str:
    return app_role_login.create()


def open_claim(app_url: str, order_facts: str = "platform") -> str:
    """A claim opened as the application role: on an order the platform records first (one transaction
    each), or on the buyer's word (one transaction)."""
    app = build_application(Settings(database_url=app_url, order_facts=order_facts), clock=lambda: NOW)
    try:
        return str(
            open_with_order(
                app,
                BUYER,
                order_id=f"order-{uuid4().hex[:8]}",
                merchant_id=MERCHANT.id,
                kind=ClaimKind.REFUND_ONLY,
                reason=ClaimReason.DAMAGED,
                order_amount="100.00",
                claimed_amount="80.00",
                currency="USD",
                delivered_at=NOW - timedelta(days=2),
                description="the vase arrived in pieces",
            ).claim.id
        )
    finally:
        app.close()


def test_every_table_grants_the_application_role_what_the_rule_says(owner_url: str) -> None:
    query = (
        "SELECT c.relname, p.privilege FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "CROSS JOIN unnest(%s::text[]) AS p(privilege) "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
        "AND has_table_privilege('disputes_app', c.oid, p.privilege)"
    )
    tables = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    with psycopg.connect(owner_url) as conn:
        granted: dict[str, set[str]] = {row[0]: set() for row in conn.execute(tables)}
        for table, privilege in conn.execute(query, (list(PRIVILEGES),)):
            granted[table].add(privilege)

    assert {"disputes_events", "disputes_snapshots", "audit_seal", "read_claims"} <= set(granted)
    wrong = {t: sorted(p) for t, p in granted.items() if p != expected_grants(t)}
    assert wrong == {}, "grant what the rule says in the table's migration (see docs/operations.md)"


def test_the_application_role_owns_nothing_and_may_create_nothing(owner_url: str) -> None:
    with psycopg.connect(owner_url) as conn:
        owned = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = 'disputes_app'"
        ).fetchone()
        may_create = conn.execute("SELECT has_schema_privilege('disputes_app', 'public', 'CREATE')").fetchone()
        role = conn.execute(
            "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
            "WHERE rolname = 'disputes_app'"
        ).fetchone()

    assert owned == (0,)
    assert may_create == (False,)
    assert role == (False, False, False, False, False)


STATEMENTS = {
    "update": "UPDATE {table} SET {column} = {column}",
    "delete": "DELETE FROM {table}",
    "truncate": "TRUNCATE {table}",
    "drop": "DROP TABLE {table}",
    "alter": "ALTER TABLE {table} ADD COLUMN tampered text",
    "disable-trigger": "ALTER TABLE {table} DISABLE TRIGGER ALL",
}
SOME_COLUMN = {"disputes_events": "topic", "disputes_snapshots": "topic", "audit_seal": "hash"}


@pytest.mark.parametrize("table", PROTECTED)
@pytest.mark.parametrize("statement", list(STATEMENTS), ids=list(STATEMENTS))
def test_the_application_role_may_not_change_or_remove_recorded_rows(
    app_url: str, owner_url: str, table: str, statement: str
) -> None:
    open_claim(app_url)
    seal(app_url)
    count = f"SELECT count(*) FROM {table}"
    with psycopg.connect(owner_url) as owner:
        before = owner.execute(count).fetchone()

    with psycopg.connect(app_url) as conn:
        sql = STATEMENTS[statement].format(table=table, column=SOME_COLUMN[table])
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # refused by the grants, not a trigger
            conn.execute(sql.encode())
        conn.rollback()
        after = conn.execute(count).fetchone()

    assert before == after
    assert table == "disputes_snapshots" or before != (0,)


def test_the_application_role_may_not_create_tables(app_url: str) -> None:
    with psycopg.connect(app_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("CREATE TABLE public.shadow_events (id int)")


def seal(app_url: str) -> None:
    settings = Settings(database_url=app_url)
    app = build_application(settings)
    try:
        seal_new_events(app, settings.database)
    finally:
        app.close()


def test_a_claim_is_recorded_projected_sealed_and_verified_as_the_application_role(app_url: str) -> None:
    """Every process's work: commands, tokens, projections and their rebuild, deadlines, seal, verify."""
    settings = Settings(
        database_url=app_url, snapshot_interval=1, projections_in_process=False, deadlines_in_process=False
    )
    clock = ManualClock(NOW)
    container = bootstrap(settings, clock=clock)
    try:
        app = container.app
        claim_id = open_claim(app_url)
        app.respond(MERCHANT, claim_id, decision=MerchantDecision.REJECT, amount=None, message="worn")
        _, token = container.principals.add(Role.BUYER, "buyer-1", now=NOW)
        assert container.principals.authenticate(token, now=NOW) is not None
        runner = build_runner(container)
        store = ViewStore(settings.database)
        try:
            runner.run_until_caught_up()
            reset(store, catalog.select(None))  # a rebuild empties the views and starts again
            runner.run_until_caught_up()
            clock.advance(days=8)  # the buyer never asked for mediation
            engine = DeadlineEngine(app, store, before_tick=runner.run_until_caught_up)
            fired = engine.tick().fired
            engine.close()
            runner.run_until_caught_up()
        finally:
            runner.close()
            store.close()
        head = seal_new_events(app, settings.database)
        report = verify_store_at(app, settings.database)
    finally:
        container.close()
    with psycopg.connect(app_url) as conn:
        status = conn.execute("SELECT status FROM read_claims WHERE claim_id = %s", (claim_id,)).fetchone()
        snapshots = conn.execute("SELECT count(*) FROM disputes_snapshots").fetchone()

    assert snapshots is not None and snapshots[0] >= 1
    assert [f.deadline for f in fired] == ["mediation_request"]
    assert status is not None and status != ("merchant_rejected",)
    assert head.position >= 3
    assert report.fault is None


def test_of_two_writers_as_the_application_role_the_later_waits_and_commits_later(
    app_url: str, owner_url: str
) -> None:
    """The recorder's lock is taken through disputes_events_lock(): an EXCLUSIVE lock to commit."""
    user = psycopg.conninfo.conninfo_to_dict(app_url)["user"]
    positions: list[str] = []
    with psycopg.connect(app_url) as first:
        first.execute("SELECT disputes_events_lock()")
        mode = first.execute(
            "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 'disputes_events'::regclass"
        ).fetchall()
        assert mode == [("ExclusiveLock",)]

        writer = threading.Thread(target=lambda: positions.append(open_claim(app_url, CLAIMANT_FACTS)))
        writer.start()
        _wait_until_waiting_for_a_lock(owner_url, user, other_than=first.info.backend_pid)
        first_position = first.execute(
            "INSERT INTO disputes_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, 1, 'tests:First', '\\x7b7d') RETURNING notification_id",
            (uuid4(),),
        ).fetchone()
        first.commit()
    writer.join(timeout=60)

    assert not writer.is_alive() and len(positions) == 1
    with psycopg.connect(owner_url) as conn:
        order = conn.execute("SELECT topic FROM disputes_events ORDER BY notification_id").fetchall()
    assert first_position == (1,)
    assert order[0] == ("tests:First",) and len(order) == 2


def _wait_until_waiting_for_a_lock(owner_url: str, user: str, other_than: int) -> None:
    """Until a session of ``user`` waits for a lock (bounded: the writer must get there)."""
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND pid <> %s AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 30
    with psycopg.connect(owner_url, autocommit=True) as conn:
        while conn.execute(query, (user, other_than)).fetchone() == (0,):
            assert time.monotonic() < deadline, "the second writer never waited for the lock"
            time.sleep(0.05)


def test_the_application_role_may_take_the_event_lock_only_through_the_function(app_url: str) -> None:
    """Why the recorder calls disputes_events_lock(): LOCK TABLE itself needs UPDATE, DELETE or TRUNCATE."""
    with psycopg.connect(app_url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("LOCK TABLE disputes_events IN EXCLUSIVE MODE")
        conn.rollback()
        conn.execute("SELECT disputes_events_lock()")
