"""The mediators' work queue (``GET /queue``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from disputes.api.schemas.common import DeadlinePublic
from disputes.domain.vocabulary import ClaimKind, ClaimReason, ClaimStatus


class QueueItem(BaseModel):
    claim_id: str
    version: int
    status: ClaimStatus
    needs_platform: bool = Field(description="the platform must act now (else: its deadline has passed)")
    flag: str | None = Field(
        default=None,
        description="the policy rule that flagged the case for the mediators first (a late decision or refund)",
        examples=["mediator-late-flagged"],
    )
    action: str = Field(description="what the claim waits for, in your language", examples=["decide"])
    action_code: str = Field(description="the same as a stable code (docs/language.md)", examples=["decide"])
    overdue: bool
    next_deadline: DeadlinePublic | None
    mediator_id: str | None
    buyer_id: str
    merchant_id: str
    kind: ClaimKind
    reason: ClaimReason
    currency: str
    claimed_amount: str
    opened_at: datetime
    updated_at: datetime
    signals: list[str] = Field(
        default_factory=list,
        description="the names of the case's signals for the mediators (GET /claims/{id}/signals: why)",
        examples=[["serial_refund_only"]],
    )


class QueuePage(BaseModel):
    items: list[QueueItem]
    next_cursor: str | None
