"""``disputes serve --workers N``: how many serving processes, and what the supervisor sets up around
uvicorn's own (which starts them, and starts one again when it dies): their environment, the metrics
directory they share, and the one background process of :mod:`disputes.cli.background`."""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.process import BaseProcess
from pathlib import Path

from disputes.adapters.metrics import MULTIPROCESS_DIRECTORY
from disputes.adapters.process_metrics import forget_all
from disputes.cli.background import run_background
from disputes.domain.errors import DisputesError
from disputes.settings import Settings

logger = logging.getLogger("disputes.serve")

SERVING_ENVIRONMENT = {
    "DISPUTES_PROJECTIONS_IN_PROCESS": "false",
    "DISPUTES_DEADLINES_IN_PROCESS": "false",
    "DISPUTES_DELIVERIES_IN_PROCESS": "false",
}
"""What the serving processes run besides serving: nothing (the background process runs it)."""
RESTART_CHECK_SECONDS = 0.5


def serving_workers(settings: Settings, requested: int | None) -> int:
    """``--workers``, else DISPUTES_WORKERS, else the CPU count on PostgreSQL and 1 on SQLite; more than
    one on SQLite is refused (one line)."""
    count = requested or settings.workers
    sqlite = settings.database.dialect == "sqlite"
    if count is None:
        count = 1 if sqlite else usable_cpus()
    if sqlite and count > 1:
        raise DisputesError(
            f"--workers {count} needs PostgreSQL: on SQLite, disputes serve runs one process "
            "(one writer, and the views follow by polling)"
        )
    return count


BACKGROUND_SETTINGS = ("projections_in_process", "deadlines_in_process", "deliveries_in_process")
"""What the background process runs: each one that the operator left in process (the default)."""


def usable_cpus() -> int:
    """The CPUs this process may run on (a cpuset or taskset counts), else the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@contextmanager
def several_processes(settings: Settings) -> Iterator[None]:
    """Around uvicorn's supervisor: the serving processes' environment (inherited when they are
    spawned), a metrics directory for them all (PROMETHEUS_MULTIPROC_DIR if set, emptied first; else a
    temporary one), and the background process, started again whenever it dies (none when every
    ``*_IN_PROCESS`` setting is false: workers of their own run it all)."""
    runs = {name: bool(getattr(settings, name)) for name in BACKGROUND_SETTINGS}
    given = os.environ.get(MULTIPROCESS_DIRECTORY)
    directory = Path(given) if given else Path(tempfile.mkdtemp(prefix="disputes-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # counters of an earlier run would be added to this one's
        stale.unlink()
    forget_all(directory)  # and its processes' figures shown
    saved = {name: os.environ.get(name) for name in (*SERVING_ENVIRONMENT, MULTIPROCESS_DIRECTORY)}
    os.environ.update({**SERVING_ENVIRONMENT, MULTIPROCESS_DIRECTORY: str(directory)})
    background = _Background(runs) if any(runs.values()) else None
    try:
        if background is not None:
            background.start()
        yield
    finally:
        if background is not None:
            background.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if not given:
            shutil.rmtree(directory, ignore_errors=True)


class _Background:
    """The background process, and a thread of the supervisor that starts it again if it dies."""

    def __init__(self, runs: dict[str, bool]) -> None:
        self._runs = runs
        self._context = multiprocessing.get_context("spawn")
        self._process: BaseProcess | None = None
        self._stopping = threading.Event()
        self._watch = threading.Thread(target=self._keep_alive, name="disputes-background-watch", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._watch.start()

    def _spawn(self) -> None:
        self._process = self._context.Process(
            target=run_background, args=(self._runs,), name="disputes-background", daemon=False
        )
        self._process.start()
        logger.info("background process started", extra={"pid": self._process.pid})

    def _keep_alive(self) -> None:
        while not self._stopping.wait(RESTART_CHECK_SECONDS):
            process = self._process
            if process is not None and not process.is_alive():
                logger.warning("background process died; starting it again", extra={"pid": process.pid,
                               "exitcode": process.exitcode})
                self._spawn()

    def stop(self, timeout: float = 15.0) -> None:
        self._stopping.set()
        if self._watch.is_alive():
            self._watch.join()
        process = self._process
        if process is not None and process.is_alive():
            process.terminate()
            process.join(timeout)
            if process.is_alive():
                process.kill()
                process.join()
