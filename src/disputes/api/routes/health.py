"""Liveness, readiness and metrics, for operators and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from disputes.api.deps import App
from disputes.api.metrics import render_metrics
from disputes.api.problems import problem
from disputes.api.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get("/readyz", response_model=None, summary="Readiness: the event store answers")
def readyz(app: App) -> JSONResponse:
    """Readiness: the event store answers."""
    try:
        head = app.recorder.max_notification_id() or 0
    except Exception as e:  # the store is down or unreachable: not ready, and say why
        return problem(
            503,
            "store-unavailable",
            "Store unavailable",
            f"event store unreachable: {type(e).__name__}",
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ready", "store": {"head_position": head}})


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus text exposition")
def metrics(app: App) -> PlainTextResponse:
    """Prometheus text exposition."""
    return PlainTextResponse(render_metrics(app), media_type="text/plain; version=0.0.4; charset=utf-8")
