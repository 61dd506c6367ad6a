"""Liveness, readiness and metrics, for operators and orchestrators."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from disputes.api.deps import App, ContainerDep, Reads
from disputes.api.middleware.metrics import render_metrics
from disputes.api.problems import problem
from disputes.api.schemas.health import Health
from disputes.audit.health import seal_metrics, seal_readiness
from disputes.bootstrap import outbox_status
from projections.readside import render_lag_metrics

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


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus text exposition")
def metrics(app: App, read_side: Reads, container: ContainerDep) -> PlainTextResponse:
    """Prometheus text exposition."""
    text = render_metrics(app) + "".join(
        f"{line}\n" for line in seal_metrics(app, container.settings.database)
    )
    with contextlib.suppress(Exception):  # the store is down: /readyz says so; metrics still answer
        text += render_lag_metrics(read_side.statuses())
    with contextlib.suppress(Exception):
        text += _events_out_lines(outbox_status(container))
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")


def _events_out_lines(status: dict[str, Any]) -> str:
    """Prometheus lines of :func:`disputes.bootstrap.outbox_status`'s numbers."""
    lines = [
        "# HELP disputes_webhook_deliveries Webhook deliveries by status.",
        "# TYPE disputes_webhook_deliveries gauge",
        *(f'disputes_webhook_deliveries{{status="{k}"}} {v}' for k, v in status["webhook_deliveries"].items()),
    ]
    if status["nats"] is not None:
        lines += [
            "# HELP disputes_nats_position Last store position published to the NATS stream.",
            "# TYPE disputes_nats_position gauge",
            f"disputes_nats_position {status['nats']['position']}",
            "# HELP disputes_nats_lag_events Events recorded but not yet published to the NATS stream.",
            "# TYPE disputes_nats_lag_events gauge",
            f"disputes_nats_lag_events {status['nats']['lag']}",
        ]
    return "\n".join(lines) + "\n"
