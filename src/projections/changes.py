"""What each recorded claim event changed: the claim's state before and after it.

The state is not recomputed in SQL: each event is applied to the claim as it stood before
(``domain_event.mutate(previous)``, the aggregate's own code; a rebuild's partitions make the same call
with less work per event, :mod:`projections.fold`), and the views read their columns from
the resulting :class:`ClaimState`. Recent claims are kept in a small LRU cache; on a miss the claim is
loaded from the repository at the version before the event.
"""

from __future__ import annotations

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
from disputes.domain.policy import deadline_party as deadline_party  # the views import it from here
from projections.fold import Applier, mutate

_new_tuple = tuple.__new__
CLAIM_TOPIC_PREFIX = get_topic(Claim) + "."
"""Topics of claim events start with this (``disputes.domain.claim:Claim.``)."""



class ClaimState(NamedTuple):
    """The claim's facts after one event, frozen (the cached aggregate itself moves on).

    A named tuple rather than a frozen dataclass: one is made per event, and tuples are made fastest.
    """

    # What a claim never changes once opened comes first (see ``of``).
    claim_id: str
    kind: str
    reason: str
    order_id: str
    buyer_id: str
    merchant_id: str
    currency: str
    order_amount: Decimal
    claimed_amount: Decimal
    # What its events change.
    version: int
    status: str
    mediator_id: str | None
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
    deadlines_fixed: bool
    """False while a deadline of a claim recorded before deadlines were fixed at opening is derived."""

    @classmethod
    def of(cls, claim: Claim, windows: Windows, before: ClaimState | None = None) -> ClaimState:
        """The claim's state; its deadlines are those of ``before`` when nothing they depend on moved.

        What a claim never changes after its opening (the fields before ``version``, and ``opened_at``)
        is taken from ``before`` as it is: fewer look-ups on the aggregate.
        """
        status = claim.status
        since = claim.status_since
        evidence_due = claim.evidence_due
        terms = claim.evidence_terms or {}
        fixed_now = claim.deadline_fixed and all(party in terms for party in evidence_due)
        if (
            before is not None
            and before.status == status
            and before.status_since == since
            and before.evidence_due == evidence_due
            and before.deadlines_fixed == fixed_now
        ):
            deadlines = before.deadlines
        else:
            deadlines = tuple(claim.deadlines(windows))
        agreed = claim.agreed_amount
        fixed: tuple[Any, ...]
        if before is None:
            fixed = (
                str(claim.id),
                claim.kind,
                claim.reason,
                claim.order_id,
                claim.buyer_id,
                claim.merchant_id,
                claim.currency,
                claim.order_amount.amount,
                claim.claimed_amount.amount,
            )
            opened_at = claim.opened_at
        else:
            fixed = before[:_FIXED_END]
            opened_at = before.opened_at
        # Positional, straight to the tuple: one is made per event (a keyword call costs twice as much).
        return _new_tuple(
            cls,
            (
                *fixed,
                claim.version,
                status,
                claim.mediator_id,
                None if agreed is None else agreed.amount,
                claim.refunded_amount.amount,
                claim.outcome,
                claim.mediation_requested,
                claim.first_response_at,
                opened_at,
                claim.modified_on,
                since,
                evidence_due,
                deadlines,
                fixed_now,
            ),
        )

    @property
    def platform_involved(self) -> bool:
        """The platform has stepped in: mediation was asked for (or forced) or a mediator took the case."""
        return self.mediation_requested or self.mediator_id is not None


_FIXED_END = ClaimState._fields.index("version")
"""``ClaimState`` fields before this index never change once a claim is opened (``opened_at`` neither)."""


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


class Change(NamedTuple):
    """One claim event at its position in the notification log, with the claim before and after."""

    position: int
    event: Any
    type: str
    at: datetime
    actor: Actor
    before: ClaimState | None
    after: ClaimState
    closed: tuple[DeadlineClosed, ...] = ()
    """The deadlines this change closed (worked out once, for every view that counts them)."""

    def attr(self, name: str, default: Any = None) -> Any:
        """An attribute of the event (``amount``, ``outcome``, ...)."""
        return getattr(self.event, name, default)


class OtherEvent(NamedTuple):
    """An event of an aggregate that is not a claim (a merchant's standing), at its position.

    The claim views never see one; a projection that follows the whole log (the audit seal) gets them
    in store order among the changes (``Projection.claims_only = False``).
    """

    position: int
    event: Any
    type: str


def closed_deadlines(change: Change) -> tuple[DeadlineClosed, ...]:
    """The deadlines open before this change that are not open after it."""
    return change.closed


def _closed(
    before: ClaimState | None, after: ClaimState, type_: str, at: datetime, actor: Actor
) -> tuple[DeadlineClosed, ...]:
    # Unchanged deadlines are the very same tuple (ClaimState.of reuses it): nothing closed.
    if before is None or not before.deadlines or before.deadlines is after.deadlines:
        return ()
    still_open = after.deadlines  # a handful at most: a tuple is searched faster than a set is built
    closed = []
    for deadline in before.deadlines:
        if deadline in still_open:
            continue
        party = deadline_party(deadline.name)
        if type_ == "DeadlineMissed" or at > deadline.due_at:
            result = "missed"
        elif actor.role == party:  # a StrEnum: equal to its value
            result = "met"
        else:
            result = "superseded"
        closed.append(DeadlineClosed(deadline.name, party, deadline.due_at, result))
    return tuple(closed)


class ClaimStates:
    """Turns decoded events into :class:`Change` objects, keeping recent claims in an LRU cache."""

    def __init__(
        self, app: Application[UUID], windows: Windows, capacity: int = 10_000, fold: Applier = mutate
    ) -> None:
        self.app = app
        self.fold = fold
        """How an event is applied to its claim: the library's ``mutate``, or a :class:`~projections.fold.Fold`."""
        self.windows = windows
        self.capacity = max(1, capacity)
        # A plain dict kept in least-recently-used order: a hit is popped and put back at the end.
        self._cache: dict[UUID, tuple[Claim, ClaimState]] = {}
        self.misses = 0

    def clear(self) -> None:
        self._cache.clear()

    def change(self, position: int, domain_event: Any) -> Change:
        claim_id: UUID = domain_event.originator_id
        version: int = domain_event.originator_version
        cache = self._cache
        cached = cache.pop(claim_id, None)
        claim: Claim
        before: ClaimState | None
        fold = self.fold
        if version == 1:
            before = None
            claim = fold(domain_event, None)
        elif cached is not None and cached[1].version == version - 1:
            claim, before = cached
            claim = fold(domain_event, claim)
        else:
            self.misses += 1
            previous: Claim = self.app.repository.get(claim_id, version=version - 1)
            before = ClaimState.of(previous, self.windows)
            claim = fold(domain_event, previous)
        after = ClaimState.of(claim, self.windows, before)
        cache[claim_id] = (claim, after)
        if len(cache) > self.capacity:
            del cache[next(iter(cache))]
        attrs = domain_event.__dict__
        actor = attrs.get("actor") or attrs.get("buyer")
        if not isinstance(actor, Actor):  # pragma: no cover - every claim event carries its actor
            actor = Actor(Role.SYSTEM, "unknown")
        type_ = type(domain_event).__name__
        at: datetime = attrs["timestamp"]
        closed = _closed(before, after, type_, at, actor)
        return _new_tuple(Change, (position, domain_event, type_, at, actor, before, after, closed))
