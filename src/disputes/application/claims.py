"""The Disputes application: the commands of the HTTP contract as load, decide, save.

Deciding (load the claim, check who may see it, check the expected version, let the aggregate decide)
and saving stay two separate steps (:meth:`DisputesApplication.decide` and :meth:`save_claim`), so
that concurrent commands can later be saved together in one transaction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, project_aggregate
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from disputes.adapters.event_store import EVENT_STORE_NAME
from disputes.adapters.metrics import count_recorded
from disputes.adapters.transcodings import TRANSCODINGS
from disputes.application.orders import UNSET, Orders
from disputes.application.records import EventRecord, event_record
from disputes.application.rules import iso_duration
from disputes.application.visibility import can_view, may_see_past
from disputes.domain import errors
from disputes.domain.claim import Claim, claim_id_of
from disputes.domain.money import Money
from disputes.domain.order import CLAIMANT, PLATFORM, Order
from disputes.domain.parties import Actor, Role
from disputes.domain.policy import BUYER_CLAIM_RATE_RULE, DeadlineRule, Policy, Windows, claim_rate_refusal
from disputes.domain.vocabulary import (
    AppealOutcome,
    ClaimKind,
    ClaimReason,
    ClaimStatus,
    EvidenceKind,
    MerchantDecision,
    Outcome,
    Party,
    ReturnCondition,
)
from disputes.i18n import DEFAULT_LANGUAGE, duration_words, text

Clock = Callable[[], datetime]
ClaimOpenings = Callable[[str, datetime, int], Sequence[datetime]]
"""When the buyer (first argument) opened its latest claims (at most the third argument) since a moment,
oldest first: what the claim-rate limit counts."""


def utc_now() -> datetime:
    return datetime.now(UTC)


ClaimRef = str | Claim
"""A claim's id, or the claim itself when the caller has loaded it already (the API does, to check access)."""


def claim_lines(claim: Claim, order: Order) -> dict[str, int]:
    """The lines of the order a claim covers, {line_id: quantity}: those it names, else the whole order."""
    if claim.lines:
        return {line["line_id"]: int(line["quantity"]) for line in claim.lines}
    return {line["line_id"]: int(line["quantity"]) for line in order.lines}


def _name(claim: ClaimRef) -> str:
    return claim if isinstance(claim, str) else str(claim.id)


@dataclass(frozen=True)
class CommandResult:
    """The claim after a command, and the notification-log position of its last new event."""

    claim: Claim
    position: int | None


Decision = Callable[[Claim, datetime], None]
DEADLINE_ENGINE = Actor(Role.SYSTEM, "deadline-engine")
"""Who records missed deadlines and their automatic outcomes."""
SAVE_RETRIES = 3
"""How often a command judged against an order's ledger is judged again after losing a race on the order."""


