"""The audit report of a period, served from the ``audit`` view."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from disputes.api.deps import ContainerDep, CurrentActor, MinPosition, Reads, reading
from disputes.api.responses import invalid, parse_moment, problem_responses
from disputes.api.schemas.reports import AuditReport
from projections.audit_report import audit_report

DESCRIBED = {
    401: "no token, or an unknown, revoked or expired one",
    403: "your role may not read this",
    422: "malformed query",
    503: "the views have not caught up with min_position yet; retry after Retry-After seconds",
}
router = APIRouter(prefix="/reports", tags=["reads"])


@router.get("/audit", responses=problem_responses(DESCRIBED), name="audit_report")
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
    start, end = parse_moment(from_, "from", zone), parse_moment(to, "to", zone, end_of_day=True)
    if end <= start:
        raise invalid("to must be after from")
    with reading(reads, response, ["audit"], min_position) as conn:
        report = audit_report(conn, start, end)
    return AuditReport.model_validate(report)
