"""Fixtures of the read-side tests (``tests/projections``, ``tests/engines``, the read-side commands in
``tests/cli``): a migrated database of the test's own (SQLite and PostgreSQL), the application on it
with a hand-turned clock, a runner and a connection to the views. A conftest or a test module imports
them by name.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from disputes.application.claims import DisputesApplication
from disputes.bootstrap import Container, build_runner
from disputes.settings import Settings
from projections.runner import ProjectionRunner
from projections.store import ViewConnection, ViewStore
from support import CLAIMANT_FACTS, migrated_container
from support.views import Claims, ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, env="test", order_facts=CLAIMANT_FACTS)


@pytest.fixture
def container(settings: Settings, clock: ManualClock) -> Iterator[Container]:
    with migrated_container(settings, clock) as built:
        yield built


@pytest.fixture
def app(container: Container) -> DisputesApplication:
    return container.app


@pytest.fixture
def claims(app: DisputesApplication, clock: ManualClock) -> Claims:
    return Claims(app, clock)


@pytest.fixture
def runner(container: Container) -> Iterator[ProjectionRunner]:
    built = build_runner(container)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def views(container: Container) -> Iterator[ViewConnection]:
    """A connection to the read-side tables, for looking at rows."""
    conn = ViewStore(container.settings.database).connect()
    try:
        yield conn
    finally:
        conn.close()
