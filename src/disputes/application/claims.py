"""The Disputes application: the commands of the HTTP contract as load, decide, save.

Deciding (load the claim, check who may see it, check the expected version, let the aggregate decide)
and saving stay two separate steps (:meth:`DisputesApplication.decide` and :meth:`save_claim`), so
that concurrent commands can later be saved together in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from disputes.adapters.event_store import EVENT_STORE_NAME
from disputes.adapters.transcodings import TRANSCODINGS
from disputes.application.records import EventRecord, event_record
from disputes.application.visibility import can_view, may_see_past
from disputes.domain import errors
from disputes.domain.claim import Claim, claim_id_for, claim_id_of
from disputes.domain.parties import Actor, Role
from disputes.domain.policy import DeadlineRule, Policy, Windows
from disputes.domain.vocabulary import (
    ClaimKind,
    ClaimReason,
    EvidenceKind,
    MerchantDecision,
    Outcome,
    Party,
    ReturnCondition,
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


ClaimRef = str | Claim
"""A claim's id, or the claim itself when the caller has loaded it already (the API does, to check access)."""


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
MAX_CLAIMS_PER_ORDER = 1000


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
    ) -> None:
        self.policy = policy or Policy(windows=windows or Windows())
        self.windows = self.policy.windows
        self.clock = clock
        self.snapshotting_intervals = {Claim: snapshot_interval}  # type: ignore[misc]
        super().__init__(env)

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
        merchant_id: str,
        kind: ClaimKind,
        reason: ClaimReason,
        order_amount: str,
        claimed_amount: str,
        currency: str,
        delivered_at: datetime | None,
        description: str,
    ) -> CommandResult:
        eligibility = self.policy.eligibility
        one_open = eligibility.one_open_claim_per_order
        claim = Claim.open(
            actor=actor,
            order_id=order_id,
            merchant_id=merchant_id,
            kind=kind,
            reason=reason,
            order_amount=order_amount,
            claimed_amount=claimed_amount,
            currency=currency,
            delivered_at=delivered_at,
            description=description,
            windows=self.windows,
            at=self.now(),
            eligibility=eligibility,
            claim_number=self._next_claim_number(actor.id, merchant_id, order_id) if one_open else 0,
        )
        try:
            return self.save_claim(claim)
        except errors.ConcurrentUpdate:
            # Another claim on this order was recorded with the same number first.
            raise errors.OpenClaimExists(f"order {order_id!r} already has an open claim") from None

    def _next_claim_number(self, buyer_id: str, merchant_id: str, order_id: str) -> int:
        """The number the order's next claim gets; refused while the order's latest claim is open.

        Claims on an order are numbered 1, 2, ... and their ids follow from the number; a claim may
        follow only once the one before it is withdrawn or closed.
        """
        for number in range(1, MAX_CLAIMS_PER_ORDER + 1):
            try:
                previous: Claim = self.repository.get(claim_id_for(buyer_id, merchant_id, order_id, number))
            except AggregateNotFoundError:
                return number
            if not previous.is_terminal:
                raise errors.OpenClaimExists(f"order {order_id!r} already has an open claim")
        raise errors.OpenClaimExists(f"order {order_id!r} has had {MAX_CLAIMS_PER_ORDER} claims")

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
            lambda c, at: c.respond(actor=actor, decision=decision, amount=amount, message=message, at=at),
        )

    def answer_offer(
        self, actor: Actor, claim_id: ClaimRef, *, accept: bool, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            actor, claim_id, expected_version, lambda c, at: c.answer_offer(actor=actor, accept=accept, at=at)
        )

    def post_message(
        self, actor: Actor, claim_id: ClaimRef, *, body: str, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            actor, claim_id, expected_version, lambda c, at: c.post_message(actor=actor, body=body, at=at)
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
            ),
        )

    def request_mediation(
        self, actor: Actor, claim_id: ClaimRef, *, reason: str, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.request_mediation(actor=actor, reason=reason, at=at),
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
        return self._command(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.decide(
                actor=actor,
                outcome=outcome,
                amount=amount,
                rationale=rationale,
                policy_version=self.windows.version,
                at=at,
            ),
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
            lambda c, at: c.receive_return(actor=actor, condition=condition, at=at),
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
        return self._command(
            actor,
            claim_id,
            expected_version,
            lambda c, at: c.refund(actor=actor, amount=amount, payment_reference=payment_reference, at=at),
        )

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

    def save_claim(self, claim: Claim) -> CommandResult:
        """Record the claim's new events; a lost race raises ConcurrentUpdate and records nothing."""
        return CommandResult(claim=claim, position=self.record(claim, what="claim"))

    def record(self, aggregate: Aggregate, *, what: str) -> int | None:
        """Save the aggregate's new events; the position of the last one (None if there were none).

        A lost race raises ConcurrentUpdate and records nothing. ``what`` names the aggregate in the
        refusal ("claim", "standing"); a claim's refusal carries its id.
        """
        try:
            recordings = self.save(aggregate)
        except IntegrityError:
            raise errors.ConcurrentUpdate(
                f"another command changed this {what} first; reload it and try again",
                claim_id=str(aggregate.id) if isinstance(aggregate, Claim) else None,
            ) from None
        positions = [r.notification.id for r in recordings if r.notification.id is not None]
        return max(positions) if positions else None

    def _command(
        self, actor: Actor, claim_id: ClaimRef, expected_version: int | None, decision: Decision
    ) -> CommandResult:
        return self.save_claim(self.decide(actor, claim_id, expected_version, decision))

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
            claim: Claim = self.repository.get(uuid, version=version)
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
