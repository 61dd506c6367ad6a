"""What-if replay of a policy: the recorded claims of a period, replayed in memory under another policy.

Nothing here writes to the store. Each claim opened in the period is read back event by event and
replayed twice, in memory: once as recorded (``recorded``), and once under the new policy
(``simulated``). The simulated copy takes the recorded parties' events, but not the automatic outcomes
the recorded policy's deadline engine produced; instead, before each recorded event (judged at that
event's recorded time) and at the horizon (the period's end, or now if that is earlier), every deadline
of the new policy that has passed is applied with the claim's own ``Claim.apply_missed_deadline``.

The two copies are compared whenever a party's recorded event is next: while they stand alike (same
status and amounts), the event applies to both. Once they differ, the party's later events would not
have happened in the same form, so the simulated copy takes no more of them; the new policy's deadlines
still apply to it up to the horizon, and the end states are compared. A claim whose end state differs
(status, agreed or refunded money, mediator's outcome, flag) is a changed outcome, put down to the new
policy's rule for the first deadline that set the copies apart.

The candidate's limits are tried too: which buyers its claim-rate limit would have refused, and which
claims (:func:`limited_buyers`); which merchants' standings its thresholds and minimum sample would
change now is the standing engine's to say (``disputes.engines.standing.simulate_standings``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import AggregateEvent
from eventsourcing.utils import get_topic

from disputes.application.claims import DEADLINE_ENGINE, DisputesApplication
from disputes.domain.claim import Claim, event_type
from disputes.domain.money import Money
from disputes.domain.policy import Policy, claim_rate_refusal

AUTOMATIC_EVENTS = frozenset(
    {
        "DeadlineMissed",
        "AcceptedByDefault",
        "OfferLapsed",
        "ClosedByDefault",
        "MediationForced",
        "Flagged",
        "DeadlinesFixed",
    }
)
"""Events the deadline engine records: the recorded policy's outcomes, which the replay leaves out."""
UNATTRIBUTED = "(unattributed)"
_PAGE = 1000
_MAX_FIRINGS = 100  # per claim and step; a policy cannot chain more deadlines than it has


@dataclass(frozen=True)
class Firing:
    """A deadline of the new policy that passed in the simulation, and the rule that applied."""

    deadline: str
    rule: str
    outcome: str
    due_at: datetime


@dataclass(frozen=True)
class ClaimChange:
    """One claim whose end state differs under the new policy."""

    claim_id: str
    rule: str
    """The new policy's rule for the first deadline that set the simulated claim apart from the record."""
    deadline: str
    currency: str
    recorded_status: str
    simulated_status: str
    recorded_money: Decimal
    simulated_money: Decimal
    firings: tuple[Firing, ...]
    """Every deadline the new policy applied to this claim, in order."""

    @property
    def money_change(self) -> Decimal:
        return self.simulated_money - self.recorded_money


@dataclass(frozen=True)
class RuleChanges:
    rule: str
    claim_ids: tuple[str, ...]
    money: dict[str, Decimal]
    """Net change of the money due to buyers, by currency (simulated minus recorded)."""


@dataclass(frozen=True)
class LimitedBuyer:
    """A buyer the candidate policy's claim-rate limit would have refused, and the claims refused."""

    buyer_id: str
    claim_ids: tuple[str, ...]
    first_refused_at: datetime


@dataclass(frozen=True)
class StandingWhatIf:
    """A merchant whose standing the candidate policy would change now (the standing engine's next round)."""

    merchant_id: str
    recorded_tier: str
    simulated_tier: str
    event: str
    """Warned, Restricted or Reinstated: what the engine would record."""
    score: int
    decided_in_window: int
    claim_ids: tuple[str, ...]
    """The claims behind the figures (losses, interventions, missed deadlines; at most 1,000)."""


