"""The mediators' work queue, served from the ``queue`` view."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Response

from disputes.api.deps import ContainerDep, CurrentActor, Cursor, Language, Limit, MinPosition, Reads, reading
from disputes.api.responses import invalid, parse_time, problem_responses
from disputes.api.schemas.queue import QueueItem, QueuePage
from disputes.domain.vocabulary import ClaimStatus
from projections import queue
from projections.signals import SIGNALS, SignalReader

Signal = StrEnum("Signal", {name: name for name in SIGNALS})  # type: ignore[misc]

DESCRIBED = {
    401: "no token, or an unknown, revoked or expired one",
    403: "your role may not read this",
    422: "malformed query",
    503: "the views have not caught up with min_position yet; retry after Retry-After seconds",
}
router = APIRouter(prefix="/queue", tags=["reads"])


@router.get("", responses=problem_responses(DESCRIBED))
def work_queue(
    reads: Reads,
    response: Response,
    container: ContainerDep,
    actor: CurrentActor,
    language: Language,
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
    signal: Annotated[
        Signal | None, Query(description="only claims carrying this signal (GET /claims/{id}/signals says why)")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> QueuePage:
    """Claims the platform must act on, most urgent first: nearest deadline, then oldest, then largest;
    each names its signals."""
    filters = queue.QueueFilters(
        status=None if status is None else status.value,
        assigned_to=assigned_to,
        due_before=None if due_before is None else parse_time(due_before, "due_before"),
        signal=None if signal is None else signal.value,
    )
    policy = container.app.policy
    with reading(reads, response, ["queue", "signals"], min_position) as conn:
        names = SignalReader(conn, policy.signals, policy.version).names
        try:
            page = queue.work_queue(
                conn, filters, limit, cursor, container.clock(), language=language, signals=names
            )
        except queue.InvalidCursor as error:
            raise invalid(f"cursor: {error}") from None
    return QueuePage(
        items=[QueueItem.model_validate(item) for item in page.items], next_cursor=page.next_cursor
    )
