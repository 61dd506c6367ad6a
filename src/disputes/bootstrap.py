"""The composition root: settings in, a wired application and its collaborators out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from disputes.application import Clock, DisputesApplication, utc_now
from disputes.database import ConnectionSource, schema_lock
from disputes.idempotency import IdempotencyStore
from disputes.principals import PrincipalStore
from disputes.settings import Settings


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

    def close(self) -> None:
        self.app.close()
        self.connections.close()


def build_application(settings: Settings, clock: Clock = utc_now) -> DisputesApplication:
    """The application on the configured store; creates the event tables when they are missing."""
    with schema_lock(settings.database):
        return DisputesApplication(
            settings.eventsourcing_env(),
            policy=settings.policy(),
            clock=clock,
            snapshot_interval=settings.snapshot_interval,
        )


def create_event_tables(settings: Settings) -> None:
    """Create the event store's tables (the library's own DDL) if they are missing."""
    build_application(settings).close()


def bootstrap(settings: Settings | None = None, clock: Clock = utc_now) -> Container:
    settings = settings or Settings()
    connections = ConnectionSource(settings.database, pool_size=settings.postgres_pool_size)
    return Container(
        settings=settings,
        app=build_application(settings, clock),
        principals=PrincipalStore(connections),
        idempotency=IdempotencyStore(connections, ttl=timedelta(hours=settings.idempotency_ttl_hours)),
        connections=connections,
        clock=clock,
    )
