"""The projection runner: reads the notification log from where the views stand, in batches, and writes
each batch's view rows together with the new positions in one transaction.

- Exactly once: a projection's rows and its position in ``projection_positions`` commit together, and
  the position moves by compare-and-set from the position the batch started from; a worker that lost
  a race (or crashed and came back) commits nothing twice.
- One worker per projection at a time on PostgreSQL: each batch runs under a transaction-scoped
  advisory lock per projection (``pg_try_advisory_xact_lock``); a worker that cannot take a lock
  leaves that projection to the one that holds it and tries again on its next round. SQLite has a
  single writer anyway, and the compare-and-set keeps a second worker harmless.
- Catch-up reads many events per batch; following is woken by LISTEN/NOTIFY on PostgreSQL (the
  channel the library notifies on every insert) and polls on SQLite. A runner far behind (a rebuild, a
  worker started after a long pause: at least ``catchup_batch_size`` events to read) reads that many
  per batch instead of ``batch_size``, and the rest in one batch once fewer than twice that many are
  left, so that each claim's rows are written once per batch rather than once per event and commits
  are fewer.
- The cyclic garbage collector is paused while a batch is processed (and resumed after it): a batch
  allocates hundreds of thousands of short-lived objects next to a large cache of claims, and full
  collections over that cache cost more than the batch's own work. Reference counting still frees
  everything that is not in a cycle.

Every projection of a runner shares one read and decode of the log: the batch starts at the lowest
position among them, and each projection receives only the changes past its own position.

A rebuild may split the log among several runners, one per :class:`~projections.partitions.Partition`
(each in a process of its own): each selects only the events of its share of the aggregates (in SQL),
decodes them with orjson (:mod:`projections.decoding`) and folds them without the library's keyword
filtering (:mod:`projections.fold`), and keeps its own position rows (``claims@1/2``, ...), written with
its rows in one transaction as always; a batch that finds fewer of its own events than it asked for
moves its positions to the stop, past the other partitions' events. Meanwhile the views' own positions
are held (negative): a runner leaves a held projection alone until the rebuild releases it
(``projections/partitions.py``).
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application

from disputes.domain.policy import Windows
from projections.changes import CLAIM_TOPIC_PREFIX, Change, ClaimStates, OtherEvent
from projections.decoding import EventDecoder
from projections.fold import Fold
from projections.partitions import Partition, PartitionReader, hold
from projections.store import ViewConnection, ViewStore, WriteBuffer, lock_key, time_text

log = logging.getLogger("disputes.projections")

CRASH_ENV = "DISPUTES_PROJECTIONS_TEST_CRASH_BEFORE_COMMIT"
"""For tests only: the runner's process exits abruptly before committing its N-th batch."""
CRASH_EXIT_STATUS = 86
CONTENDED_PAUSE_SECONDS = 0.02
RETRY_CAP_SECONDS = 2.0
"""The longest pause between two tries of a failing runner (the database away, say)."""
CATCHUP_BATCH_SIZE = 20_000
"""Events per batch while a runner has at least this many to read (see the module's notes)."""

ENSURE_POSITION = (
    "INSERT INTO projection_positions (name, position, updated_at) VALUES (?, 0, ?) "
    "ON CONFLICT (name) DO NOTHING"
)
SELECT_POSITIONS = "SELECT name, position FROM projection_positions"
ADVANCE_POSITION = (
    "UPDATE projection_positions SET position = ?, updated_at = ? WHERE name = ? AND position = ?"
)
RESET_POSITION = "UPDATE projection_positions SET position = 0, updated_at = ? WHERE name = ?"


class Projection(ABC):
    """One read model: how a batch of changes becomes rows of its tables."""

    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]
    """Its tables, emptied by a rebuild."""
    claims_only: ClassVar[bool] = True
    """False: ``process`` also gets the events of other aggregates, as :class:`OtherEvent`, in order."""

    @abstractmethod
    def process(self, changes: Sequence[Change], tx: ViewConnection) -> None:
        """Write the rows for these changes (in position order) inside the runner's transaction."""


class StalePosition(RuntimeError):
    """Another worker moved a projection's position since this batch began: nothing was committed."""


@dataclass
class Batch:
    """Notifications read and decoded, not yet committed (see :meth:`ProjectionRunner.prepare`)."""

    stack: ExitStack
    owned: list[Projection]
    positions: dict[str, int]
    changes: list[Change]
    start: int
    last: int
    read: int
    size: int = 0
    """How many notifications were asked for."""
    events: Sequence[Change | OtherEvent] = ()
    """Every event of the batch in order, other aggregates' too (``changes`` itself when all are claims')."""
    held: int = 0
    """The runner's projections left alone because a partitioned rebuild holds them."""

    @property
    def empty(self) -> bool:
        """Nothing read and no position to move (a partition may move past events that are not its own)."""
        return self.read == 0 and self.last <= self.start

    def abandon(self) -> None:
        """Give up the batch: its transaction (PostgreSQL) ends and its locks are released."""
        self.stack.close()


