"""A loop in a daemon thread of this process, stopped by an event (the in-process workers)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

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
