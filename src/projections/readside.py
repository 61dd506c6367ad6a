"""The read side as the read routes use it: the views' store, positions, lag and read-your-writes waits.

The composition root (:mod:`disputes.bootstrap`) builds it, and the runners, from the settings.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from eventsourcing.persistence import ApplicationRecorder
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from disputes.adapters.database import DatabaseUrl
from projections import catalog
from projections.runner import read_positions
from projections.settings import ReadSideSettings
from projections.store import ViewConnection, ViewStore

WAIT_STEP_SECONDS = 0.02


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        """Events recorded that the view has not processed yet."""
        return max(0, self.head - self.position)


class ReadSide:
    """What the read routes need: the view store, the settings, and waiting for positions."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        database: DatabaseUrl,
        settings: ReadSideSettings,
        *,
        pool_size: int = 0,
    ) -> None:
        self.recorder = recorder
        self.settings = settings
        self.store = ViewStore(database, pool_size=pool_size, wait_seconds=settings.database_timeout_seconds)

    def head(self) -> int:
        return int(self.recorder.max_notification_id() or 0)

    def statuses(self, conn: ViewConnection | None = None) -> list[ProjectionStatus]:
        head = self.head()
        if conn is None:
            with self.store.reading() as own:
                positions = read_positions(own)
        else:
            positions = read_positions(conn)
        return [ProjectionStatus(name, positions.get(name, 0), head) for name in catalog.NAMES]

    def wait_for(
        self, conn: ViewConnection, names: Sequence[str], min_position: int, timeout: float | None = None
    ) -> int | None:
        """Wait until the named views have processed every event up to ``min_position``.

        Returns the lowest of their positions, or None when they are still behind after ``timeout``
        (default: the read_wait_seconds setting). A position beyond the last recorded event is
        waited for only up to that last event.
        """
        timeout = self.settings.read_wait_seconds if timeout is None else timeout
        target = min(min_position, self.head())
        deadline = time.monotonic() + timeout
        while True:
            positions = read_positions(conn)
            lowest = min(positions.get(name, 0) for name in names)
            if lowest >= target:
                return lowest
            if time.monotonic() >= deadline:
                return None
            time.sleep(WAIT_STEP_SECONDS)

    def lag(self) -> dict[str, int]:
        """Each projection's lag: the last recorded position minus the projection's position."""
        return {status.name: status.lag for status in self.statuses()}

    def positions(self, conn: ViewConnection, names: Sequence[str]) -> int:
        positions = read_positions(conn)
        return min(positions.get(name, 0) for name in names)

    def close(self) -> None:
        self.store.close()


def lag_metrics(statuses: Sequence[ProjectionStatus]) -> list[Metric]:
    """The projections' positions and lag, as Prometheus gauges."""
    position = GaugeMetricFamily(
        "disputes_projection_position",
        "Last notification-log position a projection has processed.",
        labels=["projection"],
    )
    lag = GaugeMetricFamily(
        "disputes_projection_lag_events",
        "Events recorded but not yet in the projection's view.",
        labels=["projection"],
    )
    for status in statuses:
        position.add_metric([status.name], status.position)
        lag.add_metric([status.name], status.lag)
    return [position, lag]
