"""What each recorded claim event changed: the claim's state before and after it.

The state is not recomputed in SQL: each event is applied to the claim as it stood before
(``domain_event.mutate(previous)``, the aggregate's own code), and the views read their columns from
the resulting :class:`ClaimState`. Recent claims are kept in a small LRU cache; on a miss the claim is
loaded from the repository at the version before the event.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from disputes.domain.claim import Claim
from disputes.domain.parties import Actor, Role
from disputes.domain.policy import Deadline, Windows

CLAIM_TOPIC_PREFIX = get_topic(Claim) + "."
"""Topics of claim events start with this (``disputes.domain.claim:Claim.``)."""

DEADLINE_PARTY: dict[str, str] = {
    "merchant_response": "merchant",
    "offer_answer": "buyer",
    "mediation_request": "buyer",
    "return_shipment": "buyer",
    "merchant_refund": "merchant",
    "evidence_from_buyer": "buyer",
    "evidence_from_merchant": "merchant",
}
"""Whose move each deadline waits for."""


def deadline_party(name: str) -> str:
    return DEADLINE_PARTY.get(name, "platform")


class ClaimState(NamedTuple):
    """The claim's facts after one event, frozen (the cached aggregate itself moves on).

    A named tuple rather than a frozen dataclass: one is made per event, and tuples are made fastest.
    """

    claim_id: str
    version: int
    status: str
    kind: str
    reason: str
    order_id: str
    buyer_id: str
    merchant_id: str
    mediator_id: str | None
    currency: str
    order_amount: Decimal
    claimed_amount: Decimal
    agreed_amount: Decimal | None
    refunded_amount: Decimal
    outcome: str | None
    mediation_requested: bool
    first_response_at: datetime | None
    opened_at: datetime
    updated_at: datetime
    status_since: datetime
    evidence_due: Mapping[str, datetime]
    deadlines: tuple[Deadline, ...]

    @classmethod
    def of(cls, claim: Claim, windows: Windows, before: ClaimState | None = None) -> ClaimState:
        """The claim's state; its deadlines are those of ``before`` when nothing they depend on moved."""
        agreed = claim.agreed_amount
        if (
            before is not None
            and before.status == claim.status
            and before.status_since == claim.status_since
            and before.evidence_due == claim.evidence_due
        ):
            deadlines = before.deadlines
        else:
            deadlines = tuple(claim.deadlines(windows))
        return cls(
            claim_id=str(claim.id) if before is None else before.claim_id,
            version=claim.version,
            status=claim.status,
            kind=claim.kind,
            reason=claim.reason,
            order_id=claim.order_id,
            buyer_id=claim.buyer_id,
            merchant_id=claim.merchant_id,
            mediator_id=claim.mediator_id,
            currency=claim.currency,
            order_amount=claim.order_amount.amount,
            claimed_amount=claim.claimed_amount.amount,
            agreed_amount=None if agreed is None else agreed.amount,
            refunded_amount=claim.refunded_amount.amount,
            outcome=claim.outcome,
            mediation_requested=claim.mediation_requested,
            first_response_at=claim.first_response_at,
            opened_at=claim.opened_at,
            updated_at=claim.modified_on,
            status_since=claim.status_since,
            evidence_due=claim.evidence_due,
            deadlines=deadlines,
        )

    @property
    def platform_involved(self) -> bool:
        """The platform has stepped in: mediation was asked for (or forced) or a mediator took the case."""
        return self.mediation_requested or self.mediator_id is not None


class Change(NamedTuple):
    """One claim event at its position in the notification log, with the claim before and after."""

    position: int
    event: Any
    type: str
    at: datetime
    actor: Actor
    before: ClaimState | None
    after: ClaimState

    def attr(self, name: str, default: Any = None) -> Any:
        """An attribute of the event (``amount``, ``outcome``, ...)."""
        return getattr(self.event, name, default)


@dataclass(frozen=True, slots=True)
class DeadlineClosed:
    """A deadline that stopped being open at this change, and how it ended.

    ``missed``: it closed after it was due (or the platform recorded it missed); ``met``: its party
    acted in time; ``superseded``: something else ended it in time (a withdrawal, the platform, the
    other party).
    """

    name: str
    party: str
    due_at: datetime
    result: str


def closed_deadlines(change: Change) -> list[DeadlineClosed]:
    """The deadlines open before this change that are not open after it."""
    if change.before is None or not change.before.deadlines:
        return []
    still_open = set(change.after.deadlines)
    closed = []
    for deadline in change.before.deadlines:
        if deadline in still_open:
            continue
        party = deadline_party(deadline.name)
        if change.type == "DeadlineMissed" or change.at > deadline.due_at:
            result = "missed"
        elif change.actor.role.value == party:
            result = "met"
        else:
            result = "superseded"
        closed.append(DeadlineClosed(deadline.name, party, deadline.due_at, result))
    return closed


class ClaimStates:
    """Turns decoded events into :class:`Change` objects, keeping recent claims in an LRU cache."""

    def __init__(self, app: Application[UUID], windows: Windows, capacity: int = 10_000) -> None:
        self.app = app
        self.windows = windows
        self.capacity = max(1, capacity)
        self._cache: OrderedDict[UUID, tuple[Claim, ClaimState]] = OrderedDict()
        self.misses = 0

    def clear(self) -> None:
        self._cache.clear()

    def change(self, position: int, domain_event: Any) -> Change:
        claim_id: UUID = domain_event.originator_id
        version: int = domain_event.originator_version
        cached = self._cache.pop(claim_id, None)
        claim: Claim
        before: ClaimState | None
        if version == 1:
            before = None
            claim = domain_event.mutate(None)
        elif cached is not None and cached[0].version == version - 1:
            claim, before = cached
            claim = domain_event.mutate(claim)
        else:
            self.misses += 1
            previous: Claim = self.app.repository.get(claim_id, version=version - 1)
            before = ClaimState.of(previous, self.windows)
            claim = domain_event.mutate(previous)
        after = ClaimState.of(claim, self.windows, before)
        self._cache[claim_id] = (claim, after)
        if len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        attrs = domain_event.__dict__
        actor = attrs.get("actor") or attrs.get("buyer")
        if not isinstance(actor, Actor):  # pragma: no cover - every claim event carries its actor
            actor = Actor(Role.SYSTEM, "unknown")
        return Change(position, domain_event, type(domain_event).__name__, attrs["timestamp"], actor, before, after)