class DisputesApplication(Application[UUID]):
    """Event-sourced claims. Each public method is one command or query of the HTTP contract."""

    name = EVENT_STORE_NAME

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        windows: Windows | None = None,
        policy: Policy | None = None,
        clock: Clock = utc_now,
        snapshot_interval: int = 50,
        order_facts: str = PLATFORM,
    ) -> None:
        if order_facts not in (PLATFORM, CLAIMANT):
            raise errors.InvalidValue(f"order_facts must be {PLATFORM} or {CLAIMANT}, not {order_facts!r}")
        self.policy = policy or Policy(windows=windows or Windows())
        self.windows = self.policy.windows
        self.clock = clock
        self.order_facts = order_facts
        """Whose word a claim's order facts are: the platform's recorded order, or the claimant's."""
        self.snapshotting_intervals = {Claim: snapshot_interval, Order: snapshot_interval}  # type: ignore[misc]
        super().__init__(env)
        self.orders = Orders(self)
        self.claim_openings: ClaimOpenings | None = None
        """Set by the composition root (from the claims view): without it no claim-rate limit applies."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in TRANSCODINGS:
            transcoder.register(transcoding)

    # ----------------------------------------------------------------------------------------------
    # commands
    # ----------------------------------------------------------------------------------------------
    def open_claim(
        self,
        actor: Actor,
        *,
        order_id: str,
        kind: ClaimKind,
        reason: ClaimReason,
        claimed_amount: str,
        description: str,
        merchant_id: str | None = None,
        order_amount: str | None = None,
        currency: str | None = None,
        delivered_at: Any = UNSET,
        lines: Sequence[Mapping[str, Any]] | None = None,
    ) -> CommandResult:
        """Open a claim on an order, judged by the order: its merchant, currency, lines and delivery.

        Facts the buyer states (``merchant_id``, ``order_amount``, ``currency``, ``delivered_at``) must
        be the recorded order's; in claimant mode they are the facts. The claim names lines (default:
        the whole order) and may claim only what they have left to refund; no open or decided claim
        of the order may name one of them. Its id follows from its number among the order's claims, so
        two claims racing to open on one order collide in the store; the loser is judged again.
        """
        if actor.role is not Role.BUYER:
            raise errors.NotPermitted("only a buyer may open a claim")
        self._require_claim_rate(actor)
        for attempt in range(SAVE_RETRIES + 1):
            order = self.orders.for_new_claim(
                actor,
                order_id,
                merchant_id=merchant_id,
                currency=currency,
                order_amount=order_amount,
                delivered_at=delivered_at,
            )
            claimed_lines = order.claimed_lines(lines)
            claims = self.orders.claims_of(order)
            self._require_lines_free(order, claims, {line.line_id for line in claimed_lines})
            delivered = order.delivered_at if order.source == PLATFORM or delivered_at is UNSET else delivered_at
            claim = Claim.open(
                actor=actor,
                order_id=order_id,
                merchant_id=order.merchant_id,
                kind=kind,
                reason=reason,
                order_amount=str(order.total_amount.amount),
                claimed_amount=claimed_amount,
                currency=order.currency,
                delivered_at=delivered,
                description=description,
                windows=self.windows,
                at=self.now(),
                policy=self.policy,
                claim_number=1 + sum(1 for c in claims if c.ledger_id == str(order.id)),
                lines=tuple({"line_id": line.line_id, "quantity": line.quantity} for line in claimed_lines),
                order_facts=order.source,
                ledger_id=str(order.id),
            )
            order.require_claimable(claimed_lines, claim.claimed_amount)
            try:
                return self.save_claim(claim)
            except errors.ConcurrentUpdate:
                # Another claim of this order was recorded with the same number first: judge this one
                # again against what is recorded now.
                if attempt == SAVE_RETRIES:
                    raise errors.OpenClaimExists(f"order {order_id!r} already has an open claim") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _require_claim_rate(self, actor: Actor) -> None:
        """The policy's claim-rate limit: refused with when the buyer may open again, the rule and version."""
        if self.claim_openings is None:
            return
        limits, at = self.policy.limits, self.now()
        openings = self.claim_openings(actor.id, at - limits.buyer_claims_window, limits.buyer_claims)
        retry_at = claim_rate_refusal(openings, at, limits)
        if retry_at is None:
            return
        window = duration_words(limits.buyer_claims_window, DEFAULT_LANGUAGE)
        when = retry_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        raise errors.ClaimRateLimited(
            text(DEFAULT_LANGUAGE, f"signals.{BUYER_CLAIM_RATE_RULE}", count=len(openings), window=window, retry_at=when),
            retry_at=when,
            retry_after=max(1, math.ceil((retry_at - at).total_seconds())),
            rule=BUYER_CLAIM_RATE_RULE,
            policy_version=self.policy.version,
            limit=limits.buyer_claims,
            window=iso_duration(limits.buyer_claims_window),
        )

    def _require_lines_free(self, order: Order, claims: Sequence[Claim], lines: set[str]) -> None:
        """No claim of the order that is open, or whose refusal holds, may name one of ``lines``; and
        an order has at most the policy's number of claims."""
        eligibility = self.policy.eligibility
        if len(claims) >= eligibility.max_claims_per_order:
            raise errors.ClaimsPerOrderExceeded(
                f"order {order.order_id} has had {len(claims)} claims, as many as the policy allows"
            )
        if not eligibility.one_open_claim_per_order:
            return
        for other in claims:
            named = {line["line_id"] for line in other.lines} or {line["line_id"] for line in order.lines}
            if not lines & named or not other.blocks_new_claims:
                continue
            if other.is_terminal or other.status in (ClaimStatus.CLAIM_REJECTED, ClaimStatus.LEGAL_CONCLUDED):
                raise errors.ClaimAlreadyDecided(
                    f"claim {other.id} on these lines was decided ({other.outcome or other.legal_outcome}); "
                    "appeal that decision instead"
                )
            raise errors.OpenClaimExists(f"order {order.order_id} already has an open claim on these lines")

    def apply_missed_deadline(self, claim_id: str, deadline: str) -> tuple[CommandResult, DeadlineRule]:
        """The platform records that ``deadline`` passed and applies the policy's outcome.

        Refused (InvalidTransition) when the deadline is not open or not due by the clock, or is already
        recorded; a lost race raises ConcurrentUpdate and records nothing.
        """
        claim = self.load_claim(claim_id)
        rule = claim.apply_missed_deadline(
            actor=DEADLINE_ENGINE, deadline=deadline, policy=self.policy, at=self.now()
        )
        return self.save_claim(claim), rule

    def fix_deadlines(self, claim_id: str) -> CommandResult | None:
        """Once, for a claim recorded before deadlines were fixed at opening: record its open deadlines
        as the policy in force derives them (None when there was nothing to fix)."""
        claim = self.load_claim(claim_id)
        if not claim.fix_deadlines(actor=DEADLINE_ENGINE, policy=self.policy, at=self.now()):
            return None
        return self.save_claim(claim)

    def respond(
        self,
        actor: Actor,
        claim_id: ClaimRef,
        *,
        decision: MerchantDecision,
        amount: str | None,
        message: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.respond(
                actor=actor, decision=decision, amount=amount, message=message, at=at, policy=self.policy
            ),
        )

    def answer_offer(
        self, actor: Actor, claim_id: ClaimRef, *, accept: bool, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.answer_offer(actor=actor, accept=accept, at=at, policy=self.policy),
        )

    def post_message(
        self, actor: Actor, claim_id: ClaimRef, *, body: str, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            actor, claim_id, expected_version, lambda c, at: c.post_message(actor=actor, body=body, at=at, policy=self.policy)
        )

    def add_evidence(
        self,
        actor: Actor,
        claim_id: ClaimRef,
        *,
        kind: EvidenceKind,
        description: str,
        sha256: str,
        size_bytes: int,
        uri: str | None,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.add_evidence(
                actor=actor,
                kind=kind,
                description=description,
                sha256=sha256,
                size_bytes=size_bytes,
                uri=uri,
                at=at,
                policy=self.policy,
            ),
        )

    def request_mediation(
        self, actor: Actor, claim_id: ClaimRef, *, reason: str, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.request_mediation(actor=actor, reason=reason, at=at, policy=self.policy),
        )

    def assign_mediator(
        self,
        actor: Actor,
        claim_id: ClaimRef,
        *,
        mediator_id: str | None,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.assign_mediator(actor=actor, mediator_id=mediator_id or actor.id, at=at),
        )

    def request_evidence(
        self,
        actor: Actor,
        claim_id: ClaimRef,
        *,
        from_party: Party,
        description: str,
        due_at: datetime | None,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.request_evidence(
                actor=actor,
                from_party=from_party,
                description=description,
                due_at=due_at,
                windows=self.windows,
                at=at,
                policy=self.policy,
            ),
        )

    def decide_claim(
        self,
        actor: Actor,
        claim_id: ClaimRef,
        *,
        outcome: Outcome,
        amount: str | None,
        rationale: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        claim = self.decide(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.decide(
                actor=actor, outcome=outcome, amount=amount, rationale=rationale, at=at, policy=self.policy
            ),
        )
        self._require_ledger_room(claim)
        return self.save_claim(claim)

    def lodge_appeal(
        self, actor: Actor, claim_id: ClaimRef, *, reason: str, expected_version: int | None = None
    ) -> CommandResult:
        """The buyer or the merchant appeals the decision, once, within the policy's appeal window."""
        return self._command(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.lodge_appeal(actor=actor, reason=reason, at=at, policy=self.policy),
        )

    def decide_appeal(
        self,
        actor: Actor,
        claim_id: ClaimRef,
        *,
        outcome: AppealOutcome,
        rationale: str,
        new_outcome: Outcome | None = None,
        amount: str | None = None,
        expected_version: int | None = None,
    ) -> CommandResult:
        """A mediator other than the one who decided upholds the decision or overturns it (``new_outcome``,
        ``amount``: the new decision); an overturn never refunds past the order's ledger."""
        claim = self.decide(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.decide_appeal(
                actor=actor,
                outcome=outcome,
                rationale=rationale,
                new_outcome=new_outcome,
                amount=amount,
                at=at,
                policy=self.policy,
            ),
        )
        self._require_ledger_room(claim)
        return self.save_claim(claim)

    def _require_ledger_room(self, claim: Claim) -> None:
        """A decision to refund more than the order's ledger leaves for the claim is refused at once
        (other claims of the order were refunded), not only when the refund is recorded."""
        if claim.agreed_amount is None:
            return
        owed = claim.agreed_amount - claim.refunded_amount
        order = self.orders.ledger_of(claim)
        room = order.room_for(str(claim.id), claim_lines(claim, order))
        if owed > room:
            raise errors.RefundExceedsOrder(
                f"the decision leaves {owed} to refund, but the order's ledger has {room} left for this "
                "claim (its other claims were refunded)",
                claim_id=str(claim.id),
            )

    def ship_return(
        self,
        actor: Actor,
        claim_id: ClaimRef,
        *,
        carrier: str,
        tracking_number: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.ship_return(actor=actor, carrier=carrier, tracking_number=tracking_number, at=at),
        )

    def receive_return(
        self,
        actor: Actor,
        claim_id: ClaimRef,
        *,
        condition: ReturnCondition,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.receive_return(actor=actor, condition=condition, at=at, policy=self.policy),
        )

    def refund(
        self,
        actor: Actor,
        claim_id: ClaimRef,
        *,
        amount: str,
        payment_reference: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        """Record a refund: the claim's rules, then the order's ledger (never past a line's value nor
        the order's total across all its claims); claim and order are saved together. A race lost on
        the order alone (another claim of it refunded) is judged again; one lost on the claim is 409."""
        for attempt in range(SAVE_RETRIES + 1):
            base = self.get_claim(actor, claim_id)
            started = base.version
            claim = self.decide(
                actor,
                base,
                expected_version,
                lambda c, at: c.refund(actor=actor, amount=amount, payment_reference=payment_reference, at=at),
            )
            order = self.orders.ledger_of(claim)
            order.count_refund(
                actor=actor,
                claim_id=str(claim.id),
                lines=claim_lines(claim, order),
                amount=Money.of(amount, claim.currency),
                payment_reference=payment_reference,
                at=self.now(),
                prior=self.orders.prior_refunds(order),
            )
            try:
                return self.save_claim(claim, order)
            except errors.ConcurrentUpdate:
                if attempt == SAVE_RETRIES or self._changed_since(claim, started):
                    raise
                claim_id = str(claim.id)
        raise AssertionError("unreachable")  # pragma: no cover

    def _changed_since(self, claim: Claim, version: int) -> bool:
        """Whether the stored claim moved past the version this command started from."""
        return self.load_claim(str(claim.id)).version != version

    def escalate_to_legal(
        self,
        actor: Actor,
        claim_id: ClaimRef,
        *,
        reason: str,
        case_reference: str | None,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.escalate_to_legal(
                actor=actor, reason=reason, case_reference=case_reference, at=at
            ),
        )

    def record_legal_outcome(
        self,
        actor: Actor,
        claim_id: ClaimRef,
        *,
        outcome: str,
        reference: str,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.record_legal_outcome(actor=actor, outcome=outcome, reference=reference, at=at),
        )

    def withdraw(
        self, actor: Actor, claim_id: ClaimRef, *, reason: str, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            actor, claim_id, expected_version, lambda c, at: c.withdraw(actor=actor, reason=reason, at=at)
        )

    def close_claim(
        self, actor: Actor, claim_id: ClaimRef, *, summary: str, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            actor, claim_id, expected_version, lambda c, at: c.close(actor=actor, summary=summary, at=at)
        )

    # ----------------------------------------------------------------------------------------------
    # decide and save, kept apart
    # ----------------------------------------------------------------------------------------------
    def decide(
        self, actor: Actor, claim_id: ClaimRef, expected_version: int | None, decision: Decision
    ) -> Claim:
        """Load the claim as the actor may see it, check If-Match, and let the aggregate decide."""
        claim = self.get_claim(actor, claim_id)
        if expected_version is not None and expected_version != claim.version:
            raise errors.StaleVersion(
                f"If-Match names version {expected_version}, the claim is at version {claim.version}",
                claim_id=str(claim.id),
            )
        decision(claim, self.now())
        return claim

    def save_claim(self, claim: Claim, *others: Aggregate) -> CommandResult:
        """Record the claim's new events (and the others', its order's, in the same transaction); a
        lost race raises ConcurrentUpdate and records nothing."""
        return CommandResult(claim=claim, position=self.record(claim, *others, what="claim"))

    def record(self, aggregate: Aggregate, *others: Aggregate, what: str) -> int | None:
        """Save the aggregates' new events atomically; the position of the last one (None if none).

        A lost race on any of them raises ConcurrentUpdate and records nothing. ``what`` names the
        aggregate in the refusal ("claim", "standing", "order"); a claim's refusal carries its id.
        """
        try:
            recordings = self.save(aggregate, *others)
        except IntegrityError:
            raise errors.ConcurrentUpdate(
                f"another command changed this {what} first; reload it and try again",
                claim_id=str(aggregate.id) if isinstance(aggregate, Claim) else None,
            ) from None
        count_recorded(r.domain_event for r in recordings)
        positions = [r.notification.id for r in recordings if r.notification.id is not None]
        return max(positions) if positions else None

    def _command(
        self, actor: Actor, claim_id: ClaimRef, expected_version: int | None, decision: Decision
    ) -> CommandResult:
        return self.save_claim(self.decide(actor, claim_id, expected_version, decision))

    def replayed(self, aggregate_id: UUID, version: int | None = None) -> Any:
        """The aggregate rebuilt from its recorded events alone (up to ``version``).

        Snapshots are never read here: a snapshot is a cache that a command could not check, so no
        decision is taken on one. ``disputes verify-store`` checks every snapshot against the replay
        of its events (docs/audit-trail.md). Raises AggregateNotFoundError when nothing is recorded.
        """
        aggregate: Any = project_aggregate(None, self.events.get(aggregate_id, lte=version))
        if aggregate is None:
            raise AggregateNotFoundError(aggregate_id)
        return aggregate

    def replayed_many(self, aggregate_ids: Sequence[UUID]) -> dict[UUID, Any]:
        """Those of the aggregates that are recorded, each rebuilt from its events alone, read in one
        query (as :meth:`replayed`, never from a snapshot)."""
        events: dict[UUID, list[Any]] = {}
        select_events_of = getattr(self.recorder, "select_events_of", None)  # ours; the library's in-memory one has not
        if select_events_of is None:
            found = [stored for i in aggregate_ids for stored in self.recorder.select_events(i)]
        else:
            found = select_events_of(aggregate_ids)
        for stored in found:
            domain_event = self.mapper.to_domain_event(stored)
            events.setdefault(domain_event.originator_id, []).append(domain_event)
        return {aggregate_id: project_aggregate(None, recorded) for aggregate_id, recorded in events.items()}

    def now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware times")
        return now.astimezone(UTC)

    # ----------------------------------------------------------------------------------------------
    # queries
    # ----------------------------------------------------------------------------------------------
    def load_claim(self, claim_id: ClaimRef, version: int | None = None) -> Claim:
        """The claim, regardless of who asks (for the platform's own processes).

        Given a claim already loaded, that claim (or, with ``version``, that version of it).
        """
        if isinstance(claim_id, Claim):
            if version is None:
                return claim_id
            claim_id = str(claim_id.id)
        uuid = claim_id_of(claim_id)
        try:
            claim: Claim = self.replayed(uuid, version)
        except AggregateNotFoundError:
            raise errors.ClaimNotFound(f"no claim {claim_id}", claim_id=claim_id) from None
        if not isinstance(claim, Claim):  # another aggregate's id (a merchant's standing)
            raise errors.ClaimNotFound(f"no claim {claim_id}", claim_id=claim_id)
        return claim

    def get_claim(self, actor: Actor, claim_id: ClaimRef) -> Claim:
        """The current claim, if this actor may see it (else: not found, revealing nothing)."""
        claim = self.load_claim(claim_id)
        if not can_view(actor, claim):
            name = _name(claim_id)
            raise errors.ClaimNotFound(f"no claim {name}", claim_id=name)
        return claim

    def get_claim_at_version(self, actor: Actor, claim_id: ClaimRef, version: int) -> Claim:
        current = self._past_reader(actor, claim_id)
        claim_id = _name(claim_id)
        if not 1 <= version <= current.version:
            raise errors.VersionNotFound(
                f"claim {claim_id} has versions 1..{current.version}, not {version}", claim_id=claim_id
            )
        return self.load_claim(claim_id, version=version)

    def get_claim_as_of(self, actor: Actor, claim_id: ClaimRef, at: datetime) -> Claim:
        """The claim as it stood at ``at``: every event recorded at or before that moment."""
        claim_id_text = _name(claim_id)
        if at.tzinfo is None or at.utcoffset() is None:
            raise errors.InvalidValue("as_of must carry a time zone", claim_id=claim_id_text)
        current = self._past_reader(actor, claim_id)
        version: int | None = None
        for domain_event in self.events.get(current.id):
            if getattr(domain_event, "timestamp") > at:  # noqa: B009 - every claim event has one
                break
            version = domain_event.originator_version
        if version is None:
            raise errors.VersionNotFound(
                f"claim {claim_id_text} was opened at {current.opened_at.isoformat()}, after {at.isoformat()}",
                claim_id=claim_id_text,
            )
        return self.load_claim(claim_id, version=version)

    def require_past_reader(self, actor: Actor, claim_id: ClaimRef) -> None:
        """Refuse (403) a principal who may see the claim but not as it stood in the past."""
        self._past_reader(actor, claim_id)

    def _past_reader(self, actor: Actor, claim_id: ClaimRef) -> Claim:
        claim = self.get_claim(actor, claim_id)
        if not may_see_past(actor):
            raise errors.NotPermitted(
                "only mediators and auditors may see a claim as it stood in the past",
                claim_id=_name(claim_id),
            )
        return claim

    def history(self, actor: Actor, claim_id: ClaimRef) -> list[EventRecord]:
        """Every event of the claim, in version order, with its actor and time."""
        claim = self.get_claim(actor, claim_id)
        return [event_record(e) for e in self.events.get(claim.id)]
