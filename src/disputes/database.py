"""The one place that understands ``DISPUTES_DATABASE_URL``.

Two forms are accepted: ``sqlite:///relative/or/absolute/path`` (``sqlite:////abs`` also works) and
``postgresql://user:password@host:port/dbname``. Everything else is refused with a clear message.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

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