@dataclass(frozen=True)
class SimulationReport:
    policy_version: str
    start: datetime
    end: datetime
    horizon: datetime
    claims_replayed: int
    changes: tuple[ClaimChange, ...] = field(default=())
    limited_buyers: tuple[LimitedBuyer, ...] = field(default=())
    standings: tuple[StandingWhatIf, ...] = field(default=())

    def by_rule(self) -> list[RuleChanges]:
        claims: dict[str, list[str]] = defaultdict(list)
        money: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for change in self.changes:
            claims[change.rule].append(change.claim_id)
            money[change.rule][change.currency] += change.money_change
        return [
            RuleChanges(rule, tuple(ids), dict(sorted(money[rule].items())))
            for rule, ids in sorted(claims.items())
        ]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values; amounts are decimal strings, never floats."""
        return {
            "policy_version": self.policy_version,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "horizon": self.horizon.isoformat(),
            "claims_replayed": self.claims_replayed,
            "outcomes_changed": len(self.changes),
            "rules": [
                {
                    "rule": r.rule,
                    "outcomes_changed": len(r.claim_ids),
                    "money_change": {currency: str(amount) for currency, amount in r.money.items()},
                    "claim_ids": list(r.claim_ids),
                }
                for r in self.by_rule()
            ],
            "claims": [
                {
                    "claim_id": c.claim_id,
                    "rule": c.rule,
                    "deadline": c.deadline,
                    "currency": c.currency,
                    "recorded": {"status": c.recorded_status, "money": str(c.recorded_money)},
                    "simulated": {"status": c.simulated_status, "money": str(c.simulated_money)},
                    "money_change": str(c.money_change),
                    "firings": [
                        {"deadline": f.deadline, "rule": f.rule, "outcome": f.outcome, "due_at": f.due_at.isoformat()}
                        for f in c.firings
                    ],
                }
                for c in self.changes
            ],
            "limited_buyers": [
                {"buyer_id": b.buyer_id, "claims_refused": list(b.claim_ids), "first_refused_at": b.first_refused_at.isoformat()}
                for b in self.limited_buyers
            ],
            "standings_changed": [
                {
                    "merchant_id": m.merchant_id,
                    "recorded_tier": m.recorded_tier,
                    "simulated_tier": m.simulated_tier,
                    "event": m.event,
                    "score": m.score,
                    "decided_in_window": m.decided_in_window,
                    "claim_ids": list(m.claim_ids),
                }
                for m in self.standings
            ],
        }


def simulate(
    app: DisputesApplication, policy: Policy, start: datetime, end: datetime, now: datetime
) -> SimulationReport:
    """Replay the claims opened in [start, end) under ``policy``, judged up to min(end, now)."""
    horizon = min(end, now)
    changes = []
    count = 0
    for claim_id in opened_between(app, start, end):
        count += 1
        events = [e for e in map(_aggregate_event, app.events.get(claim_id)) if e.timestamp <= horizon]
        change = replay_claim(events, policy, horizon)
        if change is not None:
            changes.append(change)
    limited = limited_buyers(openings_between(app, start - policy.limits.buyer_claims_window, end), policy, start)
    return SimulationReport(policy.version, start, end, horizon, count, tuple(changes), tuple(limited))


def opened_between(app: DisputesApplication, start: datetime, end: datetime) -> Iterator[UUID]:
    """The ids of the claims whose ClaimOpened was recorded in [start, end), read from the event log."""
    for _, claim_id, _ in openings_between(app, start, end):
        yield UUID(claim_id)


def openings_between(app: DisputesApplication, start: datetime, end: datetime) -> Iterator[tuple[str, str, datetime]]:
    """(buyer, claim id, opened at) of each claim opened in [start, end), in log order."""
    topics = [get_topic(Claim.ClaimOpened)]  # type: ignore[attr-defined]
    position: int | None = None
    while True:
        page = app.recorder.select_notifications(
            position, _PAGE, topics=topics, inclusive_of_start=position is None
        )
        for notification in page:
            opened = _aggregate_event(app.mapper.to_domain_event(notification))
            if start <= opened.timestamp < end:
                yield opened.buyer.id, str(opened.originator_id), opened.timestamp  # type: ignore[attr-defined]
        if len(page) < _PAGE:
            return
        position = page[-1].id


def limited_buyers(
    openings: Iterable[tuple[str, str, datetime]], policy: Policy, start: datetime
) -> list[LimitedBuyer]:
    """The buyers whose claims opened from ``start`` on the policy's claim-rate limit would have refused.

    The openings are replayed in time order per buyer (earlier ones, within a window before ``start``,
    count towards the limit); a refused claim would not have been opened, so it counts for nothing after.
    """
    by_buyer: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for buyer_id, claim_id, at in openings:
        by_buyer[buyer_id].append((at, claim_id))
    limited = []
    for buyer_id, claims in sorted(by_buyer.items()):
        kept: list[datetime] = []
        refused: list[tuple[datetime, str]] = []
        for at, claim_id in sorted(claims):
            if claim_rate_refusal(kept, at, policy.limits) is None:
                kept.append(at)
            elif at >= start:
                refused.append((at, claim_id))
        if refused:
            limited.append(LimitedBuyer(buyer_id, tuple(c for _, c in refused), refused[0][0]))
    return limited


def replay_claim(
    events: Sequence[AggregateEvent], policy: Policy, horizon: datetime
) -> ClaimChange | None:
    """The change to one claim's end state under ``policy``, or None when it ends the same.

    ``events`` are the claim's recorded events up to ``horizon``, in order, the ClaimOpened first.
    """
    recorded: Claim = events[0].mutate(None)  # type: ignore[assignment]
    simulated: Claim = events[0].mutate(None)  # type: ignore[assignment]
    simulated.as_if_under(policy)
    firings: list[Firing] = []
    causes: list[tuple[datetime, str]] = []  # deadlines that may have set the copies apart since they last agreed
    diverged: tuple[datetime, str] | None = None
    for recorded_event in events[1:]:
        if diverged is None and event_type(recorded_event) in AUTOMATIC_EVENTS:
            if event_type(recorded_event) == "DeadlineMissed":
                causes.append((recorded_event.timestamp, recorded_event.deadline))  # type: ignore[attr-defined]
        elif diverged is None:
            # A party acts: first what the new policy would have done by then, then are the copies alike?
            fired = fire_due(simulated, policy, recorded_event.timestamp, inclusive=False)
            firings.extend(fired)
            causes.extend((f.due_at, f.deadline) for f in fired)
            if _standing(simulated) == _standing(recorded):
                causes.clear()
                _apply(recorded_event, simulated)
                simulated.as_if_under(policy)
            else:
                diverged = min(causes) if causes else (recorded_event.timestamp, UNATTRIBUTED)
        recorded_event.mutate(recorded)
    fired = fire_due(simulated, policy, horizon, inclusive=True)
    firings.extend(fired)
    causes.extend((f.due_at, f.deadline) for f in fired)
    if _standing(simulated, flag=True) == _standing(recorded, flag=True):
        return None
    cause = diverged or (min(causes) if causes else (horizon, UNATTRIBUTED))
    deadline = cause[1]
    return ClaimChange(
        claim_id=str(recorded.id),
        rule=deadline if deadline == UNATTRIBUTED else policy.rule_for(deadline).name,
        deadline=deadline,
        currency=recorded.currency,
        recorded_status=recorded.status,
        simulated_status=simulated.status,
        recorded_money=money_due(recorded),
        simulated_money=money_due(simulated),
        firings=tuple(firings),
    )


def fire_due(claim: Claim, policy: Policy, until: datetime, *, inclusive: bool) -> list[Firing]:
    """Apply, in memory, every deadline of ``policy`` that passed before ``until`` (or at it, if inclusive)."""
    fired: list[Firing] = []
    for _ in range(_MAX_FIRINGS):
        if claim.is_terminal:
            break
        due = [
            d
            for d in claim.deadlines(policy.windows)
            if (d.due_at <= until if inclusive else d.due_at < until)
            and claim.missed_deadlines.get(d.name) != d.due_at
        ]
        if not due:
            break
        deadline = due[0]
        rule = claim.apply_missed_deadline(
            actor=DEADLINE_ENGINE, deadline=deadline.name, policy=policy, at=deadline.due_at
        )
        fired.append(Firing(deadline.name, rule.name, rule.outcome.value, deadline.due_at))
    claim.collect_events()  # simulated events stay in memory; nothing is ever saved
    return fired


def money_due(claim: Claim) -> Decimal:
    """What the buyer gets back: the refunds so far, or the agreed amount while a refund is still due."""
    refunded = claim.refunded_amount.amount
    if claim.is_terminal or claim.agreed_amount is None:
        return refunded
    return max(claim.agreed_amount.amount, refunded)


def _aggregate_event(event: object) -> AggregateEvent:
    return cast(AggregateEvent, event)


def _apply(recorded_event: AggregateEvent, claim: Claim) -> None:
    """A recorded party's event on the simulated copy, whose version has moved on with simulated events."""
    recorded_event.apply(claim)
    claim.modified_on = recorded_event.timestamp


def _standing(claim: Claim, *, flag: bool = False) -> tuple[Any, ...]:
    """What the parties see of a claim: a flag only orders the mediators' queue, so it counts at the end."""
    amounts: tuple[Money | None, ...] = (claim.agreed_amount, claim.offer_amount, claim.refunded_amount)
    return (claim.status, amounts, claim.outcome, claim.flag if flag else None)
