"""Fixtures of the engines' tests: a migrated database of the test's own (SQLite and PostgreSQL), the
application on it with a hand-turned clock, a runner and a connection to the views."""

from support.view_fixtures import app, claims, clock, container, runner, settings, views  # noqa: F401
