"""Deadline reminders as a use case: the claim decides whether its deadline is still open, and the
reminder's own id makes it once only (see :mod:`disputes.domain.reminder`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from disputes.application.claims import DisputesApplication
from disputes.application.reminder_texts import reminder_text
from disputes.domain import errors
from disputes.domain.policy import deadline_party
from disputes.domain.reminder import Reminder


@dataclass(frozen=True)
class SentReminder:
    claim_id: str
    deadline: str
    due_at: datetime
    lead: timedelta
    party: str
    position: int | None


def send_reminder(
    app: DisputesApplication, claim_id: str, deadline: str, due_at: datetime, lead: timedelta
) -> SentReminder | None:
    """Record the reminder of ``deadline`` due at ``due_at``, ``lead`` before it, if it is still owed.

    None when the claim no longer has that deadline open at that time, when it has passed, or when the
    reminder was recorded already (by this engine or another).
    """
    try:
        claim = app.load_claim(claim_id)
    except errors.ClaimNotFound:
        return None
    now = app.now()
    still_open = any(d.name == deadline and d.due_at == due_at for d in claim.deadlines(app.windows))
    if not still_open or now >= due_at or now < due_at - lead:
        return None
    party = deadline_party(deadline)
    reminder = Reminder.send(
        claim_id=claim_id,
        party=party,
        deadline=deadline,
        due_at=due_at,
        lead=lead,
        text=reminder_text(claim_id, party, deadline, due_at, app.windows.zone),
        at=now,
    )
    try:
        position = app.record(reminder, what="reminder")
    except errors.ConcurrentUpdate:
        return None  # recorded already
    return SentReminder(claim_id, deadline, due_at, lead, party, position)
