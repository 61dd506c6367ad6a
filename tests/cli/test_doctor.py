"""``disputes doctor`` as an operator runs it: a process, configured by the environment alone."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.processes import assert_one_line_error, run_cli

pytestmark = pytest.mark.slow
NATS_URL = "nats://127.0.0.1:4222"  # the NATS server of the test machine


def _lines(stdout: str) -> dict[str, str]:
    """Each check's line by its name (``ok    database  SQLite file ...`` -> {"database": "ok ..."})."""
    found = {}
    for line in stdout.splitlines():
        verdict, _, rest = line.partition("  ")
        name, _, text = rest.strip().partition("  ")
        found[name.strip()] = f"{verdict.strip()} {text.strip()}"
    return found


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'disputes.sqlite'}"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    assert run_cli("sqlite:///unused", "keys", "generate", "--out", str(tmp_path / "keys")).returncode == 0
    return tmp_path / "keys" / "signing-key.pem"


@pytest.fixture
def not_nats() -> Iterator[str]:
    """A server that answers, but not as NATS does."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    try:
        yield f"nats://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()


def test_a_migrated_database_with_a_signing_key_and_a_reachable_broker_passes(
    database_url: str, key_file: Path
) -> None:
    assert run_cli(database_url, "migrate").returncode == 0
    result = run_cli(database_url, "doctor", DISPUTES_SIGNING_KEY_FILE=str(key_file), DISPUTES_NATS_URL=NATS_URL)
    assert result.returncode == 0, result
    lines = _lines(result.stdout)
    assert set(lines) == {"settings", "database", "migrations", "signing key", "nats"}
    assert all(line.startswith("ok ") for line in lines.values()), lines
    assert "applied" in lines["migrations"] and "Ed25519" in lines["signing key"]


def test_an_unmigrated_database_and_a_missing_key_fail_and_say_what_to_do(sqlite_url: str, tmp_path: Path) -> None:
    result = run_cli(sqlite_url, "doctor", DISPUTES_SIGNING_KEY_FILE=str(tmp_path / "nope.pem"))
    assert_one_line_error(result, "2 check(s) failed", "database", "signing key", status=1)
    lines = _lines(result.stdout)
    assert lines["database"].startswith("FAIL ") and "run 'disputes migrate' first" in lines["database"]
    assert lines["signing key"].startswith("FAIL ") and "nope.pem" in lines["signing key"]
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists(), "the doctor created the database"

    assert run_cli(sqlite_url, "migrate").returncode == 0
    (tmp_path / "not-a-key.pem").write_text("hello\n")
    half = run_cli(sqlite_url, "doctor", DISPUTES_SIGNING_KEY_FILE=str(tmp_path / "not-a-key.pem"))
    assert_one_line_error(half, "1 check(s) failed", "signing key", status=1)
    assert _lines(half.stdout)["migrations"].startswith("ok ")


def test_a_broker_that_does_not_answer_as_nats_fails(sqlite_url: str, not_nats: str) -> None:
    assert run_cli(sqlite_url, "migrate").returncode == 0
    result = run_cli(sqlite_url, "doctor", DISPUTES_NATS_URL=not_nats)
    assert_one_line_error(result, "nats", status=1)
    assert "not as a NATS server" in _lines(result.stdout)["nats"]
    closed = run_cli(sqlite_url, "doctor", DISPUTES_NATS_URL="nats://127.0.0.1:1")
    assert_one_line_error(closed, "nats", status=1)
    assert "does not answer" in _lines(closed.stdout)["nats"]
    # Without a key outside production: a warning, not a failure.
    assert _lines(closed.stdout)["signing key"].startswith("warn ")


def test_bad_settings_and_unsafe_production_settings_fail(sqlite_url: str, tmp_path: Path) -> None:
    bad = run_cli(sqlite_url, "doctor", DISPUTES_PORT="seventy")
    assert_one_line_error(bad, "settings", status=1)
    assert _lines(bad.stdout)["settings"].startswith("FAIL ") and "port" in _lines(bad.stdout)["settings"].lower()

    assert run_cli(sqlite_url, "migrate").returncode == 0
    production = run_cli(sqlite_url, "doctor", DISPUTES_ENV="production", DISPUTES_DEBUG="true")
    assert production.returncode == 1
    failures = [line for line in production.stdout.splitlines() if line.startswith("FAIL")]
    assert any("DISPUTES_DEBUG" in line for line in failures)
    assert any("signing key" in line for line in failures)
