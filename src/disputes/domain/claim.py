"""The Claim aggregate: a buyer's after-sales claim on one order, from opening to closure.

Each command is a plain method that checks the rules and refuses with a named domain error; only then
does it call the private ``@event`` method whose body is the state change (and reruns on replay).
Time and actor always come in as arguments: every event records who did it and when (its timestamp).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from disputes.domain import errors
from disputes.domain.money import Money
from disputes.domain.parties import Actor, Role
from disputes.domain.policy import (
    CLAIM_EVIDENCE_LIMIT_RULE,
    CLAIM_MESSAGE_LIMIT_RULE,
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

S = ClaimStatus
DEFAULT_POLICY = Policy()

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
"""Claim ids are ``uuid5(CLAIM_ID_NAMESPACE, "<order's ledger id>#<n>")`` for the n-th claim of an order
(claims recorded before orders kept ledgers: ``"<buyer>/<merchant>/<order>#<n>"``)."""
DECIDED_STATUSES = frozenset({S.REFUND_PENDING, S.REFUNDED, S.AWAITING_RETURN, S.RETURN_IN_TRANSIT,
                              S.FULFILMENT_PENDING, S.CLAIM_REJECTED})
"""Where a mediator's decision leaves a claim: from these (and while the appeal window lasts) it may be appealed."""
LEGACY = "derived"
"""What an event recorded before deadlines were fixed at opening says of the deadline it opened."""


