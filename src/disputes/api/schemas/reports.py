"""The audit report of a period (``GET /reports/audit``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from disputes.api.schemas.common import RefundTotal


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
