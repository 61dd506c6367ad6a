"""Principals' tokens on a real database: issued, checked, expired and revoked."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from disputes.adapters.database import DatabaseUrl, connect
from disputes.adapters.migrations import DatabaseNotMigrated, apply_migrations
from disputes.adapters.principals import PrincipalStore
from disputes.domain.errors import InvalidValue
from disputes.domain.parties import Actor, Role

NOW = datetime(2026, 11, 25, 9, 30, 0, 123456, tzinfo=UTC)
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


@pytest.fixture
def store(database_url: str) -> PrincipalStore:
    db = DatabaseUrl.parse(database_url)
    apply_migrations(db)
    return PrincipalStore(db)


def test_a_new_token_authenticates_as_its_principal(store: PrincipalStore) -> None:
    record, token = store.add(Role.BUYER, "alice", now=NOW)

    assert store.authenticate(token, now=NOW) == Actor(Role.BUYER, "alice")
    assert re.fullmatch(rf"dsp_{record.token_id}_[A-Za-z0-9_-]{{43}}", token)
    assert re.fullmatch(r"[A-Za-z0-9]{12}", record.token_id)


def test_each_token_is_new_even_for_the_same_principal(store: PrincipalStore) -> None:
    first, first_token = store.add(Role.MERCHANT, "shop-1", now=NOW)
    second, second_token = store.add(Role.MERCHANT, "shop-1", now=NOW)

    assert first.token_id != second.token_id
    assert first_token != second_token
    assert store.authenticate(first_token, now=NOW) == store.authenticate(second_token, now=NOW)


def test_only_the_hash_of_a_token_is_stored(store: PrincipalStore) -> None:
    _, token = store.add(Role.MEDIATOR, "m-7", now=NOW)

    with connect(store.db) as conn:
        rows = conn.execute("SELECT * FROM principal_tokens").fetchall()

    assert len(rows) == 1
    assert all(token not in str(value) for value in rows[0])
    assert hashlib.sha256(token.encode()).hexdigest() in rows[0]


def test_times_are_stored_as_rfc3339_utc_text(store: PrincipalStore) -> None:
    store.add(Role.AUDITOR, "aud", NOW + timedelta(days=1), now=NOW.astimezone(timezone(timedelta(hours=8))))

    with connect(store.db) as conn:
        created_at, expires_at = conn.execute(
            "SELECT created_at, expires_at FROM principal_tokens"
        ).fetchone()

    assert created_at == "2026-11-25T09:30:00.123456+00:00"
    assert RFC3339_UTC.match(expires_at)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: "",
        lambda t: "dsp_",
        lambda t: t[:-1],
        lambda t: t + "x",
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: "xyz" + t[3:],
        lambda t: t.upper(),
        lambda t: " " + t,
        lambda t: "dsp_" + "a" * 12 + "_" + "b" * 43,
    ],
    ids=[
        "empty",
        "prefix-only",
        "shortened",
        "lengthened",
        "altered",
        "other-prefix",
        "upper",
        "space",
        "made-up",
    ],
)
def test_unknown_or_malformed_tokens_do_not_authenticate(
    store: PrincipalStore, mangle: Callable[[str], str]
) -> None:
    _, token = store.add(Role.BUYER, "alice", now=NOW)

    assert store.authenticate(mangle(token), now=NOW) is None


def test_a_token_expires_at_its_expiry(store: PrincipalStore) -> None:
    expires_at = NOW + timedelta(days=30)
    _, token = store.add(Role.REGULATOR, "samr", expires_at, now=NOW)

    assert store.authenticate(token, now=expires_at - timedelta(microseconds=1)) is not None
    assert store.authenticate(token, now=expires_at) is None
    assert store.authenticate(token, now=expires_at + timedelta(days=1)) is None
    [record] = store.list()
    assert record.status(expires_at) == "expired"


def test_a_revoked_token_no_longer_authenticates(store: PrincipalStore) -> None:
    record, token = store.add(Role.ADMIN, "ops", now=NOW)

    assert store.revoke(token_id=record.token_id, now=NOW + timedelta(seconds=1)) == 1
    assert store.authenticate(token, now=NOW + timedelta(seconds=2)) is None
    assert store.revoke(token_id=record.token_id, now=NOW + timedelta(seconds=3)) == 0
    [listed] = store.list()
    assert listed.revoked_at == NOW + timedelta(seconds=1)
    assert listed.status(NOW) == "revoked"


def test_revoking_a_principal_revokes_all_its_tokens_and_no_one_elses(store: PrincipalStore) -> None:
    _, first = store.add(Role.BUYER, "alice", now=NOW)
    _, second = store.add(Role.BUYER, "alice", now=NOW)
    _, other_role = store.add(Role.MERCHANT, "alice", now=NOW)
    _, other_buyer = store.add(Role.BUYER, "bob", now=NOW)

    assert store.revoke(role=Role.BUYER, principal_id="alice", now=NOW) == 2

    assert store.authenticate(first, now=NOW) is None
    assert store.authenticate(second, now=NOW) is None
    assert store.authenticate(other_role, now=NOW) == Actor(Role.MERCHANT, "alice")
    assert store.authenticate(other_buyer, now=NOW) == Actor(Role.BUYER, "bob")
    assert store.revoke(role=Role.BUYER, principal_id="nobody", now=NOW) == 0


def test_revoking_needs_a_token_id_or_a_whole_principal(store: PrincipalStore) -> None:
    with pytest.raises(InvalidValue):
        store.revoke(now=NOW)
    with pytest.raises(InvalidValue):
        store.revoke(role=Role.BUYER, now=NOW)
    with pytest.raises(InvalidValue):
        store.revoke(token_id="abc", role=Role.BUYER, principal_id="alice", now=NOW)


def test_listing_shows_records_with_utc_times_oldest_first(store: PrincipalStore) -> None:
    older, _ = store.add(Role.BUYER, "alice", now=NOW)
    newer, _ = store.add(Role.MERCHANT, "shop", NOW + timedelta(days=2), now=NOW + timedelta(hours=1))
    store.revoke(token_id=older.token_id, now=NOW + timedelta(hours=2))

    everything = store.list()
    unrevoked = store.list(include_revoked=False)

    assert [r.token_id for r in everything] == [older.token_id, newer.token_id]
    assert [r.token_id for r in unrevoked] == [newer.token_id]
    assert everything[1] == newer
    for record in everything:
        assert record.created_at.tzinfo is UTC
        assert record.expires_at is None or record.expires_at.tzinfo is UTC


@pytest.mark.parametrize("role", [Role.SYSTEM, "system", "superuser"])
def test_roles_without_tokens_are_refused(store: PrincipalStore, role: Role) -> None:
    with pytest.raises(InvalidValue):
        store.add(role, "engine", now=NOW)

    assert store.list() == []


@pytest.mark.parametrize("principal_id", ["", " alice", "-alice", "a" * 65, "al ice", "alice\n"])
def test_invalid_principal_ids_are_refused(store: PrincipalStore, principal_id: str) -> None:
    with pytest.raises(InvalidValue):
        store.add(Role.BUYER, principal_id, now=NOW)

    assert store.list() == []


def test_expiry_must_be_later_than_creation_and_times_must_have_a_zone(store: PrincipalStore) -> None:
    with pytest.raises(InvalidValue):
        store.add(Role.BUYER, "alice", NOW, now=NOW)
    with pytest.raises(InvalidValue):
        store.add(Role.BUYER, "alice", now=NOW.replace(tzinfo=None))
    with pytest.raises(InvalidValue):
        store.add(Role.BUYER, "alice", NOW.replace(tzinfo=None) + timedelta(days=1), now=NOW)


def test_a_store_on_a_database_not_migrated_says_to_migrate(database_url: str) -> None:
    store = PrincipalStore(DatabaseUrl.parse(database_url))

    with pytest.raises(DatabaseNotMigrated, match="run 'disputes migrate' first"):
        store.list()
    with pytest.raises(DatabaseNotMigrated):
        store.authenticate("dsp_" + "a" * 12 + "_" + "b" * 43, now=NOW)
