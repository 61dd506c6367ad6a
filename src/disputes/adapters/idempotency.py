"""Idempotency keys: the first answer to a keyed request, kept so that a retry gets that answer again.

A key belongs to a principal: ``begin`` either gives the caller the right to run the request (an
:class:`Attempt`, whose in-flight row is written before anything runs), or the answer stored by the
run that had it, or None while that run is still going. ``finish`` stores the answer, unless it is a
5xx: then the row goes, so that a retry runs again. The same key with another request (another
fingerprint) is refused. Answers are kept for the store's ``ttl``; an in-flight row whose run never
finished (the process died) is given up after ``lease``. Rows past their time are ignored, and purged
now and then. The HTTP side is :mod:`disputes.api.middleware.idempotency`; the table is migration 0015.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from disputes.adapters.database import ConnectionSource, placeholders
from disputes.adapters.migrations import table_required
from disputes.domain.errors import DisputesError, InvalidValue
from disputes.domain.parties import Actor

KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
"""1 to 200 visible ASCII characters."""
IN_FLIGHT_LEASE = timedelta(minutes=5)
PURGE_EVERY = timedelta(minutes=10)

_WHERE_KEY = "role = ? AND principal_id = ? AND idempotency_key = ?"
SELECT_LIVE = (
    f"SELECT fingerprint, status, headers, body FROM idempotency_keys WHERE {_WHERE_KEY} AND expires_at > ?"
)
DELETE_EXPIRED_KEY = f"DELETE FROM idempotency_keys WHERE {_WHERE_KEY} AND expires_at <= ?"
INSERT_IN_FLIGHT = (
    "INSERT INTO idempotency_keys "
    "(role, principal_id, idempotency_key, fingerprint, attempt, created_at, expires_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (role, principal_id, idempotency_key) DO NOTHING"
)
STORE_ANSWER = (
    f"UPDATE idempotency_keys SET status = ?, headers = ?, body = ?, expires_at = ? "
    f"WHERE {_WHERE_KEY} AND attempt = ?"
)
DELETE_ATTEMPT = f"DELETE FROM idempotency_keys WHERE {_WHERE_KEY} AND attempt = ?"
PURGE_EXPIRED = "DELETE FROM idempotency_keys WHERE expires_at <= ?"


class InvalidIdempotencyKey(InvalidValue):
    code = "invalid-idempotency-key"
    title = "Invalid Idempotency-Key"


class IdempotencyKeyReused(DisputesError):
    code = "idempotency-key-reused"
    title = "Idempotency key used for another request"
    status = 422


class IdempotencyKeyInFlight(DisputesError):
    code = "idempotency-key-in-flight"
    title = "A request with this idempotency key is still running"
    status = 409


@dataclass(frozen=True)
class Answer:
    """What a request answered: status, the headers worth replaying, and the body's exact bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class Attempt:
    """The right to run a keyed request: this run owns the key's in-flight row."""

    actor: Actor
    key: str
    token: str


def check_key(key: str) -> str:
    if KEY.match(key) is None:
        raise InvalidIdempotencyKey("Idempotency-Key must be 1 to 200 visible ASCII characters")
    return key


def fingerprint(method: str, path: str, if_match: str | None, body: bytes) -> str:
    """SHA-256 hex of what makes two requests the same request."""
    head = json.dumps([method, path, if_match]).encode("utf-8")
    return hashlib.sha256(head + b"\n" + body).hexdigest()


class IdempotencyStore:
    """The ``idempotency_keys`` table."""

    def __init__(
        self, source: ConnectionSource, *, ttl: timedelta, lease: timedelta = IN_FLIGHT_LEASE
    ) -> None:
        self.source = source
        self.ttl = ttl
        self.lease = lease
        self._next_purge: datetime | None = None
        self._lock = threading.Lock()

    def begin(self, actor: Actor, key: str, fingerprint: str, now: datetime) -> Attempt | Answer | None:
        """An attempt to run the request; or the stored answer to replay; or None while one runs.

        Raises :class:`IdempotencyKeyReused` if the key was used for another request.
        """
        where = (actor.role.value, actor.id, check_key(key))
        now_text = _text(now)
        with self._transaction(write=False) as conn:
            row = conn.execute(self._sql(SELECT_LIVE), (*where, now_text)).fetchone()
        if row is None:
            attempt = Attempt(actor, key, secrets.token_hex(8))
            with self._transaction() as conn:
                conn.execute(self._sql(DELETE_EXPIRED_KEY), (*where, now_text))
                values = (*where, fingerprint, attempt.token, now_text, _text(now + self.lease))
                inserted = conn.execute(self._sql(INSERT_IN_FLIGHT), values).rowcount == 1
                if not inserted:  # another run wrote the row since the read above
                    row = conn.execute(self._sql(SELECT_LIVE), (*where, now_text)).fetchone()
                if self._purge_due(now):
                    conn.execute(self._sql(PURGE_EXPIRED), (now_text,))
            if inserted:
                return attempt
        if row is None:  # that run has just given its row up: ask again
            return None
        stored_fingerprint, status, headers, body = row
        if stored_fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for another request (method, path, If-Match or body): "
                "use a new key for a new request"
            )
        if status is None:
            return None
        return Answer(int(status), tuple((n, v) for n, v in json.loads(headers)), base64.b64decode(body))

    def finish(self, attempt: Attempt, answer: Answer, now: datetime) -> None:
        """Keep the answer for replays; a 5xx answer is not kept, and the key is free again."""
        if answer.status >= 500:
            self.abandon(attempt)
            return
        values = (
            answer.status,
            json.dumps([list(h) for h in answer.headers]),
            base64.b64encode(answer.body).decode("ascii"),
            _text(now + self.ttl),
            *self._where(attempt),
        )
        with self._transaction() as conn:
            conn.execute(self._sql(STORE_ANSWER), values)

    def abandon(self, attempt: Attempt) -> None:
        """Free the key: the run failed, and a retry may run the request again."""
        with self._transaction() as conn:
            conn.execute(self._sql(DELETE_ATTEMPT), self._where(attempt))

    def _where(self, attempt: Attempt) -> tuple[str, ...]:
        return (attempt.actor.role.value, attempt.actor.id, attempt.key, attempt.token)

    def _purge_due(self, now: datetime) -> bool:
        with self._lock:
            if self._next_purge is not None and now < self._next_purge:
                return False
            self._next_purge = now + PURGE_EVERY
            return True

    def _sql(self, query: str) -> str:
        return placeholders(query, self.source.url.dialect)

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[Any]:
        with table_required("idempotency_keys"), self.source.transaction(write=write) as conn:
            yield conn


def _text(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds, as migration 0015 keeps times (sorts in time order)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
