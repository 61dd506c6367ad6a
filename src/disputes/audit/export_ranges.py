"""A period's blocks made in worker processes: the period split at seal boundaries, a range per task.

Each range's chain starts from the seal's hash of the position before it
(:meth:`~disputes.audit.chain.SealReader.split`), so a worker makes and checks its range's records on
its own: it reads the store and the seal on connections of its own and returns the range's block
(:mod:`disputes.audit.blocks`). The caller gets the blocks in store order, as the export's own process
would make them, and writes them; at most two ranges per worker are in flight, so memory stays bounded
whatever the period's size.

Workers are forked (no interpreter to start, no module to import again) and build their own
application from the caller's environment. Where processes are not possible (no ``fork``, a store in
memory, a worker that cannot start or dies), the rest of the period is made in the caller's process.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
from collections import deque
from collections.abc import Generator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from multiprocessing.util import Finalize
from typing import Any

from disputes.adapters.database import DatabaseUrl
from disputes.application.claims import DisputesApplication
from disputes.audit.blocks import Block, blocks
from disputes.audit.chain import STORE_END, SealedRange, SealReader, seal_reader
from disputes.audit.verify_store import walk_sealed_lines

log = logging.getLogger("disputes.exports")

RANGE_EVENTS = 5_000
"""Sealed events per range (a page of the export's reads; about 3 MB of lines): small enough that the
workers finish together (the last range is a tenth of 50,000 events' work), large enough that a range's
few queries and its transfer to the writer cost little beside it."""
IN_FLIGHT = 2
"""Ranges per worker submitted ahead of the one being written: workers never wait for the writer."""


def processes_possible(app: DisputesApplication, db: DatabaseUrl) -> bool:
    """Whether worker processes can read this store: forking is available and the store is not in memory."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    if db.dialect == "sqlite":
        path = db.sqlite_path
        named = str(app.env.get("SQLITE_DBNAME", ""))
        return path is not None and path.exists() and ":memory:" not in named and "mode=memory" not in named
    return True


def range_blocks(
    app: DisputesApplication,
    reader: SealReader,
    ranges: list[SealedRange],
    *,
    db: DatabaseUrl,
    workers: int,
    batch: int,
) -> Generator[Block, None, None]:
    """The blocks of these consecutive ranges, in order, each range's made by one of ``workers``
    forked processes; from the first range a worker could not make, in this process."""
    pending: deque[tuple[SealedRange, Future[list[Block]]]] = deque()
    coming = iter(ranges)
    done = 0
    gc.freeze()  # the inherited heap is never walked by the workers' collector: its pages stay shared
    try:
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(dict(app.env), db),
        )
    except (OSError, ValueError) as exc:
        gc.unfreeze()
        log.warning("export workers cannot start (%s): the export runs in one process", exc)
        yield from _here(app, reader, ranges, batch)
        return
    try:
        try:
            for part in coming:
                pending.append((part, pool.submit(_make_range, part, batch)))
                if len(pending) >= workers * IN_FLIGHT:
                    break
            while pending:
                part, future = pending[0]
                made = future.result()
                pending.popleft()
                done += 1
                following = next(coming, None)
                if following is not None:
                    pending.append((following, pool.submit(_make_range, following, batch)))
                yield from made
        except (BrokenProcessPool, OSError) as exc:
            log.warning("an export worker failed (%s): the rest of the export runs in one process", exc)
            yield from _here(app, reader, ranges[done:], batch)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()


def _here(
    app: DisputesApplication, reader: SealReader, ranges: list[SealedRange], batch: int
) -> Generator[Block, None, None]:
    """The blocks of consecutive ranges made in this process: one walk from the first to the last."""
    if not ranges:
        return
    first, last = ranges[0], ranges[-1]
    records = walk_sealed_lines(app, reader, first.after, last.stop, first.prev_hash, batch=batch)
    yield from blocks(records, batch)


_worker: tuple[DisputesApplication, SealReader] | None = None


def _start_worker(env: dict[str, Any], db: DatabaseUrl) -> None:
    """In a forked worker: an application and a seal reader of its own (the parent's connections are
    the parent's), closed when the worker exits."""
    global _worker
    stack = ExitStack()
    app = DisputesApplication(env)
    stack.callback(app.close)
    reader = stack.enter_context(seal_reader(db))
    Finalize(reader, stack.close, exitpriority=10)
    _worker = (app, reader)


def _make_range(part: SealedRange, batch: int) -> list[Block]:
    """In a worker: the range's records, checked against the seal, as one block."""
    assert _worker is not None, "not an export worker"
    app, reader = _worker
    gc.disable()  # each record is dropped once written into the block: nothing for the collector to find
    try:
        records = walk_sealed_lines(app, reader, part.after, part.stop, part.prev_hash, batch=batch)
        return list(blocks(records, STORE_END))
    finally:
        gc.enable()
