"""``disputes rebuild``: empty views and build them again from the event store, split among processes.

With ``workers`` above 1, the views that own tables are rebuilt in that many partitions, each in a
process of its own (``projections/partitions.py``: partition ``i`` projects the aggregates whose id's
last two bytes modulo ``workers`` are ``i``, selected in SQL, up to the head recorded when the rebuild
began); then one runner in this process brings every projection (the audit seal, which is a chain and
cannot be split, included) up to the events recorded meanwhile. With 1, a single runner does it all, as a following worker would.

The partitions' processes are forked where the system can (nothing to import again: a rebuild of a
modest log would otherwise spend more time starting than working); each builds a composition root of
its own and uses nothing of its parent's. Elsewhere they are spawned.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait

from disputes.bootstrap import Container, bootstrap, build_runner
from disputes.domain.errors import DisputesError
from disputes.settings import Settings
from projections import catalog
from projections.partitions import Partition, lowest, partitions, release
from projections.runner import CATCHUP_BATCH_SIZE, reset
from projections.store import ViewStore

PROGRESS_SECONDS = 0.25
PARTITION_FAILED = 3
"""Exit status of a partition's process that failed (its error is in its log)."""


def rebuild(
    container: Container,
    names: Sequence[str] = (),
    *,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    batch_size: int | None = None,
    catchup_batch_size: int = CATCHUP_BATCH_SIZE,
) -> int:
    """Empty the named projections (all by default) and build them again; the events read at the end."""
    projections = catalog.select(names)
    store = ViewStore(container.settings.database)
    head = int(container.app.recorder.max_notification_id() or 0)
    split = [p.name for p in projections if p.tables]
    if workers > 1 and split and head > 0:
        reset(store, [p for p in projections if p.tables], partitions=workers)
        reset(store, [p for p in projections if not p.tables])
        _in_partitions(container.settings, split, workers, head, store, progress, batch_size, catchup_batch_size)
        release(store, split, workers, head)
    else:
        reset(store, projections)
    runner = build_runner(
        container, [p.name for p in projections], batch_size=batch_size, catchup_batch_size=catchup_batch_size
    )
    try:
        runner.run_until_caught_up(progress)
    finally:
        runner.close()
    return int(container.app.recorder.max_notification_id() or 0)


def _in_partitions(
    settings: Settings,
    names: list[str],
    count: int,
    head: int,
    store: ViewStore,
    progress: Callable[[int], None] | None,
    batch_size: int | None,
    catchup_batch_size: int,
) -> None:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    processes = [
        context.Process(  # type: ignore[attr-defined]
            target=run_partition,
            args=(settings, names, partition, head, batch_size, catchup_batch_size),
            name=f"disputes-rebuild-{partition.index}",
        )
        for partition in partitions(count)
    ]
    for process in processes:
        process.start()
    try:
        while any(process.is_alive() for process in processes):
            if any(process.exitcode not in (None, 0) for process in processes):
                break
            if progress is not None:
                progress(lowest(store, names, count))
            # Woken as soon as a process ends (a sleep would leave up to PROGRESS_SECONDS unused at the end).
            wait([p.sentinel for p in processes if p.is_alive()], PROGRESS_SECONDS)
    finally:
        for process in processes:
            if process.is_alive() and any(p.exitcode not in (None, 0) for p in processes):
                process.terminate()
            process.join()
    failed = [p.name for p in processes if p.exitcode != 0]
    if failed:
        raise DisputesError(
            f"the rebuild failed in {', '.join(failed)}; the views stay held: run 'disputes rebuild' again"
        )


def run_partition(
    settings: Settings,
    names: list[str],
    partition: Partition,
    stop: int,
    batch_size: int | None,
    catchup_batch_size: int,
) -> None:
    """One partition's process: its share of the views, up to ``stop``."""
    container = bootstrap(settings)
    try:
        runner = build_runner(
            container,
            names,
            batch_size=batch_size,
            catchup_batch_size=catchup_batch_size,
            partition=partition,
            stop=stop,
        )
        try:
            runner.run_until_caught_up()
        finally:
            runner.close()
    except Exception:
        logging.getLogger("disputes.projections").exception("partition %d failed", partition.index)
        raise SystemExit(PARTITION_FAILED) from None
    finally:
        container.close()
