"""A merchant's scorecard (``GET /merchants/{merchant_id}/scorecard``); rates are fractions 0..1."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from disputes.api.schemas.common import RefundTotal


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


class ClaimsPage(BaseModel):
    """Which ids of each list in ``claims`` this answer holds (the counts are always whole)."""

    offset: int
    limit: int | None
    next_offset: int | None = Field(description="claims_offset for the next ids; null: no list has more")


class StandingSample(BaseModel):
    """Whether the standing may move on these figures (the policy's minimum sample, rule and version)."""

    decided_in_window: int
    minimum: int
    window_from: datetime
    enough: bool
    rule: str = Field(examples=["standing-minimum-sample"])
    policy_version: str


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
    decided_claims: int = Field(description="claims whose result is known (decided, accepted, closed)")
    claims_page: ClaimsPage
    standing_sample: StandingSample
