"""Build the FastAPI application around a container (the composition root's product)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from disputes import __version__
from disputes.adapters.probe import ReadinessProbe
from disputes.api import openapi, problems
from disputes.api.auth.access import check_app, enforce
from disputes.api.deps import read_side_of
from disputes.api.metrics import api_registry
from disputes.api.middleware.idempotency import IdempotencyMiddleware
from disputes.api.middleware.input_guard import InputGuardMiddleware
from disputes.api.middleware.language import LanguageMiddleware
from disputes.api.middleware.observe import ObserveMiddleware
from disputes.api.middleware.security import SecurityHeadersMiddleware
from disputes.api.routes import (
    case_file,
    claims,
    commands,
    documentation,
    events,
    exports,
    health,
    orders,
    policy,
    principals,
    queue,
    reports,
    scorecards,
    signals,
    standing,
    webhooks,
)
from disputes.api.tracing import install_tracing
from disputes.bootstrap import (
    Container,
    bootstrap,
    limit_claim_rate,
    start_deadline_engine,
    start_deliveries,
    start_projections,
    start_reminder_engine,
    start_standing_engine,
)
from disputes.settings import Settings, check_production

DESCRIPTION = """After-sales disputes: buyers open claims on orders, merchants answer, mediators decide,
money is refunded. Every change is an event; errors are RFC 9457 problem+json whose `type` is documented
at its own URL (`/problems/{code}`). A POST may carry an `Idempotency-Key`: a retry with the same key and
request gets the first answer again. A command sent with `If-Match: "<version>"` (the claim's `ETag`)
applies only to that version. Start at `/` (links), `/docs` or `/redoc`."""


def create_app(container: Container | None = None) -> FastAPI:
    """The API. Without a container, one is bootstrapped from the environment's settings."""
    owned = container is None
    settings = Settings() if container is None else container.settings
    check_production(settings)  # DISPUTES_ENV=production with unsafe settings: no start, nothing opened
    container = container or bootstrap(settings)
    limit_claim_rate(container)

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        # The threads that run blocking work (DISPUTES_WORKER_THREADS); the pools are sized from them.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        # The views follow the store from a thread of this process unless DISPUTES_PROJECTIONS_IN_PROCESS
        # is false (then `disputes project` workers keep them). The read routes share its pool.
        projections = start_projections(container)
        api.state.read_side = projections.read_side
        limit_claim_rate(container, projections.read_side.store)  # on the read routes' pool, not one more
        deadlines = start_deadline_engine(container)  # unless DISPUTES_DEADLINES_IN_PROCESS=false
        standing_engine = start_standing_engine(container)  # the same setting
        reminders = start_reminder_engine(container)  # the same setting
        deliveries = start_deliveries(container)  # unless DISPUTES_DELIVERIES_IN_PROCESS=false
        try:
            yield
        finally:
            deliveries.stop()
            reminders.stop()
            await api.state.probe.close()
            provider = getattr(api.state, "tracer_provider", None)
            if provider is not None:
                provider.shutdown()
            standing_engine.stop()
            deadlines.stop()
            projections.stop()
            if owned:
                container.close()

    # The interactive docs' scripts and styles are files of the installed fastapi-offline package,
    # never a CDN (unreachable offline and from mainland China). fastapi-offline rather than
    # swagger-ui-bundle: it is maintained, ships both Swagger UI and ReDoc, and is FastAPI's own
    # constructor with the docs routes pointed at its files (no Google fonts either).
    api = FastAPIOffline(
        title="Disputes",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        debug=settings.debug,
        # Every route, before its own parameters: the permission matrix (docs/access-control.md).
        dependencies=[Depends(enforce)],
        generate_unique_id_function=openapi.operation_id,
        openapi_tags=openapi.TAGS,
    )
    api.state.container = container
    # /readyz and /metrics answer from samples taken at most every DISPUTES_HEALTH_SAMPLE_SECONDS.
    period = settings.health_sample_seconds
    api.state.metrics = api_registry(container, lambda: read_side_of(api.state, container), period)
    api.state.probe = ReadinessProbe(settings.database, period=period)  # /readyz asks it on the event loop
    api.state.readiness = health.readiness_sampler(container, lambda: read_side_of(api.state, container), period)
    problems.install(api)
    api.add_middleware(IdempotencyMiddleware)
    # Outside idempotency: a key's fingerprint is taken over the checked, NFC-normalised body.
    api.add_middleware(InputGuardMiddleware)
    api.add_middleware(ObserveMiddleware)  # logs and counts replays and refused inputs too
    origins = settings.cors_origin_list
    if origins:  # CORS is off unless DISPUTES_CORS_ORIGINS names origins
        api.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
            expose_headers=["ETag", "Location", "X-Disputes-Position", "Idempotent-Replayed"],
        )
    # Every answer in the caller's language (Accept-Language, else the policy's), with Content-Language.
    api.add_middleware(LanguageMiddleware, default_language=container.app.policy.default_language)
    # Outermost: every answer, even a CORS preflight or a refused body, carries the headers.
    api.add_middleware(SecurityHeadersMiddleware, hsts=settings.env == "production")
    for routes in (
        claims, commands, orders, queue, scorecards, reports, standing, exports, principals, health, documentation,
        policy, case_file,
    ):
        api.include_router(routes.router)
    for routes in (webhooks, events):  # events out (docs/events.md)
        api.include_router(routes.router)
    api.include_router(signals.router)
    openapi.install(api)
    install_tracing(api)  # only with OTEL_EXPORTER_OTLP_ENDPOINT and the otel extra
    check_app(api)  # a route without a rule in the permission matrix is never served
    return api
