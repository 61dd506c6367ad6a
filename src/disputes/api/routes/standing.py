"""A merchant's standing: read it and its history, appeal it (the merchant), decide an appeal (a mediator).

Each route: schema in, one call on :class:`MerchantStandings`, schema out. Who may read a standing is
:func:`disputes.application.visibility.may_read_merchant_record` (that merchant, mediators, auditors, regulators).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from disputes.api.deps import App, CurrentActor
from disputes.api.responses import problem_responses, tag
from disputes.api.schemas.history import HistoryEntry
from disputes.api.schemas.standing import AppealCreate, StandingAppealDecisionCreate, StandingPublic
from disputes.application.standing import MerchantStandings, StandingResult
from disputes.domain.parties import PRINCIPAL_ID_PATTERN

router = APIRouter(prefix="/merchants", tags=["standing"])
MerchantId = Annotated[str, Path(pattern=PRINCIPAL_ID_PATTERN, description="the merchant's id")]


DESCRIBED = {
    401: "no token, or an unknown, revoked or expired one",
    403: "your role may not do this, or you are not this standing's merchant",
    404: "another merchant's standing",
    409: "refused by a standing rule (nothing to appeal, an appeal open already or decided, none open), "
    "or a concurrent change won",
    422: "malformed input",
}
READ_CODES = (401, 403, 404, 422)


async def get_standings(app: App) -> MerchantStandings:
    return MerchantStandings(app)


Standings = Annotated[MerchantStandings, Depends(get_standings)]


def _answer(response: Response, merchant_id: str, result: StandingResult) -> StandingPublic:
    tag(response, result.standing.version, result.position)
    return StandingPublic.of(merchant_id, result.standing)


@router.get("/{merchant_id}/standing", responses=problem_responses(DESCRIBED, *READ_CODES))
def get_standing(
    merchant_id: MerchantId,
    standings: Standings,
    actor: CurrentActor,
) -> StandingPublic:
    """The merchant's standing: tier, since when, the figures behind it and any open appeal."""
    return StandingPublic.of(merchant_id, standings.get(actor, merchant_id))


@router.get("/{merchant_id}/standing/history", responses=problem_responses(DESCRIBED, *READ_CODES))
def get_standing_history(
    merchant_id: MerchantId,
    standings: Standings,
    actor: CurrentActor,
) -> list[HistoryEntry]:
    """Every event of the merchant's standing in order, with who recorded it (the platform names its rule)."""
    return [HistoryEntry.of(r) for r in standings.history(actor, merchant_id)]


@router.post("/{merchant_id}/standing/appeals", responses=problem_responses(DESCRIBED))
def appeal_standing(
    merchant_id: MerchantId,
    body: AppealCreate,
    response: Response,
    standings: Standings,
    actor: CurrentActor,
) -> StandingPublic:
    """Appeal the latest warning or restriction (the merchant itself; one open appeal at a time)."""
    return _answer(response, merchant_id, standings.lodge_appeal(actor, merchant_id, reason=body.reason))


@router.post("/{merchant_id}/standing/appeals/decision", responses=problem_responses(DESCRIBED))
def decide_standing_appeal(
    merchant_id: MerchantId,
    body: StandingAppealDecisionCreate,
    response: Response,
    standings: Standings,
    actor: CurrentActor,
) -> StandingPublic:
    """Decide the open appeal (mediators): upheld, or overturned back to the tier before the change."""
    result = standings.decide_appeal(actor, merchant_id, outcome=body.outcome, rationale=body.rationale)
    return _answer(response, merchant_id, result)
