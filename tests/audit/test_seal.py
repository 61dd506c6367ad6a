"""The seal: the chain over the notification log, sealed incrementally, the same on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from disputes.adapters.database import DatabaseUrl, connect
from disputes.adapters.migrations import apply_migrations
from disputes.application.claims import DisputesApplication
from disputes.application.records import event_record
from disputes.audit.canonical import ZERO_HASH, chain_record
from disputes.audit.chain import AuditSeal, SealedRow, seal_new_events, seal_reader, seal_status
from disputes.bootstrap import bootstrap
from disputes.domain.claim import Claim
from disputes.domain.policy import Windows
from disputes.settings import Settings
from support import CLAIMANT_FACTS
from support.audit import BUYER, START, Clock, busy_store


def sealed_rows(db: DatabaseUrl) -> list[SealedRow]:
    with seal_reader(db) as reader:
        return list(reader.rows(0, 10**9))


def recomputed(app: DisputesApplication) -> list[dict[str, Any]]:
    """The chain computed from scratch over the whole notification log."""
    chain, prev = [], ZERO_HASH
    for notification in app.recorder.select_notifications(1, 10_000):
        record = chain_record(notification.id, event_record(app.mapper.to_domain_event(notification)), prev)
        chain.append(record)
        prev = record["hash"]
    return chain


def test_sealing_seals_every_event_in_store_order(
    app: DisputesApplication, db: DatabaseUrl, clock: Clock
) -> None:
    busy_store(app, clock)

    head = seal_new_events(app, db)

    chain = recomputed(app)
    assert [(r.position, r.claim_id, r.version, r.hash) for r in sealed_rows(db)] == [
        (c["position"], c["claim_id"], c["version"], c["hash"]) for c in chain
    ]
    assert (head.position, head.hash) == (chain[-1]["position"], chain[-1]["hash"])
    assert chain[0]["prev_hash"] == ZERO_HASH


def test_sealing_again_continues_the_chain_and_seals_nothing_twice(
    app: DisputesApplication, db: DatabaseUrl, clock: Clock
) -> None:
    ids = busy_store(app, clock, claims=2, steps=2)
    first = seal_new_events(app, db, batch=3)
    assert seal_new_events(app, db) == first

    app.post_message(BUYER, ids[0], body="still there?")
    head = seal_new_events(app, db, batch=3)

    assert head.position == first.position + 1
    assert [r.hash for r in sealed_rows(db)] == [c["hash"] for c in recomputed(app)]


@dataclass
class Change:
    """The shape of the read-side runner's change: an event at its position."""

    position: int
    event: Any


@dataclass
class ViewConnection:
    raw: Any


def test_a_runner_may_redeliver_a_batch_without_harm(
    app: DisputesApplication, db: DatabaseUrl, clock: Clock
) -> None:
    busy_store(app, clock, claims=2, steps=2)
    notifications = app.recorder.select_notifications(1, 100)
    decoded = [(app.mapper.to_domain_event(n), n.id) for n in notifications]
    seal = AuditSeal()

    with connect(db) as conn:
        seal.process_batch([(e, Tracking("disputes", p)) for e, p in decoded[:2]], conn)
    with connect(db) as conn:  # the runner's own change objects and connection wrapper
        head = seal.process_batch([Change(p, e) for e, p in decoded], ViewConnection(conn))
    with connect(db) as conn:
        assert seal.process_batch(decoded, conn) == head

    assert [r.hash for r in sealed_rows(db)] == [c["hash"] for c in recomputed(app)]


def test_seal_status_reports_the_sealed_head_and_its_lag(
    app: DisputesApplication, db: DatabaseUrl, clock: Clock
) -> None:
    busy_store(app, clock, claims=2, steps=2)
    seal_new_events(app, db)
    busy_store(app, clock, claims=1, steps=2)

    status = seal_status(app, db)

    assert (status.sealed_position, status.store_position, status.lag) == (4, 6, 2)
    assert status.sealed_hash == sealed_rows(db)[-1].hash


def same_events() -> list[Any]:
    """Claims decided in memory once: the same domain events (same ids, times, data) for every store."""
    windows, clock = Windows(), Clock(START)
    events: list[Any] = []
    for n in range(3):
        claim = Claim.open(
            actor=BUYER,
            order_id=f"o-{n}",
            merchant_id="m1",
            kind="refund_only",  # type: ignore[arg-type]
            reason="damaged",  # type: ignore[arg-type]
            order_amount="100.00",
            claimed_amount="80.00",
            currency="CNY",
            delivered_at=None,
            description=f'n°{n}: 花瓶 "broken"\n',
            windows=windows,
            at=clock.advance(minutes=7),
        )
        claim.post_message(actor=BUYER, body="hello", at=clock.advance(minutes=1))
        events += claim.collect_events()
    return events


@pytest.fixture
def two_stores(sqlite_url: str, postgres_url: str) -> Iterator[list[tuple[DisputesApplication, DatabaseUrl]]]:
    for url in (sqlite_url, postgres_url):
        apply_migrations(DatabaseUrl.parse(url))
    containers = [bootstrap(Settings(database_url=url, order_facts=CLAIMANT_FACTS)) for url in (sqlite_url, postgres_url)]
    try:
        yield [(c.app, c.settings.database) for c in containers]
    finally:
        for container in containers:
            container.close()


@pytest.mark.postgres
def test_the_chain_is_identical_on_sqlite_and_postgres(
    two_stores: list[tuple[DisputesApplication, DatabaseUrl]],
) -> None:
    events = same_events()
    for app, db in two_stores:
        app.events.put(events)
        seal_new_events(app, db, batch=4)

    (lite_app, lite_db), (pg_app, pg_db) = two_stores
    assert sealed_rows(lite_db) == sealed_rows(pg_db)
    assert recomputed(lite_app) == recomputed(pg_app)
    assert len(sealed_rows(pg_db)) == 6


def test_readiness_and_metrics_show_the_sealed_head_and_its_lag(
    app: DisputesApplication, db: DatabaseUrl, clock: Clock
) -> None:
    from disputes.audit.health import seal_metrics, seal_readiness

    busy_store(app, clock, claims=2, steps=2)
    head = seal_new_events(app, db)
    busy_store(app, clock, claims=1, steps=1)

    assert seal_readiness(app, db) == {"head_position": 4, "head_hash": head.hash, "lag": 1}
    gauges = {family.name: family.samples[0].value for family in seal_metrics(app, db)}
    assert gauges == {"disputes_audit_seal_head_position": 4, "disputes_audit_seal_lag_positions": 1}


def test_metrics_still_answer_when_the_seal_cannot_be_read(database_url: str) -> None:
    from disputes.audit.health import seal_metrics

    apply_migrations(DatabaseUrl.parse(database_url))
    container = bootstrap(Settings(database_url=database_url, order_facts=CLAIMANT_FACTS))
    with connect(container.settings.database) as conn:
        conn.execute("DROP TABLE audit_seal")  # as if lost: no seal table to read
    try:
        assert seal_metrics(container.app, container.settings.database) == []
    finally:
        container.close()
