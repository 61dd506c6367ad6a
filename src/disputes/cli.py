"""The ``disputes`` command: migrate the database, manage principals' tokens, serve the HTTP API.

Settings come from the environment (``DISPUTES_*``). Every failure is one line on stderr,
``disputes: error: <message>``, and exit status 2, the same as a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sqlite3
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from disputes import __version__
from disputes.cli_audit import register as register_audit
from disputes.cli_deadlines import register as register_deadlines
from disputes.cli_policy import register as register_policy
from disputes.cli_projections import register as register_projections
from disputes.database import DatabaseUrl, DatabaseUrlError, check_reachable, redact
from disputes.domain.errors import DisputesError
from disputes.migrations import applied_migrations, apply_migrations, require_migrated
from disputes.principals import PrincipalStore, TokenRecord, token_role
from disputes.settings import Settings

PROG = "disputes"
ERROR_STATUS = 2
API_FACTORY = "disputes.api.app:create_app"

Handler = Callable[[argparse.Namespace], int]


def main(argv: list[str] | None = None) -> int:
    """Run the command named by ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and usage errors
        return exit_.code if isinstance(exit_.code, int) else ERROR_STATUS
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.traceback:
            raise
        print(f"{PROG}: error: {error_message(exc)}", file=sys.stderr)
        return ERROR_STATUS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="After-sales dispute backend.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--traceback", action="store_true", help="on an error, show the full traceback")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    migrate = commands.add_parser("migrate", help="create the event tables and apply pending migrations")
    migrate.set_defaults(handler=run_migrate)

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", help="address to listen on (default: DISPUTES_HOST)")
    serve.add_argument("--port", type=_port, help="port to listen on (default: DISPUTES_PORT)")
    serve.set_defaults(handler=run_serve)

    principals = commands.add_parser("principals", help="issue, list and revoke API tokens")
    actions = principals.add_subparsers(title="actions", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="issue a token; the token is the last line printed")
    add.add_argument("--role", required=True, help="buyer, merchant, mediator, auditor, regulator or admin")
    add.add_argument("--id", required=True, dest="principal_id", help="the principal's id within its role")
    add.add_argument("--expires-in-days", type=_positive_int, metavar="N", help="default: never expires")
    add.set_defaults(handler=run_principals_add)

    listing = actions.add_parser("list", help="list tokens (never the tokens themselves)")
    listing.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    listing.set_defaults(handler=run_principals_list)

    revoke = actions.add_parser("revoke", help="revoke one token, or all of a principal's tokens")
    revoke.add_argument("--token-id", help="the token's public id, as listed")
    revoke.add_argument("--role", help="with --id: revoke all of this principal's tokens")
    revoke.add_argument("--id", dest="principal_id", help="with --role")
    revoke.set_defaults(handler=run_principals_revoke)

    register_projections(commands)
    register_audit(commands)
    register_deadlines(commands)
    register_policy(commands)
    return parser


# --- commands --------------------------------------------------------------------------------------


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


def run_principals_add(args: argparse.Namespace) -> int:
    store = _principal_store()
    now = datetime.now(UTC)
    expires_at = now + timedelta(days=args.expires_in_days) if args.expires_in_days else None
    record, token = store.add(token_role(args.role), args.principal_id, expires_at, now=now)
    expiry = f"expires {_time(record.expires_at)}" if record.expires_at else "never expires"
    print(
        f"added token {record.token_id} for {record.role.value} {record.principal_id!r} ({expiry}); "
        "the token below is shown only this once:"
    )
    print(token)
    return 0


def run_principals_list(args: argparse.Namespace) -> int:
    records = _principal_store().list()
    now = datetime.now(UTC)
    if args.json:
        print(json.dumps([_record_json(r, now) for r in records], indent=2))
    else:
        print(_table(records, now))
    return 0


def run_principals_revoke(args: argparse.Namespace) -> int:
    by_token = args.token_id is not None
    by_principal = args.role is not None or args.principal_id is not None
    if by_token == by_principal or (by_principal and (args.role is None or args.principal_id is None)):
        raise DisputesError("principals revoke needs either --token-id, or both --role and --id")
    store = _principal_store()
    now = datetime.now(UTC)
    if by_token:
        count = store.revoke(token_id=args.token_id, now=now)
    else:
        count = store.revoke(role=token_role(args.role), principal_id=args.principal_id, now=now)
    print(f"revoked {count} token{'' if count == 1 else 's'}")
    return 0 if count else 1


def run_serve(args: argparse.Namespace) -> int:
    settings = Settings()
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
    uvicorn.run(API_FACTORY, factory=True, host=host, port=port)
    return 0


# --- helpers ---------------------------------------------------------------------------------------


def error_message(exc: BaseException) -> str:
    """One line saying what went wrong, for an operator."""
    if isinstance(exc, ValidationError):
        text = _validation_message(exc)
    elif isinstance(exc, DisputesError):
        text = exc.detail
    elif isinstance(exc, DatabaseUrlError | OSError):
        text = str(exc)
    elif _is_database_error(exc):
        text = f"database error: {exc}"
    else:
        text = f"unexpected {type(exc).__name__}: {exc} (run with --traceback for details)"
    return " ".join(text.split())


def _validation_message(exc: ValidationError) -> str:
    prefix = Settings.model_config.get("env_prefix", "") if exc.title == Settings.__name__ else ""
    problems = (f"{prefix}{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
    what = "settings" if prefix else exc.title
    return f"invalid {what}: " + "; ".join(problems)


def _is_database_error(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        return True
    module = type(exc).__module__
    return module.startswith("psycopg") or module.startswith("eventsourcing")


def _lacks_privilege(exc: BaseException) -> bool:
    """Whether PostgreSQL refused for want of a privilege (SQLSTATE 42501), here or in a cause."""
    cause: BaseException | None = exc
    while cause is not None:
        if getattr(cause, "sqlstate", None) == "42501":
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _principal_store() -> PrincipalStore:
    db: DatabaseUrl = Settings().database
    require_migrated(db)
    return PrincipalStore(db)


def _record_json(record: TokenRecord, now: datetime) -> dict[str, str | None]:
    return {
        "token_id": record.token_id,
        "role": record.role.value,
        "id": record.principal_id,
        "created_at": _time(record.created_at),
        "expires_at": _time(record.expires_at) if record.expires_at else None,
        "revoked_at": _time(record.revoked_at) if record.revoked_at else None,
        "status": record.status(now),
    }


def _table(records: list[TokenRecord], now: datetime) -> str:
    header = ("token_id", "role", "id", "created_at", "expires_at", "status")
    rows = [
        (
            r.token_id,
            r.role.value,
            r.principal_id,
            _time(r.created_at),
            _time(r.expires_at) if r.expires_at else "never",
            r.status(now),
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in [header, *rows])
    return "\n".join(line.rstrip() for line in lines)


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _port(text: str) -> int:
    value = _positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return value
