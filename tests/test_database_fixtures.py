"""The database fixtures of conftest.py, exercised against real databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

_seen_databases: set[str] = set()


def _user_tables(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
    ).fetchall()
    return [str(row[0]) for row in rows]


@pytest.mark.postgres
@pytest.mark.parametrize("attempt", [1, 2])
def test_each_postgres_test_gets_its_own_empty_database(postgres_url: str, attempt: int) -> None:
    with psycopg.connect(postgres_url) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
        assert name is not None
        assert name[0] not in _seen_databases
        _seen_databases.add(str(name[0]))

        assert _user_tables(conn) == []
        conn.execute("CREATE TABLE marker (attempt integer NOT NULL)")
        conn.execute("INSERT INTO marker VALUES (%s)", (attempt,))
        assert conn.execute("SELECT attempt FROM marker").fetchall() == [(attempt,)]


@pytest.mark.parametrize("attempt", [1, 2])
def test_each_sqlite_test_gets_its_own_file_that_does_not_exist_yet(sqlite_url: str, attempt: int) -> None:
    assert sqlite_url.startswith("sqlite:////")
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    assert path.is_absolute()
    assert not path.exists()

    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE marker (attempt integer NOT NULL)")
        conn.execute("INSERT INTO marker VALUES (?)", (attempt,))
    conn.close()
    assert path.exists()


def test_database_url_gives_an_empty_writable_database_on_every_backend(database_url: str) -> None:
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as lite:
            assert lite.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
            lite.execute("CREATE TABLE marker (n integer)")
        lite.close()
    else:
        assert database_url.startswith("postgresql://")
        with psycopg.connect(database_url) as conn:
            assert _user_tables(conn) == []
            conn.execute("CREATE TABLE marker (n integer)")


@pytest.mark.postgres
def test_a_test_database_is_dropped_when_its_test_ends(
    postgres_server_url: str, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs a small suite in a child pytest, pointed at this session's server through the env var."""
    names_file = pytester.path / "names.txt"
    pytester.makeconftest(Path(__file__).with_name("conftest.py").read_text())
    pytester.makepyfile(
        test_inner=f"""
        import psycopg

        def test_uses_a_database(postgres_url):
            with psycopg.connect(postgres_url) as conn:
                name = conn.execute("SELECT current_database()").fetchone()[0]
            with open({str(names_file)!r}, "a") as out:
                out.write(name + "\\n")
        """
    )
    monkeypatch.setenv("DISPUTES_TEST_DATABASE_URL", postgres_server_url)
    monkeypatch.setenv("CI", "true")

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
    names = names_file.read_text().split()
    assert len(names) == 1
    assert names[0].startswith("disputes_test_")
    with psycopg.connect(postgres_server_url) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname = %s", (names[0],)).fetchall()
    assert left == []
