"""The read side's settings: the part of :class:`~disputes.settings.Settings` it uses."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from disputes.settings import Settings


@dataclass(frozen=True)
class ReadSideSettings:
    projections_in_process: bool
    projection_batch_size: int
    projection_poll_seconds: float
    projection_cache_size: int
    read_wait_seconds: float
    scorecard_good_min: int
    scorecard_watch_min: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadSideSettings:
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})

    def but(self, **changes: object) -> ReadSideSettings:
        """A copy with some values changed (tests shorten waits this way)."""
        return replace(self, **changes)  # type: ignore[arg-type]
