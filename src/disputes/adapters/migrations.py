"""Numbered SQL migrations: found, put in order, and applied each exactly once.

A migration is a file ``NNNN_name.sql`` (portable: runs on both dialects) or ``NNNN_name.sqlite.sql`` /
``NNNN_name.postgres.sql`` (for that dialect only). A number has one portable file, or one file per
dialect, or a single dialect's file, in which case the migration applies only there. Each migration runs
in its own transaction together with its row in ``schema_migrations``, so it is applied entirely and
recorded, or not at all. Files must not hold their own BEGIN/COMMIT.

Before the numbered files, the event store's own tables (eventsourcing's DDL) are created if missing
(:func:`disputes.adapters.event_store.create_event_tables`): this is the only place the schema changes, so every
other process may run as a role without DDL rights (see 0030_application_role.postgres.sql).

On PostgreSQL an advisory lock makes concurrent runs take turns; on SQLite ``BEGIN IMMEDIATE`` does.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from disputes.adapters.database import DDL_LOCK_KEY, DatabaseUrl, Dialect, connect
from disputes.adapters.event_store import create_event_tables
from disputes.domain.errors import DisputesError

if TYPE_CHECKING:
    import psycopg

PACKAGED_DIRECTORY = "migrations_sql"
"""Where the wheel puts the top-level ``migrations/`` inside the package."""

ADVISORY_LOCK_KEY = DDL_LOCK_KEY
"""``b"disputes"`` read as a big-endian integer: the PostgreSQL advisory lock migrations hold."""


_FILE_NAME = re.compile(r"^(?P<name>(?P<number>\d{4})_[a-z0-9_]+?)(?:\.(?P<dialect>sqlite|postgres))?\.sql$")

SQLITE_CREATE_LEDGER = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
)
POSTGRES_CREATE_LEDGER = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
)
SQLITE_LEDGER_EXISTS = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
POSTGRES_LEDGER_EXISTS = "SELECT 1 WHERE to_regclass('schema_migrations') IS NOT NULL"
SELECT_APPLIED = "SELECT name FROM schema_migrations ORDER BY name"
SQLITE_IS_APPLIED = "SELECT 1 FROM schema_migrations WHERE name = ?"
SQLITE_RECORD = "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)"
POSTGRES_RECORD = "INSERT INTO schema_migrations (name) VALUES (%s)"


class MigrationError(DisputesError):
    """A migration file is misnamed or ambiguous, or its SQL failed."""

    code = "migration-error"
    title = "Migration failed"
    status = 500


class DatabaseNotMigrated(DisputesError):
    """The database lacks tables that migrations create."""

    code = "database-not-migrated"
    title = "Database not migrated"
    status = 503


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    """The file name without dialect and ``.sql``, e.g. ``0001_principals``; recorded when applied."""
    sql: str


def migrations_directory() -> Traversable:
    """The installed package's migrations if present, else the source tree's top-level ``migrations/``."""
    packaged = resources.files("disputes") / PACKAGED_DIRECTORY
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parents[3] / "migrations"
    if source.is_dir():
        return source
    raise MigrationError(f"no migrations found: neither package data {PACKAGED_DIRECTORY} nor {source}")


def discover(dialect: Dialect, directory: Traversable | None = None) -> list[Migration]:
    """The migrations that apply to ``dialect``, in number order.

    The whole directory is checked, whatever the dialect, so a misnamed file fails on every backend.
    """
    directory = directory if directory is not None else migrations_directory()
    by_number: dict[int, dict[str, Traversable]] = defaultdict(dict)
    names: dict[int, str] = {}
    for entry in directory.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise MigrationError(
                f"migration file {entry.name!r} is not named NNNN_name.sql, "
                "NNNN_name.sqlite.sql or NNNN_name.postgres.sql (lowercase name)"
            )
        number = int(match["number"])
        target = match["dialect"] or "portable"
        if names.setdefault(number, match["name"]) != match["name"]:
            raise MigrationError(
                f"migration number {match['number']} has two names: {names[number]}, {match['name']}"
            )
        if target in by_number[number]:
            raise MigrationError(f"migration {match['name']} has two {target} files")
        by_number[number][target] = entry
    migrations = []
    for number in sorted(by_number):
        files = by_number[number]
        if "portable" in files and len(files) > 1:
            raise MigrationError(f"migration {names[number]} has both a portable and a dialect-specific file")
        chosen = files.get("portable") or files.get(dialect)
        if chosen is not None:
            migrations.append(Migration(number, names[number], chosen.read_text(encoding="utf-8")))
    return migrations


def apply_migrations(db: DatabaseUrl, directory: Traversable | None = None) -> list[str]:
    """Create the event tables if missing, apply the migrations not yet recorded, in order; return the
    names newly applied."""
    migrations = discover(db.dialect, directory)
    if db.dialect == "sqlite":
        return _apply_sqlite(db, migrations)
    return _apply_postgres(db, migrations)


def applied_migrations(db: DatabaseUrl) -> list[str]:
    """Names of the migrations recorded as applied, in order; empty for a database never migrated.

    A SQLite file that does not exist is not created.
    """
    if db.dialect == "sqlite" and (db.sqlite_path is None or not db.sqlite_path.exists()):
        return []
    exists = SQLITE_LEDGER_EXISTS if db.dialect == "sqlite" else POSTGRES_LEDGER_EXISTS
    with connect(db) as conn:
        if conn.execute(exists).fetchone() is None:
            return []
        return [row[0] for row in conn.execute(SELECT_APPLIED).fetchall()]


def pending_migrations(db: DatabaseUrl, directory: Traversable | None = None) -> list[str]:
    """Names of the migrations for this database that are not applied yet."""
    applied = set(applied_migrations(db))
    return [m.name for m in discover(db.dialect, directory) if m.name not in applied]


def require_migrated(db: DatabaseUrl) -> None:
    """Refuse with :class:`DatabaseNotMigrated` unless every migration is applied."""
    pending = pending_migrations(db)
    if pending:
        raise DatabaseNotMigrated(
            f"the database is not migrated ({len(pending)} pending, first {pending[0]}): "
            "run 'disputes migrate' first"
        )


@contextmanager
def table_required(table: str) -> Iterator[None]:
    """Turn a query's "no such table" error into :class:`DatabaseNotMigrated` naming ``table``."""
    try:
        yield
    except Exception as exc:
        missing = (
            "no such table" in str(exc)
            if isinstance(exc, sqlite3.OperationalError)
            else getattr(exc, "sqlstate", None) == "42P01"  # psycopg's UndefinedTable
        )
        if missing:
            raise DatabaseNotMigrated(
                f"the database has no {table} table: run 'disputes migrate' first"
            ) from exc
        raise


