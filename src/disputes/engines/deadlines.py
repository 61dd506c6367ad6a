"""The deadline engine: when an open deadline passes by the clock, the platform records it missed and
applies the policy's outcome for it, through the application (load, decide, save).

It reads the ``deadlines`` view to find what is due, but the claim decides: a claim that moved on since
the view saw it refuses (the deadline is no longer open), and of two engines racing on one claim the
second loses the save's optimistic-concurrency check and records nothing. So several engines may run
against one store, and each deadline fires once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from disputes.application.claims import DisputesApplication
from disputes.domain import errors
from disputes.engines.loop import ViewEngine
from projections.deadlines import DueDeadline, due_deadlines
from projections.store import ViewStore

log = logging.getLogger("disputes.deadlines")
SKIPPED = (errors.InvalidTransition, errors.ClaimClosed, errors.ConcurrentUpdate, errors.ClaimNotFound)
"""Refusals that mean "nothing to do here" (moved on, already recorded, lost a race)."""


@dataclass(frozen=True)
class Fired:
    claim_id: str
    deadline: str
    rule: str
    outcome: str
    position: int | None


@dataclass
class TickResult:
    fired: list[Fired] = field(default_factory=list)
    skipped: int = 0


class DeadlineEngine(ViewEngine):
    """Fires the due deadlines of the ``deadlines`` view, once each."""

    what = "deadline engine"
    logger = log

    def __init__(
        self,
        app: DisputesApplication,
        store: ViewStore,
        *,
        batch_size: int = 100,
        before_tick: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__(store)
        self.app = app
        self.batch_size = batch_size
        self.before_tick = before_tick
        """Called first in each tick (the standalone worker catches the view up there)."""
        self._tried: set[DueDeadline] = set()

    def tick(self) -> TickResult:
        """Fire every deadline due by the application's clock (as far as the view knows)."""
        if self.before_tick is not None:
            self.before_tick()
        result = TickResult()
        due = due_deadlines(self.conn, self.app.now(), self.batch_size)
        # What the view still shows after an attempt (it lags behind the store) is not tried again.
        self._tried &= set(due)
        for deadline in due:
            if deadline in self._tried:
                continue
            self._tried.add(deadline)
            try:
                command, rule = self.app.apply_missed_deadline(deadline.claim_id, deadline.name)
            except SKIPPED as refused:
                log.debug("deadline %s of %s: %s", deadline.name, deadline.claim_id, refused.detail)
                result.skipped += 1
                continue
            fired = Fired(deadline.claim_id, deadline.name, rule.name, rule.outcome.value, command.position)
            log.info(
                "claim %s missed %s: rule %s (%s)", fired.claim_id, fired.deadline, fired.rule, fired.outcome
            )
            result.fired.append(fired)
        return result
