"""Claims: opening one, the claim as its parties and the platform see it, and pages of the claims list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from disputes.api.schemas.common import (
    Amount,
    Currency,
    DeadlinePublic,
    LongText,
    PrincipalId,
    RequestBody,
    Time,
)
from disputes.domain.claim import Claim
from disputes.domain.policy import Windows
from disputes.domain.vocabulary import ClaimKind, ClaimReason, ClaimStatus, Outcome


class ClaimCreate(RequestBody):
    order_id: PrincipalId
    merchant_id: PrincipalId
    kind: ClaimKind
    reason: ClaimReason
    order_amount: Amount
    claimed_amount: Amount
    currency: Currency
    delivered_at: Time | None = Field(description="null when the order was not delivered")
    description: LongText


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
            deadlines=[DeadlinePublic(name=d.name, due_at=d.due_at) for d in claim.deadlines(windows)],
            opened_at=claim.opened_at,
            updated_at=claim.modified_on,
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