def claim_id_on(ledger_id: str, claim_number: int) -> UUID:
    """The id of the n-th claim filed on an order's ledger: two claims racing to be its n-th share it,
    so the event store's (id, version) uniqueness lets only one of them be recorded."""
    return uuid5(CLAIM_ID_NAMESPACE, f"{ledger_id}#{claim_number}")


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
    order_facts: str = "claimant"
    """Where the order's facts came from: ``platform`` (the recorded order) or ``claimant`` (the buyer)."""
    ledger_id: str | None = None
    """The id of the Order aggregate whose ledger bounds this claim's refunds (None: recorded before)."""
    lines: Sequence[dict[str, Any]] = ()
    """The order lines claimed: {line_id, quantity}."""
    deadline: dict[str, Any] | None = None
    """The status's open deadline as it was set when it opened: name, due_at, rule, outcome, policy_version."""
    deadline_fixed: bool = False
    """False for a claim whose last move was recorded before deadlines were fixed at opening."""
    evidence_terms: dict[str, dict[str, Any]] | None = None
    """Per party: the rule and policy version of the mediator's open evidence request."""
    decided_by: str | None = None
    decided_at: datetime | None = None
    appeal_until: datetime | None = None
    appeal: dict[str, Any] | None = None
    """{by: {role, id}, reason, lodged_at, status_before, outcome, decided_by, decided_at}."""
    _messages: int = 0
    """Messages posted on the claim, counted by the events' own mutators (so a replay rebuilds it for a
    claim recorded before it was kept); private: not a field the history's ``changes`` show."""
    _evidence: int = 0
    """Evidence items added, counted likewise."""
    COUNTERS = ("_messages", "_evidence")
    """The state kept only to enforce the policy's caps; snapshots taken before it existed lack it."""

    @staticmethod
    def create_id(
        buyer: Actor, merchant_id: str, order_id: str, claim_number: int = 0, ledger_id: str | None = None
    ) -> UUID:
        if claim_number <= 0:
            return uuid4()
        if ledger_id is not None:
            return claim_id_on(ledger_id, claim_number)
        return claim_id_for(buyer.id, merchant_id, order_id, claim_number)

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
        policy: Policy | None = None,
        lines: tuple[dict[str, Any], ...] = (),
        order_facts: str = "claimant",
        ledger_id: str | None = None,
    ) -> Claim:
        """Open a claim for the authenticated buyer, if it is eligible.

        The facts (merchant, amounts, currency, delivery) are the recorded order's when
        ``order_facts`` is ``platform``, the buyer's own otherwise; the application says which.
        ``claim_number``: the claim's place among the order's claims (1 for the first), which fixes its
        id (with ``ledger_id``, the order's ledger); 0 gives a random id. Whether the order already has
        an open claim on these lines is the application's question: it needs the store.
        """
        policy = policy or Policy(windows=windows, eligibility=eligibility or Eligibility())
        windows = policy.windows
        eligibility = eligibility or policy.eligibility
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
            lines=[dict(line) for line in lines],
            order_facts=order_facts,
            ledger_id=ledger_id,
            deadline=policy.deadline_terms(S.AWAITING_MERCHANT, at),
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
        lines: list[dict[str, Any]] | None = None,
        order_facts: str = "claimant",
        ledger_id: str | None = None,
        deadline: dict[str, Any] | str | None = LEGACY,
    ) -> None:
        self.buyer_id = buyer.id
        self.claim_number = claim_number
        self.lines = list(lines or [])
        self.order_facts = order_facts
        self.ledger_id = ledger_id
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
        self._set_deadline(deadline)
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
        """The open deadlines, as they were set when each opened (``windows`` only derives the status
        deadline of a claim whose last move was recorded before deadlines were fixed at opening)."""
        if self.deadline_fixed:
            found = []
            if self.deadline is not None:
                d = self.deadline
                found.append(Deadline(d["name"], d["due_at"], d["rule"], d["policy_version"]))
        else:
            found = open_deadlines(self.status, self.status_since, {}, windows)
        if self.status == S.UNDER_MEDIATION:
            for party, due in sorted(self.evidence_due.items()):
                terms = (self.evidence_terms or {}).get(party, {})
                found.append(Deadline(f"evidence_from_{party}", due, terms.get("rule"), terms.get("policy_version")))
        return sorted(found, key=lambda d: (d.due_at, d.name))

    def deadline_terms(self, name: str) -> dict[str, Any] | None:
        """How the open deadline ``name`` was set (None: derived, for a claim recorded before)."""
        if name.startswith("evidence_from_"):
            terms = (self.evidence_terms or {}).get(name.removeprefix("evidence_from_"))
            return terms or None
        if self.deadline_fixed and self.deadline is not None and self.deadline["name"] == name:
            return self.deadline
        return None

    @property
    def message_count(self) -> int:
        return self._messages

    @property
    def evidence_count(self) -> int:
        return self._evidence

    @property
    def decided(self) -> bool:
        return self.outcome is not None

    @property
    def blocks_new_claims(self) -> bool:
        """Whether this claim stops another claim on its lines: it is open, or its decision holds.

        A refunded claim is finished: the ledger lets a later claim cover only what it did not refund.
        A withdrawn or closed claim blocks nothing, unless a mediator or a court rejected it.
        """
        if self.outcome == Outcome.CLAIM_REJECTED or self.legal_outcome is not None:
            return True
        return not self.is_terminal and self.status != S.REFUNDED

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
        policy: Policy = DEFAULT_POLICY,
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
        decision = MerchantDecision(decision)
        self._merchant_responded(
            actor=actor,
            decision=decision.value,
            amount=offer,
            message=message,
            deadline=policy.deadline_terms(self._after_response(decision), at),
            timestamp=at,
        )

    def _after_response(self, decision: str) -> ClaimStatus:
        if decision == MerchantDecision.ACCEPT:
            # An accepted exchange or repair agrees on goods, not money: after the return comes
            # fulfilment, not a refund.
            return S.REFUND_PENDING if self.kind == ClaimKind.REFUND_ONLY else S.AWAITING_RETURN
        return S.MERCHANT_REJECTED if decision == MerchantDecision.REJECT else S.OFFER_PENDING

    @event("MerchantResponded")
    def _merchant_responded(
        self,
        actor: Actor,
        decision: str,
        amount: Money | None,
        message: str,
        timestamp: datetime,
        deadline: dict[str, Any] | str | None = LEGACY,
    ) -> None:
        self.first_response_at = self.first_response_at or timestamp
        if decision == MerchantDecision.ACCEPT and self.kind in (ClaimKind.REFUND_ONLY, ClaimKind.RETURN_AND_REFUND):
            self.agreed_amount = self.claimed_amount
        elif decision == MerchantDecision.OFFER:
            self.offer_amount = amount
        self._move(self._after_response(decision), timestamp, deadline)

    def answer_offer(self, *, actor: Actor, accept: bool, at: datetime, policy: Policy = DEFAULT_POLICY) -> None:
        self._require_buyer(actor)
        self._require_active()
        self._require_status(S.OFFER_PENDING, doing="answer an offer")
        after = S.REFUND_PENDING if accept else S.OFFER_DECLINED
        self._offer_answered(
            actor=actor,
            accepted=accept,
            amount=self.offer_amount,
            deadline=policy.deadline_terms(after, at),
            timestamp=at,
        )

    @event("OfferAnswered")
    def _offer_answered(
        self,
        actor: Actor,
        accepted: bool,
        amount: Money | None,
        timestamp: datetime,
        deadline: dict[str, Any] | str | None = LEGACY,
    ) -> None:
        if accepted:
            self.agreed_amount = amount
            self._move(S.REFUND_PENDING, timestamp, deadline)
        else:
            self._move(S.OFFER_DECLINED, timestamp, deadline)

    # ----------------------------------------------------------------------------------------------
    # conversation and evidence
    # ----------------------------------------------------------------------------------------------
    def post_message(self, *, actor: Actor, body: str, at: datetime, policy: Policy = DEFAULT_POLICY) -> None:
        self._require_party(actor)
        self._require_active()
        self._require_room(
            errors.ClaimMessageLimit, self._messages, policy.limits.claim_messages, "messages",
            CLAIM_MESSAGE_LIMIT_RULE, policy,
        )
        self._message_posted(actor=actor, body=body, timestamp=at)

    @event("MessagePosted")
    def _message_posted(self, actor: Actor, body: str, timestamp: datetime) -> None:
        self._messages = self._messages + 1

    def _require_room(
        self, error: type[errors.ClaimMessageLimit | errors.ClaimEvidenceLimit], held: int, limit: int, what: str, rule: str, policy: Policy
    ) -> None:
        """Refuse one more item of a kind the claim already holds ``limit`` of (the policy's cap)."""
        if held >= limit:
            raise error(
                f"the claim holds {held} {what}, as many as the policy allows "
                f"(rule {rule}, policy {policy.version})",
                claim_id=str(self.id),
                rule=rule,
                policy_version=policy.version,
                limit=limit,
            )

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
        policy: Policy = DEFAULT_POLICY,
    ) -> None:
        self._require_party(actor)
        self._require_active()
        self._require_room(
            errors.ClaimEvidenceLimit, self._evidence, policy.limits.claim_evidence, "evidence items",
            CLAIM_EVIDENCE_LIMIT_RULE, policy,
        )
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
        self._evidence = self._evidence + 1

    # ----------------------------------------------------------------------------------------------
    # mediation
    # ----------------------------------------------------------------------------------------------
    def request_mediation(self, *, actor: Actor, reason: str, at: datetime, policy: Policy = DEFAULT_POLICY) -> None:
        if not (
            (actor.role is Role.BUYER and actor.id == self.buyer_id)
            or (actor.role is Role.MERCHANT and actor.id == self.merchant_id)
        ):
            raise self._refuse(errors.NotAParty, f"{actor} is neither the buyer nor the merchant")
        self._require_active()
        if self.decided and self.status != S.FULFILMENT_PENDING:
            # Only the merchant's failure to fulfil an exchange or repair brings a decided case back.
            raise self._refuse(
                errors.DecisionFinal,
                f"the claim was decided ({self.outcome}); appeal the decision instead, or escalate to legal",
            )
        self._require_status(*MEDIATION_REQUESTABLE, doing="request mediation")
        self._mediation_requested(
            actor=actor, reason=reason, deadline=policy.deadline_terms(S.UNDER_MEDIATION, at), timestamp=at
        )

    @event("MediationRequested")
    def _mediation_requested(
        self, actor: Actor, reason: str, timestamp: datetime, deadline: dict[str, Any] | str | None = LEGACY
    ) -> None:
        self.mediation_requested = True
        self._move(S.UNDER_MEDIATION, timestamp, deadline)

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
        policy: Policy | None = None,
    ) -> None:
        policy = policy or Policy(windows=windows)
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
        party = Party(from_party).value
        terms = policy.terms(f"evidence_from_{party}", due)
        self._evidence_requested(
            actor=actor,
            from_party=party,
            description=description,
            due_at=due,
            rule=terms["rule"],
            outcome=terms["outcome"],
            policy_version=terms["policy_version"],
            timestamp=at,
        )

    @event("EvidenceRequested")
    def _evidence_requested(
        self,
        actor: Actor,
        from_party: str,
        description: str,
        due_at: datetime,
        timestamp: datetime,
        rule: str | None = None,
        outcome: str | None = None,
        policy_version: str | None = None,
    ) -> None:
        self.evidence_due = {**self.evidence_due, from_party: due_at}
        if rule is not None:
            terms = {"rule": rule, "outcome": outcome, "policy_version": policy_version}
            self.evidence_terms = {**(self.evidence_terms or {}), from_party: terms}

    def decide(
        self,
        *,
        actor: Actor,
        outcome: Outcome,
        amount: str | None,
        rationale: str,
        at: datetime,
        policy: Policy = DEFAULT_POLICY,
        policy_version: str | None = None,
    ) -> None:
        """A mediator's decision of the case under mediation. ``policy_version`` (default: the policy's)
        is recorded on the decision."""
        if actor.role is not Role.MEDIATOR:
            raise self._refuse(errors.NotAssignedMediator, f"{actor} may not decide; mediators decide")
        self._require_active()
        if self.status != S.UNDER_MEDIATION:
            raise self._refuse(
                errors.MediationRequired, f"a decision needs mediation; the claim is {self.status}"
            )
        self._require_assigned_mediator(actor)
        decided = self._decided_amount(outcome, amount)
        after = self._after_decision(outcome, decided)
        self._mediated(
            actor=actor,
            outcome=Outcome(outcome).value,
            amount=decided,
            rationale=rationale,
            policy_version=policy_version or policy.version,
            appeal_until=at + policy.windows.appeal,
            deadline=policy.deadline_terms(after, at),
            timestamp=at,
        )

    def _decided_amount(self, outcome: Outcome, amount: str | None) -> Money | None:
        """The amount a decision with this outcome refunds, checked: never above the order (a partial
        refund never above what was claimed), never below what was refunded (the platform does not claw back what was paid: a rejection, an
        exchange or a repair is refused once part of the claim is refunded; decide a partial refund of
        at least that much instead)."""
        if outcome not in REFUND_OUTCOMES:
            if amount is not None:
                raise self._refuse(errors.AmountNotAllowed, f"'{outcome}' takes no amount")
            if self.refunded_amount.amount > 0:
                raise self._refuse(
                    errors.DecisionBelowRefunded,
                    f"{self.refunded_amount} is refunded on this claim already and is not taken back; "
                    f"decide a refund of at least that much rather than '{outcome}'",
                )
            return None
        if amount is None and outcome == Outcome.PARTIAL_REFUND:
            raise self._refuse(errors.AmountRequired, "a partial refund needs an amount")
        decided = self.claimed_amount if amount is None else self._money(amount)
        if decided > self.order_amount:
            raise self._refuse(
                errors.DecisionExceedsOrder, f"{decided} is above the order amount {self.order_amount}"
            )
        if outcome == Outcome.PARTIAL_REFUND and decided > self.claimed_amount:
            raise self._refuse(
                errors.DecisionExceedsClaim, f"{decided} is above the claimed amount {self.claimed_amount}"
            )
        if decided < self.refunded_amount:
            raise self._refuse(
                errors.DecisionBelowRefunded,
                f"{decided} is below the {self.refunded_amount} already refunded on this claim",
            )
        return decided

    def _after_decision(self, outcome: str, amount: Money | None) -> ClaimStatus:
        if outcome in (Outcome.FULL_REFUND, Outcome.PARTIAL_REFUND):
            paid = amount is not None and self.refunded_amount >= amount
            return S.REFUNDED if paid else S.REFUND_PENDING
        return S.CLAIM_REJECTED if outcome == Outcome.CLAIM_REJECTED else S.AWAITING_RETURN

    @event("Mediated")
    def _mediated(
        self,
        actor: Actor,
        outcome: str,
        amount: Money | None,
        rationale: str,
        policy_version: str,
        timestamp: datetime,
        appeal_until: datetime | None = None,
        deadline: dict[str, Any] | str | None = LEGACY,
    ) -> None:
        self._apply_decision(outcome, amount, timestamp, deadline)
        self.decided_by = actor.id
        self.decided_at = timestamp
        self.appeal_until = appeal_until

    def _apply_decision(
        self, outcome: str, amount: Money | None, at: datetime, deadline: dict[str, Any] | str | None
    ) -> None:
        self.outcome = outcome
        self.evidence_due = {}
        # The decision supersedes any earlier agreement: an exchange, repair or rejection agrees on
        # no amount, so that a return received afterwards leads to fulfilment, not to a refund.
        self.agreed_amount = amount
        self._move(self._after_decision(outcome, amount), at, deadline)

    # ----------------------------------------------------------------------------------------------
    # appeals: a decision is final but for one appeal by the buyer or the merchant, in the window
    # ----------------------------------------------------------------------------------------------
    def lodge_appeal(self, *, actor: Actor, reason: str, at: datetime, policy: Policy = DEFAULT_POLICY) -> None:
        if not (
            (actor.role is Role.BUYER and actor.id == self.buyer_id)
            or (actor.role is Role.MERCHANT and actor.id == self.merchant_id)
        ):
            raise self._refuse(errors.NotAParty, f"{actor} is neither the buyer nor the merchant")
        self._require_active()
        if self.appeal is not None:
            raise self._refuse(errors.AppealAlreadyLodged, "a claim's decision may be appealed once")
        if not self.decided or self.decided_at is None or self.status not in DECIDED_STATUSES:
            raise self._refuse(
                errors.AppealNotAllowed,
                f"only a mediator's decision may be appealed; the claim is {self.status}"
                + ("" if self.decided else ", undecided"),
            )
        until = self.appeal_until or self.decided_at + policy.windows.appeal
        if at > until:
            raise self._refuse(
                errors.AppealWindowClosed, f"the decision could be appealed until {until.isoformat()}"
            )
        self._appealed(
            actor=actor, reason=reason, deadline=policy.deadline_terms(S.UNDER_APPEAL, at), timestamp=at
        )

    @event("Appealed")
    def _appealed(self, actor: Actor, reason: str, deadline: dict[str, Any] | None, timestamp: datetime) -> None:
        self.appeal = {
            "by": actor.as_dict(),
            "reason": reason,
            "lodged_at": timestamp,
            "status_before": self.status,
            "outcome": None,
            "decided_by": None,
            "decided_at": None,
        }
        self._move(S.UNDER_APPEAL, timestamp, deadline)

    def decide_appeal(
        self,
        *,
        actor: Actor,
        outcome: AppealOutcome,
        rationale: str,
        new_outcome: Outcome | None,
        amount: str | None,
        at: datetime,
        policy: Policy = DEFAULT_POLICY,
    ) -> None:
        """A mediator other than the one who decided upholds the decision (the claim goes on where it
        stood) or overturns it with a new decision (checked as a decision is; never past the ledger)."""
        if actor.role is not Role.MEDIATOR:
            raise self._refuse(errors.NotPermitted, f"{actor} may not decide an appeal; mediators do")
        self._require_active()
        self._require_status(S.UNDER_APPEAL, doing="decide an appeal")
        assert self.appeal is not None
        if actor.id == self.decided_by:
            raise self._refuse(errors.SameMediator, f"{actor} made the decision under appeal")
        outcome = AppealOutcome(outcome)
        decided: Money | None = None
        if outcome is AppealOutcome.UPHELD:
            if new_outcome is not None or amount is not None:
                raise self._refuse(errors.AmountNotAllowed, "an upheld decision takes no new outcome or amount")
            after = ClaimStatus(self.appeal["status_before"])
        else:
            if new_outcome is None:
                raise self._refuse(errors.AmountRequired, "an overturned decision needs the new outcome")
            decided = self._decided_amount(new_outcome, amount)
            after = self._after_decision(new_outcome, decided)
        self._appeal_decided(
            actor=actor,
            outcome=outcome.value,
            rationale=rationale,
            new_outcome=None if new_outcome is None else Outcome(new_outcome).value,
            amount=decided,
            policy_version=policy.version,
            deadline=policy.deadline_terms(after, at),
            timestamp=at,
        )

    @event("AppealDecided")
    def _appeal_decided(
        self,
        actor: Actor,
        outcome: str,
        rationale: str,
        new_outcome: str | None,
        amount: Money | None,
        policy_version: str,
        deadline: dict[str, Any] | None,
        timestamp: datetime,
    ) -> None:
        assert self.appeal is not None
        self.appeal = {**self.appeal, "outcome": outcome, "decided_by": actor.id, "decided_at": timestamp}
        if outcome == AppealOutcome.UPHELD:
            self._move(ClaimStatus(self.appeal["status_before"]), timestamp, deadline)
        else:
            assert new_outcome is not None
            self._apply_decision(new_outcome, amount, timestamp, deadline)
            self.decided_by = actor.id
            self.decided_at = timestamp

    # ----------------------------------------------------------------------------------------------
    # the return of goods
    # ----------------------------------------------------------------------------------------------
    def ship_return(self, *, actor: Actor, carrier: str, tracking_number: str, at: datetime) -> None:
        self._require_buyer(actor)
        self._require_active()
        self._require_status(S.AWAITING_RETURN, doing="ship a return")
        self._return_shipped(
            actor=actor, carrier=carrier, tracking_number=tracking_number, deadline=None, timestamp=at
        )

    @event("ReturnShipped")
    def _return_shipped(
        self,
        actor: Actor,
        carrier: str,
        tracking_number: str,
        timestamp: datetime,
        deadline: dict[str, Any] | str | None = LEGACY,
    ) -> None:
        self._move(S.RETURN_IN_TRANSIT, timestamp, deadline)

    def receive_return(
        self, *, actor: Actor, condition: ReturnCondition, at: datetime, policy: Policy = DEFAULT_POLICY
    ) -> None:
        self._require_merchant(actor)
        self._require_active()
        self._require_status(S.RETURN_IN_TRANSIT, doing="record a return's receipt")
        condition = ReturnCondition(condition)
        self._return_received(
            actor=actor,
            condition=condition.value,
            deadline=policy.deadline_terms(self._after_return(condition), at),
            timestamp=at,
        )

    def _after_return(self, condition: str) -> ClaimStatus:
        if condition != ReturnCondition.AS_SENT:
            return S.UNDER_MEDIATION  # a disputed return goes to the platform at once
        return S.REFUND_PENDING if self.agreed_amount is not None else S.FULFILMENT_PENDING

    @event("ReturnReceived")
    def _return_received(
        self, actor: Actor, condition: str, timestamp: datetime, deadline: dict[str, Any] | str | None = LEGACY
    ) -> None:
        self.return_condition = condition
        after = self._after_return(condition)
        if after == S.UNDER_MEDIATION:
            self.mediation_requested = True
        self._move(after, timestamp, deadline)

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
        court_ordered = self.status == S.LEGAL_CONCLUDED
        if not court_ordered:
            self._require_status(S.REFUND_PENDING, S.LEGAL_CONCLUDED, doing="refund")
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
        if not court_ordered and self.agreed_amount is not None and total > self.agreed_amount:
            raise self._refuse(
                errors.RefundExceedsAgreed,
                f"refunds would total {total}, above the agreed {self.agreed_amount}",
            )
        # A court's order is paid as it says, within the order's ledger; the claim stays concluded.
        self._refunded(
            actor=actor,
            amount=money,
            payment_reference=payment_reference,
            court_ordered=court_ordered,
            deadline=None,
            timestamp=at,
        )

    @event("Refunded")
    def _refunded(
        self,
        actor: Actor,
        amount: Money,
        payment_reference: str,
        timestamp: datetime,
        court_ordered: bool = False,
        deadline: dict[str, Any] | str | None = LEGACY,
    ) -> None:
        self.refunded_amount = self.refunded_amount + amount
        self.payment_references = [*self.payment_references, payment_reference]
        if court_ordered:
            return
        if self.agreed_amount is None or self.refunded_amount >= self.agreed_amount:
            self._move(S.REFUNDED, timestamp, deadline)

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
        rule, version = self.rule_of(deadline, policy)
        marks = {"rule": rule.name, "policy_version": version}
        self._deadline_missed(actor=actor, deadline=deadline, due_at=due_at, timestamp=at, **marks)
        outcome = rule.outcome
        if outcome is AutoOutcome.ACCEPT_CLAIM and self.status == S.AWAITING_MERCHANT:
            amount = (
                self.claimed_amount
                if self.kind in (ClaimKind.REFUND_ONLY, ClaimKind.RETURN_AND_REFUND)
                else None
            )
            after = S.REFUND_PENDING if self.kind == ClaimKind.REFUND_ONLY else S.AWAITING_RETURN
            opened = policy.deadline_terms(after, at)
            self._accepted_by_default(actor=actor, amount=amount, timestamp=at, deadline=opened, **marks)
        elif outcome is AutoOutcome.LAPSE_OFFER and self.status == S.OFFER_PENDING:
            opened = policy.deadline_terms(S.OFFER_DECLINED, at)
            self._offer_lapsed(actor=actor, amount=self.offer_amount, timestamp=at, deadline=opened, **marks)
        elif outcome is AutoOutcome.CLOSE_CLAIM:
            self._closed_by_default(actor=actor, deadline=deadline, timestamp=at, opened=None, **marks)
        elif outcome is AutoOutcome.MEDIATE_WITH_FLAG and self.status != S.UNDER_MEDIATION:
            opened = policy.deadline_terms(S.UNDER_MEDIATION, at)
            self._mediation_forced(actor=actor, flag=rule.name, timestamp=at, deadline=opened, **marks)
        elif outcome in (AutoOutcome.MEDIATE_WITH_FLAG, AutoOutcome.FLAG_FOR_MEDIATOR):
            self._flagged(actor=actor, flag=rule.name, timestamp=at, **marks)
        return rule

    def rule_of(self, deadline: str, policy: Policy) -> tuple[DeadlineRule, str]:
        """The rule a passed deadline applies, and the policy version it belongs to: the rule recorded
        when the deadline opened (a policy changed since acts on deadlines opened after it, never on
        open ones); the policy's, for a deadline derived for a claim recorded before."""
        terms = self.deadline_terms(deadline)
        if terms is None:
            return policy.rule_for(deadline), policy.version
        key = "evidence_request" if deadline.startswith("evidence_from_") else deadline
        return DeadlineRule(terms["rule"], key, AutoOutcome(terms["outcome"])), str(terms["policy_version"])

    def fix_deadlines(self, *, actor: Actor, policy: Policy, at: datetime) -> bool:
        """Once, for a claim whose open deadlines were derived (recorded before deadlines were fixed at
        opening): record them as the policy in force derives them now, with its rules; from then on a
        policy change leaves them alone. False when there was nothing to fix."""
        if actor.role is not Role.SYSTEM:
            raise self._refuse(errors.NotPermitted, "only the platform fixes deadlines")
        known = self.evidence_terms or {}
        unfixed_evidence = [p for p in self.evidence_due if p not in known]
        if self.is_terminal or (self.deadline_fixed and not unfixed_evidence):
            return False
        status_deadline = None
        if self.deadline_fixed:
            status_deadline = self.deadline
        else:
            derived = open_deadlines(self.status, self.status_since, {}, policy.windows)
            if derived:
                status_deadline = policy.terms(derived[0].name, derived[0].due_at)
        evidence = {
            party: {k: v for k, v in policy.terms(f"evidence_from_{party}", due).items() if k not in ("name", "due_at")}
            for party, due in self.evidence_due.items()
            if party not in known
        }
        self._deadlines_fixed(actor=actor, deadline=status_deadline, evidence=evidence, timestamp=at)
        return True

    def as_if_under(self, policy: Policy) -> None:
        """For what-if replays only (never saved): set the open deadlines as ``policy`` would have set
        them when they opened, in place of the recorded ones."""
        self._set_deadline(policy.deadline_terms(self.status, self.status_since))
        self.evidence_terms = {
            party: {k: v for k, v in policy.terms(f"evidence_from_{party}", due).items() if k not in ("name", "due_at")}
            for party, due in self.evidence_due.items()
        }

    @event("DeadlinesFixed")
    def _deadlines_fixed(
        self,
        actor: Actor,
        deadline: dict[str, Any] | None,
        evidence: dict[str, dict[str, Any]],
        timestamp: datetime,
    ) -> None:
        self._set_deadline(deadline)
        self.evidence_terms = {**(self.evidence_terms or {}), **evidence}

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
        self,
        actor: Actor,
        amount: Money | None,
        rule: str,
        policy_version: str,
        timestamp: datetime,
        deadline: dict[str, Any] | str | None = LEGACY,
    ) -> None:
        """The merchant's silence accepted the claim, as the merchant's own acceptance would have."""
        if amount is not None:
            self.agreed_amount = amount
        if self.kind == ClaimKind.REFUND_ONLY:
            self._move(S.REFUND_PENDING, timestamp, deadline)
        else:
            self._move(S.AWAITING_RETURN, timestamp, deadline)

    @event("OfferLapsed")
    def _offer_lapsed(
        self,
        actor: Actor,
        amount: Money | None,
        rule: str,
        policy_version: str,
        timestamp: datetime,
        deadline: dict[str, Any] | str | None = LEGACY,
    ) -> None:
        # As if declined: the buyer may still ask the platform to mediate.
        self._move(S.OFFER_DECLINED, timestamp, deadline)

    @event("ClosedByDefault")
    def _closed_by_default(
        self,
        actor: Actor,
        deadline: str,
        rule: str,
        policy_version: str,
        timestamp: datetime,
        opened: dict[str, Any] | str | None = LEGACY,
    ) -> None:
        self.evidence_due = {}
        self._move(S.CLOSED, timestamp, opened)

    @event("MediationForced")
    def _mediation_forced(
        self,
        actor: Actor,
        flag: str,
        rule: str,
        policy_version: str,
        timestamp: datetime,
        deadline: dict[str, Any] | str | None = LEGACY,
    ) -> None:
        self.mediation_requested = True
        self._move(S.UNDER_MEDIATION, timestamp, deadline)
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
        self._escalated_to_legal(
            actor=actor, reason=reason, case_reference=case_reference, deadline=None, timestamp=at
        )

    @event("EscalatedToLegal")
    def _escalated_to_legal(
        self,
        actor: Actor,
        reason: str,
        case_reference: str | None,
        timestamp: datetime,
        deadline: dict[str, Any] | str | None = LEGACY,
    ) -> None:
        self.legal_case_reference = case_reference
        self.evidence_due = {}
        self._move(S.ESCALATED_TO_LEGAL, timestamp, deadline)

    def record_legal_outcome(self, *, actor: Actor, outcome: str, reference: str, at: datetime) -> None:
        if actor.role is not Role.MEDIATOR:
            raise self._refuse(errors.NotPermitted, "only a mediator records a legal outcome")
        self._require_active()
        self._require_status(S.ESCALATED_TO_LEGAL, doing="record a legal outcome")
        self._legal_outcome_recorded(actor=actor, outcome=outcome, reference=reference, deadline=None, timestamp=at)

    @event("LegalOutcomeRecorded")
    def _legal_outcome_recorded(
        self,
        actor: Actor,
        outcome: str,
        reference: str,
        timestamp: datetime,
        deadline: dict[str, Any] | str | None = LEGACY,
    ) -> None:
        self.legal_outcome = outcome
        self._move(S.LEGAL_CONCLUDED, timestamp, deadline)

    def withdraw(self, *, actor: Actor, reason: str, at: datetime) -> None:
        self._require_buyer(actor)
        self._require_active()
        if self.status == S.REFUNDED:
            raise self._refuse(
                errors.ClaimRefunded, "the claim was refunded: it is finished and cannot be withdrawn"
            )
        self._withdrawn(actor=actor, reason=reason, deadline=None, timestamp=at)

    @event("Withdrawn")
    def _withdrawn(
        self, actor: Actor, reason: str, timestamp: datetime, deadline: dict[str, Any] | str | None = LEGACY
    ) -> None:
        self.evidence_due = {}
        self._move(S.WITHDRAWN, timestamp, deadline)

    def close(self, *, actor: Actor, summary: str, at: datetime) -> None:
        self._require_assigned_mediator(actor)
        self._require_active()
        self._closed(actor=actor, summary=summary, deadline=None, timestamp=at)

    @event("Closed")
    def _closed(
        self, actor: Actor, summary: str, timestamp: datetime, deadline: dict[str, Any] | str | None = LEGACY
    ) -> None:
        self.evidence_due = {}
        self._move(S.CLOSED, timestamp, deadline)

    # ----------------------------------------------------------------------------------------------
    def _move(self, status: ClaimStatus, at: datetime, deadline: dict[str, Any] | str | None = LEGACY) -> None:
        """Enter ``status`` at ``at``, with the deadline the event that moved it recorded for it."""
        self.status = status.value
        self.status_since = at
        self.flag = None  # a flag asks for a decision under mediation; any move answers it
        self._set_deadline(deadline)

    def _set_deadline(self, deadline: dict[str, Any] | str | None) -> None:
        if deadline == LEGACY:  # an event recorded before deadlines were fixed: derived from the policy
            self.deadline, self.deadline_fixed = None, False
        else:
            assert not isinstance(deadline, str)
            self.deadline, self.deadline_fixed = deadline, True


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
