"""The event feed: every recorded event in store order, as CloudEvents, for auditors and the platform.

``GET /events?after=&limit=`` answers a CloudEvents JSON batch; with ``Accept: text/event-stream`` a live
stream of Server-Sent Events instead (``id:`` is the store position, so a client that reconnects with
``Last-Event-ID`` resumes after the last event it got; a comment line every
DISPUTES_FEED_HEARTBEAT_SECONDS keeps idle connections open; ``limit`` ends the stream after that
many events). A principal may hold DISPUTES_FEED_MAX_STREAMS streams at once on one process (429
beyond). Written on Starlette's StreamingResponse: the format is a few lines, and it needs no
dependency of its own.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from disputes.api.deps import ContainerDep, CurrentActor
from disputes.api.responses import problem_responses
from disputes.application.outbound import BATCH_CONTENT_TYPE, OutboundEvents, batch_body
from disputes.domain.errors import DisputesError
from disputes.domain.parties import Actor

router = APIRouter(tags=["events"])
SSE_MEDIA_TYPE = "text/event-stream"
MAX_LIMIT = 1000
PAGE = 200
POLL_SECONDS = 0.2
DESCRIBED = {
    403: "only auditors and the platform read the feed",
    422: "malformed input",
    429: "too many open event streams for this principal",
}


class TooManyStreams(DisputesError):
    code = "too-many-streams"
    title = "Too many open event streams"
    status = 429


class StreamCounter:
    """Open streams per principal, in this process."""

    def __init__(self) -> None:
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def take(self, actor: Actor, cap: int) -> None:
        with self._lock:
            if self._open[str(actor)] >= cap:
                raise TooManyStreams(f"{actor} has {cap} event streams open already; close one first")
            self._open[str(actor)] += 1

    def give_back(self, actor: Actor) -> None:
        with self._lock:
            self._open[str(actor)] -= 1


_streams = StreamCounter()


@router.get(
    "/events",
    response_class=Response,
    responses={
        200: {
            "description": "a CloudEvents JSON batch, or with Accept: text/event-stream a stream of them",
            "content": {BATCH_CONTENT_TYPE: {}, SSE_MEDIA_TYPE: {}},
        },
        **problem_responses(DESCRIBED, 403, 422, 429),
    },
    summary="Every event after a store position, as CloudEvents (a batch, or Server-Sent Events)",
    name="list_events",
)
async def events(
    request: Request,
    container: ContainerDep,
    actor: CurrentActor,
    after: Annotated[int, Query(ge=0, description="the store position to read after")] = 0,
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT, description="events in the batch (default 100); "
                                       "for a stream: end it after this many")] = None,
    last_event_id: Annotated[str | None, Header(pattern=r"^[0-9]{1,18}$")] = None,
) -> Response:
    """Every event after a store position, as CloudEvents (a batch, or Server-Sent Events)."""
    outbound = OutboundEvents(container.app)
    if SSE_MEDIA_TYPE not in request.headers.get("accept", ""):
        found = await run_in_threadpool(outbound.after, after, limit or 100)
        headers = {"X-Disputes-Position": str(found[-1].position if found else after)}
        return Response(batch_body(found), media_type=BATCH_CONTENT_TYPE, headers=headers)
    settings = container.settings
    _streams.take(actor, settings.feed_max_streams)
    start = int(last_event_id) if last_event_id is not None else after
    return HeldStream(
        _stream(request, outbound, start, limit, settings.feed_heartbeat_seconds),
        release=lambda: _streams.give_back(actor),
        media_type=SSE_MEDIA_TYPE,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


class HeldStream(StreamingResponse):
    """A stream that gives its principal's slot back however it ends (finished, cut off, never begun)."""

    def __init__(self, content: AsyncIterator[bytes], *, release: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


async def _stream(
    request: Request, outbound: OutboundEvents, position: int, limit: int | None, heartbeat: float
) -> AsyncIterator[bytes]:
    sent = 0
    yield b"retry: 2000\n\n"
    beat = time.monotonic()
    while limit is None or sent < limit:
        page = PAGE if limit is None else min(PAGE, limit - sent)
        found = await run_in_threadpool(outbound.after, position, page)
        for event in found:
            yield b"id: %d\nevent: %s\ndata: %s\n\n" % (event.position, event.type.encode(), event.body())
            position = event.position
            sent += 1
        if found:
            beat = time.monotonic()
            continue
        if await request.is_disconnected():
            return
        if time.monotonic() - beat >= heartbeat:
            yield b": heartbeat\n\n"
            beat = time.monotonic()
        await asyncio.sleep(min(POLL_SECONDS, heartbeat))
