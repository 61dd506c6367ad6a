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
    when: str = Field(description="the time for people: your language, the policy's time zone")
    status: ClaimStatus = Field(description="the claim's status after this step")
    code: str = Field(description="the message this entry is told with (docs/language.md)", examples=["refunded"])
    text: str = Field(description="what happened, in your language, written to you")


class NextStep(BaseModel):
    who: str = Field(examples=["merchant"])
    text: str = Field(description="what happens next, in your language (\"you\" when it is your move)")
    due_at: datetime | None = Field(description="the time limit, when there is one")
    due: str | None = Field(None, description="the time limit for people: your language, the policy's time zone")
    if_missed: str | None = Field(
        None, description="what the platform does when the time limit passes, in plain words"
    )
    rule_url: str | None = Field(
        None, description="the rule on GET /policy", examples=["/policy#merchant_response"]
    )


class Timeline(BaseModel):
    claim_id: str
    version: int
    status: ClaimStatus
    updated_at: datetime
    entries: list[TimelineEntry]
    next: list[NextStep] = Field(description="what happens next, who acts and by when")
