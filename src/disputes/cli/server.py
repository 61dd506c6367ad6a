"""``disputes migrate`` and ``disputes serve``: the schema, and the HTTP API."""

from __future__ import annotations

import argparse
import importlib
import socket
from typing import Any

from disputes.adapters.database import check_reachable, redact
from disputes.adapters.logs import configure_logging, logging_config
from disputes.adapters.migrations import applied_migrations, apply_migrations, require_migrated
from disputes.cli.common import error_message, port_number, positive_int
from disputes.cli.workers import serving_workers, several_processes
from disputes.domain.errors import DisputesError
from disputes.settings import Settings

API_FACTORY = "disputes.api.app:create_app"
SERVING_FACTORY = "disputes.api.serving:create_serving_app"
"""With several workers: the same API, in processes that stop when the supervisor is gone."""


def register(commands: Any) -> None:
    migrate = commands.add_parser("migrate", help="create the event tables and apply pending migrations")
    migrate.set_defaults(handler=run_migrate)

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", help="address to listen on (default: DISPUTES_HOST)")
    serve.add_argument("--port", type=port_number, help="port to listen on (default: DISPUTES_PORT)")
    serve.add_argument(
        "--workers",
        type=positive_int,
        help="serving processes (default: DISPUTES_WORKERS, else the CPU count on PostgreSQL, 1 on SQLite); "
        "with more than one, the projections, engines and deliveries run in one process of their own",
    )
    serve.set_defaults(handler=run_serve)


def run_migrate(args: argparse.Namespace) -> int:
    """The one command that changes the schema; it connects as DISPUTES_MIGRATION_DATABASE_URL if set."""
    settings = Settings()
    db = settings.migration_database
    if db.sqlite_path is not None:
        db.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    check_reachable(db)
    try:
        applied = apply_migrations(db)
    except Exception as exc:
        if _lacks_privilege(exc):
            raise DisputesError(
                f"{error_message(exc)}; migrate as the owner of the schema: set "
                "DISPUTES_MIGRATION_DATABASE_URL to its URL (the server may keep a least-privileged user)"
            ) from exc
        raise
    for name in applied:
        print(f"applied {name}")
    total = len(applied_migrations(db))
    print(f"migrated {redact(settings.migration_url)}: {len(applied)} applied now, {total} in all")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    settings = Settings()
    workers = serving_workers(settings, args.workers)  # refused before anything is opened
    module_name = API_FACTORY.partition(":")[0]
    try:
        importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not f"{module_name}.".startswith(f"{exc.name}."):
            raise
        raise DisputesError(f"the HTTP API is not available: no module {exc.name}") from None
    import uvicorn

    # Refuse at once, in one line, rather than in the server's start-up traceback.
    check_reachable(settings.database)
    require_migrated(settings.database)
    host = args.host if args.host is not None else settings.host
    port = args.port if args.port is not None else settings.port
    configure_logging(settings.log_level)
    # One JSON line per request comes from the API itself (disputes.access): no uvicorn access log.
    if workers == 1:
        uvicorn.run(API_FACTORY, factory=True, host=host, port=port, log_config=None, access_log=False)
        return 0
    # Several: uvicorn's supervisor spawns them (and again when one dies); they log as this process does.
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        SERVING_FACTORY, factory=True, host=host, port=port, workers=workers,
        log_config=logging_config(settings.log_level), access_log=False,
    )
    with several_processes(settings):
        sock = config.bind_socket()
        # uvicorn's own socket leaves Nagle on in the workers' connections (asyncio sets TCP_NODELAY
        # only on sockets it makes): 40 ms per answer, the peer's delayed ACK. Accepted connections
        # inherit it from the listening socket.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        Multiprocess(config, sockets=[sock]).run()
    return 0


def _lacks_privilege(exc: BaseException) -> bool:
    """Whether PostgreSQL refused for want of a privilege (SQLSTATE 42501), here or in a cause."""
    cause: BaseException | None = exc
    while cause is not None:
        if getattr(cause, "sqlstate", None) == "42501":
            return True
        cause = cause.__cause__ or cause.__context__
    return False
