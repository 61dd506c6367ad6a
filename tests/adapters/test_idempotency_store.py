"""The idempotency store on a real database: keys begun, answered, replayed, given up and expired."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from disputes.adapters.database import ConnectionSource, DatabaseUrl, connect
from disputes.adapters.idempotency import (
    IN_FLIGHT_LEASE,
    Answer,
    IdempotencyKeyReused,
    IdempotencyStore,
    InvalidIdempotencyKey,
    fingerprint,
)
from disputes.adapters.keyed_runs import Attempt
from disputes.adapters.migrations import DatabaseNotMigrated, apply_migrations
from disputes.domain.parties import Actor, Role

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
TTL = timedelta(hours=24)
BUYER = Actor(Role.BUYER, "b1")
PRINT = fingerprint("POST", "/claims/x/messages", None, b'{"body": "Hi."}')
OK = Answer(200, (("content-type", "application/json"), ("etag", '"2"')), b'{"version": 2}')


@pytest.fixture
def source(database_url: str) -> Iterator[ConnectionSource]:
    db = DatabaseUrl.parse(database_url)
    apply_migrations(db)
    connections = ConnectionSource(db, pool_size=2)
    yield connections
    connections.close()


@pytest.fixture
def store(source: ConnectionSource) -> Iterator[IdempotencyStore]:
    kept = IdempotencyStore(source, ttl=TTL, clock=lambda: NOW)
    yield kept
    kept.close()


def started(store: IdempotencyStore, key: str = "k-1", now: datetime = NOW) -> Attempt:
    attempt = store.begin(BUYER, key, PRINT, now)
    assert isinstance(attempt, Attempt)
    return attempt


def rows(source: ConnectionSource) -> int:
    with connect(source.url) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM idempotency_keys").fetchone()[0])


def test_the_first_request_runs_and_its_answer_is_replayed_exactly(store: IdempotencyStore) -> None:
    attempt = started(store)
    assert store.begin(BUYER, "k-1", PRINT, NOW) is None  # in flight
    store.finish(attempt, OK, NOW)

    assert store.begin(BUYER, "k-1", PRINT, NOW + timedelta(hours=1)) == OK


def test_binary_bodies_come_back_byte_for_byte(store: IdempotencyStore) -> None:
    attempt = started(store)
    zipped = Answer(200, (("content-type", "application/zip"),), bytes(range(256)) * 4)
    store.finish(attempt, zipped, NOW)

    assert store.begin(BUYER, "k-1", PRINT, NOW) == zipped


def test_the_same_key_for_another_request_is_refused(store: IdempotencyStore) -> None:
    store.finish(started(store), OK, NOW)
    other = fingerprint("POST", "/claims/x/messages", None, b'{"body": "Bye."}')

    with pytest.raises(IdempotencyKeyReused):
        store.begin(BUYER, "k-1", other, NOW)
    assert isinstance(store.begin(BUYER, "k-2", PRINT, NOW), Attempt)
    with pytest.raises(IdempotencyKeyReused):  # while the first is in flight too
        store.begin(BUYER, "k-2", other, NOW)


def test_a_key_belongs_to_one_principal(store: IdempotencyStore) -> None:
    store.finish(started(store), OK, NOW)

    assert isinstance(store.begin(Actor(Role.MERCHANT, "b1"), "k-1", PRINT, NOW), Attempt)
    assert isinstance(store.begin(Actor(Role.BUYER, "b2"), "k-1", PRINT, NOW), Attempt)


def test_a_server_error_is_not_kept_and_frees_the_key(
    store: IdempotencyStore, source: ConnectionSource
) -> None:
    store.finish(started(store), Answer(503, (), b"{}"), NOW)
    assert rows(source) == 0
    store.abandon(started(store))
    assert rows(source) == 0

    assert isinstance(store.begin(BUYER, "k-1", PRINT, NOW), Attempt)


def test_an_answer_expires_after_the_ttl_and_expired_rows_are_purged(
    store: IdempotencyStore, source: ConnectionSource
) -> None:
    store.finish(started(store, "old-1"), OK, NOW)
    store.finish(started(store, "old-2"), OK, NOW)
    assert store.begin(BUYER, "old-1", PRINT, NOW + TTL - timedelta(microseconds=1)) == OK

    later = NOW + TTL + timedelta(hours=1)
    assert isinstance(store.begin(BUYER, "old-1", PRINT, later), Attempt)  # runs again
    assert rows(source) == 1  # old-2 purged on the way


def test_a_run_that_never_finished_is_given_up_after_its_lease(store: IdempotencyStore) -> None:
    lost = started(store)
    assert store.begin(BUYER, "k-1", PRINT, NOW + IN_FLIGHT_LEASE - timedelta(seconds=1)) is None

    retry = started(store, now=NOW + IN_FLIGHT_LEASE)
    store.finish(lost, Answer(200, (), b"late"), NOW + IN_FLIGHT_LEASE)  # the lost run, late: ignored
    assert store.begin(BUYER, "k-1", PRINT, NOW + IN_FLIGHT_LEASE) is None
    store.finish(retry, OK, NOW + IN_FLIGHT_LEASE)
    assert store.begin(BUYER, "k-1", PRINT, NOW + IN_FLIGHT_LEASE) == OK


@pytest.mark.parametrize("key", ["", "a b", "\u00e9t\u00e9", "x" * 201, "tab\t"])
def test_keys_are_1_to_200_visible_ascii_characters(store: IdempotencyStore, key: str) -> None:
    with pytest.raises(InvalidIdempotencyKey):
        store.begin(BUYER, key, PRINT, NOW)
    assert isinstance(store.begin(BUYER, "~" * 200, PRINT, NOW), Attempt)


def test_the_fingerprint_tells_method_path_if_match_and_body_apart() -> None:
    prints = {
        fingerprint("POST", "/a", None, b"{}"),
        fingerprint("PUT", "/a", None, b"{}"),
        fingerprint("POST", "/b", None, b"{}"),
        fingerprint("POST", "/a", '"1"', b"{}"),
        fingerprint("POST", "/a", "", b"{}"),
        fingerprint("POST", "/a", None, b"{ }"),
    }
    assert len(prints) == 6


def test_an_unmigrated_database_is_named(sqlite_url: str) -> None:
    source = ConnectionSource(DatabaseUrl.parse(sqlite_url))
    with pytest.raises(DatabaseNotMigrated, match="idempotency_keys"):
        IdempotencyStore(source, ttl=TTL).begin(BUYER, "k", PRINT, NOW)


def test_a_live_run_keeps_its_key_past_the_lease_and_a_dead_one_frees_it_within_the_lease(
    source: ConnectionSource,
) -> None:
    lease = timedelta(seconds=0.8)
    holder = IdempotencyStore(source, ttl=TTL, lease=lease)  # the process running the request
    other = IdempotencyStore(source, ttl=TTL, lease=lease)  # another process, receiving a retry
    try:
        assert isinstance(holder.begin(BUYER, "k-live", PRINT, datetime.now(UTC)), Attempt)
        time.sleep(2.5 * lease.total_seconds())
        assert other.begin(BUYER, "k-live", PRINT, datetime.now(UTC)) is None  # renewed: still running

        holder.close()  # the holder dies: nobody renews its lease
        time.sleep(1.5 * lease.total_seconds())
        retry = other.begin(BUYER, "k-live", PRINT, datetime.now(UTC))
        assert isinstance(retry, Attempt)  # free again: the retry runs
        other.finish(retry, OK, datetime.now(UTC))
        assert other.begin(BUYER, "k-live", PRINT, datetime.now(UTC)) == OK
    finally:
        holder.close()
        other.close()


def test_a_lost_race_is_not_kept_as_the_answer_but_other_conflicts_are(store: IdempotencyStore) -> None:
    lost = Answer(409, (), json.dumps({"type": "/problems/concurrent-update", "status": 409}).encode())
    store.finish(started(store, "k-race"), lost, NOW)
    retry = started(store, "k-race")  # a retry may win the race
    store.finish(retry, OK, NOW)
    assert store.begin(BUYER, "k-race", PRINT, NOW) == OK

    closed = Answer(409, (), json.dumps({"type": "/problems/claim-closed", "status": 409}).encode())
    store.finish(started(store, "k-closed"), closed, NOW)
    assert store.begin(BUYER, "k-closed", PRINT, NOW) == closed  # a refusal stays the answer
