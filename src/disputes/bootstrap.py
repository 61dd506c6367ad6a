"""The composition root: settings in; the application, the views' runners and read side, and the
engines out. The one place that knows how the parts are wired (every process builds itself here)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any

from disputes.adapters.database import ConnectionSource
from disputes.adapters.export_jobs import ExportJobStore
from disputes.adapters.idempotency import IdempotencyStore
from disputes.adapters.migrations import require_migrated
from disputes.adapters.principals import PrincipalStore
from disputes.adapters.token_cache import TokenCache
from disputes.adapters.webhooks import WebhookStore
from disputes.application.claims import Clock, DisputesApplication, utc_now
from disputes.application.outbound import OutboundEvents
from disputes.audit.export_jobs import ExportRunner
from disputes.engines.deadlines import DeadlineEngine
from disputes.engines.loop import BackgroundLoop, EngineThread, ViewEngine
from disputes.engines.nats_publisher import NatsPublisher, NatsSettings, nats_lag
from disputes.engines.reminders import ReminderEngine
from disputes.engines.standing import StandingEngine
from disputes.engines.webhooks import DeliverySettings, DeliveryWorkers
from disputes.settings import Settings
from projections import catalog
from projections.claims_list import BuyerOpenings
from projections.partitions import Partition
from projections.readside import ReadSide
from projections.runner import CATCHUP_BATCH_SIZE, ProjectionRunner, crash_hook_from_environment
from projections.settings import ReadSideSettings
from projections.store import ViewStore


@dataclass
class Container:
    """Everything a process (server, CLI command, test) needs, built once."""

    settings: Settings
    app: DisputesApplication
    principals: PrincipalStore
    idempotency: IdempotencyStore
    connections: ConnectionSource
    """The connections that ``principals`` and ``idempotency`` share (pooled on PostgreSQL)."""
    clock: Clock
    webhooks: WebhookStore = field(init=False)
    """Webhook subscriptions and deliveries, on ``connections``."""
    export_jobs: ExportJobStore = field(init=False)
    """Export jobs (``POST /exports`` of a long period), on ``connections``."""
    exports: ExportRunner = field(init=False)
    """Runs exports, inline or as jobs, into ``settings.export_directory``."""

    views: ViewStore | None = None
    """The views the application itself reads (the claim-rate limit's count of a buyer's claims)."""

    def __post_init__(self) -> None:
        self.webhooks = WebhookStore(self.connections)
        self.export_jobs = ExportJobStore(
            self.connections,
            concurrency=self.settings.export_concurrency,
            lease=timedelta(seconds=self.settings.export_lease_seconds),
            retention=timedelta(hours=self.settings.export_retention_hours),
        )
        self.exports = ExportRunner(
            self.app,
            self.settings.database,
            self.export_jobs,
            self.settings.export_directory,
            self.clock,
            inline_max=self.settings.export_inline_max_events,
        )

    def close(self) -> None:
        self.principals.close()
        self.idempotency.close()
        self.app.close()
        self.connections.close()
        if self.views is not None:
            self.views.close()


def build_application(settings: Settings, clock: Clock = utc_now) -> DisputesApplication:
    """The application on the configured store, which must be migrated (nothing here changes the schema).

    Raises :class:`~disputes.adapters.migrations.DatabaseNotMigrated` ("run 'disputes migrate' first")
    when a migration is pending, so no process starts on tables it does not know.
    """
    require_migrated(settings.database)
    return DisputesApplication(
        settings.eventsourcing_env(),
        policy=settings.policy(),
        clock=clock,
        snapshot_interval=settings.snapshot_interval,
        order_facts=settings.order_facts,
    )


def bootstrap(settings: Settings | None = None, clock: Clock = utc_now) -> Container:
    """Wire a process's collaborators on a migrated database (else :class:`DatabaseNotMigrated`)."""
    settings = settings or Settings()
    app = build_application(settings, clock)
    connections = ConnectionSource(
        settings.database, pool_size=settings.side_pool_size, wait_seconds=settings.database_timeout_seconds
    )
    return Container(
        settings=settings,
        app=app,
        principals=PrincipalStore(connections, cache=TokenCache(settings.database)),
        idempotency=IdempotencyStore(
            connections, ttl=timedelta(hours=settings.idempotency_ttl_hours), clock=clock
        ),
        connections=connections,
        clock=clock,
    )


