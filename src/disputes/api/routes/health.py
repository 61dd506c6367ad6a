"""Liveness, readiness and metrics, for operators and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from disputes.adapters.probe import ReadinessProbe
from disputes.api.deps import get_container, get_read_side
from disputes.api.problems import problem
from disputes.api.schemas.health import Health
from disputes.audit.health import seal_readiness
from disputes.bootstrap import outbox_status

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> Health:
    """Liveness: the process answers (on the event loop: even when every worker thread is waiting)."""
    return Health(status="ok")


def _not_ready(why: str) -> JSONResponse:
    return problem(
        503, "store-unavailable", "Store unavailable", f"event store unreachable: {why}", headers={"Retry-After": "5"}
    )


@router.get("/readyz", response_model=None, summary="Readiness: the event store answers")
async def readyz(request: Request) -> JSONResponse:
    """Readiness: the event store answers; the body shows each projection's lag, the seal and events out."""
    probe: ReadinessProbe = request.app.state.probe
    if not await probe.answers():  # at once, without waiting for a worker thread
        return _not_ready("the database does not answer")
    return await run_in_threadpool(_readiness, request)


def _readiness(request: Request) -> JSONResponse:
    container = get_container(request)
    app, read_side = container.app, get_read_side(request, container)
    try:
        head = app.recorder.max_notification_id() or 0
        lag = {status.name: status.lag for status in read_side.statuses()}
        seal = seal_readiness(app, container.settings.database)
        events_out = outbox_status(container)
    except Exception as e:  # the store is down or unreachable: not ready, and say why
        return _not_ready(type(e).__name__)
    return JSONResponse(
        {"status": "ready", "store": {"head_position": head}, "projections_lag": lag, "seal": seal,
         "events_out": events_out}
    )


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
