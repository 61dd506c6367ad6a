"""Response schemas of the read routes (views built by the projections in ``src/projections``).

Amounts are decimal strings in the claim's currency; times RFC 3339 UTC; rates are fractions 0..1.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from disputes.api.schemas import ActorPublic, DeadlinePublic
from disputes.domain.vocabulary import ClaimKind, ClaimReason, ClaimStatus, Outcome


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
    action: str = Field(examples=["decide"])
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


class QueuePage(BaseModel):
    items: list[QueueItem]
    next_cursor: str | None


class TimelineEntry(BaseModel):
    version: int
    at: datetime
    type: str
    actor: ActorPublic
    status: ClaimStatus = Field(description="the claim's status after this step")
    text: str


class NextStep(BaseModel):
    who: str = Field(examples=["merchant"])
    text: str
    due_at: datetime | None = Field(description="the time limit, when there is one")


class Timeline(BaseModel):
    claim_id: str
    version: int
    status: ClaimStatus
    updated_at: datetime
    entries: list[TimelineEntry]
    next: list[NextStep] = Field(description="what happens next, who acts and by when")


class RefundTotal(BaseModel):
    currency: str
    amount: str
    refunds: int


class MissedDeadline(BaseModel):
    claim_id: str
    deadline: str


class ScorecardClaims(BaseModel):
    """The claim ids behind each figure."""

    received: list[str]
    interventions: list[str]
    losses: list[str]
    refunds: dict[str, list[str]] = Field(description="by currency")
    first_responses: list[str]
    deadlines_missed: list[MissedDeadline]


class Thresholds(BaseModel):
    good: int
    watch: int


class Scorecard(BaseModel):
    merchant_id: str
    as_of: datetime | None = Field(description="facts before this moment are counted; null: all so far")
    claims_received: int
    platform_interventions: int
    intervention_rate: float
    losses: int = Field(description="claims a mediator decided for the buyer")
    loss_rate: float
    refunded: list[RefundTotal]
    first_responses: int
    median_first_response_seconds: int | None
    deadlines_met: int
    deadlines_missed: int
    score: int = Field(ge=0, le=100)
    tier: str = Field(examples=["good", "watch", "restricted"])
    thresholds: Thresholds
    claims: ScorecardClaims


class StatusCount(BaseModel):
    status: str
    count: int


class OutcomeCount(BaseModel):
    outcome: str
    count: int


class OutcomeByKind(BaseModel):
    outcome: str
    kind: str
    count: int


class OutcomeByReason(BaseModel):
    outcome: str
    reason: str
    count: int


class DeadlineCompliance(BaseModel):
    party: str
    met: int
    missed: int
    superseded: int = Field(description="ended in time by something else: a withdrawal, the platform")
    compliance_rate: float | None = Field(description="met / (met + missed); null when none was due")


class AuditReport(BaseModel):
    from_: datetime = Field(alias="from", serialization_alias="from")
    to: datetime
    claims_opened: int
    claims_closed: int
    closed_by_status: list[StatusCount]
    outcomes: list[OutcomeCount]
    outcomes_by_kind: list[OutcomeByKind]
    outcomes_by_reason: list[OutcomeByReason]
    refunds_by_currency: list[RefundTotal]
    median_time_to_resolution_seconds: int | None
    resolutions: int
    deadline_compliance: list[DeadlineCompliance]