def limit_claim_rate(container: Container, views: ViewStore | None = None) -> None:
    """Apply the policy's claim-rate limit to the buyers the process serves (counted in the claims view,
    read from ``views``: the serving process passes its read routes' pooled store, so the check shares
    their connections; else a store of the container's own, pooled on PostgreSQL).

    The API applies it; in-process tools that open claims for tests and benchmarks do not.
    """
    if views is None:
        if container.views is None:
            settings = container.settings
            container.views = ViewStore(
                settings.database, pool_size=settings.side_pool_size, wait_seconds=settings.database_timeout_seconds
            )
        views = container.views
    container.app.claim_openings = BuyerOpenings(views)


# --- the read side -----------------------------------------------------------------------------------


def read_side_settings(settings: Settings) -> ReadSideSettings:
    """The part of the process's settings that the read side is given."""
    return ReadSideSettings(**{f.name: getattr(settings, f.name) for f in fields(ReadSideSettings)})


def build_runner(
    container: Container,
    names: Sequence[str] | None = None,
    *,
    settings: ReadSideSettings | None = None,
    batch_size: int | None = None,
    catchup_batch_size: int = CATCHUP_BATCH_SIZE,
    partition: Partition | None = None,
    stop: int | None = None,
) -> ProjectionRunner:
    """A runner of the named projections (all by default) on the container's application and database
    (of one ``partition`` of a rebuild, up to ``stop``, when given)."""
    settings = settings or read_side_settings(container.settings)
    return ProjectionRunner(
        container.app,
        ViewStore(container.settings.database),
        catalog.select(names),
        windows=container.app.windows,
        batch_size=batch_size or settings.projection_batch_size,
        catchup_batch_size=catchup_batch_size,
        poll_seconds=settings.projection_poll_seconds,
        cache_size=settings.projection_cache_size,
        crash_before_commit=crash_hook_from_environment(),
        partition=partition,
        stop=stop,
    )


def build_read_side(container: Container, *, pooled: bool = False) -> ReadSide:
    """What the read routes use: the views' store (a connection pool on PostgreSQL when ``pooled``)."""
    pool_size = container.settings.side_pool_size if pooled else 0
    return ReadSide(
        container.app.recorder,
        container.settings.database,
        read_side_settings(container.settings),
        pool_size=pool_size,
    )


class InProcessProjections:
    """The handle of :func:`start_projections`: the read side, and the runner's thread if there is one."""

    def __init__(self, container: Container, *, run: bool | None = None) -> None:
        self.read_side = build_read_side(container, pooled=True)
        self.runner: ProjectionRunner | None = None
        self._loop: BackgroundLoop | None = None
        if run if run is not None else self.read_side.settings.projections_in_process:
            self.runner = build_runner(container, settings=self.read_side.settings)
            self._loop = BackgroundLoop(self.runner.run_forever, "disputes-projections")

    @property
    def running(self) -> bool:
        return self._loop is not None and self._loop.running

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None:
            self._loop.stop(timeout)
        if self.runner is not None:
            self.runner.close()
        self.read_side.close()


def start_projections(container: Container, *, run: bool | None = None) -> InProcessProjections:
    """Run the projections in a thread of this process (unless DISPUTES_PROJECTIONS_IN_PROCESS=false).

    Call ``.stop()`` on the handle at shutdown. Put the handle's ``read_side`` on ``api.state.read_side``
    so that the read routes share its connection pool.
    """
    return InProcessProjections(container, run=run)


# --- the engines -------------------------------------------------------------------------------------


def build_deadline_engine(container: Container) -> DeadlineEngine:
    """The deadline engine; the ``deadlines`` view it reads is kept by the projections."""
    return DeadlineEngine(container.app, ViewStore(container.settings.database))


def build_standing_engine(container: Container) -> StandingEngine:
    """The merchant standing engine; the ``scorecard`` view it reads is kept by the projections."""
    settings = container.settings
    return StandingEngine(
        container.app, ViewStore(settings.database), review_every=settings.standing_review_seconds
    )


def start_engine(container: Container, engine: ViewEngine, thread_name: str) -> EngineThread:
    """Run an engine in a thread of this process, unless DISPUTES_DEADLINES_IN_PROCESS=false (then the
    ``disputes deadlines`` worker runs it), every DISPUTES_DEADLINE_POLL_SECONDS. ``.stop()`` at shutdown."""
    settings = container.settings
    return EngineThread(
        engine,
        run=settings.deadlines_in_process,
        poll_seconds=settings.deadline_poll_seconds,
        name=thread_name,
        what=engine.what,
        logger=engine.logger,
    )


