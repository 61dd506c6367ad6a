"""A rebuild split among processes, each projecting a share of the claims, builds exactly the views an
incremental build does; while it runs, the views are held and no other runner touches them."""

from __future__ import annotations

import pytest

from disputes.bootstrap import Container, build_runner
from disputes.cli.rebuild import rebuild
from disputes.domain.errors import DisputesError
from projections import catalog
from projections.partitions import HELD, Partition, release
from projections.runner import ProjectionRunner, reset
from projections.store import ViewConnection, ViewStore
from support.views import Claims, ManualClock, dump_views, lifecycle_mix, positions

VIEWS = [p.name for p in catalog.select() if p.tables]


@pytest.mark.parametrize("workers", [2, 3])
def test_a_rebuild_in_partitions_builds_the_views_an_incremental_build_does(
    container: Container, claims: Claims, clock: ManualClock, views: ViewConnection, workers: int
) -> None:
    small = build_runner(container, batch_size=5)
    try:
        for _ in range(3):
            lifecycle_mix(claims, clock, 8)
            small.run_until_caught_up()
    finally:
        small.close()
    incremental = dump_views(views)
    head = container.app.recorder.max_notification_id()

    read = rebuild(container, workers=workers)

    assert read == head
    assert dump_views(views) == incremental
    assert positions(views) == dict.fromkeys(catalog.NAMES, head)  # no partition's row is left


def test_a_runner_leaves_a_view_held_for_a_rebuild_alone_until_it_is_released(
    container: Container, claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    lifecycle_mix(claims, clock, 4)
    runner.run_until_caught_up()
    head = container.app.recorder.max_notification_id()
    queued = views.query("SELECT * FROM read_queue ORDER BY claim_id")
    store = ViewStore(container.settings.database)
    reset(store, [p for p in catalog.select() if p.name == "queue"], partitions=2)

    runner.run_until_caught_up()  # the other views are caught up; the held one is not touched
    assert positions(views)["queue"] == HELD
    assert views.query("SELECT COUNT(*) FROM read_queue") == [(0,)]
    with pytest.raises(RuntimeError, match="partition 0 of queue stands at 0"):
        release(store, ["queue"], 2, head)

    for index in range(2):
        share = build_runner(container, ["queue"], partition=Partition(index, 2), stop=head)
        try:
            share.run_until_caught_up()
        finally:
            share.close()
    release(store, ["queue"], 2, head)
    assert positions(views) == dict.fromkeys(catalog.NAMES, head)
    assert views.query("SELECT * FROM read_queue ORDER BY claim_id") == queued


def test_a_partition_that_fails_fails_the_rebuild_and_leaves_the_views_held(
    container: Container, claims: Claims, clock: ManualClock, views: ViewConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    lifecycle_mix(claims, clock, 4)
    monkeypatch.setenv("DISPUTES_PROJECTIONS_TEST_CRASH_BEFORE_COMMIT", "1")  # each partition dies at once

    with pytest.raises(DisputesError, match="the views stay held"):
        rebuild(container, ["claims"], workers=2)

    assert positions(views)["claims"] == HELD
    monkeypatch.delenv("DISPUTES_PROJECTIONS_TEST_CRASH_BEFORE_COMMIT")
    rebuild(container, ["claims"], workers=2)
    assert positions(views)["claims"] == container.app.recorder.max_notification_id()
