"""The one place that understands ``DISPUTES_DATABASE_URL``.

Two forms are accepted: ``sqlite:///relative/or/absolute/path`` (``sqlite:////abs`` also works) and
``postgresql://user:password@host:port/dbname``. Everything else is refused with a clear message.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

from disputes.domain.errors import DisputesError

if TYPE_CHECKING:
    from disputes.adapters.pools import Pool

Dialect = Literal["sqlite", "postgres"]


class DatabaseUrlError(ValueError):
    """The database URL is not one this program can use."""


@dataclass(frozen=True)
class DatabaseUrl:
    dialect: Dialect
    sqlite_path: Path | None = None
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""

    @classmethod
    def parse(cls, url: str) -> DatabaseUrl:
        if url.startswith("sqlite:///"):
            path = url[len("sqlite:///") :]
            if not path:
                raise DatabaseUrlError("sqlite URL needs a file path: sqlite:///var/disputes.sqlite")
            return cls(dialect="sqlite", sqlite_path=Path(path))
        parts = urlsplit(url)
        if parts.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
            dbname = unquote(parts.path.lstrip("/"))
            if not dbname:
                raise DatabaseUrlError("postgresql URL needs a database name: postgresql://host/db")
            return cls(
                dialect="postgres",
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 5432,
                user=unquote(parts.username or ""),
                password=unquote(parts.password or ""),
                dbname=dbname,
            )
        raise DatabaseUrlError(
            f"unsupported database URL {redact(url)!r}: use sqlite:///PATH or postgresql://USER@HOST/DB"
        )

    def conninfo(self) -> str:
        """libpq keyword string for psycopg (PostgreSQL only)."""
        parts = {"host": self.host, "port": str(self.port), "dbname": self.dbname}
        if self.user:
            parts["user"] = self.user
        if self.password:
            parts["password"] = self.password
        return " ".join(f"{k}={_quote(v)}" for k, v in parts.items())


def placeholders(query: str, dialect: Dialect) -> str:
    """``query``, written with ``?`` placeholders, in the dialect's style (psycopg wants ``%s``)."""
    return query if dialect == "sqlite" else query.replace("?", "%s")


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def redact(url: str) -> str:
    """The URL with any password replaced, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


@contextmanager
def connect(url: DatabaseUrl, *, write: bool = True) -> Iterator[Any]:
    """A DB-API connection in one transaction: committed on success, rolled back on error.

    On SQLite a writing transaction takes the write lock at once (``BEGIN IMMEDIATE``), so it never
    fails half-way on a lock upgrade; a reading one (``write=False``) takes no lock until it reads.
    """
    if url.dialect == "sqlite":
        assert url.sqlite_path is not None
        url.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(url.sqlite_path, timeout=10, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(url.conninfo(), autocommit=False, connect_timeout=10) as pg:
            # psycopg's connection context commits on success and rolls back on error.
            yield pg


class ConnectionSource:
    """Transactions on one database for a long-lived process: pooled on PostgreSQL, plain on SQLite.

    A PostgreSQL connection costs several milliseconds to open, too much for every request's token
    check, so they come from a pool (at least one connection, at most ``pool_size``), opened on first
    use and closed by :meth:`close`. A request waits at most ``wait_seconds`` for a connection, and
    hardly at all while the server is away; connections are checked when one fails, not on every
    checkout (:mod:`disputes.adapters.pools`). SQLite connections are cheap and keep
    :func:`connect`'s locking: a reading transaction takes no lock until it reads. Short-lived commands
    (the CLI) just use :func:`connect`.
    """

    def __init__(self, url: DatabaseUrl, *, pool_size: int = 5, wait_seconds: float = 5.0) -> None:
        self.url = url
        self.pool_size = pool_size
        self.wait_seconds = wait_seconds
        self._pool: Pool | None = None
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Any]:
        """A DB-API connection in one transaction, as :func:`connect` gives."""
        if self.url.dialect == "sqlite":
            with connect(self.url, write=write) as conn:
                yield conn
        else:
            # The pool's connection context commits on success and rolls back on error.
            with self._opened_pool().connection() as pg:
                yield pg

    def pool_stats(self) -> dict[str, int] | None:
        """The pool's figures (psycopg_pool's ``get_stats``), or None while there is no pool."""
        pool = self._pool
        return None if pool is None else dict(pool.get_stats())

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def _opened_pool(self) -> Pool:
        with self._lock:
            if self._pool is None:
                from disputes.adapters.pools import open_pool

                self._pool = open_pool(
                    self.url.conninfo(),
                    max_size=self.pool_size,
                    wait_seconds=self.wait_seconds,
                    autocommit=False,
                    name=f"disputes-{self.url.dbname}",
                )
            return self._pool


def check_reachable(url: DatabaseUrl) -> None:
    """Fail fast, naming the server, when the database does not answer."""
    if url.dialect == "sqlite":
        return
    import psycopg

    try:
        with psycopg.connect(url.conninfo(), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnreachable(
            f"database {url.dbname!r} on {url.host}:{url.port} does not answer: {first}"
        ) from None


class DatabaseUnreachable(OSError):
    """The configured database server cannot be reached."""


class StoreUnavailable(DisputesError):
    """The database did not answer in time; the request may be sent again (with its Idempotency-Key)."""

    code = "store-unavailable"
    title = "Store unavailable"
    status = 503


STORE_RETRY_AFTER_SECONDS = 2


def unavailability_errors() -> tuple[type[Exception], ...]:
    """The exception classes that may mean the database is away (see :func:`is_unavailable`)."""
    import eventsourcing.persistence as es
    import psycopg

    return (es.OperationalError, es.InterfaceError, psycopg.OperationalError, psycopg.InterfaceError,
            sqlite3.OperationalError)


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database is away, or too busy to answer in time:
    a lost or refused connection, no pooled connection within the wait, a SQLite file locked past its
    busy timeout. Such a request may be sent again."""
    errors = unavailability_errors()
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, sqlite3.OperationalError):
            text = str(seen).lower()
            if "locked" in text or "busy" in text:
                return True
        elif isinstance(seen, errors):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# Any fixed 64-bit number: the advisory lock under which `disputes migrate` changes the schema.
DDL_LOCK_KEY = 0x6469737075746573  # b"disputes" read as a big-endian integer