def start_deadline_engine(container: Container) -> EngineThread:
    """The deadline engine in a thread of this process (unless DISPUTES_DEADLINES_IN_PROCESS=false)."""
    return start_engine(container, build_deadline_engine(container), "disputes-deadlines")


def start_standing_engine(container: Container) -> EngineThread:
    """The standing engine in a thread of this process, beside the deadline engine and under the same
    settings (DISPUTES_DEADLINES_IN_PROCESS, DISPUTES_DEADLINE_POLL_SECONDS)."""
    return start_engine(container, build_standing_engine(container), "disputes-standing")



def build_reminder_engine(container: Container) -> ReminderEngine:
    """The reminder engine; the ``deadlines`` view it reads is kept by the projections."""
    return ReminderEngine(container.app, ViewStore(container.settings.database))


def start_reminder_engine(container: Container) -> EngineThread:
    """The reminder engine in a thread of this process, beside the deadline engine and under the same
    settings (DISPUTES_DEADLINES_IN_PROCESS, DISPUTES_DEADLINE_POLL_SECONDS)."""
    return start_engine(container, build_reminder_engine(container), "disputes-reminders")


# --- events out --------------------------------------------------------------------------------------


def delivery_settings(settings: Settings) -> DeliverySettings:
    return DeliverySettings(
        schedule=settings.webhook_retries,
        timeout=settings.webhook_timeout_seconds,
        allow_private=settings.webhook_allow_private,
        poll_seconds=settings.webhook_poll_seconds,
    )


def build_delivery_workers(container: Container) -> DeliveryWorkers:
    """The webhook delivery workers (one thread per subscription, started by their ``tick``)."""
    return DeliveryWorkers(
        events=OutboundEvents(container.app),
        store=container.webhooks,
        locks=ViewStore(container.settings.database),
        settings=delivery_settings(container.settings),
    )


def build_nats_publisher(container: Container) -> NatsPublisher | None:
    """The JetStream publisher, when DISPUTES_NATS_URL is set."""
    settings = container.settings
    if not settings.nats_url:
        return None
    return NatsPublisher(
        OutboundEvents(container.app),
        ViewStore(settings.database),
        NatsSettings(
            url=settings.nats_url,
            stream=settings.nats_stream,
            subject_prefix=settings.nats_subject_prefix,
            poll_seconds=settings.webhook_poll_seconds,
        ),
    )


class Deliveries:
    """The handle of :func:`start_deliveries`: the webhook workers and the NATS publisher, if running."""

    def __init__(self, container: Container, *, run: bool) -> None:
        settings = container.settings
        self.workers = EngineThread(
            build_delivery_workers(container),
            run=run,
            poll_seconds=settings.webhook_poll_seconds,
            name="disputes-webhooks",
            what="webhook deliveries",
            logger=logging.getLogger("disputes.webhooks"),
        )
        self.publisher = build_nats_publisher(container) if run else None
        self._publisher_loop = (
            BackgroundLoop(self.publisher.run_forever, "disputes-nats") if self.publisher is not None else None
        )

    @property
    def running(self) -> bool:
        return self.workers.running

    def stop(self, timeout: float = 10.0) -> None:
        if self._publisher_loop is not None:
            self._publisher_loop.stop(timeout)
        if self.publisher is not None:
            self.publisher.close()
        self.workers.stop(timeout)


def start_deliveries(container: Container, *, run: bool | None = None) -> Deliveries:
    """Webhook deliveries and the NATS publisher in threads of this process (unless
    DISPUTES_DELIVERIES_IN_PROCESS=false: then `disputes deliver` runs them). ``.stop()`` at shutdown."""
    return Deliveries(container, run=container.settings.deliveries_in_process if run is None else run)


def outbox_status(container: Container) -> dict[str, Any]:
    """Plain numbers on events out, for /metrics and /readyz: deliveries by status, and the NATS
    publisher's position and lag (None when DISPUTES_NATS_URL is not set)."""
    head = int(container.app.recorder.max_notification_id() or 0)
    nats = nats_lag(ViewStore(container.settings.database), head) if container.settings.nats_url else None
    return {"webhook_deliveries": container.webhooks.counts(), "nats": nats}
