"""Idempotency keys: the first answer to a keyed request, kept so that a retry gets that answer again.

A key belongs to a principal: ``begin`` either gives the caller the right to run the request (an
:class:`Attempt`, whose in-flight row is written before anything runs), or the answer stored by the
run that had it, or None while that run is still going. ``finish`` stores the answer, unless it is a
5xx or a transient 409 ``concurrent-update`` (a retry must be able to win): then the row goes, so that
a retry runs again. The same key with another request (another fingerprint) is refused. Answers are
kept for the store's ``ttl``.

An in-flight row is a lease held by the live process that runs it: the row expires ``lease`` (a few
seconds) after it was written, and a thread of that process renews it every ``lease / 4`` while the
run goes on. When the process dies (kill -9, a crash, a lost machine), nobody renews it, and the key
is free again within ``lease``: its retry runs, once. Rows past their time are ignored, and purged
now and then. The HTTP side is :mod:`disputes.api.middleware.idempotency`; the table is migration 0015.

A run's command may have been recorded when its process died, before its answer was kept. So the run
is named in :data:`~disputes.adapters.keyed_runs.RUNNING` while it goes, and the event store marks the run's row (``committed_at``,
migration 0081) in the very transaction that records the command's events
(:func:`~disputes.adapters.keyed_runs.mark_committed`).
A key whose lease ended after that mark is never run again: it is marked lost, and its retries get
:class:`IdempotencyAnswerLost` (409), saying that the command was recorded and its answer is gone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from disputes.adapters.database import ConnectionSource, placeholders
from disputes.adapters.keyed_runs import Attempt, utc_text
from disputes.adapters.migrations import table_required
from disputes.domain.errors import DisputesError, InvalidValue
from disputes.domain.parties import Actor

KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
"""1 to 200 visible ASCII characters."""
IN_FLIGHT_LEASE = timedelta(seconds=6)
"""How long an in-flight row outlives the last renewal by its process (renewed every quarter of it)."""
PURGE_EVERY = timedelta(minutes=10)
TRANSIENT_CONFLICT = "/problems/concurrent-update"
"""A 409 of this type lost a race that a retry may win: it is not kept as the key's answer."""
log = logging.getLogger("disputes.idempotency")

LOST = "lost"
"""The ``attempt`` of a key whose run died after its command was recorded (never a run's token: hex)."""

