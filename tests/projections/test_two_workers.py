"""Several workers on PostgreSQL: each projection is worked by one of them at a time, and every event
is counted once, whichever worker happens to process it."""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence

import pytest

from disputes.bootstrap import Container, bootstrap
from disputes.settings import Settings
from projections import catalog
from projections.changes import Change
from projections.runner import Projection, ProjectionRunner
from projections.store import ViewConnection, ViewStore
from support import CLAIMANT_FACTS, migrated_container
from support.processes import cli_command, cli_environment
from support.views import (
    Claims,
    ManualClock,
    claim_events,
    dump_views,
    lifecycle_mix,
    positions,
    rebuilt_views,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


class Watched(Projection):
    """A projection that notes who processes which positions, and how many workers are inside at once."""

    def __init__(
        self, inner: Projection, log: Counter[tuple[str, int]], busy: Counter[str], peak: Counter[str]
    ) -> None:
        self.inner, self.log, self.busy, self.peak = inner, log, busy, peak
        self.name = inner.name  # type: ignore[misc]
        self.tables = inner.tables  # type: ignore[misc]
        self.claims_only = inner.claims_only  # type: ignore[misc]
        self.lock = threading.Lock()

    def process(self, changes: Sequence[Change], tx: ViewConnection) -> None:
        with self.lock:
            self.busy[self.name] += 1
            self.peak[self.name] = max(self.peak[self.name], self.busy[self.name])
        try:
            time.sleep(0.002)  # widen the window in which two workers could overlap
            self.inner.process(changes, tx)
            for change in changes:
                self.log[(self.name, change.position)] += 1
        finally:
            with self.lock:
                self.busy[self.name] -= 1


@pytest.fixture
def pg_settings(postgres_url: str) -> Settings:
    return Settings(database_url=postgres_url, env="test", order_facts=CLAIMANT_FACTS)


@pytest.fixture
def container(pg_settings: Settings, clock: ManualClock) -> Iterator[Container]:
    with migrated_container(pg_settings, clock) as built:
        yield built


def test_two_workers_following_at_once_never_work_one_projection_together_and_count_each_event_once(
    pg_settings: Settings, container: Container, claims: Claims, clock: ManualClock, views: ViewConnection
) -> None:
    log: Counter[tuple[str, int]] = Counter()
    busy: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    shared_locks = {name: threading.Lock() for name in catalog.NAMES}
    stop = threading.Event()
    workers: list[tuple[Container, ProjectionRunner, threading.Thread]] = []
    for _ in range(2):
        own = bootstrap(pg_settings)  # each worker with its own application and connections
        watched = [Watched(p, log, busy, peak) for p in catalog.select()]
        for w in watched:
            w.lock = shared_locks[w.name]
        runner = ProjectionRunner(
            own.app, ViewStore(pg_settings.database), watched, windows=own.app.windows, batch_size=5
        )
        thread = threading.Thread(target=runner.run_forever, args=(stop,), daemon=True)
        thread.start()
        workers.append((own, runner, thread))
    try:
        for _ in range(4):
            lifecycle_mix(claims, clock, 6)
            time.sleep(0.05)  # let the workers interleave with the writes; not an assertion
        head = container.app.recorder.max_notification_id()
        deadline = time.monotonic() + 30
        while positions(views) != dict.fromkeys(catalog.NAMES, head):
            assert time.monotonic() < deadline, positions(views)
            time.sleep(0.01)
    finally:
        stop.set()
        for own, runner, thread in workers:
            thread.join(10)
            runner.close()
            own.close()
    for _, runner, _ in workers:
        assert runner.last_error is None

    assert dict(peak) == dict.fromkeys(catalog.NAMES, 1)
    assert set(log.values()) == {1}
    # A view of claims sees each claim event once; the seal sees every event (the orders' too).
    claims_seen = claim_events(container.app)
    assert len(log) == sum(claims_seen if p.claims_only else head for p in catalog.PROJECTIONS.values())
    assert dump_views(views) == rebuilt_views(container, views)


def test_two_worker_processes_catching_up_together_build_the_views_exactly_once(
    postgres_url: str, container: Container, claims: Claims, clock: ManualClock, views: ViewConnection
) -> None:
    lifecycle_mix(claims, clock, 40)
    head = container.app.recorder.max_notification_id()
    environment = cli_environment(postgres_url, DISPUTES_PROJECTION_BATCH_SIZE="3")
    processes = [
        subprocess.Popen(
            cli_command("project", "--once"),
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err

    assert positions(views) == dict.fromkeys(catalog.NAMES, head)
    assert dump_views(views) == rebuilt_views(container, views)
