"""The seal: the audit chain computed over the notification log, one stored hash per position.

``AuditSeal`` is a tracked projection in the shape the read-side runner drives: ``process_batch`` gets
decoded events with their positions, in store order, and a DB-API connection inside the runner's
transaction; the seal table is its own tracking (its highest position is the sealed head), so a batch
that repeats positions already sealed changes nothing. Until the runner exists, ``seal_new_events``
drives it standalone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar
from uuid import UUID

from eventsourcing.persistence import Notification

from disputes.adapters.database import DatabaseUrl, connect
from disputes.adapters.event_store import StoredRow
from disputes.application.claims import DisputesApplication
from disputes.application.records import EventRecord, event_record
from disputes.audit import AuditError
from disputes.audit.canonical import ZERO_HASH, chain_record

DEFAULT_BATCH = 1000
SEAL_LOCK_KEY = 7235441203191506292
"""PostgreSQL advisory lock that makes concurrent sealers take turns (migrations hold ...291)."""


@dataclass(frozen=True)
class SealHead:
    """The last sealed position and its hash (0 and 64 zeros before anything is sealed)."""

    position: int
    hash: str


class SealedRow(NamedTuple):
    """One row of the seal (a named tuple: an export reads one per event)."""

    position: int
    claim_id: str
    version: int
    recorded_at: str
    hash: str


class SealedRange(NamedTuple):
    """Positions (after, stop] of the log, and the sealed hash of the position before them."""

    after: int
    stop: int
    prev_hash: str


def seal_time(moment: datetime) -> str:
    """Fixed-width UTC text that sorts in time order on both backends."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _event_and_position(item: Any) -> tuple[Any, int]:
    if hasattr(item, "event") and hasattr(item, "position"):  # the runner's Change (a named tuple)
        return item.event, int(item.position)
    if isinstance(item, tuple):
        domain_event, tracking = item
        position = tracking if isinstance(tracking, int) else tracking.notification_id
        return domain_event, int(position)
    return item.event, int(item.position)


class _Sql:
    """The seal's SQL in one dialect's parameter style."""

    def __init__(self, marker: str) -> None:
        def q(text: str) -> str:
            return text.replace("?", marker)

        self.head = "SELECT position, hash FROM audit_seal ORDER BY position DESC LIMIT 1"
        self.insert = q(
            "INSERT INTO audit_seal (position, claim_id, version, recorded_at, hash) VALUES (?, ?, ?, ?, ?)"
        )
        self.rows = q(
            "SELECT position, claim_id, version, recorded_at, hash FROM audit_seal"
            " WHERE position > ? AND position <= ? ORDER BY position LIMIT ?"
        )
        self.hash_before = q("SELECT hash FROM audit_seal WHERE position < ? ORDER BY position DESC LIMIT 1")
        self.count = q("SELECT count(*) FROM audit_seal WHERE position > ? AND position <= ?")
        self.claim_rows = q(
            "SELECT position, claim_id, version, recorded_at, hash FROM audit_seal"
            " WHERE claim_id = ? ORDER BY version"
        )
        self.at_version = q(
            "SELECT position, claim_id, version, recorded_at, hash FROM audit_seal"
            " WHERE claim_id = ? AND version = ?"
        )
        self.boundary = q("SELECT min(position) FROM audit_seal WHERE recorded_at >= ?")
        self.nth = q(
            "SELECT position, hash FROM audit_seal WHERE position > ? AND position <= ?"
            " ORDER BY position LIMIT 1 OFFSET ?"
        )


SQLITE_SQL = _Sql("?")
POSTGRES_SQL = _Sql("%s")


def _sql_for(conn: Any) -> _Sql:
    return SQLITE_SQL if isinstance(conn, sqlite3.Connection) else POSTGRES_SQL


def _missing_table(exc: BaseException) -> bool:
    text = str(exc)
    return "audit_seal" in text and ("no such table" in text or "does not exist" in text)


@contextmanager
def _seal_errors() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        if _missing_table(exc):
            raise AuditError("the audit seal table is missing: run 'disputes migrate' first") from None
        raise


