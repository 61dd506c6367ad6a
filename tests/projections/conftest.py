"""Fixtures of the read-side tests: a migrated database of the test's own (SQLite and PostgreSQL), the
application on it with a hand-turned clock, a runner and a connection to the views.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from projection_support import Claims, ManualClock

from disputes.application import DisputesApplication
from disputes.bootstrap import Container
from disputes.settings import Settings
from projections.readside import build_runner
from projections.runner import ProjectionRunner
from projections.store import ViewConnection, ViewStore
from support import migrated_container


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, env="test")


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
