"""Request and response schemas of a merchant's standing (``/merchants/{id}/standing``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from disputes.api.schemas.common import LongText, RequestBody
from disputes.domain.standing import MerchantStanding, Tier
from disputes.domain.vocabulary import AppealOutcome


class AppealCreate(RequestBody):
    reason: LongText


class StandingAppealDecisionCreate(RequestBody):
    outcome: AppealOutcome = Field(description="upheld: the change stands; overturned: back to the tier before it")
    rationale: LongText


class StandingFiguresPublic(BaseModel):
    """The scorecard figures behind the latest crossing, as the standing engine read them."""

    tier: Tier
    score: int
    claims_received: int
    losses: int
    loss_rate: str = Field(examples=["0.7500"])
    platform_interventions: int
    intervention_rate: str = Field(examples=["1.0000"])
    deadlines_met: int
    deadlines_missed: int
    as_of_position: int = Field(description="the scorecard view's position in the event log when read")
    decided_in_window: int | None = Field(
        default=None, description="decided claims within the policy's sample window (standing-minimum-sample)"
    )
    scorecard_tier: Tier | None = Field(
        default=None,
        description="after an overturned appeal: the scorecard's tier when read (tier is then the tier restored)",
    )


class StandingChangePublic(BaseModel):
    """The latest change: Warned, Restricted or Reinstated, or AppealDecided (an overturned appeal)."""

    type: str = Field(examples=["Restricted"])
    version: int
    from_tier: Tier
    to_tier: Tier
    rule: str = Field(examples=["scorecard-restricted-restricts"])
    policy_version: str | None = Field(description="null only for an overturn recorded before versions were")
    outcome: str | None = Field(default=None, description="AppealDecided: overturned")
    overturned: str | None = Field(default=None, description="AppealDecided: the change overturned (Warned, Restricted)")
    overturned_version: int | None = None


class StandingAppealPublic(BaseModel):
    merchant_id: str
    reason: str
    lodged_at: datetime
    against: str = Field(description="the change appealed: Warned or Restricted")
    against_version: int


class StandingPublic(BaseModel):
    merchant_id: str
    version: int = Field(description="0 while nothing was ever recorded (tier good)")
    tier: Tier
    since: datetime | None = Field(description="when the tier took effect; null: good from the start")
    figures: StandingFiguresPublic | None
    claim_ids: list[str] = Field(description="the claims behind the penalties: losses, interventions, missed deadlines")
    last_change: StandingChangePublic | None
    appeal: StandingAppealPublic | None = Field(description="the open appeal, if any")
    appealable: bool = Field(description="the merchant may appeal now")

    @classmethod
    def of(cls, merchant_id: str, standing: MerchantStanding | None) -> StandingPublic:
        if standing is None:
            return cls(
                merchant_id=merchant_id,
                version=0,
                tier=Tier.GOOD,
                since=None,
                figures=None,
                claim_ids=[],
                last_change=None,
                appeal=None,
                appealable=False,
            )
        view: dict[str, Any] = standing.view()
        return cls.model_validate(view)
