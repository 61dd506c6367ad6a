"""A claim's timeline in plain words (``GET /claims/{claim_id}/timeline``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from disputes.api.schemas.common import ActorPublic
from disputes.domain.vocabulary import ClaimStatus


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
