"""The read side's settings: the values it is given (by the composition root, from the process's settings)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ReadSideSettings:
    projections_in_process: bool
    projection_batch_size: int
    projection_poll_seconds: float
    projection_cache_size: int
    read_wait_seconds: float
    scorecard_good_min: int
    scorecard_watch_min: int
    database_timeout_seconds: float = 5.0
    """The longest wait for a database connection (less while the server is away)."""

    def but(self, **changes: object) -> ReadSideSettings:
        """A copy with some values changed (tests shorten waits this way)."""
        return replace(self, **changes)  # type: ignore[arg-type]
