"""The read routes, served from the projections' views (``src/projections``).

Each route: check who asks, wait for ``?min_position=N`` if asked, one view query, schema out. Every
answer carries ``X-Disputes-Position``: the notification-log position the views it read have reached.
``min_position`` is the ``X-Disputes-Position`` of a command's answer: the read then waits (bounded by
``DISPUTES_READ_WAIT_SECONDS``) until the views show that command, else answers 503 with Retry-After.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from disputes.api.deps import ContainerDep, CurrentActor
from disputes.api.problems import PROBLEM_MEDIA_TYPE, ApiProblem
from disputes.api.read_schemas import (
    AuditReport,
    ClaimSummary,
    ClaimSummaryPage,
    QueueItem,
    QueuePage,
    Scorecard,
    Timeline,
)
from disputes.api.routes.claims import POSITION_HEADER, parse_time
from disputes.api.schemas import PrincipalId, Problem
from disputes.domain import errors
from disputes.domain.vocabulary import ClaimStatus
from projections import claims_list, queue, timeline
from projections.audit_report import audit_report
from projections.readside import ReadSide
from projections.scorecard import Thresholds, merchant_scorecard
from projections.store import ViewConnection

_state_lock = threading.Lock()
RETRY_AFTER_SECONDS = 1
MAX_LIMIT = 200


def _problems(*codes: int) -> dict[int | str, dict[str, object]]:
    described = {
        401: "no token, or an unknown, revoked or expired one",
        403: "your role may not read this",
        404: "no such claim or merchant visible to you",
        422: "malformed query",
        503: "the views have not caught up with min_position yet; retry after Retry-After seconds",
    }
    return {
        code: {"model": Problem, "description": described[code], "content": {PROBLEM_MEDIA_TYPE: {}}}
        for code in codes
    }


def get_read_side(request: Request, container: ContainerDep) -> ReadSide:
    """The read side on ``app.state.read_side`` (set at start-up), else one made on first use."""
    state = request.app.state
    read_side: ReadSide | None = getattr(state, "read_side", None)
    if read_side is None:
        with _state_lock:
            read_side = getattr(state, "read_side", None)
            if read_side is None:
                read_side = state.read_side = ReadSide(container)
    return read_side


Reads = Annotated[ReadSide, Depends(get_read_side)]
MinPosition = Annotated[
    int | None,
    Query(ge=0, description="wait until the views show every event up to this position (read your writes)"),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Cursor = Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page")]


@contextmanager
def _view(
    reads: ReadSide, response: Response, names: Sequence[str], min_position: int | None
) -> Iterator[ViewConnection]:
    """A connection to the views, after waiting for ``min_position`` when one is given."""
    with reads.store.reading() as conn:
        if min_position is None:
            position = reads.positions(conn, names)
        else:
            found = reads.wait_for(conn, names, min_position)
            if found is None:
                raise ApiProblem(
                    503,
                    "views-behind",
                    "Views not caught up",
                    f"the views have not yet processed position {min_position}; retry shortly",
                    {"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
            position = found
        response.headers[POSITION_HEADER] = str(position)
        yield conn


def _invalid(detail: str) -> ApiProblem:
    return ApiProblem(422, "validation-error", "Invalid request", detail)


def _moment(value: str, name: str, zone: tzinfo, *, end_of_day: bool = False) -> datetime:
    """A date (``2026-11-20``: its start in ``zone``, the policy's calendar, or with ``end_of_day`` the
    start of the next) or an RFC 3339 time."""
    if len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise _invalid(f"{name} must be a date (YYYY-MM-DD) or an RFC 3339 time") from None
        if end_of_day:
            day += timedelta(days=1)
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    return parse_time(value, name)


# --- claims list and timeline ----------------------------------------------------------------------
claims_router = APIRouter(prefix="/claims", tags=["reads"])


@claims_router.get("", responses=_problems(401, 403, 422, 503))
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
    with _view(reads, response, ["claims"], min_position) as conn:
        try:
            page = claims_list.list_claims(conn, actor, filters, limit, cursor)
        except claims_list.InvalidCursor as error:
            raise _invalid(f"cursor: {error}") from None
    return ClaimSummaryPage(
        items=[ClaimSummary.model_validate(item) for item in page.items], next_cursor=page.next_cursor
    )


@claims_router.get("/{claim_id}/timeline", responses=_problems(401, 404, 503))
def claim_timeline(
    claim_id: str,
    reads: Reads,
    response: Response,
    actor: CurrentActor,
    min_position: MinPosition = None,
) -> Timeline:
    """The claim's progress in plain words, and what happens next and by when."""
    with _view(reads, response, ["timeline"], min_position) as conn:
        found = timeline.claim_timeline(conn, actor, claim_id)
    if found is None:
        raise errors.ClaimNotFound(f"no claim {claim_id}", claim_id=claim_id)
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


