"""Liveness, readiness and metrics, for operators and orchestrators."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from disputes.adapters.probe import ReadinessProbe
from disputes.api.deps import App, ContainerDep, Reads, get_container, get_read_side
from disputes.api.middleware.metrics import render_metrics
from disputes.api.problems import problem
from disputes.api.schemas.health import Health
from disputes.audit.health import seal_metrics, seal_readiness
from projections.readside import render_lag_metrics

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
    """Readiness: the event store answers; the body shows each projection's lag."""
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
    except Exception as e:  # the store is down or unreachable: not ready, and say why
        return _not_ready(type(e).__name__)
    return JSONResponse(
        {"status": "ready", "store": {"head_position": head}, "projections_lag": lag, "seal": seal}
    )


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus text exposition")
def metrics(app: App, read_side: Reads, container: ContainerDep) -> PlainTextResponse:
    """Prometheus text exposition."""
    text = render_metrics(app) + "".join(
        f"{line}\n" for line in seal_metrics(app, container.settings.database)
    )
    with contextlib.suppress(Exception):  # the store is down: /readyz says so; metrics still answer
        text += render_lag_metrics(read_side.statuses())
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")
