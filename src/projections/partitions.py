"""A rebuild split among processes: each partition projects the events of its share of the aggregates.

Every view is a function of each aggregate's own events (a claim's rows come from that claim's events,
an order's delivery from that order's), so the log can be split by aggregate: partition ``i`` of ``n``
takes the aggregates whose id modulo ``n`` is ``i``. Each partition reads every notification (a cheap
part of the work) but decodes, folds and writes only its own, so ``n`` processes share the costly part.

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
from typing import Any, Protocol, TypeVar

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


class HasOriginator(Protocol):
    @property
    def originator_id(self) -> Any: ...


N = TypeVar("N", bound=HasOriginator)


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

    def mine(self, notifications: Sequence[N]) -> list[N]:
        """The notifications of this partition's aggregates, in order."""
        count, index = self.count, self.index
        return [n for n in notifications if n.originator_id.int % count == index]


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
