"""Fixtures of the audit tests: a migrated store of the test's own on each backend, a signing key."""

from support.audit_fixtures import app, clock, container, db, key, key_dir, tamper  # noqa: F401
