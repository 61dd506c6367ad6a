"""The ``disputes`` command, run as an operator runs it: a separate process, configured by environment."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

import disputes
from disputes.adapters.database import DatabaseUrl, connect
from disputes.adapters.principals import PrincipalStore
from support.processes import assert_one_line_error, run_cli, serving_process

UNREACHABLE_POSTGRES = "postgresql://disputes:secret@127.0.0.1:1/disputes"

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(database_url: str) -> Run:
    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return run_cli(database_url, *args, **env)

    return run


@pytest.fixture
def migrated_cli(cli: Run) -> Run:
    assert cli("migrate").returncode == 0
    return cli


# --- migrate ------------------------------------------------------------------------------------------


def test_migrate_applies_every_migration_and_a_second_run_applies_nothing(cli: Run) -> None:
    first = cli("migrate")
    second = cli("migrate")

    assert first.returncode == 0, first.stderr
    applied = [line for line in first.stdout.splitlines() if line.startswith("applied ")]
    assert "applied 0001_principals" in applied
    assert first.stdout.splitlines()[-1].startswith("migrated ")
    assert f"{len(applied)} applied now, {len(applied)} in all" in first.stdout
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == [second.stdout.splitlines()[-1]]
    assert f"0 applied now, {len(applied)} in all" in second.stdout


def test_migrate_creates_the_directory_of_a_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "not" / "there" / "yet.sqlite"

    result = run_cli(f"sqlite:///{path}", "migrate")

    assert result.returncode == 0, result.stderr
    assert path.is_file()


def test_migrate_on_an_unreachable_postgres_is_a_one_line_error() -> None:
    result = run_cli(UNREACHABLE_POSTGRES, "migrate")

    line = assert_one_line_error(result, "does not answer")
    assert "secret" not in result.stderr + result.stdout
    assert "127.0.0.1" in line


def test_an_unusable_database_url_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_cli("mysql://root:hunter2@db/disputes", "migrate")

    assert_one_line_error(result, "DISPUTES_DATABASE_URL")
    assert "hunter2" not in result.stderr


# --- principals ---------------------------------------------------------------------------------------


def test_principals_add_prints_the_token_as_its_last_line(migrated_cli: Run, database_url: str) -> None:
    result = migrated_cli("principals", "add", "--role", "buyer", "--id", "alice", "--expires-in-days", "7")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) >= 2
    assert "alice" in lines[0]
    token = lines[-1]
    assert token.startswith("dsp_") and " " not in token
    actor = PrincipalStore(DatabaseUrl.parse(database_url)).authenticate(token, now=datetime.now(UTC))
    assert actor is not None and (actor.role.value, actor.id) == ("buyer", "alice")


def test_principals_list_shows_each_token_without_the_token_or_its_hash(
    migrated_cli: Run, database_url: str
) -> None:
    tokens = [
        migrated_cli("principals", "add", "--role", role, "--id", pid).stdout.splitlines()[-1]
        for role, pid in [("buyer", "alice"), ("mediator", "m-1")]
    ]
    with connect(DatabaseUrl.parse(database_url)) as conn:
        hashes = [row[0] for row in conn.execute("SELECT token_hash FROM principal_tokens").fetchall()]

    table = migrated_cli("principals", "list")
    as_json = migrated_cli("principals", "list", "--json")

    assert table.returncode == 0 and as_json.returncode == 0
    for secret in [*tokens, *hashes]:
        assert secret not in table.stdout + as_json.stdout
        assert secret[-20:] not in table.stdout + as_json.stdout
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["token_id", "role", "id", "created_at", "expires_at", "status"]
    assert sorted(row.split()[1:3] for row in rows) == [["buyer", "alice"], ["mediator", "m-1"]]
    assert all(row.split()[-1] == "active" for row in rows)
    records = json.loads(as_json.stdout)
    assert {(r["role"], r["id"], r["status"]) for r in records} == {
        ("buyer", "alice", "active"),
        ("mediator", "m-1", "active"),
    }
    assert all(
        set(r) == {"token_id", "role", "id", "created_at", "expires_at", "revoked_at", "status"}
        for r in records
    )


def test_principals_revoke_by_token_id_and_by_principal(migrated_cli: Run, database_url: str) -> None:
    added = [migrated_cli("principals", "add", "--role", "merchant", "--id", "shop-9") for _ in range(3)]
    tokens = [result.stdout.splitlines()[-1] for result in added]
    token_id = tokens[0].split("_")[1]

    by_id = migrated_cli("principals", "revoke", "--token-id", token_id)
    by_principal = migrated_cli("principals", "revoke", "--role", "merchant", "--id", "shop-9")
    nothing_left = migrated_cli("principals", "revoke", "--role", "merchant", "--id", "shop-9")
    listed = json.loads(migrated_cli("principals", "list", "--json").stdout)

    assert (by_id.returncode, by_id.stdout.strip()) == (0, "revoked 1 token")
    assert (by_principal.returncode, by_principal.stdout.strip()) == (0, "revoked 2 tokens")
    assert nothing_left.returncode != 0
    assert "revoked 0 tokens" in nothing_left.stdout
    assert [r["status"] for r in listed] == ["revoked"] * 3
    store = PrincipalStore(DatabaseUrl.parse(database_url))
    assert all(store.authenticate(token, now=datetime.now(UTC)) is None for token in tokens)


def test_revoking_an_unknown_token_id_fails(migrated_cli: Run) -> None:
    result = migrated_cli("principals", "revoke", "--token-id", "NoSuchToken1")

    assert result.returncode != 0
    assert "revoked 0 tokens" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["principals", "revoke", "--role", "buyer"],
        ["principals", "revoke", "--token-id", "abc", "--role", "buyer", "--id", "alice"],
    ],
    ids=["role-without-id", "token-id-and-principal"],
)
def test_revoke_with_an_incomplete_selection_is_a_one_line_error(migrated_cli: Run, args: list[str]) -> None:
    assert_one_line_error(migrated_cli(*args), "--token-id")


@pytest.mark.parametrize("role", ["superuser", "system", "Buyer"])
def test_adding_a_principal_with_a_bad_role_is_a_one_line_error(migrated_cli: Run, role: str) -> None:
    result = migrated_cli("principals", "add", "--role", role, "--id", "alice")

    assert_one_line_error(result, repr(role))
    assert result.stdout == ""


def test_adding_a_principal_with_a_bad_id_is_a_one_line_error(migrated_cli: Run) -> None:
    assert_one_line_error(migrated_cli("principals", "add", "--role", "buyer", "--id", "no spaces"))


@pytest.mark.parametrize(
    "args",
    [["principals", "list"], ["principals", "add", "--role", "buyer", "--id", "alice"]],
    ids=["list", "add"],
)
def test_principals_on_a_database_not_migrated_say_to_migrate_first(cli: Run, args: list[str]) -> None:
    assert_one_line_error(cli(*args), "run 'disputes migrate' first")


def test_principals_on_an_unreachable_postgres_is_a_one_line_error() -> None:
    assert_one_line_error(run_cli(UNREACHABLE_POSTGRES, "principals", "list"), "database error")


# --- the rest -----------------------------------------------------------------------------------------


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    result = run_cli(f"sqlite:///{tmp_path / 'd.sqlite'}", "--version")

    assert (result.returncode, result.stdout.strip()) == (0, f"disputes {disputes.__version__}")


def test_invalid_settings_are_a_one_line_error(tmp_path: Path) -> None:
    result = run_cli(f"sqlite:///{tmp_path / 'd.sqlite'}", "serve", DISPUTES_PORT="99999")

    assert_one_line_error(result, "DISPUTES_PORT")


def test_a_usage_error_exits_with_status_2(tmp_path: Path) -> None:
    result = run_cli(f"sqlite:///{tmp_path / 'd.sqlite'}", "principals", "add", "--role", "buyer")

    assert result.returncode == 2
    assert "--id" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("disputes.api.app") is None, reason="disputes.api.app not there yet"
)
def test_serve_answers_health_checks_on_the_chosen_port(sqlite_url: str) -> None:
    assert run_cli(sqlite_url, "migrate").returncode == 0
    with serving_process(sqlite_url) as base_url:
        response = httpx.get(f"{base_url}/healthz", timeout=5)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "args", [["serve"], ["project", "--once"], ["deadlines", "--once"], ["verify-store"], ["seal"]]
)
def test_a_process_on_a_database_not_migrated_says_to_migrate_first(cli: Run, args: list[str]) -> None:
    """Nothing but migrate changes the schema: every other process refuses an unmigrated database."""
    assert_one_line_error(cli(*args), "run 'disputes migrate' first")
