"""A deadline reminder that went out: one aggregate per claim, deadline, due time and lead time.

Its id is derived from those four, so a reminder is recorded once however many engines race to send
it (the second save collides in the event store). Its one event, ``DeadlineReminder``, is in the
notification log like every other: sealed in the audit chain, in period exports, on the feed, the
webhooks and the stream. It names the party who must act, the deadline, its due time and the words
sent, so an auditor can tell whether and when a party was warned.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from disputes.domain.parties import Actor, Role

REMINDER_ID_NAMESPACE = UUID("3c2b8e51-7d0f-4b8e-a6a1-5e9c0d4f2a77")
REMINDER_ENGINE = Actor(Role.SYSTEM, "reminder-engine")


def reminder_id_for(claim_id: str, deadline: str, due_at: datetime, lead: timedelta) -> UUID:
    return uuid5(REMINDER_ID_NAMESPACE, f"{claim_id}/{deadline}/{due_at.isoformat()}/{int(lead.total_seconds())}")


def lead_text(lead: timedelta) -> str:
    """``24h``, ``90m``, ``45s``: the policy file's own form, in hours where whole."""
    seconds = int(lead.total_seconds())
    for unit, size in (("h", 3_600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class Reminder(Aggregate):
    """A reminder sent; it never changes."""

    @staticmethod
    def create_id(claim_id: str, deadline: str, due_at: datetime, lead_seconds: int) -> UUID:
        """The library passes it the arguments of ``__init__`` that it names."""
        return reminder_id_for(claim_id, deadline, due_at, timedelta(seconds=lead_seconds))

    @event("DeadlineReminder")
    def __init__(
        self,
        *,
        claim_id: str,
        party: str,
        deadline: str,
        due_at: datetime,
        lead_time: str,
        lead_seconds: int,
        text: dict[str, str],
        actor: Actor,
        timestamp: datetime,
    ) -> None:
        self.claim_id = claim_id
        self.party = party
        self.deadline = deadline
        self.due_at = due_at
        self.lead_time = lead_time
        self.lead_seconds = lead_seconds
        self.text = dict(text)

    @classmethod
    def send(
        cls,
        *,
        claim_id: str,
        party: str,
        deadline: str,
        due_at: datetime,
        lead: timedelta,
        text: dict[str, str],
        at: datetime,
    ) -> Reminder:
        return cls(
            claim_id=claim_id,
            party=party,
            deadline=deadline,
            due_at=due_at,
            lead_time=lead_text(lead),
            lead_seconds=int(lead.total_seconds()),
            text=text,
            actor=REMINDER_ENGINE,
            timestamp=at,
        )
