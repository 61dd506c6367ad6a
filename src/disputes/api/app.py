"""Build the FastAPI application around a container (the composition root's product)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from disputes import __version__
from disputes.adapters.probe import ReadinessProbe
from disputes.api import openapi, problems
from disputes.api.auth.access import check_app, enforce
from disputes.api.middleware.idempotency import IdempotencyMiddleware
from disputes.api.middleware.input_guard import InputGuardMiddleware
from disputes.api.middleware.metrics import count_requests
from disputes.api.middleware.security import SecurityHeadersMiddleware
from disputes.api.routes import (
    claims,
    commands,
    exports,
    health,
    orders,
    principals,
    queue,
    reports,
    scorecards,
    standing,
)
from disputes.bootstrap import (
    Container,
    bootstrap,
    start_deadline_engine,
    start_projections,
    start_standing_engine,
)
from disputes.settings import Settings, check_production

DESCRIPTION = """After-sales disputes: buyers open claims on orders, merchants answer, mediators decide,
money is refunded. Every change is an event; errors are RFC 9457 problem+json. Any POST may carry an
`Idempotency-Key`: a retry with the same key and request gets the first answer again."""


def create_app(container: Container | None = None) -> FastAPI:
    """The API. Without a container, one is bootstrapped from the environment's settings."""
    owned = container is None
    settings = Settings() if container is None else container.settings
    check_production(settings)  # DISPUTES_ENV=production with unsafe settings: no start, nothing opened
    container = container or bootstrap(settings)

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        # The threads that run blocking work (DISPUTES_WORKER_THREADS); the pools are sized from them.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        # The views follow the store from a thread of this process unless DISPUTES_PROJECTIONS_IN_PROCESS
        # is false (then `disputes project` workers keep them). The read routes share its pool.
        projections = start_projections(container)
        api.state.read_side = projections.read_side
        deadlines = start_deadline_engine(container)  # unless DISPUTES_DEADLINES_IN_PROCESS=false
        standing_engine = start_standing_engine(container)  # the same setting
        try:
            yield
        finally:
            await api.state.probe.close()
            standing_engine.stop()
            deadlines.stop()
            projections.stop()
            if owned:
                container.close()

    api = FastAPI(
        title="Disputes",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        debug=settings.debug,
        # Every route, before its own parameters: the permission matrix (docs/access-control.md).
        dependencies=[Depends(enforce)],
    )
    api.state.container = container
    api.state.probe = ReadinessProbe(settings.database)  # /readyz asks it on the event loop
    problems.install(api)
    api.add_middleware(IdempotencyMiddleware)
    # Outside idempotency: a key's fingerprint is taken over the checked, NFC-normalised body.
    api.add_middleware(InputGuardMiddleware)
    api.middleware("http")(count_requests)  # counts replays and refused inputs too
    origins = settings.cors_origin_list
    if origins:  # CORS is off unless DISPUTES_CORS_ORIGINS names origins
        api.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
            expose_headers=["ETag", "Location", "X-Disputes-Position", "Idempotent-Replayed"],
        )
    # Outermost: every answer, even a CORS preflight or a refused body, carries the headers.
    api.add_middleware(SecurityHeadersMiddleware, hsts=settings.env == "production")
    for routes in (claims, commands, orders, queue, scorecards, reports, standing, exports, principals, health):
        api.include_router(routes.router)
    openapi.install(api)
    check_app(api)  # a route without a rule in the permission matrix is never served
    return api
