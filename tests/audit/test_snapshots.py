"""Derived data cannot change a decision: a snapshot is a cache that verify-store checks against the
replay of its events, and that no command trusts."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from disputes.adapters.database import connect
from disputes.adapters.migrations import apply_migrations
from disputes.audit.snapshots import snapshots_table, verify_snapshots
from disputes.bootstrap import Container, bootstrap
from disputes.domain import errors
from disputes.domain.parties import Actor, Role
from disputes.settings import Settings
from support import CLAIMANT_FACTS
from support.audit import BUYER, MERCHANT, START, Clock, open_claim
from support.processes import assert_one_line_error, run_cli


@pytest.fixture
def container(database_url: str) -> Iterator[Container]:
    """Snapshots every two events."""
    settings = Settings(database_url=database_url, snapshot_interval=2, order_facts=CLAIMANT_FACTS)
    apply_migrations(settings.database)
    built = bootstrap(settings, clock=Clock(START))
    try:
        yield built
    finally:
        built.close()


def refunded_half(container: Container) -> str:
    """A claim of 80.00 accepted, 40.00 refunded: four events, snapshots at versions 2 and 4."""
    app = container.app
    claim_id = open_claim(app)
    app.respond(MERCHANT, claim_id, decision="accept", amount=None, message="Sorry.")  # type: ignore[arg-type]
    app.post_message(BUYER, claim_id, body="Thank you.")
    app.refund(MERCHANT, claim_id, amount="40.00", payment_reference="pay-1")
    return claim_id


def tamper_snapshots(container: Container, claim_id: str, old: bytes, new: bytes) -> int:
    """Change the claim's snapshots holding ``old``, as a superuser could; the number changed."""
    db = container.settings.database
    table = snapshots_table(container.app)
    q = "?" if db.dialect == "sqlite" else "%s"
    with connect(db) as conn:
        if db.dialect == "postgres":
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER disputes_snapshots_no_update")
        rows = conn.execute(f"SELECT originator_id, originator_version, state FROM {table}").fetchall()
        changed = 0
        for originator_id, version, state in rows:
            if UUID(str(originator_id)) == UUID(claim_id) and old in bytes(state):
                conn.execute(
                    f"UPDATE {table} SET state = {q} WHERE originator_id = {q} AND originator_version = {q}",
                    (bytes(state).replace(old, new), originator_id, version),
                )
                changed += 1
        if db.dialect == "postgres":
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER disputes_snapshots_no_update")
    return changed


def test_untouched_snapshots_equal_the_replay_of_their_events(container: Container) -> None:
    refunded_half(container)
    report = verify_snapshots(container.app, container.settings.database)
    assert (report.checked, report.fault) == (3, None)  # the claim's two, and its order's ledger


def test_a_tampered_snapshot_is_named_and_no_command_is_judged_on_it(container: Container) -> None:
    claim_id = refunded_half(container)
    # The latest snapshot says nothing was refunded yet: 80.00 more could be paid, were it trusted.
    assert tamper_snapshots(container, claim_id, b'"amount":"40.00"', b'"amount":"0.00"') == 1

    report = verify_snapshots(container.app, container.settings.database)

    assert report.fault is not None and report.fault.code == "snapshot-altered"
    assert f"the snapshot of {claim_id} at version 4 differs from the replay of its events" in report.fault.detail
    assert "refunded_amount" in report.fault.detail
    with pytest.raises(errors.RefundExceedsAgreed):
        container.app.refund(Actor(Role.MERCHANT, "m1"), claim_id, amount="40.01", payment_reference="pay-2")
    assert container.app.load_claim(claim_id).refunded_amount.amount == 40


def test_verify_store_as_a_process_names_the_tampered_snapshot(container: Container, database_url: str) -> None:
    claim_id = refunded_half(container)
    assert run_cli(database_url, "seal").returncode == 0
    ok = run_cli(database_url, "verify-store")
    assert ok.returncode == 0, ok.stderr
    assert "3 snapshots equal the replay of their events" in ok.stdout
    assert tamper_snapshots(container, claim_id, b'"status":"refund_pending"', b'"status":"withdrawn"') == 2

    failed = run_cli(database_url, "verify-store")

    assert_one_line_error(failed, "differs from the replay of its events", status=1)


def test_a_snapshot_taken_before_the_claim_counted_its_messages_is_no_fault_but_a_wrong_count_is(
    container: Container,
) -> None:
    claim_id = refunded_half(container)  # the snapshot at version 4 counts the message of version 3
    assert tamper_snapshots(container, claim_id, b'"_messages":1', b'"_messages":7') == 1
    wrong = verify_snapshots(container.app, container.settings.database)
    assert wrong.fault is not None and "_messages" in wrong.fault.detail

    # As the code before the caps wrote it: no counter at all.
    assert tamper_snapshots(container, claim_id, b',"_messages":7', b"") == 1
    older = verify_snapshots(container.app, container.settings.database)
    assert (older.checked, older.fault) == (3, None)
