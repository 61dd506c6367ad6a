"""A merchant's scorecard, served from the ``scorecard`` view."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from disputes.api.deps import ContainerDep, CurrentActor, MinPosition, Reads, reading
from disputes.api.responses import parse_moment, problem_responses
from disputes.api.schemas.scorecards import Scorecard
from disputes.domain.policy import STANDING_SAMPLE_RULE
from projections.scorecard import CLAIMS_PAGE, Sample, Thresholds, merchant_scorecard

MAX_CLAIMS_PAGE = 10_000

DESCRIBED = {
    401: "no token, or an unknown, revoked or expired one",
    403: "your role may not read this",
    404: "no such merchant visible to you",
    422: "malformed query",
    503: "the views have not caught up with min_position yet; retry after Retry-After seconds",
}
router = APIRouter(prefix="/merchants", tags=["reads"])


@router.get("/{merchant_id}/scorecard", responses=problem_responses(DESCRIBED))
def scorecard(
    merchant_id: str,
    reads: Reads,
    response: Response,
    container: ContainerDep,
    actor: CurrentActor,
    as_of: Annotated[
        str | None,
        Query(
            max_length=64,
            description="a date (the record at the end of that day in the policy's time zone) or an RFC 3339 time",
        ),
    ] = None,
    claims_limit: Annotated[
        int, Query(ge=1, le=MAX_CLAIMS_PAGE, description="claim ids per list of `claims` (paged; counts are whole)")
    ] = CLAIMS_PAGE,
    claims_offset: Annotated[int, Query(ge=0, description="claims_page.next_offset of the previous answer")] = 0,
    min_position: MinPosition = None,
) -> Scorecard:
    """The merchant's dispute record: counts, rates, score and tier, and the claims behind each figure."""
    zone = container.app.windows.zone
    before = None if as_of is None else parse_moment(as_of, "as_of", zone, end_of_day=True)
    settings = reads.settings
    limits = container.app.policy.limits
    with reading(reads, response, ["scorecard"], min_position) as conn:
        card = merchant_scorecard(
            conn,
            merchant_id,
            before,
            thresholds=Thresholds(good=settings.scorecard_good_min, watch=settings.scorecard_watch_min),
            response_window=container.app.windows.merchant_response,
            claims_limit=claims_limit,
            claims_offset=claims_offset,
            sample=Sample(limits.standing_min_decided, limits.standing_window, STANDING_SAMPLE_RULE),
            now=container.clock(),
        )
    card["standing_sample"]["policy_version"] = container.app.policy.version
    return Scorecard.model_validate(card)
