"""The event store: its library tables, created only by ``disputes migrate``, and how it is written.

The tables are eventsourcing's own (``disputes_events``, ``disputes_snapshots``, on PostgreSQL also a
composite type and an insert function). :func:`create_event_tables` runs the library's DDL; nothing
else does: every other process starts the library with ``CREATE_TABLE`` off, so a server or worker
never changes the schema and can run as a role that may not.

On PostgreSQL each transaction that records events first takes an EXCLUSIVE lock on the events table,
so that notification ids are handed out in commit order (the audit chain and every follower rely on
it). The library takes that lock with ``LOCK TABLE``, which PostgreSQL allows only to roles that may
also UPDATE, DELETE or TRUNCATE the table. :class:`EventTableRecorder` takes exactly the same lock
through ``<events table>_lock()``, a ``SECURITY DEFINER`` function that migration 0030 creates and
lets the application role execute; the lock lasts to the end of the calling transaction as before.

Both recorders commit in groups (:mod:`disputes.adapters.group_commit`): the events of concurrent
saves of one process are written in one transaction, under the one lock, each save accepted or refused
on its own. On PostgreSQL a batch checks, under the lock, the latest version of each aggregate it
writes, refuses the saves that lost a race (``IntegrityError``, as the unique key would) and inserts the
others in one statement; on SQLite each save of a batch is its own savepoint.
"""

from __future__ import annotations

import getpass
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import ConnectionPool as LibraryPool
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from eventsourcing.utils import Environment, EnvType, retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composable, Identifier

from disputes.adapters.database import DatabaseUrl
from disputes.adapters.group_commit import GroupCommit
from disputes.adapters.keyed_runs import RUNNING, Attempt, mark_committed
from disputes.adapters.pools import FailFast, connect_timeout

EVENT_STORE_NAME = "disputes"
"""The application's name, from which the library names its tables (``disputes_events``, ...)."""

MIN_POOL_SIZE = 2
"""Connections the event store's pool opens at start; it grows on demand to its size."""

LOCK_FUNCTION_SUFFIX = "_lock"
"""``disputes_events`` is locked by ``disputes_events_lock()`` (see migrations/0030)."""

GROUP_COMMIT_MAX = 64
"""The most saves written in one transaction."""

Save = Sequence[StoredEvent]
Pending = tuple[Save, Attempt | None]
"""A save, and the keyed run (``Idempotency-Key``) whose command it records, marked in its transaction."""
Outcome = Sequence[int] | None | BaseException


def lost_races(saves: Sequence[Save], latest: dict[Any, int]) -> list[bool]:
    """For each save of a batch, whether it lost a race: an event whose version is not past the
    aggregate's latest, recorded before the batch (``latest``) or by an earlier save of the batch.
    Saves that did not lose advance ``latest``."""
    lost = []
    for save in saves:
        first: dict[Any, int] = {}
        for event in save:
            first.setdefault(event.originator_id, event.originator_version)
        refused = any(version <= latest.get(originator, 0) for originator, version in first.items())
        lost.append(refused)
        if not refused:
            for event in save:
                latest[event.originator_id] = max(latest.get(event.originator_id, 0), event.originator_version)
    return lost


def lost_race(save: Save) -> IntegrityError:
    first = save[0]
    return IntegrityError(f"version {first.originator_version} of {first.originator_id} is recorded already")


class StoredRow(NamedTuple):
    """One event of the notification log as stored, with a notification's names; the aggregate's id is
    the stored text (a UUID's text on PostgreSQL, its hex on SQLite), not a UUID object."""

    id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes


class GroupCommitting:
    """What both recorders share: saves without a tracking record go through the process's group commit
    (with the keyed run each records, :mod:`disputes.adapters.keyed_runs`); a save alone takes the
    library's own path, its unique key deciding a race; a batch is the recorder's :meth:`_write_batch`."""

    group: GroupCommit[Pending, Sequence[int] | None]

    def start_group_commit(self) -> None:
        self.group = GroupCommit(self._write, max_batch=GROUP_COMMIT_MAX)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events or any(value is not None for value in kwargs.values()):  # tracking=None: none
            positions: Sequence[int] | None = super().insert_events(stored_events, **kwargs)  # type: ignore[misc]
            return positions
        return self.group.submit((stored_events, RUNNING.get()))

    def _write(self, pending: Sequence[Pending]) -> list[Outcome]:
        if len(pending) > 1:
            return self._write_batch(pending)
        save, attempt = pending[0]
        try:
            return [super().insert_events(save, idempotency=attempt)]  # type: ignore[misc]
        except IntegrityError as refused:
            return [refused]

    def _write_batch(self, pending: Sequence[Pending]) -> list[Outcome]:
        raise NotImplementedError


