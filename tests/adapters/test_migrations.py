"""Migrations: chosen per dialect, applied in order and exactly once, and the event table's guard."""

from __future__ import annotations

import threading
from pathlib import Path
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from disputes.adapters.database import DatabaseUrl, connect
from disputes.adapters.migrations import (
    DatabaseNotMigrated,
    MigrationError,
    applied_migrations,
    apply_migrations,
    discover,
    pending_migrations,
)
from disputes.bootstrap import bootstrap
from disputes.settings import Settings

EXPECTED = {
    "sqlite": ["0001_principals"],
    "postgres": ["0001_principals", "0002_events_append_only"],
}


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


# --- which files apply --------------------------------------------------------------------------------


def test_migrations_are_chosen_per_dialect_and_put_in_number_order(tmp_path: Path) -> None:
    directory = write(
        tmp_path,
        {
            "0003_both.sqlite.sql": "-- sqlite three",
            "0003_both.postgres.sql": "-- postgres three",
            "0001_first.sql": "-- portable one",
            "0002_only_pg.postgres.sql": "-- postgres two",
            "0004_only_lite.sqlite.sql": "-- sqlite four",
            "README.md": "not a migration",
        },
    )

    sqlite = discover("sqlite", directory)
    postgres = discover("postgres", directory)

    assert [(m.name, m.sql) for m in sqlite] == [
        ("0001_first", "-- portable one"),
        ("0003_both", "-- sqlite three"),
        ("0004_only_lite", "-- sqlite four"),
    ]
    assert [(m.name, m.sql) for m in postgres] == [
        ("0001_first", "-- portable one"),
        ("0002_only_pg", "-- postgres two"),
        ("0003_both", "-- postgres three"),
    ]


@pytest.mark.parametrize(
    "files",
    [
        {"1_short.sql": ""},
        {"0001_Upper.sql": ""},
        {"0001_x.mysql.sql": ""},
        {"0001_a.sql": "", "0001_b.sql": ""},
        {"0001_a.sql": "", "0001_a.postgres.sql": ""},
        {"0001_a.sqlite.sql": "", "0001_b.postgres.sql": ""},
    ],
    ids=["short-number", "uppercase", "unknown-dialect", "two-names", "portable-and-dialect", "names-differ"],
)
def test_misnamed_or_ambiguous_migration_files_are_refused(tmp_path: Path, files: dict[str, str]) -> None:
    with pytest.raises(MigrationError):
        discover("sqlite", write(tmp_path, files))


def test_the_project_migrations_are_found_without_configuration() -> None:
    names = [m.name for m in discover("postgres")]

    assert names[:2] == EXPECTED["postgres"]


# --- applying -----------------------------------------------------------------------------------------


def test_a_database_never_migrated_has_everything_pending(database_url: str) -> None:
    db = DatabaseUrl.parse(database_url)

    assert applied_migrations(db) == []
    assert pending_migrations(db)[: len(EXPECTED[db.dialect])] == EXPECTED[db.dialect]
    if db.sqlite_path is not None:
        assert not db.sqlite_path.exists(), "looking must not create the database file"


def test_each_migration_is_applied_once_and_recorded(database_url: str) -> None:
    db = DatabaseUrl.parse(database_url)

    first = apply_migrations(db)
    second = apply_migrations(db)

    assert first[: len(EXPECTED[db.dialect])] == EXPECTED[db.dialect]
    assert second == []
    assert applied_migrations(db) == first
    assert pending_migrations(db) == []
    with connect(db) as conn:
        rows = conn.execute("SELECT name, applied_at FROM schema_migrations ORDER BY name").fetchall()
    assert [name for name, _ in rows] == first
    assert all(applied_at is not None for _, applied_at in rows)


def test_concurrent_runs_apply_each_migration_exactly_once(database_url: str) -> None:
    db = DatabaseUrl.parse(database_url)
    runners = 4
    barrier = threading.Barrier(runners)
    results: list[list[str]] = []
    failures: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(apply_migrations(db))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert sorted(name for result in results for name in result) == applied_migrations(db)


