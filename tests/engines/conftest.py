"""Fixtures of the engines' tests: a migrated database of the test's own (SQLite and PostgreSQL), the
application on it with a hand-turned clock, a runner, a connection to the views, and the deadline engine."""

from collections.abc import Iterator

import pytest

from disputes.bootstrap import Container
from disputes.engines.deadlines import DeadlineEngine
from projections.store import ViewStore
from support.view_fixtures import app, claims, clock, container, runner, settings, views  # noqa: F401


@pytest.fixture
def engine(container: Container) -> Iterator[DeadlineEngine]:  # noqa: F811 - container is the fixture
    """The deadline engine on the test's database, closed afterwards."""
    built = DeadlineEngine(container.app, ViewStore(container.settings.database))
    try:
        yield built
    finally:
        built.close()
