"""Bearer tokens of principals: issued once, stored as a hash, checked, revoked.

A token reads ``dsp_<token_id>_<secret>``: ``token_id`` is 12 letters and digits, public, and names the
token in listings and revocations; ``secret`` is ``secrets.token_urlsafe(32)``. Only the SHA-256 hex
digest of the whole token is kept, so the token is shown once, when it is made, and never again.
"""

from __future__ import annotations

import builtins
import hashlib
import re
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from disputes.adapters.database import ConnectionSource, DatabaseUrl, connect, placeholders
from disputes.adapters.migrations import table_required
from disputes.adapters.token_cache import TokenCache
from disputes.domain.errors import DisputesError, InvalidValue
from disputes.domain.parties import TOKEN_ROLES, Actor, Role

TOKEN_PREFIX = "dsp"
TOKEN_ID_LENGTH = 12
SECRET_BYTES = 32
_TOKEN_ID_ALPHABET = string.ascii_letters + string.digits
_TOKEN = re.compile(r"^dsp_(?P<token_id>[A-Za-z0-9]{12})_[A-Za-z0-9_-]{43}$")

_COLUMNS = "token_id, role, principal_id, created_at, expires_at, revoked_at"
INSERT_TOKEN = (
    "INSERT INTO principal_tokens (token_id, token_hash, role, principal_id, created_at, expires_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
SELECT_BY_HASH = f"SELECT {_COLUMNS} FROM principal_tokens WHERE token_hash = ?"
SELECT_ALL = f"SELECT {_COLUMNS} FROM principal_tokens ORDER BY created_at, token_id"
SELECT_UNREVOKED = (
    f"SELECT {_COLUMNS} FROM principal_tokens WHERE revoked_at IS NULL ORDER BY created_at, token_id"
)
SELECT_BY_TOKEN_ID = f"SELECT {_COLUMNS} FROM principal_tokens WHERE token_id = ?"
SELECT_UNREVOKED_ADMINS = (
    f"SELECT {_COLUMNS} FROM principal_tokens WHERE role = 'admin' AND revoked_at IS NULL"
)
REVOKE_BY_TOKEN_ID = "UPDATE principal_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL"
REVOKE_BY_PRINCIPAL = (
    "UPDATE principal_tokens SET revoked_at = ? WHERE role = ? AND principal_id = ? AND revoked_at IS NULL"
)

TokenStatus = Literal["active", "revoked", "expired"]


class PrincipalNotFound(DisputesError):
    code = "principal-not-found"
    title = "No such token"
    status = 404


class LastAdminToken(DisputesError):
    """Revoking it would leave no admin able to use the API (the CLI can still issue one)."""

    code = "last-admin-token"
    title = "The last active admin token cannot be revoked"
    status = 409


@dataclass(frozen=True)
class TokenRecord:
    """What is known of a token, never the token itself. Times are timezone-aware UTC."""

    token_id: str
    role: Role
    principal_id: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def actor(self) -> Actor:
        return Actor(self.role, self.principal_id)

    def status(self, now: datetime) -> TokenStatus:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def token_role(value: str) -> Role:
    """The role named ``value`` if tokens may be issued for it; :class:`InvalidValue` otherwise."""
    allowed = ", ".join(r.value for r in TOKEN_ROLES)
    try:
        role = Role(value)
    except ValueError:
        raise InvalidValue(f"unknown role {value!r}: use one of {allowed}") from None
    if role not in TOKEN_ROLES:
        raise InvalidValue(f"role {role.value!r} is never issued a token: use one of {allowed}")
    return role


def _active_actor(record: TokenRecord, token_id: str, now: datetime) -> Actor | None:
    """The record's principal if the token is this record's and active at ``now``."""
    if record.token_id != token_id or record.status(_utc(now, "now")) != "active":
        return None
    return record.actor


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh ``(token_id, token)``."""
    token_id = "".join(secrets.choice(_TOKEN_ID_ALPHABET) for _ in range(TOKEN_ID_LENGTH))
    return token_id, f"{TOKEN_PREFIX}_{token_id}_{secrets.token_urlsafe(SECRET_BYTES)}"


class PrincipalStore:
    """The ``principal_tokens`` table (created by migration 0001).

    Given a :class:`ConnectionSource` (a server's), it takes its connections from there, pooled on
    PostgreSQL; given a bare URL (a CLI command's), it opens one per transaction. Given a
    :class:`TokenCache` (a server's), it checks tokens from memory, and still sees every revocation
    or expiry on the very next check (see :mod:`disputes.adapters.token_cache`).
    """

    def __init__(self, db: DatabaseUrl | ConnectionSource, *, cache: TokenCache | None = None) -> None:
        self.source = db if isinstance(db, ConnectionSource) else None
        self.db = db.url if isinstance(db, ConnectionSource) else db
        self.cache = cache

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()

    def add(
        self, role: Role, principal_id: str, expires_at: datetime | None = None, *, now: datetime
    ) -> tuple[TokenRecord, str]:
        """Issue a token for ``role:principal_id``; return its record and the token, shown only now."""
        actor = Actor(token_role(role), principal_id)
        created_at = _utc(now, "now")
        if expires_at is not None and _utc(expires_at, "expires_at") <= created_at:
            raise InvalidValue("a token's expiry must be later than its creation")
        token_id, token = new_token()
        record = TokenRecord(
            token_id=token_id,
            role=actor.role,
            principal_id=actor.id,
            created_at=created_at,
            expires_at=_utc(expires_at, "expires_at") if expires_at is not None else None,
            revoked_at=None,
        )
        params = (
            token_id,
            hash_token(token),
            actor.role.value,
            actor.id,
            _text(record.created_at),
            _text(record.expires_at),
        )
        with self._transaction() as conn:
            conn.execute(self._sql(INSERT_TOKEN), params)
        return record, token

    def remembered(self, token: str, now: datetime) -> tuple[bool, Actor | None]:
        """:meth:`authenticate`'s answer if it needs no database, with True; else ``(False, None)``.

        Answered from memory: a malformed token, and a token whose record the cache holds and may
        trust without reading anything (PostgreSQL's cache, while it listens and nothing is arriving).
        A server asks this on its event loop, and :meth:`authenticate` in a worker thread otherwise.
        """
        match = _TOKEN.match(token)
        if match is None:
            return True, None
        record = self.cache.peek(hash_token(token)) if self.cache is not None else None
        if record is None:
            return False, None
        return True, _active_actor(record, match["token_id"], now)

    def authenticate(self, token: str, now: datetime) -> Actor | None:
        """The principal holding ``token``, or None if it is unknown, malformed, revoked or expired."""
        match = _TOKEN.match(token)
        if match is None:
            return None
        digest = hash_token(token)
        record, generation = self.cache.get(digest) if self.cache is not None else (None, -1)
        if record is None:
            with self._transaction(write=False) as conn:
                row = conn.execute(self._sql(SELECT_BY_HASH), (digest,)).fetchone()
            if row is None:
                return None
            record = _record(row)
            if self.cache is not None:
                self.cache.put(digest, record, generation)
        return _active_actor(record, match["token_id"], now)

    def list(self, include_revoked: bool = True) -> builtins.list[TokenRecord]:
        """Every token's record, oldest first."""
        query = SELECT_ALL if include_revoked else SELECT_UNREVOKED
        with self._transaction(write=False) as conn:
            rows = conn.execute(self._sql(query)).fetchall()
        return [_record(row) for row in rows]

    def revoke(
        self,
        *,
        token_id: str | None = None,
        role: Role | None = None,
        principal_id: str | None = None,
        now: datetime,
    ) -> int:
        """Revoke one token by id, or all of a principal's tokens by role and id; return how many."""
        revoked_at = _text(_utc(now, "now"))
        params: tuple[str | None, ...]
        if token_id is not None and role is None and principal_id is None:
            query, params = REVOKE_BY_TOKEN_ID, (revoked_at, token_id)
        elif token_id is None and role is not None and principal_id is not None:
            query, params = REVOKE_BY_PRINCIPAL, (revoked_at, Role(role).value, principal_id)
        else:
            raise InvalidValue("revoke needs either a token id, or a role and a principal id")
        with self._transaction() as conn:
            count = conn.execute(self._sql(query), params).rowcount
        self._changed()
        return int(count)

    def get(self, token_id: str) -> TokenRecord | None:
        """The record of one token, by its public id."""
        with self._transaction(write=False) as conn:
            row = conn.execute(self._sql(SELECT_BY_TOKEN_ID), (token_id,)).fetchone()
        return None if row is None else _record(row)

    def revoke_keeping_an_admin(self, token_id: str, *, now: datetime) -> TokenRecord:
        """Revoke one token by id and return its record (a revoked token's record is returned as it is).

        Refused with :class:`LastAdminToken` when it is the last active admin token, so that the API
        never locks out every admin; with :class:`PrincipalNotFound` when there is no such token. The
        admins' tokens are locked for the transaction (SQLite: the write lock), so two admins revoking
        each other's tokens at once cannot both succeed.
        """
        at = _utc(now, "now")
        lock = SELECT_UNREVOKED_ADMINS + (" FOR UPDATE" if self.db.dialect == "postgres" else "")
        with self._transaction() as conn:
            admins = [_record(row) for row in conn.execute(self._sql(lock)).fetchall()]
            row = conn.execute(self._sql(SELECT_BY_TOKEN_ID), (token_id,)).fetchone()
            if row is None:
                raise PrincipalNotFound(f"no token {token_id}")
            record = _record(row)
            if record.revoked_at is not None:
                return record
            active = [a for a in admins if a.status(at) == "active"]
            if record.status(at) == "active" and record.role is Role.ADMIN and len(active) <= 1:
                raise LastAdminToken(
                    f"{token_id} is the last active admin token; issue another admin token first"
                )
            conn.execute(self._sql(REVOKE_BY_TOKEN_ID), (_text(at), token_id))
        self._changed()
        return replace(record, revoked_at=at)

    def _changed(self) -> None:
        """This process forgets at once; the others when the change reaches them (migration 0080)."""
        if self.cache is not None:
            self.cache.forget()

    def _sql(self, query: str) -> str:
        return placeholders(query, self.db.dialect)

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[Any]:
        """One transaction; a missing table becomes :class:`DatabaseNotMigrated`."""
        opened = self.source.transaction(write=write) if self.source else connect(self.db, write=write)
        with table_required("principal_tokens"), opened as conn:
            yield conn


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidValue(f"{name} must be timezone-aware")
    return moment.astimezone(UTC)


def _text(moment: datetime | None) -> str | None:
    """RFC 3339 UTC with microseconds: ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (sorts in time order)."""
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="microseconds")


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def _record(row: tuple[Any, ...]) -> TokenRecord:
    token_id, role, principal_id, created_at, expires_at, revoked_at = row
    return TokenRecord(
        token_id=token_id,
        role=Role(role),
        principal_id=principal_id,
        created_at=datetime.fromisoformat(created_at).astimezone(UTC),
        expires_at=_parse(expires_at),
        revoked_at=_parse(revoked_at),
    )
