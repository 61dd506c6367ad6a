"""The reminder engine: before each open deadline, at the policy's ``reminders`` lead times, it records
one ``DeadlineReminder`` for the party who must act (the delivery workers send it on).

It reads the ``deadlines`` view to find what comes due; the claim decides whether the deadline is still
open, and the reminder's id makes it once only, so several engines may run against one store. A
deadline first seen when several of its lead times have passed gets only the most imminent reminder
(a "24 hours left" message an hour before is noise).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from disputes.application.claims import DisputesApplication
from disputes.application.reminders import SentReminder, send_reminder
from disputes.engines.loop import ViewEngine
from projections.deadlines import upcoming_deadlines
from projections.store import ViewStore, text_time

log = logging.getLogger("disputes.reminders")


@dataclass
class ReminderTick:
    sent: list[SentReminder] = field(default_factory=list)
    looked_at: int = 0


class ReminderEngine(ViewEngine):
    """Records the reminders owed by the open deadlines of the ``deadlines`` view, once each."""

    what = "reminder engine"
    logger = log

    def __init__(
        self,
        app: DisputesApplication,
        store: ViewStore,
        *,
        before_tick: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__(store)
        self.app = app
        self.before_tick = before_tick
        self._done: set[tuple[str, str, str, timedelta]] = set()
        """(claim, deadline, due_at, lead) this engine settled: sent, or found not owed."""

    @property
    def leads(self) -> tuple[timedelta, ...]:
        return self.app.policy.reminders.lead_times

    def tick(self) -> ReminderTick:
        if self.before_tick is not None:
            self.before_tick()
        result = ReminderTick()
        if not self.leads:
            return result
        now = self.app.now()
        seen: set[tuple[str, str, str, timedelta]] = set()
        for row in upcoming_deadlines(self.conn, now, now + max(self.leads)):
            result.looked_at += 1
            due_at = text_time(row.due_at)
            passed = [lead for lead in self.leads if due_at - lead <= now]
            if not passed:
                continue
            lead = min(passed)  # the most imminent; the longer ones are past their use
            key = (row.claim_id, row.name, row.due_at, lead)
            seen.add(key)
            if key in self._done:
                continue
            sent = send_reminder(self.app, row.claim_id, row.name, due_at, lead)
            self._done.add(key)
            if sent is not None:
                log.info("reminded the %s of claim %s: %s due %s", sent.party, sent.claim_id, sent.deadline, row.due_at)
                result.sent.append(sent)
        self._done &= seen
        return result
