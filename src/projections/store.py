"""Our own tables in the event store's database: connections, the SQL dialect, stored values.

Every SQL text of the read side is written once, with ``?`` placeholders, and runs on both backends:
for PostgreSQL the placeholders become ``%s`` (so no SQL text here may hold a literal ``?`` or ``%``).
Times are stored as fixed-width RFC 3339 UTC text and amounts as exact decimal strings, so that the
same DDL serves SQLite and PostgreSQL and text order is time order.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from disputes.adapters.database import DatabaseUrl, Dialect
from disputes.adapters.pools import Pool, open_pool

if TYPE_CHECKING:
    import psycopg

Row = tuple[Any, ...]
SQLITE_TIMEOUT_SECONDS = 10
SQLITE_CACHE_KIB = 64 * 1024
COPY_THRESHOLD = 64
"""PostgreSQL: from this many rows on, an upsert goes through COPY and a temporary table."""
POSTGRES_CONNECT_TIMEOUT = 10

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_MICROSECOND = timedelta(microseconds=1)
_pg_texts: dict[str, str] = {}


@lru_cache(maxsize=1 << 16)
def time_text(moment: datetime) -> str:
    """``2026-11-20T09:00:00.000000Z``: UTC, microseconds always shown, so that text order is time order.

    Cached: a claim's times recur in every view and in each of its later events.
    """
    if moment.tzinfo is None:
        raise ValueError("a naive time cannot be stored")
    m = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    # ``...+00:00`` in C, the offset then replaced: a third faster than formatting each field.
    return m.isoformat(timespec="microseconds")[:-6] + "Z"


def micros(delta: timedelta) -> int:
    """A duration in whole microseconds, as the facts tables keep it."""
    return delta // _MICROSECOND


def text_time(text: str) -> datetime:
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


def amount_text(amount: Decimal) -> str:
    return str(amount)


def lock_key(name: str) -> int:
    """The PostgreSQL advisory lock key of one projection: 64 bits of a hash of its name."""
    digest = hashlib.blake2b(f"disputes.projection.{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _postgres_text(sql: str) -> str:
    converted = _pg_texts.get(sql)
    if converted is None:
        if "%" in sql:
            raise ValueError(f"read-side SQL may not contain '%': {sql}")
        converted = _pg_texts[sql] = sql.replace("?", "%s")
    return converted


@dataclass(frozen=True)
class Table:
    """A view table as the writers see it; its write statements are derived here, once.

    ``fixed`` columns never change once a row exists: an upsert leaves them (and the indexes on them)
    alone.
    """

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    fixed: frozenset[str] = frozenset()

    @cached_property
    def insert_sql(self) -> str:
        return f"INSERT INTO {self.name} ({', '.join(self.columns)}) VALUES ({', '.join('?' * len(self.columns))})"

    @cached_property
    def _on_conflict(self) -> str:
        kept = set(self.key) | self.fixed
        updates = ", ".join(f"{c} = excluded.{c}" for c in self.columns if c not in kept)
        return f" ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {updates}"

    @cached_property
    def upsert_sql(self) -> str:
        return self.insert_sql + self._on_conflict

    @cached_property
    def staging(self) -> str:
        return f"staging_{self.name}"

    @cached_property
    def create_staging_sql(self) -> str:
        """PostgreSQL: a session's scratch copy of the table (emptied after each merge)."""
        return f"CREATE TEMPORARY TABLE IF NOT EXISTS {self.staging} (LIKE {self.name})"

    @cached_property
    def merge_sql(self) -> str:
        columns = ", ".join(self.columns)
        return f"INSERT INTO {self.name} ({columns}) SELECT {columns} FROM {self.staging}" + self._on_conflict

    def copy_sql(self, into: str) -> str:
        return f"COPY {into} ({', '.join(self.columns)}) FROM STDIN"


