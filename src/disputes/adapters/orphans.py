"""A child process that stops when its supervisor is gone: the serving and background processes of
``disputes serve --workers N`` are never left running, orphaned, after the supervisor was killed with
SIGKILL (which no handler of its own can pass on)."""

from __future__ import annotations

import os
import signal
import threading

CHECK_SECONDS = 1.0


def stop_when_orphaned(check_seconds: float = CHECK_SECONDS) -> None:
    """Send this process SIGTERM (its ordinary, graceful stop) once its parent is no longer the one it
    has now; checked every ``check_seconds`` from a daemon thread."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(check_seconds)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="disputes-orphan-watch", daemon=True).start()