_WHERE_KEY = "role = ? AND principal_id = ? AND idempotency_key = ?"
SELECT_LIVE = (
    f"SELECT fingerprint, status, headers, body, attempt FROM idempotency_keys"
    f" WHERE {_WHERE_KEY} AND expires_at > ?"
)
MARK_LOST = (
    f"UPDATE idempotency_keys SET attempt = '{LOST}', expires_at = ? "
    f"WHERE {_WHERE_KEY} AND expires_at <= ? AND status IS NULL AND committed_at IS NOT NULL"
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
DELETE_ATTEMPT = f"DELETE FROM idempotency_keys WHERE {_WHERE_KEY} AND attempt = ? AND committed_at IS NULL"
LOSE_ATTEMPT = f"UPDATE idempotency_keys SET attempt = '{LOST}', expires_at = ? WHERE {_WHERE_KEY} AND attempt = ?"
RENEW_LEASE = f"UPDATE idempotency_keys SET expires_at = ? WHERE {_WHERE_KEY} AND attempt = ? AND status IS NULL"
PURGE_EXPIRED = (
    "DELETE FROM idempotency_keys WHERE expires_at <= ?"
    " AND (status IS NOT NULL OR committed_at IS NULL OR committed_at <= ?)"
)
"""Rows past their time; but the row of a run that died after its commit stays for the key's time after
that commit, so that its retries learn it was recorded (it is marked lost when one comes)."""


class InvalidIdempotencyKey(InvalidValue):
    code = "invalid-idempotency-key"
    title = "Invalid Idempotency-Key"


class IdempotencyKeyReused(DisputesError):
    code = "idempotency-key-reused"
    title = "Idempotency key used for another request"
    status = 422


class IdempotencyAnswerLost(DisputesError):
    code = "idempotency-answer-lost"
    title = "The request with this idempotency key was recorded, but its answer was lost"
    status = 409


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


def check_key(key: str) -> str:
    if KEY.match(key) is None:
        raise InvalidIdempotencyKey("Idempotency-Key must be 1 to 200 visible ASCII characters")
    return key


def fingerprint(method: str, path: str, if_match: str | None, body: bytes) -> str:
    """SHA-256 hex of what makes two requests the same request."""
    head = json.dumps([method, path, if_match]).encode("utf-8")
    return hashlib.sha256(head + b"\n" + body).hexdigest()


def transient(answer: Answer) -> bool:
    """Whether an answer lost a race that a retry may win (409 ``concurrent-update``)."""
    if answer.status != 409:
        return False
    try:
        kind = json.loads(answer.body).get("type")
    except (ValueError, AttributeError):
        return False
    return bool(kind == TRANSIENT_CONFLICT)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class IdempotencyStore:
    """The ``idempotency_keys`` table, and the renewal of this process's leases (see the module)."""

    def __init__(
        self,
        source: ConnectionSource,
        *,
        ttl: timedelta,
        lease: timedelta = IN_FLIGHT_LEASE,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.source = source
        self.ttl = ttl
        self.lease = lease
        self.clock = clock
        self._next_purge: datetime | None = None
        self._lock = threading.Lock()
        self._held: set[Attempt] = set()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

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
                if conn.execute(self._sql(MARK_LOST), (_text(now + self.ttl), *where, now_text)).rowcount == 1:
                    row = conn.execute(self._sql(SELECT_LIVE), (*where, now_text)).fetchone()
            if row is not None:
                return self._answered(row, fingerprint)
            with self._transaction() as conn:
                conn.execute(self._sql(DELETE_EXPIRED_KEY), (*where, now_text))
                values = (*where, fingerprint, attempt.token, now_text, _text(now + self.lease))
                inserted = conn.execute(self._sql(INSERT_IN_FLIGHT), values).rowcount == 1
                if not inserted:  # another run wrote the row since the read above
                    row = conn.execute(self._sql(SELECT_LIVE), (*where, now_text)).fetchone()
                if self._purge_due(now):
                    conn.execute(self._sql(PURGE_EXPIRED), (now_text, _text(now - self.ttl)))
            if inserted:
                self._hold(attempt)
                return attempt
        if row is None:  # that run has just given its row up: ask again
            return None
        return self._answered(row, fingerprint)

    def _answered(self, row: Any, fingerprint: str) -> Answer | None:
        """The stored answer of a live row, or None while its run goes on."""
        stored_fingerprint, status, headers, body, attempt = row
        if stored_fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for another request (method, path, If-Match or body): "
                "use a new key for a new request"
            )
        if attempt == LOST:
            raise IdempotencyAnswerLost(
                "the first request with this Idempotency-Key was recorded, but the server stopped before "
                "it answered: read the resource to see its result; the request is not run again"
            )
        if status is None:
            return None
        return Answer(int(status), tuple((n, v) for n, v in json.loads(headers)), base64.b64decode(body))

    def finish(self, attempt: Attempt, answer: Answer, now: datetime) -> None:
        """Keep the answer for replays; a 5xx or a transient 409 is not kept, and the key is free again."""
        if answer.status >= 500 or transient(answer):
            self.abandon(attempt)
            return
        self._release(attempt)
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
        """Free the key: the run failed, and a retry may run the request again; unless its command was
        recorded before it failed (a 5xx after the commit): then the key is lost, never run again."""
        self._release(attempt)
        with self._transaction() as conn:
            if conn.execute(self._sql(DELETE_ATTEMPT), self._where(attempt)).rowcount == 0:
                expires = _text(self.clock() + self.ttl)
                conn.execute(self._sql(LOSE_ATTEMPT), (expires, *self._where(attempt)))

    def close(self) -> None:
        """Stop renewing leases (the rows of runs still going then expire within ``lease``)."""
        self._stop.set()
        renewer, self._renewer = self._renewer, None
        if renewer is not None:
            renewer.join(timeout=5)

    # --- the leases of this process's runs ---------------------------------------------------------
    def _hold(self, attempt: Attempt) -> None:
        with self._lock:
            self._held.add(attempt)
            if self._renewer is None and not self._stop.is_set():
                self._renewer = threading.Thread(target=self._renew_forever, name="disputes-leases", daemon=True)
                self._renewer.start()

    def _release(self, attempt: Attempt) -> None:
        with self._lock:
            self._held.discard(attempt)

    def _renew_forever(self) -> None:
        while not self._stop.wait(self.lease.total_seconds() / 4):
            with self._lock:
                held = list(self._held)
            if not held:
                continue
            try:
                expires = _text(self.clock() + self.lease)
                for attempt in held:  # a transaction each: a command's commit marks its row meanwhile
                    with self._transaction() as conn:
                        conn.execute(self._sql(RENEW_LEASE), (expires, *self._where(attempt)))
            except Exception as error:  # the database is away: the runs fail too; their rows expire
                log.warning("could not renew idempotency leases (%s: %s)", type(error).__name__, error)

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


_text = utc_text