def test_a_failing_migration_is_rolled_back_and_not_recorded(database_url: str, tmp_path: Path) -> None:
    db = DatabaseUrl.parse(database_url)
    directory = write(
        tmp_path / "migrations",
        {
            "0001_good.sql": "CREATE TABLE good (id INTEGER PRIMARY KEY);",
            "0002_bad.sql": "CREATE TABLE half_done (id INTEGER);\nINSERT INTO no_such_table VALUES (1);",
        },
    )

    with pytest.raises(MigrationError, match="0002_bad"):
        apply_migrations(db, directory)

    assert applied_migrations(db) == ["0001_good"]
    with connect(db) as conn:
        conn.execute("SELECT count(*) FROM good").fetchone()
    with pytest.raises(Exception, match="half_done"), connect(db) as conn:
        conn.execute("SELECT count(*) FROM half_done").fetchone()


def test_a_migration_is_applied_after_the_ones_before_it_are(database_url: str, tmp_path: Path) -> None:
    db = DatabaseUrl.parse(database_url)
    directory = tmp_path / "migrations"
    write(directory, {"0001_one.sql": "CREATE TABLE one (id INTEGER);"})
    assert apply_migrations(db, directory) == ["0001_one"]

    write(directory, {"0002_two.sql": "CREATE TABLE two (id INTEGER);"})

    assert apply_migrations(db, directory) == ["0002_two"]
    assert applied_migrations(db) == ["0001_one", "0002_two"]


# --- the append-only event table (PostgreSQL) ---------------------------------------------------------


INSERT_EVENT = (
    "INSERT INTO disputes_events (originator_id, originator_version, topic, state) VALUES (%s, 1, %s, %s)"
)


@pytest.fixture
def guarded_postgres(postgres_url: str) -> str:
    """A migrated PostgreSQL database holding one recorded event."""
    apply_migrations(DatabaseUrl.parse(postgres_url))
    with psycopg.connect(postgres_url) as conn:
        conn.execute(INSERT_EVENT, (uuid4(), "tests:Recorded", b"{}"))
    return postgres_url


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE disputes_events SET topic = 'tampered'",
        "DELETE FROM disputes_events",
        "TRUNCATE disputes_events",
    ],
    ids=["update", "delete", "truncate"],
)
def test_recorded_events_cannot_be_changed_or_removed(guarded_postgres: str, statement: str) -> None:
    with psycopg.connect(guarded_postgres) as conn:
        with pytest.raises(psycopg.Error, match="disputes_events is append-only"):
            conn.execute(statement)
        conn.rollback()
        rows = conn.execute("SELECT topic FROM disputes_events").fetchall()

    assert rows == [("tests:Recorded",)]


def test_events_can_still_be_appended_to_the_guarded_table(guarded_postgres: str) -> None:
    with psycopg.connect(guarded_postgres) as conn:
        conn.execute(INSERT_EVENT, (uuid4(), "tests:Another", b"{}"))
        count = conn.execute("SELECT count(*) FROM disputes_events").fetchone()

    assert count == (2,)


class Note(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text


class Disputes(Application[UUID]):
    name = "disputes"


def test_the_event_store_works_on_the_migrated_guarded_table(postgres_url: str) -> None:
    apply_migrations(DatabaseUrl.parse(postgres_url))

    app = Disputes(Settings(database_url=postgres_url).eventsourcing_env())
    try:
        note = Note("kept")
        app.save(note)
        loaded: Note = app.repository.get(note.id)
    finally:
        app.close()

    assert isinstance(loaded, Note)
    assert loaded.text == "kept"
    with psycopg.connect(postgres_url) as conn, pytest.raises(psycopg.Error, match="append-only"):
        conn.execute("DELETE FROM disputes_events")


def test_migrating_creates_the_event_tables_of_the_library(database_url: str) -> None:
    db = DatabaseUrl.parse(database_url)
    apply_migrations(db)
    if db.dialect == "sqlite":  # the library names its SQLite tables after their purpose only
        query, expected = "SELECT name FROM sqlite_master WHERE type = 'table'", {"stored_events", "stored_snapshots"}
    else:
        query, expected = "SELECT tablename FROM pg_tables", {"disputes_events", "disputes_snapshots"}
    with connect(db) as conn:
        tables = {row[0] for row in conn.execute(query).fetchall()}

    assert expected | {"audit_seal"} <= tables


def test_a_process_on_a_database_not_migrated_is_refused_and_changes_nothing(database_url: str) -> None:
    db = DatabaseUrl.parse(database_url)

    with pytest.raises(DatabaseNotMigrated, match="run 'disputes migrate' first"):
        bootstrap(Settings(database_url=database_url))

    if db.dialect == "sqlite":
        assert db.sqlite_path is not None and not db.sqlite_path.exists()
    else:
        with connect(db) as conn:
            assert conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall() == []
