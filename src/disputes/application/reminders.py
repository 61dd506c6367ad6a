"""Deadline reminders as a use case: the claim decides whether its deadline is still open, and the
reminder's own id makes it once only (see :mod:`disputes.domain.reminder`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from disputes.application.claims import DisputesApplication
from disputes.domain import errors
from disputes.domain.policy import Deadline, Policy, deadline_party
from disputes.domain.reminder import Reminder
from disputes.domain.vocabulary import LANGUAGES
from disputes.i18n import CATALOGUES, moment, text


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
    still_open = [d for d in claim.deadlines(app.windows) if d.name == deadline and d.due_at == due_at]
    if not still_open or now >= due_at or now < due_at - lead:
        return None
    party = deadline_party(deadline)
    reminder = Reminder.send(
        claim_id=claim_id,
        party=party,
        deadline=deadline,
        due_at=due_at,
        lead=lead,
        text=reminder_text(claim_id, party, still_open[0], app.policy, app.windows.zone),
        at=now,
    )
    try:
        position = app.record(reminder, what="reminder")
    except errors.ConcurrentUpdate:
        return None  # recorded already
    return SentReminder(claim_id, deadline, due_at, lead, party, position)


def reminder_text(claim_id: str, party: str, deadline: Deadline, policy: Policy, zone: tzinfo) -> dict[str, str]:
    """The reminder's words in every language (``{"en": ..., "zh-CN": ...}``, the catalogues' group
    ``reminders``): who must do what by when, in the policy's time zone, and what the rule the deadline
    was opened under does when it passes, in the words of ``GET /policy``."""
    rule = next((r for r in policy.rules if r.name == deadline.rule), None) or policy.rule_for(deadline.name)
    action = f"reminders.action.{deadline.name}"
    return {
        language: text(
            language,
            "reminders.text",
            party=text(language, f"reminders.party.{party}"),
            claim=claim_id,
            action=text(language, action if CATALOGUES.has(action) else "reminders.action.default"),
            due=moment(deadline.due_at, language, zone),
            if_missed=text(language, f"policy.outcome.{rule.outcome.value}"),
        )
        for language in LANGUAGES
    }