@dataclass(frozen=True)
class StepResult:
    processed: int
    """Notifications read in this step (claim events and others)."""
    caught_up: bool
    """Nothing more to read just now for any of the runner's projections."""
    position: int
    """Where the projections this step worked on now stand (the lowest of them, if it read nothing)."""


def ensure_positions(conn: ViewConnection, names: Sequence[str]) -> None:
    now = time_text(datetime.now(UTC))
    for name in names:
        conn.execute(ENSURE_POSITION, (name, now))


def read_positions(conn: ViewConnection) -> dict[str, int]:
    return {str(name): int(position) for name, position in conn.query(SELECT_POSITIONS)}


class ProjectionRunner:
    """Runs some projections against one application's notification log."""

    def __init__(
        self,
        app: Application[UUID],
        store: ViewStore,
        projections: Sequence[Projection],
        *,
        windows: Windows,
        batch_size: int = 1000,
        catchup_batch_size: int = CATCHUP_BATCH_SIZE,
        poll_seconds: float = 0.2,
        cache_size: int = 10_000,
        crash_before_commit: int | None = None,
        partition: Partition | None = None,
        stop: int | None = None,
    ) -> None:
        if not projections:
            raise ValueError("a runner needs at least one projection")
        self.app = app
        self.store = store
        self.projections = list(projections)
        self.batch_size = batch_size
        self.catchup_batch_size = max(batch_size, catchup_batch_size)
        self.poll_seconds = poll_seconds
        self.crash_before_commit = crash_before_commit
        self.partition = partition
        """Only this share of the aggregates, at positions of its own (a partitioned rebuild)."""
        self.stop = stop
        """Read no notification past this position (a partition rebuilds up to the head it was given)."""
        self.reader: PartitionReader | None = None
        self.decoder: EventDecoder | None = None
        if partition is None:
            self.states = ClaimStates(app, windows, cache_size)
        else:
            if stop is None:
                raise ValueError("a partition rebuilds up to a given position: stop is needed")
            # A rebuild's partition reads its own events in SQL, decodes them with orjson and folds them
            # without the library's keyword filtering (each falling back to the library when unsure).
            self.reader = PartitionReader(app.recorder, partition, store.dialect)
            self.decoder = EventDecoder(app)
            self.states = ClaimStates(app, windows, cache_size, fold=Fold())
        self._names = {p.name: p.name if partition is None else partition.position_name(p.name) for p in projections}
        self._batches = 0
        self._conn: ViewConnection | None = None
        self.last_error: BaseException | None = None

    # --- connection ----------------------------------------------------------------------------------
    @property
    def conn(self) -> ViewConnection:
        if self._conn is None:
            self._conn = self.store.connect()
            ensure_positions(self._conn, list(self._names.values()))
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            with suppress(Exception):
                self._conn.close()
            self._conn = None

    # --- one batch -----------------------------------------------------------------------------------
    def step(self) -> StepResult:
        """Read one batch past the lowest position and commit it for every projection it concerns."""
        with gc_paused():
            batch = self.prepare()
            # Projections another worker holds are not caught up as far as this runner can tell.
            complete = len(batch.owned) + batch.held == len(self.projections)
            if batch.empty:
                batch.abandon()
                return StepResult(0, complete, batch.start)
            self.commit(batch)
            result = StepResult(batch.read, complete and batch.read < batch.size, batch.last)
            # Freed by reference counting while the collector is still off: otherwise its first pass
            # after the batch would walk every change, event and row of it before they go.
            del batch
        return result

    def prepare(self) -> Batch:
        """Lock what can be locked, read the positions and the next notifications, and decode them.

        On PostgreSQL the batch is one transaction, from here to :meth:`commit`, holding the
        projections' advisory locks. On SQLite the write transaction (which blocks every other writer,
        commands included) starts only in :meth:`commit`; the compare-and-set there catches any worker
        that moved first.
        """
        conn = self.conn
        stack = ExitStack()
        try:
            if conn.dialect == "postgres":
                stack.enter_context(conn.transaction())
            names = self._names
            owned = [p for p in self.projections if conn.try_lock(lock_key(names[p.name]))]
            positions = {p.name: at for p, at in zip(owned, self._positions(conn, owned), strict=True)}
            locked = len(owned)
            owned = [p for p in owned if positions[p.name] >= 0]  # a held one is being rebuilt in partitions
            held = locked - len(owned)
            if not owned:
                return Batch(stack, [], {}, [], 0, 0, 0, held=held)
            start = min(positions[p.name] for p in owned)
            size = self._batch_size(start)
            if self.reader is not None and self.stop is not None:
                rows = self.reader.select(start, self.stop, size)
                # Fewer than asked for: every event up to the stop that is this partition's was read.
                last = rows[-1].id if len(rows) == size else max(start, self.stop)
                changes, events = self._changes(rows, self.decoder.decode if self.decoder else None)
                return Batch(stack, owned, positions, changes, start, last, len(rows), size, events, held)
            notifications = self.app.recorder.select_notifications(
                start, size, stop=self.stop, inclusive_of_start=False
            )
            if not notifications:
                return Batch(stack, owned, positions, [], start, start, 0, size, held=held)
            changes, events = self._changes(notifications)
            return Batch(
                stack, owned, positions, changes, start, notifications[-1].id, len(notifications), size, events,
                held,
            )
        except BaseException:
            self.states.clear()
            stack.close()
            raise

    def _positions(self, conn: ViewConnection, projections: Sequence[Projection]) -> list[int]:
        """Where each of ``projections`` stands (at this runner's own rows, for a partition)."""
        if not projections:
            return []
        found = read_positions(conn)
        return [found.get(self._names[p.name], 0) for p in projections]

    def _batch_size(self, start: int) -> int:
        """``catchup_batch_size`` when at least that many events wait past ``start``, else ``batch_size``.

        When fewer than twice that many wait, the batch takes them all: otherwise the last of them
        (up to ``catchup_batch_size`` - 1) would go in small batches, which cost more per event.
        """
        if self.catchup_batch_size > self.batch_size:
            head = int(self.app.recorder.max_notification_id() or 0) if self.stop is None else self.stop
            waiting = head - start
            if self.partition is not None:
                # About a share of them are its own, and the SQL selects only those: when fewer than
                # twice a batch of its own are left, asking for every event left costs nothing more.
                if waiting // self.partition.count >= 2 * self.catchup_batch_size:
                    return self.catchup_batch_size
                return max(waiting, self.batch_size)
            if waiting >= 2 * self.catchup_batch_size:
                return self.catchup_batch_size
            if waiting >= self.catchup_batch_size:
                return waiting
        return self.batch_size

    def commit(self, batch: Batch) -> None:
        """Write the batch's rows and move each projection's position, in one transaction.

        On SQLite the views build their rows before the write lock is taken (:class:`WriteBuffer`), and
        only the writes and the positions run under it.
        """
        conn = self.conn
        try:
            with batch.stack:
                work = []
                for projection in batch.owned:
                    at = batch.positions.get(projection.name, 0)
                    if at >= batch.last:
                        continue
                    # Usually every projection stood where the batch started: all the changes are its own.
                    source: Sequence[Any] = batch.changes if projection.claims_only else batch.events
                    mine = source if at <= batch.start else [c for c in source if c.position > at]
                    writes = None
                    if mine and conn.dialect == "sqlite" and projection.tables:
                        writes = WriteBuffer(conn.dialect)
                        projection.process(mine, writes)
                    work.append((projection, at, mine, writes))
                with nullcontext() if conn.dialect == "postgres" else conn.transaction():
                    for projection, at, mine, writes in work:
                        if writes is not None:
                            writes.replay(conn)
                        elif mine:
                            projection.process(mine, conn)
                        self._advance(conn, self._names[projection.name], at, batch.last)
                    self._maybe_crash()
        except BaseException:
            # The cached claims may have moved past what is committed: start afresh.
            self.states.clear()
            raise

    def _changes(
        self, notifications: Sequence[Any], decode: Callable[[Any], Any] | None = None
    ) -> tuple[list[Change], Sequence[Change | OtherEvent]]:
        """The claim changes, and every event in order (the same list when all are claim events)."""
        decode = decode or self.app.mapper.to_domain_event
        change = self.states.change
        changes = [
            change(notification.id, decode(notification))
            for notification in notifications
            # Another aggregate's event: the claim views have nothing to do with it.
            if notification.topic.startswith(CLAIM_TOPIC_PREFIX)
        ]
        if len(changes) == len(notifications):
            return changes, changes
        claims = iter(changes)
        events: list[Change | OtherEvent] = []
        for notification in notifications:
            if notification.topic.startswith(CLAIM_TOPIC_PREFIX):
                events.append(next(claims))
            else:
                other = decode(notification)
                events.append(OtherEvent(notification.id, other, type(other).__name__))
        return changes, events

    @staticmethod
    def _advance(conn: ViewConnection, name: str, old: int, new: int) -> None:
        if conn.execute(ADVANCE_POSITION, (new, time_text(datetime.now(UTC)), name, old)) != 1:
            raise StalePosition(f"projection {name} is no longer at position {old}")

    def _maybe_crash(self) -> None:
        self._batches += 1
        if self.crash_before_commit is not None and self._batches >= self.crash_before_commit:
            log.error("crashing before commit of batch %d, as %s asks", self._batches, CRASH_ENV)
            os._exit(CRASH_EXIT_STATUS)

    # --- loops ---------------------------------------------------------------------------------------
    def run_until_caught_up(
        self, progress: Callable[[int], None] | None = None, *, retries: int = 3
    ) -> int:
        """Process batches until nothing is left to read; the number of notifications read."""
        total = 0
        stale = 0
        while True:
            try:
                result = self.step()
            except StalePosition:
                stale += 1
                if stale > retries:
                    raise
                continue
            total += result.processed
            if progress is not None:
                progress(result.position)
            if result.caught_up:
                return total
            if result.processed == 0:  # another worker holds a projection: let it finish its batch
                time.sleep(CONTENDED_PAUSE_SECONDS)

    def run_forever(self, stop: threading.Event) -> None:
        """Catch up, then follow new events until ``stop`` is set. Errors are logged and retried, at
        most ``RETRY_CAP_SECONDS`` apart (the views follow again soon after the database is back)."""
        backoff = 0.5
        while not stop.is_set():
            try:
                with self._wakeups(stop) as wait:
                    while not stop.is_set():
                        try:
                            result = self.step()
                        except StalePosition as stale:
                            log.info("%s; reloading positions", stale)
                            continue
                        self.last_error = None
                        backoff = 0.5
                        if result.caught_up or result.processed == 0:
                            wait()
            except Exception as error:
                self.last_error = error
                log.warning("projection runner failed (%s: %s); retrying in %.1fs",
                            type(error).__name__, error, backoff)
                self.close()
                stop.wait(backoff)
                backoff = min(backoff * 2, RETRY_CAP_SECONDS)

    @contextmanager
    def _wakeups(self, stop: threading.Event) -> Iterator[Callable[[], None]]:
        """A function that blocks until there may be new events: a NOTIFY on PostgreSQL, a poll on SQLite.

        The LISTEN starts before the first read, so that no notification can slip in between.
        """
        channel = getattr(self.app.recorder, "channel_name", None)
        if self.store.dialect != "postgres" or channel is None:

            def poll() -> None:
                stop.wait(self.poll_seconds)

            yield poll
            return
        from psycopg import sql

        listener = self.store.connect()
        try:
            listener.raw.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            # On PostgreSQL poll_seconds is only the safety net for a lost notification.
            patience = max(self.poll_seconds, 1.0)

            def listen() -> None:
                waited = 0.0
                while not stop.is_set() and waited < patience:
                    # Notifications that queued up meanwhile wake later waits at once; each such
                    # wake-up costs one read that finds little, never a missed event.
                    for _ in listener.raw.notifies(timeout=0.25, stop_after=1):
                        return
                    waited += 0.25

            yield listen
        finally:
            with suppress(Exception):
                listener.close()


# --- rebuilding --------------------------------------------------------------------------------------


def reset(store: ViewStore, projections: Sequence[Projection], partitions: int = 1) -> None:
    """Empty the projections' tables and put them back at position 0, in one transaction; with more
    than one ``partitions``, hold them for a rebuild in that many (``projections/partitions.py``).

    On PostgreSQL it waits for each projection's lock, so no batch of another worker is half done; a
    worker that had read the old position fails its compare-and-set and starts again from 0.
    """
    conn = store.connect()
    try:
        ensure_positions(conn, [p.name for p in projections])
        with conn.transaction():
            now = time_text(datetime.now(UTC))
            for projection in projections:
                conn.lock(lock_key(projection.name))
                for table in projection.tables:
                    conn.execute(f"DELETE FROM {table}")
                if partitions > 1:
                    hold(conn, projection.name, partitions, now)
                else:
                    conn.execute(RESET_POSITION, (now, projection.name))
    finally:
        conn.close()


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block, as it was after it (see the module's notes)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def crash_hook_from_environment() -> int | None:
    value = os.environ.get(CRASH_ENV, "").strip()
    return int(value) if value else None
