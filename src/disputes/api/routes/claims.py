"""Claims: open one, list them, read one (now, or as it stood), its history and its timeline.

Each route: schema in, one application or view call, schema out. The commands on a claim are in
:mod:`disputes.api.routes.commands`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from disputes.api.auth.access import Permit
from disputes.api.deps import App, CurrentActor, Cursor, Language, Limit, MinPosition, Reads, reading
from disputes.api.responses import claim_answer, invalid, link_next, parse_time, problem_responses
from disputes.api.schemas.claims import ClaimCreate, ClaimPublic, ClaimSummary, ClaimSummaryPage
from disputes.api.schemas.common import PrincipalId
from disputes.api.schemas.history import HistoryChangesEntry, HistoryEntry
from disputes.api.schemas.timeline import Timeline
from disputes.application import history
from disputes.domain import errors
from disputes.domain.vocabulary import ClaimStatus
from projections import claims_list, timeline

DESCRIBED = {
    401: "no token, or an unknown, revoked or expired one",
    403: "the claim is visible to you but you may not do this (docs/access-control.md)",
    404: "no such claim, or not visible to you",
    422: "malformed input, or a claim the order or the policy does not allow (docs/problems.md)",
}
VIEW_DESCRIBED = {
    401: DESCRIBED[401],
    403: "your role may not read this",
    404: "no such claim visible to you",
    422: "malformed query",
    503: "the views have not caught up with min_position yet; retry after Retry-After seconds",
}
HISTORY_DESCRIBED = {
    **DESCRIBED,
    403: "as_of is for mediators and auditors (docs/access-control.md)",
    404: "no such claim visible to you, or as_of before the claim was opened",
    422: "a malformed limit, after_version or as_of",
}


router = APIRouter(prefix="/claims")
MAX_VERSION = 2**31 - 1
"""The highest version a cursor may name (what every store's integer column holds)."""


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(DESCRIBED, 401, 403, 422),
    summary="Open a claim on an order (buyers)",
    tags=["claims"],
)
def open_claim(body: ClaimCreate, response: Response, app: App, actor: CurrentActor) -> ClaimPublic:
    """Open a claim on an order the platform recorded (buyers); its facts come from the order."""
    result = app.open_claim(actor, **body.command())
    response.headers["Location"] = f"/claims/{result.claim.id}"
    return claim_answer(response, app, result.claim, result.position)


@router.get("", responses=problem_responses(VIEW_DESCRIBED, 401, 403, 422, 503), tags=["reads"])
def list_claims(
    reads: Reads,
    response: Response,
    actor: CurrentActor,
    status: ClaimStatus | None = None,
    merchant_id: PrincipalId | None = None,
    buyer_id: PrincipalId | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> ClaimSummaryPage:
    """Claims you may see, newest first: buyers and merchants their own, mediators and auditors all."""
    filters = claims_list.ClaimFilters(
        status=None if status is None else status.value, merchant_id=merchant_id, buyer_id=buyer_id
    )
    with reading(reads, response, ["claims"], min_position) as conn:
        try:
            page = claims_list.list_claims(conn, actor, filters, limit, cursor)
        except claims_list.InvalidCursor as error:
            raise invalid(f"cursor: {error}") from None
    return ClaimSummaryPage(
        items=[ClaimSummary.model_validate(item) for item in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{claim_id}",
    responses=problem_responses(DESCRIBED, 401, 403, 404, 422),
    summary="The claim now, or as it stood at a version or a time",
    tags=["claims"],
)
def get_claim(
    claim_id: str,
    response: Response,
    app: App,
    actor: CurrentActor,
    access: Permit,
    as_of_version: Annotated[int | None, Query(ge=1, description="the claim at this version")] = None,
    as_of: Annotated[
        str | None, Query(description="RFC 3339 time: the claim as it stood then (auditors, mediators)")
    ] = None,
) -> ClaimPublic:
    """The claim now, or as it stood at a version or a time."""
    if as_of_version is not None and as_of is not None:
        raise invalid("give as_of_version or as_of, not both")
    claim = access.the_claim
    if as_of_version is not None:
        return claim_answer(response, app, app.get_claim_at_version(actor, claim, as_of_version))
    if as_of is not None:
        return claim_answer(response, app, app.get_claim_as_of(actor, claim, parse_time(as_of, "as_of")))
    return claim_answer(response, app, app.get_claim(actor, claim))


AfterVersion = Annotated[
    int,
    Query(
        ge=0,
        le=MAX_VERSION,
        description="the last version of the previous page (its `Link: rel=\"next\"` says it)",
    ),
]
PageLimit = Annotated[
    int, Query(ge=1, le=history.MAX_PAGE, description=f"events per page (at most {history.MAX_PAGE})")
]


@router.get(
    "/{claim_id}/history",
    responses=problem_responses(HISTORY_DESCRIBED, 401, 403, 404, 422),
    summary="Every event of the claim in order, with who did it and when, a page at a time",
    tags=["claims"],
    name="get_claim_history",
)
def get_history(
    claim_id: str,
    request: Request,
    response: Response,
    app: App,
    actor: CurrentActor,
    access: Permit,
    diff: Annotated[
        bool, Query(description="add to each event the fields it changed (before, after)")
    ] = False,
    limit: PageLimit = history.DEFAULT_PAGE,
    after_version: AfterVersion = 0,
    as_of: Annotated[
        str | None, Query(description="RFC 3339 time: only what was recorded by then (auditors, mediators)")
    ] = None,
) -> list[HistoryChangesEntry] | list[HistoryEntry]:
    """Every event of the claim in order, with who did it and when: up to `limit` events after
    `after_version`; when more follow, `Link: <...>; rel="next"` names the next page."""
    page = history.history_page(
        app,
        actor,
        access.the_claim,
        after_version=after_version,
        limit=limit,
        as_of=None if as_of is None else parse_time(as_of, "as_of"),
        diff=diff,
    )
    link_next(request, response, after_version=page.next_after)
    if diff:
        return [HistoryChangesEntry.model_validate(entry) for entry in page.entries]
    return [HistoryEntry.model_validate(entry) for entry in page.entries]


@router.get(
    "/{claim_id}/timeline", responses=problem_responses(VIEW_DESCRIBED, 401, 404, 422, 503), tags=["reads"]
)
def claim_timeline(
    claim_id: str,
    request: Request,
    reads: Reads,
    response: Response,
    app: App,
    actor: CurrentActor,
    access: Permit,
    language: Language,
    min_position: MinPosition = None,
    limit: PageLimit = history.DEFAULT_PAGE,
    after_version: AfterVersion = 0,
) -> Timeline:
    """The claim's progress in plain words in your language, and what happens next and by when: up to
    `limit` entries after `after_version`; when more follow, `Link: <...>; rel="next"` names the next page."""
    claim_id = str(access.the_claim.id)  # the id in any form the access check accepted, as the view keys it
    with reading(reads, response, ["timeline"], min_position) as conn:
        found = timeline.claim_timeline(
            conn, actor, claim_id, language=language, policy=app.policy, after_version=after_version, limit=limit
        )
    if found is None:
        raise errors.ClaimNotFound(f"no claim {claim_id}", claim_id=claim_id)
    link_next(request, response, after_version=found.next_after)
    return Timeline.model_validate(
        {
            "claim_id": found.claim_id,
            "version": found.version,
            "status": found.status,
            "updated_at": found.updated_at,
            "entries": found.entries,
            "next": found.next,
        }
    )
