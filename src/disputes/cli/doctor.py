"""``disputes doctor``: checks what a deployment needs before it serves, and says what is wrong.

Each check prints one line (``ok``, ``warn`` or ``FAIL``, its name, what it found); any failure ends
with one ``disputes: error:`` line and exit status 1. Nothing is changed: no table is created, no
migration applied, no SQLite file made.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from disputes.adapters.database import DatabaseUrl, check_reachable, redact
from disputes.adapters.migrations import applied_migrations, pending_migrations
from disputes.audit.keys import load_signing_key
from disputes.cli.common import FAULT_STATUS, PROG, error_message
from disputes.settings import Settings, unsafe_for_production

NATS_DEFAULT_PORT = 4222
NATS_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Finding:
    verdict: Literal["ok", "warn", "FAIL"]
    check: str
    text: str


def register(commands: Any) -> None:
    doctor = commands.add_parser(
        "doctor", help="check the settings, database, migrations, signing key and broker; say what is wrong"
    )
    doctor.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    findings = list(diagnose())
    width = max(len(f.check) for f in findings)
    for finding in findings:
        print(f"{finding.verdict:<4}  {finding.check:<{width}}  {finding.text}")
    failed = [f.check for f in findings if f.verdict == "FAIL"]
    if failed:
        print(f"{PROG}: error: {len(failed)} check(s) failed: {', '.join(failed)}", file=sys.stderr)
        return FAULT_STATUS
    return 0


def diagnose() -> Iterator[Finding]:
    """Every check, in the order a deployment needs them; the later ones only if the settings load."""
    try:
        settings = Settings()
    except Exception as exc:
        yield Finding("FAIL", "settings", error_message(exc))
        return
    yield Finding("ok", "settings", f"environment {settings.env}, policy {settings.policy_version}")
    if settings.env == "production":
        for problem in unsafe_for_production(settings):
            yield Finding("FAIL", "production", problem)
    yield from _database(settings.database, "database")
    if settings.migration_database_url:
        yield from _check("migration database", lambda: _reachable(settings.migration_database))
    yield _signing_key(settings)
    if settings.nats_url:
        yield from _check("nats", lambda: _nats(str(settings.nats_url)))


def _check(name: str, check: Callable[[], str]) -> Iterator[Finding]:
    try:
        yield Finding("ok", name, check())
    except Exception as exc:
        yield Finding("FAIL", name, error_message(exc))


def _reachable(url: DatabaseUrl) -> str:
    check_reachable(url)
    return f"{url.dialect} answers"


def _database(url: DatabaseUrl, name: str) -> Iterator[Finding]:
    if url.dialect == "sqlite":
        assert url.sqlite_path is not None
        if not url.sqlite_path.is_file():
            yield Finding("FAIL", name, f"no SQLite file {url.sqlite_path}: run '{PROG} migrate' first")
            return
        if not os.access(url.sqlite_path, os.R_OK | os.W_OK):
            yield Finding("FAIL", name, f"{url.sqlite_path} is not readable and writable by this user")
            return
        yield Finding("ok", name, f"SQLite file {url.sqlite_path}")
    else:
        try:
            check_reachable(url)
        except Exception as exc:
            yield Finding("FAIL", name, error_message(exc))
            return
        yield Finding("ok", name, f"PostgreSQL {url.host}:{url.port}/{url.dbname} answers")
    try:
        pending = pending_migrations(url)
        applied = len(applied_migrations(url))
    except Exception as exc:
        yield Finding("FAIL", "migrations", error_message(exc))
        return
    if pending:
        yield Finding(
            "FAIL",
            "migrations",
            f"{len(pending)} pending (first {pending[0]}): run '{PROG} migrate' first",
        )
    else:
        yield Finding("ok", "migrations", f"all {applied} applied")


def _signing_key(settings: Settings) -> Finding:
    path = settings.signing_key_file
    if path is None:
        verdict: Literal["warn", "FAIL"] = "FAIL" if settings.env == "production" else "warn"
        return Finding(verdict, "signing key", "DISPUTES_SIGNING_KEY_FILE is not set: exports cannot be signed")
    try:
        key = load_signing_key(path)
    except Exception as exc:
        return Finding("FAIL", "signing key", error_message(exc))
    return Finding("ok", "signing key", f"Ed25519 key {key.key_id} from {path}")


def _nats(url: str) -> str:
    """The broker answers with its INFO line (the NATS protocol's greeting)."""
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    host, port = parts.hostname or "127.0.0.1", parts.port or NATS_DEFAULT_PORT
    shown = redact(url)
    try:
        with socket.create_connection((host, port), timeout=NATS_TIMEOUT_SECONDS) as sock:
            greeting = sock.makefile("rb").readline(4096)
    except OSError as exc:
        raise ConnectionError(f"NATS at {shown} does not answer: {exc.strerror or exc}") from None
    if not greeting.startswith(b"INFO "):
        raise ConnectionError(f"{shown} answers, but not as a NATS server")
    return f"NATS at {shown} answers"
