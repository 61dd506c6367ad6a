"""Loops in daemon threads of this process, stopped by an event (the in-process workers), and the
polling loop the platform's engines (deadlines, merchant standing) share."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import ClassVar, Protocol

from projections.store import ViewConnection, ViewStore

log = logging.getLogger("disputes.projections")


class BackgroundLoop:
    """Runs ``loop(stop)`` in a thread; ``stop()`` sets the event and waits for the loop to return."""

    def __init__(self, loop: Callable[[threading.Event], None], name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=loop, args=(self._stop,), name=name, daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        if self._thread.is_alive():  # pragma: no cover - a batch stuck on the database
            log.warning("%s did not stop within %.0fs", self._thread.name, timeout)


class Engine(Protocol):
    """An engine that acts on what the views show, one round per ``tick``."""

    last_error: BaseException | None

    def tick(self) -> object: ...

    def close(self) -> None: ...


def run_ticks(
    engine: Engine, stop: threading.Event, poll_seconds: float, what: str, logger: logging.Logger
) -> None:
    """Tick every ``poll_seconds`` until ``stop`` is set. Errors are logged and retried."""
    while not stop.is_set():
        try:
            engine.tick()
            engine.last_error = None
        except Exception as error:
            engine.last_error = error
            logger.warning("%s failed (%s: %s); retrying", what, type(error).__name__, error)
            engine.close()
        stop.wait(poll_seconds)


class ViewEngine:
    """An engine acting on what the views show, a round per :meth:`tick`, over one view connection."""

    what: ClassVar[str] = "engine"
    logger: ClassVar[logging.Logger] = log

    def __init__(self, store: ViewStore) -> None:
        self.store = store
        self._conn: ViewConnection | None = None
        self.last_error: BaseException | None = None

    @property
    def conn(self) -> ViewConnection:
        if self._conn is None:
            self._conn = self.store.connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def tick(self) -> object:  # pragma: no cover - every engine has its own
        raise NotImplementedError

    def run_forever(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Tick every ``poll_seconds`` until ``stop`` is set. Errors are logged and retried."""
        run_ticks(self, stop, poll_seconds, self.what, self.logger)


class EngineThread:
    """An engine ticking in a thread of this process (none when ``run`` is false); ``stop()`` closes it."""

    def __init__(
        self, engine: Engine, *, run: bool, poll_seconds: float, name: str, what: str, logger: logging.Logger
    ) -> None:
        self.engine = engine
        self._loop: BackgroundLoop | None = None
        if run:
            self._loop = BackgroundLoop(lambda stop: run_ticks(engine, stop, poll_seconds, what, logger), name)

    @property
    def running(self) -> bool:
        return self._loop is not None and self._loop.running

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None:
            self._loop.stop(timeout)
        self.engine.close()
