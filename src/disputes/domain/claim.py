"""The Claim aggregate: a buyer's after-sales claim on one order, from opening to closure.

Each command is a plain method that checks the rules and refuses with a named domain error; only then
does it call the private ``@event`` method whose body is the state change (and reruns on replay).
Time and actor always come in as arguments: every event records who did it and when (its timestamp).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from disputes.domain import errors
from disputes.domain.money import Money
from disputes.domain.parties import Actor, Role
from disputes.domain.policy import (
    AutoOutcome,
    Deadline,
    DeadlineRule,
    Eligibility,
    Policy,
    Windows,
    no_reason_return_deadline,
    open_deadlines,
)
from disputes.domain.vocabulary import (
    TERMINAL_STATUSES,
    ClaimKind,
    ClaimReason,
    ClaimStatus,
    EvidenceKind,
    MerchantDecision,
    Outcome,
    Party,
    ReturnCondition,
)

S = ClaimStatus

# From which statuses a party may ask the platform to step in.
MEDIATION_REQUESTABLE = frozenset(
    {
        S.OFFER_PENDING,
        S.OFFER_DECLINED,
        S.MERCHANT_REJECTED,
        S.AWAITING_RETURN,
        S.RETURN_IN_TRANSIT,
        S.REFUND_PENDING,
        S.FULFILMENT_PENDING,
    }
)
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
REFUND_OUTCOMES = frozenset({Outcome.FULL_REFUND, Outcome.PARTIAL_REFUND, Outcome.RETURN_THEN_REFUND})
CLAIM_ID_NAMESPACE = UUID("6f1d3c1e-5d0a-4d43-9a53-2f0f6a7c1b11")
"""Claim ids are ``uuid5(CLAIM_ID_NAMESPACE, "<buyer>/<merchant>/<order>#<n>")`` for the n-th claim."""


def claim_id_for(buyer_id: str, merchant_id: str, order_id: str, claim_number: int) -> UUID:
    """The id of the buyer's n-th claim on an order: two claims racing to be its n-th share it, so the
    event store's (id, version) uniqueness lets only one of them be recorded (SQLite and PostgreSQL).

    The buyer and merchant are part of the key, so a stranger naming someone else's order id can
    neither block that order's claims nor learn whether it has one.
    """
    return uuid5(CLAIM_ID_NAMESPACE, f"{buyer_id}/{merchant_id}/{order_id}#{claim_number}")


class Claim(Aggregate):
    """One claim. Amounts are Money in the claim's currency; status and vocabularies are stored as str."""

    # Defaults for attributes that claims recorded before they existed do not set.
    claim_number: int = 0
    flag: str | None = None
    """Why the case needs the mediators' attention first (the rule that flagged it), while under mediation."""

    @staticmethod
    def create_id(buyer: Actor, merchant_id: str, order_id: str, claim_number: int = 0) -> UUID:
        return claim_id_for(buyer.id, merchant_id, order_id, claim_number) if claim_number > 0 else uuid4()

    # ----------------------------------------------------------------------------------------------
    # opening
    # ----------------------------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        *,
        actor: Actor,
        order_id: str,
        merchant_id: str,
        kind: ClaimKind,
        reason: ClaimReason,
        order_amount: str,
        claimed_amount: str,
        currency: str,
        delivered_at: datetime | None,
        description: str,
        windows: Windows,
        at: datetime,
        eligibility: Eligibility | None = None,
        claim_number: int = 0,
    ) -> Claim:
        """Open a claim for the authenticated buyer, if it is eligible.

        ``claim_number``: the claim's place among the order's claims (1 for the first), which fixes its
        id; 0 gives a random id (no one-open-claim-per-order rule). Whether the order already has an open
        claim is the application's question: it needs the store.
        """
        eligibility = eligibility or Eligibility()
        if actor.role is not Role.BUYER:
            raise errors.NotPermitted("only a buyer may open a claim")
        Actor(Role.MERCHANT, merchant_id)  # validates the id's form
        order = Money.positive(order_amount, currency, "order_amount")
        claimed = Money.positive(claimed_amount, currency, "claimed_amount")
        if eligibility.claimed_amount_within_order and claimed > order:
            raise errors.ClaimedAmountExceedsOrder(
                f"claimed amount {claimed} is above the order amount {order}"
            )
        if delivered_at is not None:
            delivered_at = _utc(delivered_at, "delivered_at")
        if delivered_at is not None and delivered_at > at:
            raise errors.DeliveryInFuture(f"delivered_at {delivered_at.isoformat()} is in the future")
        if reason == ClaimReason.NO_REASON_RETURN:
            if delivered_at is None:
                raise errors.NoReasonReturnNotDelivered(
                    "a no-reason return needs the order to have been delivered"
                )
            closes = no_reason_return_deadline(delivered_at, windows)
            if at >= closes:
                raise errors.NoReasonReturnWindowClosed(
                    f"the {windows.no_reason_return_days}-day no-reason return window closed at "
                    f"{closes.isoformat()}"
                )
        if (
            eligibility.not_received_requires_undelivered
            and reason == ClaimReason.NOT_RECEIVED
            and delivered_at is not None
        ):
            raise errors.NotReceivedButDelivered(
                "the order is marked delivered; a not-received claim needs an undelivered order"
            )
        return cls(
            buyer=actor,
            order_id=order_id,
            merchant_id=merchant_id,
            kind=ClaimKind(kind).value,
            reason=ClaimReason(reason).value,
            order_amount=order,
            claimed_amount=claimed,
            delivered_at=delivered_at,
            description=description,
            policy_version=windows.version,
            claim_number=claim_number,
            timestamp=at,
        )

    @event("ClaimOpened")
    def __init__(
        self,
        *,
        buyer: Actor,
        order_id: str,
        merchant_id: str,
        kind: str,
        reason: str,
        order_amount: Money,
        claimed_amount: Money,
        delivered_at: datetime | None,
        description: str,
        policy_version: str,
        timestamp: datetime,
        claim_number: int = 0,
    ) -> None:
        self.buyer_id = buyer.id
        self.claim_number = claim_number
        self.order_id = order_id
        self.merchant_id = merchant_id
        self.kind = kind
        self.reason = reason
        self.currency = order_amount.currency
        self.order_amount = order_amount
        self.claimed_amount = claimed_amount
        self.delivered_at = delivered_at
        self.description = description
        self.policy_version = policy_version
        self.opened_at = timestamp
        self.status: str = S.AWAITING_MERCHANT.value
        self.status_since = timestamp
        self.offer_amount: Money | None = None
        self.agreed_amount: Money | None = None
        self.refunded_amount = Money.zero(order_amount.currency)
        self.payment_references: list[str] = []
        self.mediator_id: str | None = None
        self.mediation_requested = False
        self.evidence_due: dict[str, datetime] = {}
        self.outcome: str | None = None
        self.return_condition: str | None = None
        self.legal_case_reference: str | None = None
        self.legal_outcome: str | None = None
        self.first_response_at: datetime | None = None
        self.missed_deadlines: dict[str, datetime] = {}

    # ----------------------------------------------------------------------------------------------
    # queries
    # ----------------------------------------------------------------------------------------------
    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def deadlines(self, windows: Windows) -> list[Deadline]:
        return open_deadlines(self.status, self.status_since, self.evidence_due, windows)

    def is_party(self, actor: Actor) -> bool:
        """The claim's own buyer, its own merchant, or its assigned mediator."""
        return (
            (actor.role is Role.BUYER and actor.id == self.buyer_id)
            or (actor.role is Role.MERCHANT and actor.id == self.merchant_id)
            or self.is_assigned_mediator(actor)
        )

    def is_assigned_mediator(self, actor: Actor) -> bool:
        return actor.role is Role.MEDIATOR and actor.id == self.mediator_id

    # ----------------------------------------------------------------------------------------------
    # guards
    # ----------------------------------------------------------------------------------------------
    def _refuse(self, error: type[errors.DisputesError], detail: str) -> errors.DisputesError:
        return error(detail, claim_id=str(self.id))

    def _require_active(self) -> None:
        if self.is_terminal:
            raise self._refuse(errors.ClaimClosed, f"the claim is {self.status}; no further commands")

    def _require_status(self, *allowed: str, doing: str) -> None:
        if self.status not in allowed:
            raise self._refuse(
                errors.InvalidTransition,
                f"cannot {doing} while the claim is {self.status} "
                f"(possible when {', '.join(sorted(str(s) for s in allowed))})",
            )

    def _require_buyer(self, actor: Actor) -> None:
        if not (actor.role is Role.BUYER and actor.id == self.buyer_id):
            raise self._refuse(errors.NotClaimBuyer, f"{actor} is not this claim's buyer")

    def _require_merchant(self, actor: Actor) -> None:
        if not (actor.role is Role.MERCHANT and actor.id == self.merchant_id):
            raise self._refuse(errors.NotClaimMerchant, f"{actor} is not this claim's merchant")

    def _require_assigned_mediator(self, actor: Actor) -> None:
        # Who may never act as the mediator is refused as such (403), whether or not one is assigned.
        if actor.role is not Role.MEDIATOR:
            raise self._refuse(errors.NotAssignedMediator, f"{actor} is not a mediator")
        self._require_active()
        if self.mediator_id is None:
            raise self._refuse(errors.MediatorNotAssigned, "no mediator is assigned to this claim")
        if not self.is_assigned_mediator(actor):
            raise self._refuse(errors.NotAssignedMediator, f"{actor} is not the assigned mediator")

    def _require_party(self, actor: Actor) -> None:
        if not self.is_party(actor):
            raise self._refuse(errors.NotAParty, f"{actor} is not a party of this claim")

    def _money(self, amount: str, what: str = "amount") -> Money:
        try:
            return Money.positive(amount, self.currency, what)
        except errors.DisputesError as e:
            e.claim_id = str(self.id)
            raise

    # ----------------------------------------------------------------------------------------------
    # merchant's answer and the buyer's answer to an offer
    # ----------------------------------------------------------------------------------------------
    def respond(
        self,
        *,
        actor: Actor,
        decision: MerchantDecision,
        amount: str | None,
        message: str,
        at: datetime,
    ) -> None:
        self._require_merchant(actor)
        self._require_active()
        self._require_status(S.AWAITING_MERCHANT, doing="respond")
        offer: Money | None = None
        if decision == MerchantDecision.OFFER:
            if amount is None:
                raise self._refuse(errors.AmountRequired, "an offer needs an amount")
            offer = self._money(amount)
            if offer >= self.claimed_amount:
                raise self._refuse(
                    errors.OfferExceedsClaim,
                    f"an offer of {offer} is not below the claimed {self.claimed_amount}; accept instead",
                )
        elif amount is not None:
            raise self._refuse(errors.AmountNotAllowed, f"'{decision}' takes no amount")
        self._merchant_responded(
            actor=actor,
            decision=MerchantDecision(decision).value,
            amount=offer,
            message=message,
            timestamp=at,
        )

    @event("MerchantResponded")
    def _merchant_responded(
        self, actor: Actor, decision: str, amount: Money | None, message: str, timestamp: datetime
    ) -> None:
        self.first_response_at = self.first_response_at or timestamp
        if decision == MerchantDecision.ACCEPT:
            if self.kind == ClaimKind.REFUND_ONLY:
                self.agreed_amount = self.claimed_amount
                self._move(S.REFUND_PENDING, timestamp)
            elif self.kind == ClaimKind.RETURN_AND_REFUND:
                self.agreed_amount = self.claimed_amount
                self._move(S.AWAITING_RETURN, timestamp)
            else:
                # An accepted exchange or repair agrees on goods, not money: after the return comes
                # fulfilment, not a refund.
                self._move(S.AWAITING_RETURN, timestamp)
        elif decision == MerchantDecision.REJECT:
            self._move(S.MERCHANT_REJECTED, timestamp)
        else:
            self.offer_amount = amount
            self._move(S.OFFER_PENDING, timestamp)

    def answer_offer(self, *, actor: Actor, accept: bool, at: datetime) -> None:
        self._require_buyer(actor)
        self._require_active()
        self._require_status(S.OFFER_PENDING, doing="answer an offer")
        self._offer_answered(actor=actor, accepted=accept, amount=self.offer_amount, timestamp=at)

    @event("OfferAnswered")
    def _offer_answered(
        self, actor: Actor, accepted: bool, amount: Money | None, timestamp: datetime
    ) -> None:
        if accepted:
            self.agreed_amount = amount
            self._move(S.REFUND_PENDING, timestamp)
        else:
            self._move(S.OFFER_DECLINED, timestamp)

    # ----------------------------------------------------------------------------------------------
    # conversation and evidence
    # ----------------------------------------------------------------------------------------------
    def post_message(self, *, actor: Actor, body: str, at: datetime) -> None:
        self._require_party(actor)
        self._require_active()
        self._message_posted(actor=actor, body=body, timestamp=at)

    @event("MessagePosted")
    def _message_posted(self, actor: Actor, body: str, timestamp: datetime) -> None:
        pass

    def add_evidence(
        self,
        *,
        actor: Actor,
        kind: EvidenceKind,
        description: str,
        sha256: str,
        size_bytes: int,
        uri: str | None,
        at: datetime,
    ) -> None:
        self._require_party(actor)
        self._require_active()
        if not _SHA256.fullmatch(sha256):
            raise self._refuse(errors.InvalidValue, "sha256 must be 64 hexadecimal digits")
        if size_bytes < 0:
            raise self._refuse(errors.InvalidValue, f"size_bytes must not be negative, got {size_bytes}")
        self._evidence_added(
            actor=actor,
            party=actor.role.value,
            kind=EvidenceKind(kind).value,
            description=description,
            sha256=sha256.lower(),
            size_bytes=size_bytes,
            uri=uri,
            timestamp=at,
        )

    @event("EvidenceAdded")
    def _evidence_added(
        self,
        actor: Actor,
        party: str,
        kind: str,
        description: str,
        sha256: str,
        size_bytes: int,
        uri: str | None,
        timestamp: datetime,
    ) -> None:
        # Evidence from a party answers the mediator's open request to that party.
        self.evidence_due = {p: due for p, due in self.evidence_due.items() if p != party}

    # ----------------------------------------------------------------------------------------------
    # mediation
    # ----------------------------------------------------------------------------------------------
    def request_mediation(self, *, actor: Actor, reason: str, at: datetime) -> None:
        if not (
            (actor.role is Role.BUYER and actor.id == self.buyer_id)
            or (actor.role is Role.MERCHANT and actor.id == self.merchant_id)
        ):
            raise self._refuse(errors.NotAParty, f"{actor} is neither the buyer nor the merchant")
        self._require_active()
        self._require_status(*MEDIATION_REQUESTABLE, doing="request mediation")
        self._mediation_requested(actor=actor, reason=reason, timestamp=at)

    @event("MediationRequested")
    def _mediation_requested(self, actor: Actor, reason: str, timestamp: datetime) -> None:
        self.mediation_requested = True
        self._move(S.UNDER_MEDIATION, timestamp)

    def assign_mediator(self, *, actor: Actor, mediator_id: str, at: datetime) -> None:
        """A mediator takes the case (or gives it to a colleague). The platform may step in any time."""
        if actor.role is not Role.MEDIATOR:
            raise self._refuse(errors.NotPermitted, "only a mediator may assign a mediator")
        self._require_active()
        mediator = Actor(Role.MEDIATOR, mediator_id)
        if mediator.id == self.mediator_id:
            raise self._refuse(errors.InvalidTransition, f"{mediator} is already assigned")
        self._mediator_assigned(actor=actor, mediator_id=mediator.id, timestamp=at)

    @event("MediatorAssigned")
    def _mediator_assigned(self, actor: Actor, mediator_id: str, timestamp: datetime) -> None:
        self.mediator_id = mediator_id

    def request_evidence(
        self,
        *,
        actor: Actor,
        from_party: Party,
        description: str,
        due_at: datetime | None,
        windows: Windows,
        at: datetime,
    ) -> None:
        self._require_assigned_mediator(actor)
        self._require_active()
        self._require_status(S.UNDER_MEDIATION, doing="request evidence")
        due = (
            _utc(due_at, "due_at", claim_id=str(self.id))
            if due_at is not None
            else at + windows.evidence_request
        )
        if due <= at:
            raise self._refuse(errors.EvidenceDueInPast, f"due_at {due.isoformat()} is not in the future")
        self._evidence_requested(
            actor=actor, from_party=Party(from_party).value, description=description, due_at=due, timestamp=at
        )

    @event("EvidenceRequested")
    def _evidence_requested(
        self, actor: Actor, from_party: str, description: str, due_at: datetime, timestamp: datetime
    ) -> None:
        self.evidence_due = {**self.evidence_due, from_party: due_at}

    def decide(
        self,
        *,
        actor: Actor,
        outcome: Outcome,
        amount: str | None,
        rationale: str,
        policy_version: str,
        at: datetime,
    ) -> None:
        if actor.role is not Role.MEDIATOR:
            raise self._refuse(errors.NotAssignedMediator, f"{actor} may not decide; mediators decide")
        self._require_active()
        if self.status != S.UNDER_MEDIATION:
            raise self._refuse(
                errors.MediationRequired, f"a decision needs mediation; the claim is {self.status}"
            )
        self._require_assigned_mediator(actor)
        decided: Money | None = None
        if outcome in REFUND_OUTCOMES:
            if amount is None and outcome == Outcome.PARTIAL_REFUND:
                raise self._refuse(errors.AmountRequired, "a partial refund needs an amount")
            decided = self.claimed_amount if amount is None else self._money(amount)
            if decided > self.order_amount:
                raise self._refuse(
                    errors.DecisionExceedsOrder, f"{decided} is above the order amount {self.order_amount}"
                )
            if decided < self.refunded_amount:
                raise self._refuse(
                    errors.DecisionBelowRefunded,
                    f"{decided} is below the {self.refunded_amount} already refunded on this claim",
                )
        elif amount is not None:
            raise self._refuse(errors.AmountNotAllowed, f"'{outcome}' takes no amount")
        self._mediated(
            actor=actor,
            outcome=Outcome(outcome).value,
            amount=decided,
            rationale=rationale,
            policy_version=policy_version,
            timestamp=at,
        )

    @event("Mediated")
    def _mediated(
        self,
        actor: Actor,
        outcome: str,
        amount: Money | None,
        rationale: str,
        policy_version: str,
        timestamp: datetime,
    ) -> None:
        self.outcome = outcome
        self.evidence_due = {}
        # The decision supersedes any earlier agreement: an exchange, repair or rejection agrees on
        # no amount, so that a return received afterwards leads to fulfilment, not to a refund.
        self.agreed_amount = amount
        if outcome in (Outcome.FULL_REFUND, Outcome.PARTIAL_REFUND):
            paid = amount is not None and self.refunded_amount >= amount
            self._move(S.REFUNDED if paid else S.REFUND_PENDING, timestamp)
        elif outcome == Outcome.CLAIM_REJECTED:
            self._move(S.CLAIM_REJECTED, timestamp)
        else:
            self._move(S.AWAITING_RETURN, timestamp)

    # ----------------------------------------------------------------------------------------------
    # the return of goods
    # ----------------------------------------------------------------------------------------------
    def ship_return(self, *, actor: Actor, carrier: str, tracking_number: str, at: datetime) -> None:
        self._require_buyer(actor)
        self._require_active()
        self._require_status(S.AWAITING_RETURN, doing="ship a return")
        self._return_shipped(actor=actor, carrier=carrier, tracking_number=tracking_number, timestamp=at)

    @event("ReturnShipped")
    def _return_shipped(self, actor: Actor, carrier: str, tracking_number: str, timestamp: datetime) -> None:
        self._move(S.RETURN_IN_TRANSIT, timestamp)

    def receive_return(self, *, actor: Actor, condition: ReturnCondition, at: datetime) -> None:
        self._require_merchant(actor)
        self._require_active()
        self._require_status(S.RETURN_IN_TRANSIT, doing="record a return's receipt")
        self._return_received(actor=actor, condition=ReturnCondition(condition).value, timestamp=at)

    @event("ReturnReceived")
    def _return_received(self, actor: Actor, condition: str, timestamp: datetime) -> None:
        self.return_condition = condition
        if condition != ReturnCondition.AS_SENT:
            # A disputed return goes to the platform at once.
            self.mediation_requested = True
            self._move(S.UNDER_MEDIATION, timestamp)
        elif self.agreed_amount is not None:
            self._move(S.REFUND_PENDING, timestamp)
        else:
            self._move(S.FULFILMENT_PENDING, timestamp)

    # ----------------------------------------------------------------------------------------------
    # money
    # ----------------------------------------------------------------------------------------------
    def refund(self, *, actor: Actor, amount: str, payment_reference: str, at: datetime) -> None:
        if not (
            (actor.role is Role.MERCHANT and actor.id == self.merchant_id) or self.is_assigned_mediator(actor)
        ):
            raise self._refuse(
                errors.NotPermitted, f"{actor} is neither the claim's merchant nor its assigned mediator"
            )
        self._require_active()
        self._require_status(S.REFUND_PENDING, doing="refund")
        money = self._money(amount)
        if payment_reference in self.payment_references:
            raise self._refuse(
                errors.DuplicatePaymentReference, f"payment reference {payment_reference!r} was already used"
            )
        total = self.refunded_amount + money
        if total > self.order_amount:
            raise self._refuse(
                errors.RefundExceedsOrder,
                f"refunds would total {total}, above the order amount {self.order_amount}",
            )
        if self.agreed_amount is not None and total > self.agreed_amount:
            raise self._refuse(
                errors.RefundExceedsAgreed,
                f"refunds would total {total}, above the agreed {self.agreed_amount}",
            )
        self._refunded(actor=actor, amount=money, payment_reference=payment_reference, timestamp=at)

    @event("Refunded")
    def _refunded(self, actor: Actor, amount: Money, payment_reference: str, timestamp: datetime) -> None:
        self.refunded_amount = self.refunded_amount + amount
        self.payment_references = [*self.payment_references, payment_reference]
        if self.agreed_amount is None or self.refunded_amount >= self.agreed_amount:
            self._move(S.REFUNDED, timestamp)

    # ----------------------------------------------------------------------------------------------
    # deadlines: recorded by the platform (the deadline engine), with the policy's automatic outcome
    # ----------------------------------------------------------------------------------------------
    def record_deadline_missed(self, *, actor: Actor, deadline: str, windows: Windows, at: datetime) -> None:
        """Record a missed deadline and nothing more (``apply_missed_deadline`` adds the policy's outcome)."""
        due_at = self._missed_due(actor, deadline, windows, at)
        self._deadline_missed(actor=actor, deadline=deadline, due_at=due_at, timestamp=at)

    def apply_missed_deadline(self, *, actor: Actor, deadline: str, policy: Policy, at: datetime) -> DeadlineRule:
        """Record that ``deadline`` passed and apply the outcome of the policy's rule for it.

        Refuses (InvalidTransition) a deadline that is not open or not yet due, and one already recorded
        missed: a claim that moved on meanwhile fires nothing, and a repeat fires nothing twice.
        """
        due_at = self._missed_due(actor, deadline, policy.windows, at)
        rule = policy.rule_for(deadline)
        marks = {"rule": rule.name, "policy_version": policy.version}
        self._deadline_missed(actor=actor, deadline=deadline, due_at=due_at, timestamp=at, **marks)
        outcome = rule.outcome
        if outcome is AutoOutcome.ACCEPT_CLAIM and self.status == S.AWAITING_MERCHANT:
            amount = (
                self.claimed_amount
                if self.kind in (ClaimKind.REFUND_ONLY, ClaimKind.RETURN_AND_REFUND)
                else None
            )
            self._accepted_by_default(actor=actor, amount=amount, timestamp=at, **marks)
        elif outcome is AutoOutcome.LAPSE_OFFER and self.status == S.OFFER_PENDING:
            self._offer_lapsed(actor=actor, amount=self.offer_amount, timestamp=at, **marks)
        elif outcome is AutoOutcome.CLOSE_CLAIM:
            self._closed_by_default(actor=actor, deadline=deadline, timestamp=at, **marks)
        elif outcome is AutoOutcome.MEDIATE_WITH_FLAG and self.status != S.UNDER_MEDIATION:
            self._mediation_forced(actor=actor, flag=rule.name, timestamp=at, **marks)
        elif outcome in (AutoOutcome.MEDIATE_WITH_FLAG, AutoOutcome.FLAG_FOR_MEDIATOR):
            self._flagged(actor=actor, flag=rule.name, timestamp=at, **marks)
        return rule

    def _missed_due(self, actor: Actor, deadline: str, windows: Windows, at: datetime) -> datetime:
        if actor.role is not Role.SYSTEM:
            raise self._refuse(errors.NotPermitted, "only the platform records missed deadlines")
        self._require_active()
        due = {d.name: d.due_at for d in self.deadlines(windows)}
        if deadline not in due:
            raise self._refuse(errors.InvalidTransition, f"no open deadline {deadline!r}")
        if due[deadline] > at:
            raise self._refuse(errors.InvalidTransition, f"{deadline} is not due until {due[deadline]}")
        if self.missed_deadlines.get(deadline) == due[deadline]:
            # A deadline engine that runs again must not count the same miss twice.
            raise self._refuse(
                errors.InvalidTransition, f"{deadline} due {due[deadline]} is already recorded missed"
            )
        return due[deadline]

    @event("DeadlineMissed")
    def _deadline_missed(
        self,
        actor: Actor,
        deadline: str,
        due_at: datetime,
        timestamp: datetime,
        rule: str | None = None,
        policy_version: str | None = None,
    ) -> None:
        self.missed_deadlines = {**self.missed_deadlines, deadline: due_at}
        if deadline.startswith("evidence_from_"):
            party = deadline.removeprefix("evidence_from_")
            self.evidence_due = {p: d for p, d in self.evidence_due.items() if p != party}

    @event("AcceptedByDefault")
    def _accepted_by_default(
        self, actor: Actor, amount: Money | None, rule: str, policy_version: str, timestamp: datetime
    ) -> None:
        """The merchant's silence accepted the claim, as the merchant's own acceptance would have."""
        if amount is not None:
            self.agreed_amount = amount
        if self.kind == ClaimKind.REFUND_ONLY:
            self._move(S.REFUND_PENDING, timestamp)
        else:
            self._move(S.AWAITING_RETURN, timestamp)

    @event("OfferLapsed")
    def _offer_lapsed(
        self, actor: Actor, amount: Money | None, rule: str, policy_version: str, timestamp: datetime
    ) -> None:
        # As if declined: the buyer may still ask the platform to mediate.
        self._move(S.OFFER_DECLINED, timestamp)

    @event("ClosedByDefault")
    def _closed_by_default(
        self, actor: Actor, deadline: str, rule: str, policy_version: str, timestamp: datetime
    ) -> None:
        self.evidence_due = {}
        self._move(S.CLOSED, timestamp)

    @event("MediationForced")
    def _mediation_forced(
        self, actor: Actor, flag: str, rule: str, policy_version: str, timestamp: datetime
    ) -> None:
        self.mediation_requested = True
        self._move(S.UNDER_MEDIATION, timestamp)
        self.flag = flag

    @event("Flagged")
    def _flagged(self, actor: Actor, flag: str, rule: str, policy_version: str, timestamp: datetime) -> None:
        self.flag = flag

    # ----------------------------------------------------------------------------------------------
    # legal proceedings, withdrawal, closure
    # ----------------------------------------------------------------------------------------------
    def escalate_to_legal(
        self, *, actor: Actor, reason: str, case_reference: str | None, at: datetime
    ) -> None:
        self._require_party(actor)
        self._require_active()
        if self.status in (S.ESCALATED_TO_LEGAL, S.LEGAL_CONCLUDED):
            raise self._refuse(errors.InvalidTransition, "the claim is already with the courts")
        self._escalated_to_legal(actor=actor, reason=reason, case_reference=case_reference, timestamp=at)

    @event("EscalatedToLegal")
    def _escalated_to_legal(
        self, actor: Actor, reason: str, case_reference: str | None, timestamp: datetime
    ) -> None:
        self.legal_case_reference = case_reference
        self.evidence_due = {}
        self._move(S.ESCALATED_TO_LEGAL, timestamp)

    def record_legal_outcome(self, *, actor: Actor, outcome: str, reference: str, at: datetime) -> None:
        if actor.role is not Role.MEDIATOR:
            raise self._refuse(errors.NotPermitted, "only a mediator records a legal outcome")
        self._require_active()
        self._require_status(S.ESCALATED_TO_LEGAL, doing="record a legal outcome")
        self._legal_outcome_recorded(actor=actor, outcome=outcome, reference=reference, timestamp=at)

    @event("LegalOutcomeRecorded")
    def _legal_outcome_recorded(
        self, actor: Actor, outcome: str, reference: str, timestamp: datetime
    ) -> None:
        self.legal_outcome = outcome
        self._move(S.LEGAL_CONCLUDED, timestamp)

    def withdraw(self, *, actor: Actor, reason: str, at: datetime) -> None:
        self._require_buyer(actor)
        self._require_active()
        self._withdrawn(actor=actor, reason=reason, timestamp=at)

    @event("Withdrawn")
    def _withdrawn(self, actor: Actor, reason: str, timestamp: datetime) -> None:
        self.evidence_due = {}
        self._move(S.WITHDRAWN, timestamp)

    def close(self, *, actor: Actor, summary: str, at: datetime) -> None:
        self._require_assigned_mediator(actor)
        self._require_active()
        self._closed(actor=actor, summary=summary, timestamp=at)

    @event("Closed")
    def _closed(self, actor: Actor, summary: str, timestamp: datetime) -> None:
        self.evidence_due = {}
        self._move(S.CLOSED, timestamp)

    # ----------------------------------------------------------------------------------------------
    def _move(self, status: ClaimStatus, at: datetime) -> None:
        self.status = status.value
        self.status_since = at
        self.flag = None  # a flag asks for a decision under mediation; any move answers it


def _utc(value: datetime, what: str, *, claim_id: str | None = None) -> datetime:
    """A time from outside, in UTC; a naive time is refused rather than guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise errors.InvalidValue(f"{what} must carry a time zone", claim_id=claim_id)
    return value.astimezone(UTC)


def claim_id_of(value: str) -> UUID:
    """Parse a claim id from the outside world; a malformed id is simply a claim that does not exist."""
    try:
        return UUID(value)
    except (ValueError, AttributeError, TypeError):
        raise errors.ClaimNotFound(f"no claim {value!r}", claim_id=str(value)) from None


def event_type(domain_event: Any) -> str:
    """The public name of a claim event (``Claim.Refunded`` -> ``Refunded``)."""
    return type(domain_event).__name__
