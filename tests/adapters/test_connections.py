"""The server's connection source: pooled on PostgreSQL, plain on SQLite, with readers never locked out."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime

import psycopg
import pytest

from disputes.adapters.database import ConnectionSource, DatabaseUrl
from disputes.adapters.migrations import apply_migrations
from disputes.bootstrap import bootstrap
from disputes.domain.parties import Actor, Role
from disputes.settings import Settings

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def connections_to(url: str) -> int:
    """How many client sessions other than this one are connected to the database."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"  # not autovacuum workers
        ).fetchone()
    assert row is not None
    return int(row[0])


def no_connections_left(url: str, within: float = 20.0) -> bool:
    """Whether every client session to the database ends within a few seconds (backends end
    asynchronously after the client closes, later still on a busy machine)."""
    deadline = time.monotonic() + within
    while connections_to(url) and time.monotonic() < deadline:
        time.sleep(0.05)
    return connections_to(url) == 0


def test_a_transaction_commits_on_success_and_rolls_back_on_error(database_url: str) -> None:
    source = ConnectionSource(DatabaseUrl.parse(database_url))
    try:
        with source.transaction() as conn:
            conn.execute("CREATE TABLE kept (n INTEGER)")
            conn.execute("INSERT INTO kept VALUES (1)")
        with pytest.raises(RuntimeError), source.transaction() as conn:
            conn.execute("INSERT INTO kept VALUES (2)")
            raise RuntimeError("undo")
        with source.transaction(write=False) as conn:
            assert conn.execute("SELECT n FROM kept").fetchall() == [(1,)]
    finally:
        source.close()


@pytest.mark.postgres
def test_postgres_connections_are_opened_on_first_use_and_reused(postgres_url: str) -> None:
    source = ConnectionSource(DatabaseUrl.parse(postgres_url), pool_size=3)
    try:
        assert connections_to(postgres_url) == 0  # nothing opened yet
        backends = set()
        for _ in range(20):
            with source.transaction(write=False) as conn:
                backends.add(conn.execute("SELECT pg_backend_pid()").fetchone()[0])
        assert len(backends) <= 3  # twenty transactions on at most pool_size connections
    finally:
        source.close()
    assert no_connections_left(postgres_url)


@pytest.mark.postgres
def test_a_connection_the_server_dropped_is_replaced_unseen(postgres_url: str) -> None:
    source = ConnectionSource(DatabaseUrl.parse(postgres_url), pool_size=1)
    try:
        with source.transaction(write=False) as conn:
            dropped = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        with psycopg.connect(postgres_url, autocommit=True) as admin:  # as a server restart would
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (dropped,))  # returns once it has ended
        with source.transaction(write=False) as conn:
            assert conn.execute("SELECT pg_backend_pid()").fetchone()[0] != dropped
    finally:
        source.close()


@pytest.mark.postgres
def test_closing_the_container_leaves_no_connection_behind(postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url)
    apply_migrations(settings.database)
    container = bootstrap(settings)
    _, token = container.principals.add(Role.AUDITOR, "aud1", now=NOW)
    for _ in range(5):
        assert container.principals.authenticate(token, now=NOW) == Actor(Role.AUDITOR, "aud1")
    assert connections_to(postgres_url) >= 1

    container.close()
    assert no_connections_left(postgres_url)


def test_sqlite_token_checks_do_not_wait_for_a_writer(sqlite_url: str) -> None:
    settings = Settings(database_url=sqlite_url)
    apply_migrations(settings.database)
    container = bootstrap(settings)
    _, token = container.principals.add(Role.BUYER, "b1", now=NOW)
    assert settings.database.sqlite_path is not None
    writer = sqlite3.connect(settings.database.sqlite_path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock
        start = time.monotonic()
        assert container.principals.authenticate(token, now=NOW) == Actor(Role.BUYER, "b1")
        assert time.monotonic() - start < 1
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        container.close()