def split_sqlite_script(script: str) -> list[str]:
    """The complete statements of a SQLite script (trigger bodies with inner ``;`` stay whole)."""
    statements: list[str] = []
    buffer = ""
    pieces = script.split(";")
    for piece in pieces[:-1]:
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    buffer += pieces[-1]
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def _apply_sqlite(db: DatabaseUrl, migrations: list[Migration]) -> list[str]:
    assert db.sqlite_path is not None
    db.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    create_event_tables(db)  # each CREATE ... IF NOT EXISTS; SQLite's file lock serialises runs
    conn = sqlite3.connect(db.sqlite_path, timeout=10, isolation_level=None)
    applied: list[str] = []
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute(SQLITE_CREATE_LEDGER)
        for migration in migrations:
            # BEGIN IMMEDIATE takes the write lock, so the check below cannot race another runner.
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute(SQLITE_IS_APPLIED, (migration.name,)).fetchone() is None:
                    _run_sqlite(conn, migration)
                    conn.execute(SQLITE_RECORD, (migration.name, _utc_now_text()))
                    applied.append(migration.name)
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
    finally:
        conn.close()
    return applied


def _run_sqlite(conn: sqlite3.Connection, migration: Migration) -> None:
    for statement in split_sqlite_script(migration.sql):
        try:
            conn.execute(statement)
        except sqlite3.Error as exc:
            raise MigrationError(f"migration {migration.name} failed: {exc}") from exc


def _apply_postgres(db: DatabaseUrl, migrations: list[Migration]) -> list[str]:
    import psycopg

    applied: list[str] = []
    with psycopg.connect(db.conninfo(), autocommit=True, connect_timeout=10) as conn:
        # A session lock, held across the per-migration transactions below.
        conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        try:
            create_event_tables(db)
            conn.execute(POSTGRES_CREATE_LEDGER)
            done = {row[0] for row in conn.execute(SELECT_APPLIED).fetchall()}
            for migration in migrations:
                if migration.name not in done:
                    _run_postgres(conn, migration)
                    applied.append(migration.name)
        finally:
            with suppress(psycopg.Error):  # a broken connection has released the lock already
                conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    return applied


def _run_postgres(conn: psycopg.Connection[Any], migration: Migration) -> None:
    import psycopg

    try:
        with conn.transaction():
            # Without parameters psycopg sends the text as one simple query: several statements are fine.
            conn.execute(migration.sql)
            conn.execute(POSTGRES_RECORD, (migration.name,))
    except psycopg.Error as exc:
        raise MigrationError(f"migration {migration.name} failed: {exc}") from exc


def _utc_now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
