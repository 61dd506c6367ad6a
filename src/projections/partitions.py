"""A rebuild split among processes: each partition projects the events of its share of the aggregates.

Every view is a function of each aggregate's own events (a claim's rows come from that claim's events,
an order's delivery from that order's), so the log can be split by aggregate: partition ``i`` of ``n``
takes the aggregates whose id's last two bytes (a number 0..65535), modulo ``n``, are ``i``. Each
partition selects only its own events, in SQL against the event store's table (:class:`PartitionReader`:
the same rule written in each dialect, so that no other partition's state is read, sent or decoded),
and decodes, folds and writes them, so ``n`` processes share all of the work.

The rule stays: a partition's rows and its position commit in one transaction. Its positions are rows
of their own in ``projection_positions`` (``claims@0/2``, ...); while they exist the view's own
position is held at -1, and every runner leaves a held view alone (nobody projects it twice). When
every partition has reached the head the rebuild was given, :func:`release` moves the view's position
to that head and removes the partitions' rows, in one transaction; the views then follow the events
recorded meanwhile as usual. A rebuild that fails leaves the view held: run the rebuild again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from disputes.adapters.database import Dialect
from disputes.adapters.event_store import StoredRow
from projections.store import ViewConnection, ViewStore, lock_key, time_text

HELD = -1
"""The position of a view being rebuilt in partitions."""
HOLD_POSITION = "UPDATE projection_positions SET position = ?, updated_at = ? WHERE name = ?"
ADD_PARTITION = (
    "INSERT INTO projection_positions (name, position, updated_at) VALUES (?, 0, ?) "
    "ON CONFLICT (name) DO UPDATE SET position = 0, updated_at = excluded.updated_at"
)
PARTITION_POSITION = "SELECT position FROM projection_positions WHERE name = ?"
DROP_PARTITIONS = "DELETE FROM projection_positions WHERE name LIKE ?"
RELEASE_POSITION = "UPDATE projection_positions SET position = ?, updated_at = ? WHERE name = ? AND position = ?"

SHARE_BITS = 0xFFFF
"""An aggregate's share is its id's last two bytes (``id.int & SHARE_BITS``) modulo the partitions."""
_HEX = "'0123456789abcdef'"
_NIBBLE = "(instr(" + _HEX + ", lower(substr(originator_id, {0}, 1))) - 1)"
SQLITE_SHARE = (
    f"((({_NIBBLE.format(-4)} * 16 + {_NIBBLE.format(-3)}) * 16 + {_NIBBLE.format(-2)}) * 16"
    f" + {_NIBBLE.format(-1)})"
)
"""The share of a UUID stored as text, as SQLite does (its hex digits): its last 4 digits as a number."""
SELECT_PARTITION_SQLITE = (
    "SELECT rowid, originator_id, originator_version, topic, state FROM {table}"
    f" WHERE rowid > ? AND rowid <= ? AND {SQLITE_SHARE} % ? = ? ORDER BY rowid LIMIT ?"
)
"""A partition's events in (after, stop], at most a number of them, from the library's SQLite table."""
SELECT_PARTITION_POSTGRES = (
    "SELECT notification_id, originator_id::text, originator_version, topic, state FROM {schema}.{table}"
    " WHERE notification_id > %s AND notification_id <= %s"
    " AND mod(get_byte(uuid_send(originator_id), 14) * 256 + get_byte(uuid_send(originator_id), 15), %s) = %s"
    " ORDER BY notification_id LIMIT %s"
)
"""The same from the library's PostgreSQL table (the id a ``uuid``: its last two bytes)."""


@dataclass(frozen=True)
class Partition:
    """Share ``index`` of ``count`` of the aggregates."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"no partition {self.index} of {self.count}")

    def position_name(self, projection: str) -> str:
        return f"{projection}@{self.index}/{self.count}"

    def owns(self, aggregate_id: UUID) -> bool:
        """Whether the aggregate is this partition's (the rule the SQL of :class:`PartitionReader` has)."""
        return (aggregate_id.int & SHARE_BITS) % self.count == self.index


class PartitionReader:
    """Reads one partition's events straight from the event store's table, as plain rows."""

    def __init__(self, recorder: ApplicationRecorder, partition: Partition, dialect: Dialect) -> None:
        library: Any = recorder  # the library's recorder of that dialect: its datastore and table
        self.recorder = library
        self.partition = partition
        self.dialect = dialect
        table = library.events_table_name
        if dialect == "postgres":
            self.statement: Any = SQL(SELECT_PARTITION_POSTGRES).format(
                schema=Identifier(library.datastore.schema), table=Identifier(table)
            )
        else:
            self.statement = SELECT_PARTITION_SQLITE.format(table=table)

    def select(self, after: int, stop: int, limit: int) -> list[StoredRow]:
        """This partition's events at positions in (``after``, ``stop``], the first ``limit`` of them."""
        params = (after, stop, self.partition.count, self.partition.index, limit)
        datastore = self.recorder.datastore
        if self.dialect == "postgres":
            with datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
                curs.execute(self.statement, params, prepare=True, binary=True)
                return [StoredRow(*row) for row in curs.fetchall()]
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(self.statement, params)
            return [StoredRow(*row) for row in cursor.fetchall()]


def partitions(count: int) -> list[Partition]:
    return [Partition(i, count) for i in range(count)]


def hold(conn: ViewConnection, name: str, count: int, now: str) -> None:
    """In the caller's transaction: hold the (emptied) view ``name`` for a rebuild in ``count``
    partitions, each starting at 0 (``runner.reset`` calls it)."""
    conn.execute(DROP_PARTITIONS, (f"{name}@%",))
    conn.execute(HOLD_POSITION, (HELD, now, name))
    for partition in partitions(count):
        conn.execute(ADD_PARTITION, (partition.position_name(name), now))


def lowest(store: ViewStore, names: Sequence[str], count: int) -> int:
    """The lowest position of any partition of these views (for a progress bar)."""
    conn = store.connect()
    try:
        found = [
            conn.one(PARTITION_POSITION, (partition.position_name(name),))
            for name in names
            for partition in partitions(count)
        ]
        return min((int(row[0]) for row in found if row is not None), default=0)
    finally:
        conn.close()


def release(store: ViewStore, names: Sequence[str], count: int, head: int) -> None:
    """Every partition at ``head``: each view's position becomes ``head``, the partitions' rows go."""
    conn = store.connect()
    try:
        with conn.transaction():
            now = time_text(datetime.now(UTC))
            for name in names:
                conn.lock(lock_key(name))
                for partition in partitions(count):
                    row = conn.one(PARTITION_POSITION, (partition.position_name(name),))
                    if row is None or int(row[0]) != head:
                        raise RuntimeError(
                            f"partition {partition.index} of {name} stands at "
                            f"{None if row is None else row[0]}, not {head}"
                        )
                if conn.execute(RELEASE_POSITION, (head, now, name, HELD)) != 1:
                    raise RuntimeError(f"projection {name} was not held for its rebuild")
                conn.execute(DROP_PARTITIONS, (f"{name}@%",))
    finally:
        conn.close()
