"""Fixtures of the audit tests (``tests/audit`` and the audit commands in ``tests/cli``): a migrated store
of the test's own on each backend, a signing key. A conftest or a test module imports them by name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from disputes.adapters.database import DatabaseUrl
from disputes.adapters.migrations import apply_migrations
from disputes.application.claims import DisputesApplication
from disputes.audit.keys import SigningKey, generate_key, load_signing_key
from disputes.bootstrap import Container, bootstrap
from disputes.settings import Settings
from support import CLAIMANT_FACTS
from support.audit import START, Clock, Tamper


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def container(database_url: str, clock: Clock, tmp_path: Path) -> Iterator[Container]:
    settings = Settings(database_url=database_url, order_facts=CLAIMANT_FACTS)
    apply_migrations(settings.database)
    built = bootstrap(settings, clock=clock)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def app(container: Container) -> DisputesApplication:
    return container.app


@pytest.fixture
def db(container: Container) -> DatabaseUrl:
    return container.settings.database


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    generate_key(tmp_path / "keys")
    return tmp_path / "keys"


@pytest.fixture
def key(key_dir: Path) -> SigningKey:
    return load_signing_key(key_dir / "signing-key.pem")


@pytest.fixture
def tamper(app: DisputesApplication, db: DatabaseUrl) -> Tamper:
    return Tamper(app, db)
