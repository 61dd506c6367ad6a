"""Tools every test layer shares: a hand-turned clock and a migrated composition root."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from disputes.bootstrap import Container, bootstrap
from disputes.migrations import apply_migrations
from disputes.settings import Settings

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class ManualClock:
    """A clock that moves only when told: events, deadlines and token checks read it."""

    def __init__(self, now: datetime = START) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


@contextmanager
def migrated_container(settings: Settings, clock: ManualClock) -> Iterator[Container]:
    """The composition root on a migrated database, closed afterwards."""
    built = bootstrap(settings, clock=clock)
    try:
        apply_migrations(settings.database)
        yield built
    finally:
        built.close()


def run_together(*work: Callable[[], None]) -> None:
    """Run each function in a thread of its own, all released at once; return when all are done."""
    start = threading.Barrier(len(work))

    def released(fn: Callable[[], None]) -> None:
        start.wait()
        fn()

    threads = [threading.Thread(target=released, args=(fn,)) for fn in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