class AuditSeal:
    """The audit chain as a projection: one row (position, claim, version, time, hash) per event."""

    name = "audit_seal"

    def head(self, transaction: Any) -> SealHead:
        with _seal_errors():
            row = transaction.execute(_sql_for(transaction).head).fetchone()
        return SealHead(0, ZERO_HASH) if row is None else SealHead(int(row[0]), str(row[1]))

    def process_batch(self, events: Sequence[Any], transaction: Any) -> SealHead:
        """Seal these events, in store order, inside the caller's transaction; return the new head.

        Each item of ``events`` is a (decoded domain event, position or eventsourcing ``Tracking``)
        pair, or an object with ``.event`` and ``.position`` (the read-side runner's ``Change``).
        ``transaction`` is a DB-API connection in an open transaction (sqlite3 or psycopg), or an
        object holding one as ``.raw``. Positions at or below the sealed head are skipped, so
        redelivery is harmless.
        """
        transaction = getattr(transaction, "raw", transaction)
        if not isinstance(transaction, sqlite3.Connection):
            transaction.execute("SELECT pg_advisory_xact_lock(%s)", (SEAL_LOCK_KEY,))
        head = self.head(transaction)
        rows = []
        position, prev = head.position, head.hash
        for item in events:
            domain_event, at = _event_and_position(item)
            if at <= position:
                continue
            record = event_record(domain_event)
            prev = chain_record(at, record, prev)["hash"]
            position = at
            rows.append((at, record.claim_id, record.version, seal_time(record.recorded_at), prev))
        if rows:
            with _seal_errors():
                transaction.cursor().executemany(_sql_for(transaction).insert, rows)
        return SealHead(position, prev)


def decode(app: DisputesApplication, notification: Notification) -> EventRecord:
    return event_record(app.mapper.to_domain_event(notification))


def iter_notifications(
    app: DisputesApplication, after: int, stop: int | None = None, batch: int = DEFAULT_BATCH
) -> Iterator[Notification]:
    """Stored events with positions in (after, stop], in order, fetched ``batch`` at a time."""
    while True:
        page = app.recorder.select_notifications(after, batch, stop=stop, inclusive_of_start=False)
        yield from page
        if len(page) < batch:
            return
        after = page[-1].id


T = TypeVar("T")

STORE_END = 2**63 - 1
"""The highest position either store can hold: "no stop"."""


def iter_stored(
    app: DisputesApplication, after: int, stop: int | None = None, batch: int = DEFAULT_BATCH
) -> Generator[Notification | StoredRow, None, None]:
    """:func:`iter_notifications`, as the store's plain rows when its recorder reads them (ours do):
    no UUID object and no Notification per event. :func:`as_notification` makes one when needed. Pages
    are read ahead (:func:`paged`) where the recorder asks for it."""
    select = getattr(app.recorder, "select_rows", None)
    if select is None:
        yield from iter_notifications(app, after, stop, batch)
        return
    end = STORE_END if stop is None else stop
    stream = getattr(app.recorder, "stream_rows", None)
    if stream is not None:
        yield from read_ahead(stream(after, end, batch))
        return
    ahead = bool(getattr(app.recorder, "rows_read_ahead", False))
    yield from paged(lambda start: select(start, end, batch), after, batch, _row_id, ahead=ahead)


def _row_id(row: StoredRow) -> int:
    return row.id


def paged(
    select: Callable[[int], Sequence[T]], after: int, batch: int, last: Callable[[T], int], *, ahead: bool
) -> Iterator[T]:
    """The rows of ``select(after)`` page by page, each page starting after the last row of the one before
    (``last`` of it), until a page holds fewer than ``batch``. With ``ahead`` (PostgreSQL: the server's
    work and the network's) the next page is read by a thread of its own while this one is worked on."""
    if not ahead:
        while True:
            page = select(after)
            yield from page
            if len(page) < batch:
                return
            after = last(page[-1])
    with ThreadPoolExecutor(1, thread_name_prefix="disputes-read-ahead") as pool:
        coming = pool.submit(select, after)
        while True:
            page = coming.result()
            if len(page) == batch:
                coming = pool.submit(select, last(page[-1]))
            yield from page
            if len(page) < batch:
                return


def read_ahead(pages: Iterator[Sequence[T]]) -> Iterator[T]:
    """The rows of ``pages``, the next page read by a thread of its own while this one is worked on;
    ``pages`` is closed when done (or when this iterator is)."""
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="disputes-read-ahead") as pool:
            coming = pool.submit(next, pages, None)
            while (page := coming.result()) is not None:
                coming = pool.submit(next, pages, None)
                yield from page
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()


def as_notification(app: DisputesApplication, row: Notification | StoredRow) -> Notification:
    """The library's Notification of a row of :func:`iter_stored`, its id converted as the recorder does."""
    if isinstance(row, Notification):
        return row
    stored_id: UUID | str = row.originator_id
    if getattr(app.recorder.datastore, "originator_id_type", "uuid") == "uuid":  # type: ignore[attr-defined]
        stored_id = UUID(row.originator_id)
    return Notification(
        id=row.id,
        originator_id=stored_id,
        originator_version=row.originator_version,
        topic=row.topic,
        state=bytes(row.state),
    )


