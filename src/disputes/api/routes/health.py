"""Liveness, readiness and metrics, for operators and orchestrators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from disputes.adapters.probe import ReadinessProbe
from disputes.adapters.sampled import Sampled
from disputes.api.problems import problem
from disputes.api.schemas.health import Health
from disputes.audit.health import seal_readiness
from disputes.bootstrap import Container, outbox_status
from projections.readside import ReadSide

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> Health:
    """Liveness: the process answers (on the event loop: even when every worker thread is waiting)."""
    return Health(status="ok")


def _not_ready(why: str) -> JSONResponse:
    return problem(
        503, "store-unavailable", "Store unavailable", f"event store unreachable: {why}", headers={"Retry-After": "5"}
    )


Readiness = dict[str, Any] | str
"""The body of a ready answer, or why the store is not ready."""


@router.get("/readyz", response_model=None, summary="Readiness: the event store answers")
async def readyz(request: Request) -> JSONResponse:
    """Readiness: the event store answers; the body shows each projection's lag, the seal and events out.

    Both the probe and the body are samples at most DISPUTES_HEALTH_SAMPLE_SECONDS old: however many
    callers, the database is asked once per period."""
    probe: ReadinessProbe = request.app.state.probe
    if not await probe.answers():  # at once, without waiting for a worker thread
        return _not_ready("the database does not answer")
    sampled: Sampled[Readiness] = request.app.state.readiness
    found = sampled.fresh()  # on the event loop while the sample is fresh
    if found is None:
        found = await run_in_threadpool(sampled.get)
    return _not_ready(found) if isinstance(found, str) else JSONResponse(found)


def readiness_sampler(container: Container, read_side: Callable[[], ReadSide], period: float) -> Sampled[Readiness]:
    """The /readyz body, taken again at most every ``period`` seconds."""
    return Sampled(lambda: _readiness(container, read_side()), period)


def _readiness(container: Container, read_side: ReadSide) -> Readiness:
    app = container.app
    try:
        head = app.recorder.max_notification_id() or 0
        lag = {status.name: status.lag for status in read_side.statuses()}
        seal = seal_readiness(app, container.settings.database)
        events_out = outbox_status(container)
    except Exception as e:  # the store is down or unreachable: not ready, and say why
        return type(e).__name__
    return {"status": "ready", "store": {"head_position": head}, "projections_lag": lag, "seal": seal,
            "events_out": events_out}


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    """The process's metrics in the Prometheus text format: requests by route and status with their
    latency, domain counters, the store's head, the projections' lag, the seal, the pools, the process
    and the Python runtime (docs/operations.md)."""
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
