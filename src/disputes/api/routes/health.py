"""Liveness, readiness and metrics, for operators and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from disputes.api.deps import App, ContainerDep, Reads
from disputes.api.problems import problem
from disputes.api.schemas.health import Health
from disputes.audit.health import seal_readiness
from disputes.bootstrap import outbox_status

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get("/readyz", response_model=None, summary="Readiness: the event store answers")
def readyz(app: App, read_side: Reads, container: ContainerDep) -> JSONResponse:
    """Readiness: the event store answers; the body shows each projection's lag."""
    try:
        head = app.recorder.max_notification_id() or 0
        lag = {status.name: status.lag for status in read_side.statuses()}
        seal = seal_readiness(app, container.settings.database)
        events_out = outbox_status(container)
    except Exception as e:  # the store is down or unreachable: not ready, and say why
        return problem(
            503,
            "store-unavailable",
            "Store unavailable",
            f"event store unreachable: {type(e).__name__}",
            headers={"Retry-After": "5"},
        )
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