def seal_new_events(
    app: DisputesApplication, db: DatabaseUrl, batch: int = DEFAULT_BATCH, seal: AuditSeal | None = None
) -> SealHead:
    """Seal every recorded event not sealed yet, one transaction per batch; return the sealed head."""
    seal = seal or AuditSeal()
    while True:
        with connect(db) as conn:
            head = seal.head(conn)
            page = app.recorder.select_notifications(head.position, batch, inclusive_of_start=False)
            if not page:
                return head
            head = seal.process_batch([(app.mapper.to_domain_event(n), n.id) for n in page], conn)
        if len(page) < batch:
            return head


@dataclass(frozen=True)
class SealStatus:
    """For /readyz and /metrics: the sealed head, the store's head, and the lag between them.

    The lag is counted in positions: an upper bound of the events waiting (PostgreSQL may skip ids).
    """

    sealed_position: int
    sealed_hash: str
    store_position: int
    lag: int


class SealReader:
    """Read-only queries on the seal table over one connection (no write lock on SQLite)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.sql = _sql_for(conn)

    def _one(self, statement: str, params: tuple[Any, ...] = ()) -> Any:
        with _seal_errors():
            return self.conn.execute(statement, params).fetchone()

    def head(self) -> SealHead:
        row = self._one(self.sql.head)
        return SealHead(0, ZERO_HASH) if row is None else SealHead(int(row[0]), str(row[1]))

    def hash_before(self, position: int) -> str:
        """The sealed hash of the last position before ``position`` (64 zeros if none)."""
        row = self._one(self.sql.hash_before, (position,))
        return ZERO_HASH if row is None else str(row[0])

    def count(self, after: int, stop: int) -> int:
        return int(self._one(self.sql.count, (after, stop))[0])

    def boundary(self, moment: datetime) -> int | None:
        """The first sealed position recorded at or after ``moment``."""
        row = self._one(self.sql.boundary, (seal_time(moment),))
        return None if row is None or row[0] is None else int(row[0])

    def at_version(self, claim_id: str, version: int) -> SealedRow | None:
        row = self._one(self.sql.at_version, (claim_id, version))
        return None if row is None else SealedRow(*row)

    def claim_rows(self, claim_id: str) -> list[SealedRow]:
        with _seal_errors():
            return [SealedRow(*row) for row in self.conn.execute(self.sql.claim_rows, (claim_id,))]

    def split(self, after: int, stop: int, prev_hash: str, size: int) -> list[SealedRange]:
        """Positions (after, stop] in ranges of ``size`` sealed rows (the last one takes the rest, sealed
        or not), each with the sealed hash before it: ``prev_hash`` for the first, then the hash of the
        last sealed row of the range before. Each range's chain can be made on its own."""
        ranges: list[SealedRange] = []
        while True:
            row = self._one(self.sql.nth, (after, stop, size - 1))
            if row is None or int(row[0]) >= stop:
                ranges.append(SealedRange(after, stop, prev_hash))
                return ranges
            ranges.append(SealedRange(after, int(row[0]), prev_hash))
            after, prev_hash = int(row[0]), str(row[1])

    def rows(self, after: int, stop: int, batch: int = DEFAULT_BATCH) -> Generator[SealedRow, None, None]:
        """Sealed rows with positions in (after, stop], in order (on PostgreSQL, pages read ahead)."""

        def select(start: int) -> list[Any]:
            with _seal_errors():
                return list(self.conn.execute(self.sql.rows, (start, stop, batch)).fetchall())

        ahead = self.sql is POSTGRES_SQL
        for row in paged(select, after, batch, _first_int, ahead=ahead):
            yield SealedRow(int(row[0]), str(row[1]), int(row[2]), str(row[3]), str(row[4]))


def _first_int(row: Any) -> int:
    return int(row[0])


@contextmanager
def seal_reader(db: DatabaseUrl) -> Iterator[SealReader]:
    if db.dialect == "sqlite":
        assert db.sqlite_path is not None
        if not db.sqlite_path.exists():
            raise AuditError(f"no database at {db.sqlite_path}: run 'disputes migrate' first")
        conn = sqlite3.connect(db.sqlite_path, timeout=10)
        try:
            yield SealReader(conn)
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(db.conninfo(), autocommit=True) as pg:
            yield SealReader(pg)


def seal_status(app: DisputesApplication, db: DatabaseUrl) -> SealStatus:
    with seal_reader(db) as reader:
        head = reader.head()
    store = app.recorder.max_notification_id() or 0
    return SealStatus(head.position, head.hash, store, max(store - head.position, 0))
