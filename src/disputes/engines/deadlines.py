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

from disputes.adapters.metrics import AUTOMATIC_OUTCOMES
from disputes.application.claims import DisputesApplication
from disputes.domain import errors
from disputes.engines.loop import ViewEngine
from projections.deadlines import BEFORE_ALL, DueDeadline, due_deadlines, unfixed_claims
from projections.store import ViewStore

log = logging.getLogger("disputes.deadlines")
SKIPPED = (errors.InvalidTransition, errors.ClaimClosed, errors.ClaimNotFound)
"""Refusals that mean "nothing to do here" (moved on, already recorded, no such claim): not tried again
while the view shows the same row. A lost race (ConcurrentUpdate) is tried again next round."""


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
    fixed: int = 0
    """Claims recorded before deadlines were fixed at opening whose deadlines this round fixed."""


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
        self._fixed: set[str] = set()
        """Claims fixed (or found with nothing to fix) by this engine: the view may still show them."""

    def tick(self) -> TickResult:
        """Fire every deadline due by the application's clock (as far as the view knows).

        The view is read page by page after the last key seen, so however many rows stand first that
        the claims refuse (moved on, the view behind), every due deadline is reached in the round. A row
        refused for a reason that will not change is not tried again while the view still shows it; a
        firing that failed otherwise (the database away) raises, and the row is tried next round.
        """
        if self.before_tick is not None:
            self.before_tick()
        result = TickResult()
        now = self.app.now()
        self._fix_derived(result)
        seen: set[DueDeadline] = set()
        after = BEFORE_ALL
        while True:
            page = due_deadlines(self.conn, now, self.batch_size, after)
            for deadline in page:
                seen.add(deadline)
                if deadline not in self._tried:
                    self._fire(deadline, result)
            if len(page) < self.batch_size:
                break
            after = page[-1]
        # What the view no longer shows can be forgotten.
        self._tried &= seen
        return result

    def _fire(self, deadline: DueDeadline, result: TickResult) -> None:
        try:
            command, rule = self.app.apply_missed_deadline(deadline.claim_id, deadline.name)
        except errors.ConcurrentUpdate:
            result.skipped += 1  # another writer changed the claim: judged again next round
            return
        except SKIPPED as refused:
            log.debug("deadline %s of %s: %s", deadline.name, deadline.claim_id, refused.detail)
            self._tried.add(deadline)
            result.skipped += 1
            return
        fired = Fired(deadline.claim_id, deadline.name, rule.name, rule.outcome.value, command.position)
        AUTOMATIC_OUTCOMES.labels(rule=fired.rule, outcome=fired.outcome).inc()
        log.info(
            "automatic outcome",
            extra={
                "event": "automatic_outcome",
                "claim_id": fired.claim_id,
                "deadline": fired.deadline,
                "rule": fired.rule,
                "outcome": fired.outcome,
                "position": fired.position,
            },
        )
        self._tried.add(deadline)  # the view shows it until it catches up with the firing
        result.fired.append(fired)

    def _fix_derived(self, result: TickResult) -> None:
        """Once per claim recorded before deadlines were fixed at opening: fix its open deadlines as the
        policy in force derives them (DeadlinesFixed), so that a later policy leaves them alone."""
        for claim_id in unfixed_claims(self.conn, self.batch_size):
            if claim_id in self._fixed:
                continue
            try:
                done = self.app.fix_deadlines(claim_id)
            except errors.ConcurrentUpdate:
                continue  # next round
            except SKIPPED:
                done = None
            self._fixed.add(claim_id)
            if done is not None:
                result.fixed += 1
