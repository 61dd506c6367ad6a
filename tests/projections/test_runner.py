"""The runner: batches, exactly-once positions, stale workers, rebuilds, following new events."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import pytest

from disputes.bootstrap import Container, build_runner
from projections import catalog
from projections.runner import ProjectionRunner, StalePosition, reset
from projections.store import ViewConnection, ViewStore
from support.views import Claims, ManualClock, claim_events, dump_views, lifecycle_mix, positions


def count(conn: ViewConnection, table: str) -> int:
    row = conn.one(f"SELECT COUNT(*) FROM {table}")
    assert row is not None
    return int(row[0])


def test_catching_up_brings_every_view_to_the_last_recorded_position(
    container: Container, claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    lifecycle_mix(claims, clock, 8)
    head = container.app.recorder.max_notification_id()

    runner.run_until_caught_up()

    assert positions(views) == dict.fromkeys(catalog.NAMES, head)
    assert count(views, "read_claims") == 8
    assert count(views, "read_timeline") == claim_events(container.app)


def test_small_batches_and_interleaved_writes_build_the_same_views_as_one_rebuild(
    container: Container, claims: Claims, clock: ManualClock, views: ViewConnection
) -> None:
    small = build_runner(container, batch_size=3)
    try:
        for _ in range(3):
            lifecycle_mix(claims, clock, 4)
            small.step()  # leave some behind on purpose
        small.run_until_caught_up()
        incremental = dump_views(views)
    finally:
        small.close()

    reset(ViewStore(container.settings.database), catalog.select())
    assert count(views, "read_claims") == 0
    rebuilt = build_runner(container, batch_size=1000)
    try:
        rebuilt.run_until_caught_up()
    finally:
        rebuilt.close()

    assert dump_views(views) == incremental
    assert count(views, "read_claims") == 12


def test_a_worker_that_read_a_position_another_worker_moved_commits_nothing(
    container: Container, claims: Claims, clock: ManualClock, views: ViewConnection
) -> None:
    lifecycle_mix(claims, clock, 4)
    first, second = build_runner(container), build_runner(container)
    try:
        late = second.prepare()  # reads position 0 (on PostgreSQL: and takes the locks)
        first.step()  # SQLite: commits everything; PostgreSQL: finds every projection locked, does nothing
        with contextlib.suppress(StalePosition):  # SQLite: the compare-and-set refuses the stale batch
            second.commit(late)
        first.run_until_caught_up()
        second.run_until_caught_up()
    finally:
        first.close()
        second.close()

    assert count(views, "read_claims") == 4
    assert count(views, "read_timeline") == claim_events(container.app)
    received = views.one("SELECT COUNT(*) FROM read_scorecard_facts WHERE fact = 'received'")
    assert received == (4,)


def test_a_stale_batch_is_refused_by_the_compare_and_set(
    container: Container, claims: Claims, clock: ManualClock, views: ViewConnection
) -> None:
    lifecycle_mix(claims, clock, 2)
    runner = build_runner(container)
    try:
        batch = runner.prepare()
        # What a stale worker would find: the positions moved under it (here: by hand, in the table).
        views.execute("UPDATE projection_positions SET position = position + 1")
        with pytest.raises(StalePosition):
            runner.commit(batch)
    finally:
        runner.close()

    assert count(views, "read_claims") == 0
    assert count(views, "read_timeline") == 0


def test_a_rebuild_of_one_view_leaves_the_others_alone(
    container: Container, claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    lifecycle_mix(claims, clock, 4)
    runner.run_until_caught_up()
    before = dump_views(views)
    head = container.app.recorder.max_notification_id()

    reset(ViewStore(container.settings.database), catalog.select(["timeline"]))
    assert positions(views)["timeline"] == 0
    assert positions(views)["claims"] == head
    assert count(views, "read_timeline") == 0
    runner.run_until_caught_up()

    assert dump_views(views) == before
    assert positions(views) == dict.fromkeys(catalog.NAMES, head)


def test_a_runner_far_behind_reads_catch_up_batches_and_the_last_of_them_in_one(
    container: Container, claims: Claims, clock: ManualClock, views: ViewConnection
) -> None:
    for _ in range(13):
        claims.open()
    head = int(container.app.recorder.max_notification_id() or 0)
    # 5 per batch while at least 10 wait; then all that wait, once at least 5 do; then 2 per batch.
    expected, at = [], 0
    while head - at >= 10:
        at += 5
        expected.append(at)
    if head - at >= 5:
        expected.append(head)
    runner = build_runner(container, batch_size=2, catchup_batch_size=5)
    reached: list[int] = []
    try:
        runner.run_until_caught_up(reached.append)
    finally:
        runner.close()

    assert head >= 13
    assert reached[: len(expected)] == expected
    assert reached[-1] == head
    assert positions(views) == dict.fromkeys(catalog.NAMES, head)


@pytest.fixture
def following(container: Container) -> Iterator[ProjectionRunner]:
    """A runner following new events in a thread. On PostgreSQL its polling is slowed to 30 s, so that
    only a NOTIFY can wake it in time."""
    runner = build_runner(container)
    runner.poll_seconds = 30.0 if container.settings.database.dialect == "postgres" else 0.05
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        yield runner
    finally:
        stop.set()
        thread.join(10)
        runner.close()
        assert not thread.is_alive()


def wait_until(predicate: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds}s")
        time.sleep(0.01)


def test_a_following_worker_shows_a_new_claim_within_moments(
    following: ProjectionRunner, claims: Claims, views: ViewConnection
) -> None:
    time.sleep(0.3)  # let it catch up and start waiting; not an assertion
    claim_id = claims.open()

    wait_until(
        lambda: views.one("SELECT 1 FROM read_claims WHERE claim_id = ?", (claim_id,)) is not None, 5.0
    )
    assert following.last_error is None


def test_the_runner_seals_the_audit_chain_as_it_follows_the_store(
    container: Container, clock: ManualClock
) -> None:
    from disputes.audit.chain import seal_status

    lifecycle_mix(Claims(container.app, clock), clock, 3)
    runner = build_runner(container, ["audit_seal"])
    try:
        while not runner.step().caught_up:
            pass
    finally:
        runner.close()
    status = seal_status(container.app, container.settings.database)
    assert status.sealed_position == container.app.recorder.max_notification_id()
    assert status.lag == 0
