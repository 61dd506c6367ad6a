"""The composition root: settings in, a wired application and its collaborators out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from disputes.application import Clock, DisputesApplication, utc_now
from disputes.database import ConnectionSource
from disputes.idempotency import IdempotencyStore
from disputes.migrations import require_migrated
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
    """The application on the configured store, which must be migrated (nothing here changes the schema).

    Raises :class:`~disputes.migrations.DatabaseNotMigrated` ("run 'disputes migrate' first") when a
    migration is pending, so no process starts on tables it does not know.
    """
    require_migrated(settings.database)
    return DisputesApplication(
        settings.eventsourcing_env(),
        policy=settings.policy(),
        clock=clock,
        snapshot_interval=settings.snapshot_interval,
    )


def bootstrap(settings: Settings | None = None, clock: Clock = utc_now) -> Container:
    """Wire a process's collaborators on a migrated database (else :class:`DatabaseNotMigrated`)."""
    settings = settings or Settings()
    app = build_application(settings, clock)
    connections = ConnectionSource(settings.database, pool_size=settings.postgres_pool_size)
    return Container(
        settings=settings,
        app=app,
        principals=PrincipalStore(connections),
        idempotency=IdempotencyStore(connections, ttl=timedelta(hours=settings.idempotency_ttl_hours)),
        connections=connections,
        clock=clock,
    )