class ViewConnection:
    """One connection to the read side's tables, the same calls on both dialects.

    Outside :meth:`transaction` every statement commits on its own (autocommit); inside, the block is one
    transaction that commits on success and rolls back on any error.
    """

    def __init__(self, dialect: Dialect, raw: Any) -> None:
        self.dialect = dialect
        self.raw = raw
        self._in_transaction = False

    # --- statements ------------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return sql if self.dialect == "sqlite" else _postgres_text(sql)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = self.raw.execute(self._sql(sql), tuple(params))
        rows: list[Row] = cursor.fetchall()
        return rows

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""
        cursor = self.raw.execute(self._sql(sql), tuple(params))
        return int(cursor.rowcount)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.dialect == "sqlite":
            self.raw.executemany(sql, rows)
        else:
            with self.raw.cursor() as cursor:
                cursor.executemany(self._sql(sql), rows)

    def insert_rows(self, table: Table, rows: Sequence[Sequence[Any]]) -> None:
        """Add rows (PostgreSQL: by COPY, many times faster than one INSERT per row)."""
        if not rows:
            return
        if self.dialect == "sqlite":
            self.raw.executemany(table.insert_sql, rows)
            return
        self._copy(table, table.name, rows)

    def upsert_rows(self, table: Table, rows: Sequence[Sequence[Any]]) -> None:
        """Insert or update rows by their key; no two rows may share a key.

        PostgreSQL copies a large batch into a temporary table and merges it with one statement.
        """
        if not rows:
            return
        if self.dialect == "sqlite":
            self.raw.executemany(table.upsert_sql, rows)
        elif len(rows) < COPY_THRESHOLD:
            self.executemany(table.upsert_sql, rows)
        else:
            self.raw.execute(table.create_staging_sql)
            self._copy(table, table.staging, rows)
            self.raw.execute(table.merge_sql)
            self.raw.execute(f"DELETE FROM {table.staging}")

    def _copy(self, table: Table, into: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.raw.cursor() as cursor, cursor.copy(table.copy_sql(into)) as copy:
            for row in rows:
                copy.write_row(row)

    # --- transactions and locks --------------------------------------------------------------------
    @property
    def in_transaction(self) -> bool:
        return self._in_transaction

    @contextmanager
    def transaction(self) -> Iterator[ViewConnection]:
        """One transaction. SQLite takes the write lock at once (BEGIN IMMEDIATE)."""
        if self._in_transaction:
            raise RuntimeError("transactions on a view connection do not nest")
        self._in_transaction = True
        try:
            if self.dialect == "sqlite":
                self.raw.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                except BaseException:
                    self.raw.execute("ROLLBACK")
                    raise
                self.raw.execute("COMMIT")
            else:
                with self.raw.transaction():
                    yield self
        finally:
            self._in_transaction = False

    def try_lock(self, key: int) -> bool:
        """PostgreSQL: take a transaction-scoped advisory lock if free. SQLite has one writer: True."""
        if self.dialect == "sqlite":
            return True
        if not self._in_transaction:
            raise RuntimeError("advisory locks are taken inside a transaction")
        row = self.raw.execute("SELECT pg_try_advisory_xact_lock(%s)", (key,)).fetchone()
        return bool(row[0])

    def lock(self, key: int) -> None:
        """PostgreSQL: wait for a transaction-scoped advisory lock. SQLite: nothing to do."""
        if self.dialect == "postgres":
            if not self._in_transaction:
                raise RuntimeError("advisory locks are taken inside a transaction")
            self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (key,))

    def close(self) -> None:
        self.raw.close()


class WriteBuffer(ViewConnection):
    """A projection's writes, recorded to be replayed later on a real connection, in order.

    On SQLite the runner lets the views build their rows into one of these before it takes the write
    lock, so that the lock (which blocks every other writer: commands, another partition of a rebuild)
    is held only while the rows are written. A view's ``process`` only writes (it reads nothing of its
    own tables back), so nothing changes but when the writing happens.
    """

    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect, None)
        self._writes: list[tuple[Any, Any, Sequence[Sequence[Any]]]] = []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._writes.append((ViewConnection.executemany, sql, rows))

    def insert_rows(self, table: Table, rows: Sequence[Sequence[Any]]) -> None:
        self._writes.append((ViewConnection.insert_rows, table, rows))

    def upsert_rows(self, table: Table, rows: Sequence[Sequence[Any]]) -> None:
        self._writes.append((ViewConnection.upsert_rows, table, rows))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        raise RuntimeError("a view's writes are being recorded: it cannot read here")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        raise RuntimeError("a view's writes are being recorded: no single statement here")

    def replay(self, conn: ViewConnection) -> None:
        for write, target, rows in self._writes:
            write(conn, target, rows)


class ViewStore:
    """Opens connections to the read side's tables (the database of the event store)."""

    def __init__(self, url: DatabaseUrl, *, pool_size: int = 0, wait_seconds: float = 5.0) -> None:
        self.url = url
        self.dialect: Dialect = url.dialect
        self._pool_size = pool_size
        self._wait_seconds = wait_seconds
        self._pool: Pool | None = None
        self._pool_lock = threading.Lock()

    def connect(self) -> ViewConnection:
        """A new connection in autocommit mode; the caller closes it."""
        if self.dialect == "sqlite":
            return ViewConnection("sqlite", self._sqlite())
        return ViewConnection("postgres", self._postgres())

    @contextmanager
    def reading(self) -> Iterator[ViewConnection]:
        """A connection for one request: from the pool on PostgreSQL when there is one."""
        if self.dialect == "postgres" and self._pool_size > 0:
            with self._get_pool().connection() as raw:
                yield ViewConnection("postgres", raw)
            return
        conn = self.connect()
        try:
            yield conn
        finally:
            conn.close()

    def pool_stats(self) -> dict[str, int] | None:
        """The pool's figures (psycopg_pool's ``get_stats``), or None while there is no pool."""
        pool = self._pool
        return None if pool is None else dict(pool.get_stats())

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def _sqlite(self) -> sqlite3.Connection:
        path = self.url.sqlite_path
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = sqlite3.connect(
            path, timeout=SQLITE_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        raw.execute(f"PRAGMA busy_timeout = {SQLITE_TIMEOUT_SECONDS * 1000}")
        # In WAL mode NORMAL keeps every commit atomic; a power cut may lose the last ones, and then the
        # view rows and the position are lost together, so the events are simply processed again.
        raw.execute("PRAGMA synchronous = NORMAL")
        raw.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        raw.execute("PRAGMA wal_autocheckpoint = 20000")
        return raw

    def _postgres(self) -> psycopg.Connection[Any]:
        import psycopg

        return psycopg.connect(
            self.url.conninfo(), autocommit=True, connect_timeout=POSTGRES_CONNECT_TIMEOUT
        )

    def _get_pool(self) -> Pool:
        with self._pool_lock:
            if self._pool is None:
                # Fails fast while the server is away, reconnects soon, checks connections on failure.
                self._pool = open_pool(
                    self.url.conninfo(),
                    max_size=self._pool_size,
                    wait_seconds=self._wait_seconds,
                    autocommit=True,
                    name="disputes-reads",
                )
            return self._pool