def compiled(statement: Any) -> bytes:
    """A composed statement as the bytes psycopg sends (identifiers quoted as any connection would)."""
    return statement.as_bytes(None) if isinstance(statement, Composable) else statement


class EventTableRecorder(GroupCommitting, PostgresApplicationRecorder):
    """The library's application recorder, taking its table lock through a function.

    Identical behaviour (the same EXCLUSIVE lock, the same ``lock_timeout``, held to the end of the
    transaction); only the privilege needed changes: EXECUTE on the function instead of UPDATE,
    DELETE or TRUNCATE on the table.
    """

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.lock_table_statements = [
            SQL("SET LOCAL lock_timeout = '{0}s'").format(self.datastore.lock_timeout),
            SQL("SELECT {0}.{1}()").format(
                Identifier(self.datastore.schema),
                Identifier(self.events_table_name + LOCK_FUNCTION_SUFFIX),
            ),
        ]
        self.select_latest_statement = self._on_table(
            "SELECT originator_id, max(originator_version) AS version FROM {0}.{1}"
            " WHERE originator_id = ANY(%s) GROUP BY originator_id"
        )
        self.select_events_of_statement = self._on_table(
            "SELECT originator_id, originator_version, topic, state FROM {0}.{1}"
            " WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        )
        self.select_rows_statement = self._on_table(
            "SELECT notification_id, originator_id::text, originator_version, topic, state FROM {0}.{1}"
            " WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id LIMIT %s"
        )
        self.stream_rows_statement = self._on_table(
            "SELECT notification_id, originator_id::text, originator_version, topic, state FROM {0}.{1}"
            " WHERE notification_id > %s AND notification_id <= %s ORDER BY notification_id"
        )
        self.select_all_events_statement = self._on_table(
            "SELECT originator_id, originator_version, topic, state FROM {0}.{1}"
            " WHERE originator_id = %s ORDER BY originator_version ASC"
        )
        self.notify_statement = compiled(SQL("NOTIFY {0}").format(Identifier(self.channel_name)))
        self._compile_statements()
        self.start_group_commit()

    def _on_table(self, statement: str) -> bytes:
        """``statement`` with ``{0}.{1}`` naming the events table, compiled."""
        return compiled(SQL(statement).format(Identifier(self.datastore.schema), Identifier(self.events_table_name)))

    def _compile_statements(self) -> None:
        """The library's statements of every command as bytes, once (ours are made so): psycopg turns a
        composed statement into bytes again on every execute (6 % of a serving process's time under
        open-claim load)."""
        # The library declares these Composed; it only passes them to execute, which takes bytes too.
        self.insert_events_statement = compiled(self.insert_events_statement)  # type: ignore[assignment]
        self.max_notification_id_statement = compiled(self.max_notification_id_statement)  # type: ignore[assignment]
        self.lock_table_statements = [compiled(statement) for statement in self.lock_table_statements]

    rows_read_ahead = True
    """The server answers a page of :meth:`select_rows` while the caller works on the last one."""

    def select_rows(self, after: int, stop: int, limit: int) -> list[StoredRow]:
        """The log's events in (after, stop], at most ``limit``, as plain rows (the id as text)."""
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(self.select_rows_statement, (after, stop, limit), prepare=True, binary=True)
            return [StoredRow(*row) for row in curs.fetchall()]

    def stream_rows(self, after: int, stop: int, page: int) -> Iterator[list[StoredRow]]:
        """The log's events in (after, stop] as plain rows, ``page`` at a time, from one query: a
        server-side cursor in one transaction (one snapshot of the log), on a connection of the pool
        held until the last page is read or the iterator is closed. A page of :meth:`select_rows` is a
        query of its own, planned for its ``LIMIT``; before the table's statistics are gathered the
        planner may sort every remaining row for each page."""
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor("disputes_stream_rows", row_factory=tuple_row) as curs,
        ):
            curs.itersize = page
            curs.execute(self.stream_rows_statement, (after, stop), binary=True)
            while rows := curs.fetchmany(page):
                yield [StoredRow(*row) for row in rows]

    def select_events_of(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        """Every event of these aggregates in one query, by aggregate and version."""
        if not originator_ids:
            return []
        return self._stored_events(self.select_events_of_statement, (list(originator_ids),))

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """Every event of one aggregate with a statement compiled once; the other selections composed by
        the library. Both are retried as the library retries its own."""
        if gt is None and lte is None and not desc and limit is None:
            found: list[StoredEvent] = self._select_all_events(originator_id)
            return found
        events: Sequence[StoredEvent] = super().select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        return events

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _select_all_events(self, originator_id: UUID | str) -> list[StoredEvent]:
        return self._stored_events(self.select_all_events_statement, (originator_id,))

    def _stored_events(self, statement: bytes, params: tuple[Any, ...]) -> list[StoredEvent]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return [
                StoredEvent(row["originator_id"], row["originator_version"], row["topic"], bytes(row["state"]))
                for row in curs.fetchall()
            ]

    def _notify_channel(self, curs: Any) -> None:
        curs.execute(self.notify_statement)

    def _insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """The library's hook in its insert transaction: mark the keyed run, if any, as committed."""
        attempt = kwargs.get("idempotency")
        if attempt is not None:
            curs.execute(*mark_committed(attempt, "postgres"))
        super()._insert_events(curs, stored_events, **kwargs)

    def _write_batch(self, pending: Sequence[Pending]) -> list[Outcome]:
        saves = [save for save, _ in pending]
        ids = sorted({event.originator_id for save in saves for event in save})
        with self.datastore.get_connection() as conn, conn.pipeline() as pipeline, conn.transaction():
            with conn.cursor() as curs:
                self._lock_table(curs)
                self._notify_channel(curs)
                curs.execute(self.select_latest_statement, (ids,), prepare=True)
                pipeline.sync()
                latest = {row["originator_id"]: row["version"] for row in curs.fetchall()}
            lost = lost_races(saves, latest)
            accepted = [event for save, refused in zip(saves, lost, strict=True) if not refused for event in save]
            positions: list[int] = []
            if accepted:
                with conn.cursor() as curs:
                    for (_, attempt), lost_it in zip(pending, lost, strict=True):
                        if attempt is not None and not lost_it:
                            curs.execute(*mark_committed(attempt, "postgres"))
                    PostgresAggregateRecorder._insert_stored_events(self, curs, accepted)
                    pipeline.sync()
                    positions = list(self._fetch_ids_after_insert_events(curs, accepted) or [])
        return _outcomes(saves, lost, positions)


RECORDER_TOPIC = f"{EventTableRecorder.__module__}:{EventTableRecorder.__qualname__}"


class SQLiteEventRecorder(GroupCommitting, SQLiteApplicationRecorder):
    """The library's SQLite application recorder, committing concurrent saves together: one
    transaction (one writer, one flush), each save a savepoint of its own."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name)
        self.select_rows_statement = (
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name}"
            " WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?"
        )
        self.start_group_commit()

    def select_rows(self, after: int, stop: int, limit: int) -> list[StoredRow]:
        """The log's events in (after, stop], at most ``limit``, as plain rows (the id as stored: hex)."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self.select_rows_statement, (after, stop, limit))
            return [StoredRow(*row) for row in cursor.fetchall()]

    def select_events_of(self, originator_ids: Sequence[UUID]) -> list[StoredEvent]:
        """Every event of these aggregates in one query, by aggregate and version."""
        if not originator_ids:
            return []
        marks = ", ".join("?" for _ in originator_ids)
        statement = (
            f"SELECT originator_id, originator_version, topic, state FROM {self.events_table_name}"
            f" WHERE originator_id IN ({marks}) ORDER BY originator_id, originator_version"
        )
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, [i.hex for i in originator_ids])
            return [
                StoredEvent(
                    self.convert_originator_id(row["originator_id"]),
                    row["originator_version"],
                    row["topic"],
                    row["state"],
                )
                for row in cursor.fetchall()
            ]

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """The library's insert, in its transaction; first the keyed run, if any, is marked committed."""
        attempt = kwargs.get("idempotency")
        if attempt is not None:
            c.execute(*mark_committed(attempt, "sqlite"))
        positions: Sequence[int] | None = super()._insert_events(c, stored_events, **kwargs)
        return positions

    def _write_batch(self, pending: Sequence[Pending]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        with self.datastore.transaction(commit=True) as cursor:
            for save, attempt in pending:
                outcomes.append(self._savepoint(cursor, save, attempt))
        return outcomes

    def _savepoint(self, cursor: SQLiteCursor, save: Save, attempt: Attempt | None) -> Outcome:
        cursor.execute("SAVEPOINT save")
        try:
            positions = self._insert_events(cursor, save, idempotency=attempt)
        except sqlite3.IntegrityError as refused:
            cursor.execute("ROLLBACK TO save")
            cursor.execute("RELEASE save")
            return IntegrityError(str(refused))
        cursor.execute("RELEASE save")
        return positions


SQLITE_RECORDER_TOPIC = f"{SQLiteEventRecorder.__module__}:{SQLiteEventRecorder.__qualname__}"


def _outcomes(saves: Sequence[Save], lost: Sequence[bool], positions: Sequence[int]) -> list[Outcome]:
    """Each save's positions (taken in turn from the batch's, in insert order), or its refusal."""
    outcomes: list[Outcome] = []
    taken = 0
    for save, refused in zip(saves, lost, strict=True):
        if refused:
            outcomes.append(lost_race(save))
        else:
            outcomes.append(list(positions[taken : taken + len(save)]))
            taken += len(save)
    return outcomes


class EventStorePool(FailFast, LibraryPool[Any]):
    """The library's pool, failing fast while the server is away and reconnecting soon
    (:mod:`disputes.adapters.pools`)."""


class EventStoreFactory(PostgresFactory):
    """The library's PostgreSQL persistence, its connections from an :class:`EventStorePool`.

    The library builds its pool from the environment (sizes, ``POSTGRES_CONNECT_TIMEOUT`` as the
    longest wait for a connection, the session settings of each new one); this one takes the same
    settings, and libpq's own ``connect_timeout`` from that wait, before anything is opened.
    """

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        library = self.datastore.pool
        assert isinstance(library.kwargs, dict)  # the library passes a dict of connection parameters
        self.datastore.pool = EventStorePool(
            get_password_func=library.get_password_func,
            connection_class=library.connection_class,
            kwargs={**library.kwargs, "connect_timeout": connect_timeout(library.timeout)},
            min_size=library.min_size,
            max_size=library.max_size,
            open=False,
            configure=library._configure,
            timeout=library.timeout,
            max_lifetime=library.max_lifetime,
            name=f"disputes-events-{self.datastore.schema}",
        )


FACTORY_TOPIC = f"{EventStoreFactory.__module__}:{EventStoreFactory.__qualname__}"


def eventsourcing_env(
    db: DatabaseUrl, *, pool_size: int = 1, create_tables: bool = False, wait_seconds: float = 5.0
) -> dict[str, str]:
    """The eventsourcing environment for this database; on PostgreSQL a request waits at most
    ``wait_seconds`` for a connection (less while the server is away: :mod:`disputes.adapters.pools`).

    ``CREATE_TABLE`` is on only for :func:`create_event_tables`. ``POSTGRES_ENABLE_DB_FUNCTIONS``
    stays off on purpose: the library's plain insert path takes the table lock that keeps
    notification order equal to commit order, which the audit chain relies on.
    """
    env = {
        "IS_SNAPSHOTTING_ENABLED": "y",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "CREATE_TABLE": "y" if create_tables else "n",
    }
    if db.dialect == "sqlite":
        assert db.sqlite_path is not None
        db.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        env.update(
            PERSISTENCE_MODULE="eventsourcing.sqlite",
            APPLICATION_RECORDER_TOPIC=SQLITE_RECORDER_TOPIC,
            SQLITE_DBNAME=str(db.sqlite_path),
            SQLITE_LOCK_TIMEOUT="10",
        )
    else:
        env.update(
            PERSISTENCE_MODULE=FACTORY_TOPIC,
            APPLICATION_RECORDER_TOPIC=RECORDER_TOPIC,
            POSTGRES_DBNAME=db.dbname,
            POSTGRES_HOST=db.host,
            POSTGRES_PORT=str(db.port),
            POSTGRES_USER=db.user or getpass.getuser(),
            POSTGRES_PASSWORD=db.password,
            # Opened with a few connections, grown on demand up to pool_size.
            POSTGRES_POOL_SIZE=str(min(MIN_POOL_SIZE, pool_size)),
            POSTGRES_MAX_OVERFLOW=str(pool_size - min(MIN_POOL_SIZE, pool_size)),
            POSTGRES_CONNECT_TIMEOUT=str(max(1, round(wait_seconds))),
            POSTGRES_LOCK_TIMEOUT="5",
            POSTGRES_PRE_PING="n",  # checked on failure instead (disputes.adapters.pools)
        )
    return env


class EventStoreSchema(Application[UUID]):
    """The event store's tables as the application uses them: the same name, ids and snapshots."""

    name = EVENT_STORE_NAME


def create_event_tables(db: DatabaseUrl) -> None:
    """Run the library's DDL for the application's tables (each ``IF NOT EXISTS``).

    Only ``disputes migrate`` calls this, before the numbered migrations and, on PostgreSQL, under
    their advisory lock. The library builds the tables from an application of the same name and id
    type as :class:`~disputes.application.claims.DisputesApplication`, so their names, the snapshot
    table and the originator id type are exactly those the running processes use.
    """
    EventStoreSchema(eventsourcing_env(db, create_tables=True)).close()
