"""Token checks from memory on a real database: still refused on the very next check after a change."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from disputes.adapters.database import ConnectionSource, DatabaseUrl, connect, placeholders
from disputes.adapters.migrations import apply_migrations
from disputes.adapters.principals import PrincipalStore
from disputes.adapters.token_cache import TokenCache
from disputes.domain.parties import Actor, Role

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
BUYER = Actor(Role.BUYER, "b1")


@pytest.fixture
def db(database_url: str) -> DatabaseUrl:
    url = DatabaseUrl.parse(database_url)
    apply_migrations(url)
    return url


@pytest.fixture
def server_store(db: DatabaseUrl) -> Iterator[PrincipalStore]:
    """A server process's store: pooled connections and the token cache."""
    source = ConnectionSource(db, pool_size=2)
    store = PrincipalStore(source, cache=TokenCache(db))
    yield store
    store.close()
    source.close()


def checked_twice(store: PrincipalStore, token: str, now: datetime = NOW) -> None:
    """Checked, and checked again (from memory once it may be trusted)."""
    assert store.authenticate(token, now) == BUYER
    assert store.authenticate(token, now) == BUYER


def listening(store: PrincipalStore) -> None:
    """On PostgreSQL: until the cache listens for changes (at start it serves nothing from memory)."""
    cache = store.cache
    assert cache is not None
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while cache.url.dialect == "postgres" and not cache._listening:
        assert datetime.now(UTC) < deadline, "the token cache never listened"


def refused_once_told(store: PrincipalStore, token: str) -> None:
    """Refused as soon as the change has reached this process: at once on SQLite (every check reads
    the counter); on PostgreSQL once the notification has arrived, a fraction of a millisecond after
    the commit, less than any HTTP answer takes (tests/api/test_token_revocation.py)."""
    deadline = time.monotonic() + 1.0
    while store.authenticate(token, NOW) is not None:
        assert store.db.dialect == "postgres" and time.monotonic() < deadline
    assert store.authenticate(token, NOW) is None


def test_a_token_revoked_by_another_process_is_refused_once_the_change_reaches_this_one(
    server_store: PrincipalStore, db: DatabaseUrl
) -> None:
    listening(server_store)
    _, token = server_store.add(Role.BUYER, "b1", now=NOW)
    checked_twice(server_store, token)

    assert PrincipalStore(db).revoke(role=Role.BUYER, principal_id="b1", now=NOW) == 1  # the CLI, say
    refused_once_told(server_store, token)


def test_a_token_changed_by_hand_in_the_database_is_refused_once_the_change_reaches_the_process(
    server_store: PrincipalStore, db: DatabaseUrl
) -> None:
    listening(server_store)
    record, token = server_store.add(Role.BUYER, "b1", now=NOW)
    checked_twice(server_store, token)

    with connect(db) as conn:  # an operator at a SQL prompt
        query = "UPDATE principal_tokens SET revoked_at = ? WHERE token_id = ?"
        conn.execute(placeholders(query, db.dialect), (NOW.isoformat(), record.token_id))
    refused_once_told(server_store, token)


def test_a_token_revoked_in_this_process_is_refused_at_once(server_store: PrincipalStore) -> None:
    listening(server_store)
    record, token = server_store.add(Role.BUYER, "b1", now=NOW)
    checked_twice(server_store, token)

    server_store.revoke(token_id=record.token_id, now=NOW)
    assert server_store.authenticate(token, NOW) is None


def test_an_expired_token_is_refused_although_its_record_is_in_memory(server_store: PrincipalStore) -> None:
    listening(server_store)
    _, token = server_store.add(Role.BUYER, "b1", NOW + timedelta(hours=1), now=NOW)
    checked_twice(server_store, token)

    assert server_store.authenticate(token, NOW + timedelta(hours=1)) is None


def test_other_tokens_stay_valid_after_a_revocation(server_store: PrincipalStore, db: DatabaseUrl) -> None:
    listening(server_store)
    _, kept = server_store.add(Role.BUYER, "b1", now=NOW)
    _, revoked = server_store.add(Role.MERCHANT, "m1", now=NOW)
    checked_twice(server_store, kept)

    PrincipalStore(db).revoke(role=Role.MERCHANT, principal_id="m1", now=NOW)
    refused_once_told(server_store, revoked)
    assert server_store.authenticate(kept, NOW) == BUYER


def test_a_token_checked_once_is_answered_from_memory_on_postgresql_and_by_a_read_on_sqlite(
    server_store: PrincipalStore,
) -> None:
    listening(server_store)
    _, token = server_store.add(Role.BUYER, "b1", now=NOW)
    assert server_store.remembered(token, NOW) == (False, None)  # never checked: the database answers

    checked_twice(server_store, token)
    # A server asks this on its event loop: SQLite's counter is a read, so SQLite never answers from memory.
    expected = (True, BUYER) if server_store.db.dialect == "postgres" else (False, None)
    assert server_store.remembered(token, NOW) == expected


def test_memory_never_answers_with_the_principal_of_a_revoked_or_expired_token(
    server_store: PrincipalStore, db: DatabaseUrl
) -> None:
    listening(server_store)
    _, token = server_store.add(Role.BUYER, "b1", NOW + timedelta(hours=1), now=NOW)
    checked_twice(server_store, token)
    assert server_store.remembered(token, NOW + timedelta(hours=1))[1] is None  # expired by the clock

    PrincipalStore(db).revoke(role=Role.BUYER, principal_id="b1", now=NOW)
    refused_once_told(server_store, token)
    assert server_store.remembered(token, NOW)[1] is None


def test_a_malformed_token_is_refused_from_memory(server_store: PrincipalStore) -> None:
    assert server_store.remembered("not-a-token", NOW) == (True, None)
