"""The read side as the rest of the program uses it: runners built from the container, the projections
running inside the API process, positions, lag and read-your-writes waits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from disputes.bootstrap import Container
from projections import catalog
from projections.background import BackgroundLoop
from projections.runner import (
    CATCHUP_BATCH_SIZE,
    ProjectionRunner,
    crash_hook_from_environment,
    read_positions,
)
from projections.settings import ReadSideSettings
from projections.store import ViewConnection, ViewStore

log = logging.getLogger("disputes.projections")
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


def build_runner(
    container: Container,
    names: Sequence[str] | None = None,
    *,
    settings: ReadSideSettings | None = None,
    batch_size: int | None = None,
    catchup_batch_size: int = CATCHUP_BATCH_SIZE,
) -> ProjectionRunner:
    """A runner of the named projections (all by default) on the container's application and database."""
    settings = settings or ReadSideSettings.from_settings(container.settings)
    return ProjectionRunner(
        container.app,
        ViewStore(container.settings.database),
        catalog.select(names),
        windows=container.app.windows,
        batch_size=batch_size or settings.projection_batch_size,
        catchup_batch_size=catchup_batch_size,
        poll_seconds=settings.projection_poll_seconds,
        cache_size=settings.projection_cache_size,
        crash_before_commit=crash_hook_from_environment(),
    )


class ReadSide:
    """What the read routes need: the view store, the settings, and waiting for positions."""

    def __init__(self, container: Container, *, pooled: bool = False) -> None:
        self.container = container
        self.settings = ReadSideSettings.from_settings(container.settings)
        pool_size = container.settings.postgres_pool_size if pooled else 0
        self.store = ViewStore(container.settings.database, pool_size=pool_size)

    def head(self) -> int:
        return int(self.container.app.recorder.max_notification_id() or 0)

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

    def positions(self, conn: ViewConnection, names: Sequence[str]) -> int:
        positions = read_positions(conn)
        return min(positions.get(name, 0) for name in names)

    def close(self) -> None:
        self.store.close()


class InProcessProjections:
    """The handle of :func:`start_in_process`: the read side, and the runner thread if there is one."""

    def __init__(self, container: Container, *, run: bool | None = None) -> None:
        self.read_side = ReadSide(container, pooled=True)
        self.runner: ProjectionRunner | None = None
        self._loop: BackgroundLoop | None = None
        if run if run is not None else self.read_side.settings.projections_in_process:
            self.runner = build_runner(container, settings=self.read_side.settings)
            self._loop = BackgroundLoop(self.runner.run_forever, "disputes-projections")

    @property
    def running(self) -> bool:
        return self._loop is not None and self._loop.running

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None:
            self._loop.stop(timeout)
        if self.runner is not None:
            self.runner.close()
        self.read_side.close()


def start_in_process(container: Container, *, run: bool | None = None) -> InProcessProjections:
    """Run the projections in a thread of this process (unless DISPUTES_PROJECTIONS_IN_PROCESS=false).

    Call ``.stop()`` on the handle at shutdown. Put the handle's ``read_side`` on ``api.state.read_side``
    so that the read routes share its connection pool.
    """
    return InProcessProjections(container, run=run)


def projection_statuses(container: Container) -> list[ProjectionStatus]:
    """Each projection's position, and the last recorded position (for /metrics and /readyz)."""
    side = ReadSide(container)
    try:
        return side.statuses()
    finally:
        side.close()


def projection_lag(container: Container) -> dict[str, int]:
    """Each projection's lag: the last recorded position minus the projection's position."""
    return {status.name: status.lag for status in projection_statuses(container)}


def render_lag_metrics(statuses: Sequence[ProjectionStatus]) -> str:
    """Prometheus text lines for the projections' positions and lag."""
    lines = [
        "# HELP disputes_projection_position Last notification-log position a projection has processed.",
        "# TYPE disputes_projection_position gauge",
        *(f'disputes_projection_position{{projection="{s.name}"}} {s.position}' for s in statuses),
        "# HELP disputes_projection_lag_events Events recorded but not yet in the projection's view.",
        "# TYPE disputes_projection_lag_events gauge",
        *(f'disputes_projection_lag_events{{projection="{s.name}"}} {s.lag}' for s in statuses),
    ]
    return "\n".join(lines) + "\n"