# --- the mediators' queue --------------------------------------------------------------------------
queue_router = APIRouter(prefix="/queue", tags=["reads"])


@queue_router.get("", responses=_problems(401, 403, 422, 503))
def work_queue(
    reads: Reads,
    response: Response,
    container: ContainerDep,
    actor: CurrentActor,
    status: ClaimStatus | None = None,
    assigned_to: Annotated[
        str | None,
        Query(
            pattern=r"^(-|[A-Za-z0-9][A-Za-z0-9._:@-]{0,63})$", description="a mediator id; - for unassigned"
        ),
    ] = None,
    due_before: Annotated[
        str | None, Query(max_length=64, description="RFC 3339: next deadline before this time")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> QueuePage:
    """Claims the platform must act on, most urgent first: nearest deadline, then oldest, then largest."""
    filters = queue.QueueFilters(
        status=None if status is None else status.value,
        assigned_to=assigned_to,
        due_before=None if due_before is None else parse_time(due_before, "due_before"),
    )
    with _view(reads, response, ["queue"], min_position) as conn:
        try:
            page = queue.work_queue(conn, filters, limit, cursor, container.clock())
        except queue.InvalidCursor as error:
            raise _invalid(f"cursor: {error}") from None
    return QueuePage(
        items=[QueueItem.model_validate(item) for item in page.items], next_cursor=page.next_cursor
    )


# --- merchant scorecard ----------------------------------------------------------------------------
merchants_router = APIRouter(prefix="/merchants", tags=["reads"])


@merchants_router.get("/{merchant_id}/scorecard", responses=_problems(401, 403, 404, 422, 503))
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
    min_position: MinPosition = None,
) -> Scorecard:
    """The merchant's dispute record: counts, rates, score and tier, and the claims behind each figure."""
    zone = container.app.windows.zone
    before = None if as_of is None else _moment(as_of, "as_of", zone, end_of_day=True)
    settings = reads.settings
    with _view(reads, response, ["scorecard"], min_position) as conn:
        card = merchant_scorecard(
            conn,
            merchant_id,
            before,
            thresholds=Thresholds(good=settings.scorecard_good_min, watch=settings.scorecard_watch_min),
            response_window=container.app.windows.merchant_response,
        )
    return Scorecard.model_validate(card)


# --- audit report ----------------------------------------------------------------------------------
reports_router = APIRouter(prefix="/reports", tags=["reads"])


@reports_router.get("/audit", responses=_problems(401, 403, 422, 503))
def audit(
    reads: Reads,
    response: Response,
    container: ContainerDep,
    actor: CurrentActor,
    from_: Annotated[
        str, Query(alias="from", max_length=64, description="a date (from its start) or an RFC 3339 time")
    ],
    to: Annotated[
        str,
        Query(max_length=64, description="a date (to its end, inclusive) or an RFC 3339 time (exclusive)"),
    ],
    min_position: MinPosition = None,
) -> AuditReport:
    """Claims opened and closed, outcomes by kind and reason, refunds, deadline compliance in a period."""
    zone = container.app.windows.zone
    start, end = _moment(from_, "from", zone), _moment(to, "to", zone, end_of_day=True)
    if end <= start:
        raise _invalid("to must be after from")
    with _view(reads, response, ["audit"], min_position) as conn:
        report = audit_report(conn, start, end)
    return AuditReport.model_validate(report)


router = APIRouter()
"""Every read route: ``api.include_router(reads.router)``."""
for _sub in (claims_router, queue_router, merchants_router, reports_router):
    router.include_router(_sub)
