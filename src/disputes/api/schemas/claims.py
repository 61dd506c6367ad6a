"""Claims: opening one, the claim as its parties and the platform see it, and pages of the claims list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictInt, model_validator

from disputes.api.schemas.common import (
    ActorPublic,
    Amount,
    Currency,
    DeadlinePublic,
    LineId,
    LongText,
    PrincipalId,
    RequestBody,
    Time,
)
from disputes.domain.claim import Claim
from disputes.domain.policy import Windows
from disputes.domain.vocabulary import AppealOutcome, ClaimKind, ClaimReason, ClaimStatus, Outcome


class ClaimLineCreate(RequestBody):
    line_id: LineId
    quantity: Annotated[StrictInt, Field(ge=1, le=1_000_000, description="how many of the line's items")]


class ClaimCreate(RequestBody):
    """A claim on an order the platform recorded. The merchant, currency, amounts and delivery come from
    the order: when sent, they must equal it (422 order-facts-mismatch). Without the platform's orders
    (DISPUTES_ORDER_FACTS=claimant) merchant_id, order_amount, currency and delivered_at are the facts."""

    order_id: PrincipalId
    kind: ClaimKind
    reason: ClaimReason
    claimed_amount: Amount
    description: LongText
    lines: list[ClaimLineCreate] | None = Field(
        default=None, max_length=200, description="the lines and quantities claimed; default: the whole order"
    )
    merchant_id: PrincipalId | None = Field(default=None, description="if sent: must be the order's merchant")
    order_amount: Amount | None = Field(default=None, description="if sent: must be the order's total")
    currency: Currency | None = Field(default=None, description="if sent: must be the order's currency")
    delivered_at: Time | None = Field(
        default=None, description="if sent: must be the order's delivery (null: not delivered)"
    )

    @model_validator(mode="after")
    def _facts_sent_are_facts(self) -> ClaimCreate:
        for name in ("merchant_id", "order_amount", "currency"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name}: leave it out (the order's is used), or send the order's")
        return self

    def command(self) -> dict[str, Any]:
        """The application's keyword arguments: only what was sent (``delivered_at: null`` is sent)."""
        return self.model_dump(exclude_unset=True)


class ClaimLinePublic(BaseModel):
    line_id: str
    quantity: int


class AppealPublic(BaseModel):
    by: ActorPublic
    reason: str
    lodged_at: datetime
    outcome: AppealOutcome | None = Field(description="null while the appeal is open")
    decided_by: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, appeal: dict[str, Any]) -> AppealPublic:
        return cls(
            by=ActorPublic(**appeal["by"]),
            reason=appeal["reason"],
            lodged_at=appeal["lodged_at"],
            outcome=appeal["outcome"],
            decided_by=appeal["decided_by"],
            decided_at=appeal["decided_at"],
        )


class ClaimPublic(BaseModel):
    id: str
    version: int
    status: ClaimStatus
    kind: ClaimKind
    reason: ClaimReason
    order_id: str
    buyer_id: str
    merchant_id: str
    currency: str
    order_amount: str
    claimed_amount: str
    offer_amount: str | None
    agreed_amount: str | None
    refunded_amount: str
    outcome: Outcome | None
    mediator_id: str | None
    delivered_at: datetime | None
    deadlines: list[DeadlinePublic]
    opened_at: datetime
    updated_at: datetime
    lines: list[ClaimLinePublic] = Field(description="the order lines claimed")
    order_facts: Literal["platform", "claimant"] = Field(
        description="platform: judged by the order the platform recorded; claimant: by the buyer's word"
    )
    appeal: AppealPublic | None
    appealable_until: datetime | None = Field(description="while the decision may be appealed, until when")

    @classmethod
    def of(cls, claim: Claim, windows: Windows) -> ClaimPublic:
        def amount(money: Any) -> str | None:
            return None if money is None else str(money.amount)

        return cls(
            id=str(claim.id),
            version=claim.version,
            status=ClaimStatus(claim.status),
            kind=ClaimKind(claim.kind),
            reason=ClaimReason(claim.reason),
            order_id=claim.order_id,
            buyer_id=claim.buyer_id,
            merchant_id=claim.merchant_id,
            currency=claim.currency,
            order_amount=str(claim.order_amount.amount),
            claimed_amount=str(claim.claimed_amount.amount),
            offer_amount=amount(claim.offer_amount),
            agreed_amount=amount(claim.agreed_amount),
            refunded_amount=str(claim.refunded_amount.amount),
            outcome=None if claim.outcome is None else Outcome(claim.outcome),
            mediator_id=claim.mediator_id,
            delivered_at=claim.delivered_at,
            deadlines=[DeadlinePublic.of(d) for d in claim.deadlines(windows)],
            opened_at=claim.opened_at,
            updated_at=claim.modified_on,
            lines=[ClaimLinePublic(line_id=line["line_id"], quantity=line["quantity"]) for line in claim.lines],
            order_facts="platform" if claim.order_facts == "platform" else "claimant",
            appeal=None if claim.appeal is None else AppealPublic.of(claim.appeal),
            appealable_until=claim.appeal_until if claim.appeal is None else None,
        )


class ClaimSummary(BaseModel):
    id: str
    version: int
    status: ClaimStatus
    kind: ClaimKind
    reason: ClaimReason
    order_id: str
    buyer_id: str
    merchant_id: str
    mediator_id: str | None
    currency: str
    order_amount: str
    claimed_amount: str
    agreed_amount: str | None
    refunded_amount: str
    outcome: Outcome | None
    deadlines: list[DeadlinePublic]
    opened_at: datetime
    updated_at: datetime


class ClaimSummaryPage(BaseModel):
    items: list[ClaimSummary]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last")
