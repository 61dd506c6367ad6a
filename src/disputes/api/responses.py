"""What the routes share about answers: the version and position headers, the problems a route
documents, and the times and dates its query strings carry."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from fastapi import Request, Response

from disputes.api.problems import PROBLEM_MEDIA_TYPE, ApiProblem
from disputes.api.schemas.claims import ClaimPublic
from disputes.api.schemas.common import Problem
from disputes.application.claims import DisputesApplication
from disputes.application.records import parse_rfc3339
from disputes.domain.claim import Claim

POSITION_HEADER = "X-Disputes-Position"
"""The notification-log position of a command's last event, or the position the views read have reached."""

LINK_HEADER = "Link"
"""RFC 8288 ``Link: <...>; rel="next"`` on a page that has another after it."""

ProblemResponses = dict[int | str, dict[str, object]]


def problem_responses(described: Mapping[int, str], *codes: int) -> ProblemResponses:
    """The OpenAPI ``responses`` of a route for the problems it may answer (``codes``, default: every
    one ``described``), each with its description from ``described``."""
    return {
        code: {"model": Problem, "description": described[code], "content": {PROBLEM_MEDIA_TYPE: {}}}
        for code in codes or tuple(described)
    }


def tag(response: Response, version: int, position: int | None = None) -> None:
    """``ETag: "<version>"`` (what ``If-Match`` names), and the position of the command's last event."""
    response.headers["ETag"] = f'"{version}"'
    if position is not None:
        response.headers[POSITION_HEADER] = str(position)


def claim_answer(
    response: Response, app: DisputesApplication, claim: Claim, position: int | None = None
) -> ClaimPublic:
    """The claim as every claim route answers it, its version as the ETag (and a command's position)."""
    tag(response, claim.version, position)
    return ClaimPublic.of(claim, app.windows)


def invalid(detail: str) -> ApiProblem:
    """A 422 for a query or header the route cannot use."""
    return ApiProblem(422, "validation-error", "Invalid request", detail)


def parse_time(value: str, name: str) -> datetime:
    """An RFC 3339 time with a zone, or a 422 problem naming the parameter."""
    try:
        return parse_rfc3339(value)
    except ValueError:
        raise invalid(f"{name} must be an RFC 3339 time with a zone") from None


def parse_moment(value: str, name: str, zone: tzinfo, *, end_of_day: bool = False) -> datetime:
    """A date (``2026-11-20``: its start in ``zone``, the policy's calendar, or with ``end_of_day`` the
    start of the next) or an RFC 3339 time."""
    if len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise invalid(f"{name} must be a date (YYYY-MM-DD) or an RFC 3339 time") from None
        if end_of_day:
            day += timedelta(days=1)
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    return parse_time(value, name)


def link_next(request: Request, response: Response, **cursor: int | None) -> None:
    """``Link: <this request with the cursor changed>; rel="next"`` (RFC 8288), a reference relative to
    the server, when there is a next page (a cursor value not None); the other parameters are kept."""
    if any(value is None for value in cursor.values()):
        return
    url = request.url.include_query_params(**cursor)
    response.headers[LINK_HEADER] = f'<{url.path}?{url.query}>; rel="next"'
