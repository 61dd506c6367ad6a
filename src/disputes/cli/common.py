"""What every ``disputes`` command shares: the program's name and exit statuses, argument types, the
container a command works on, the progress bar, stopping on a signal, and plain-text tables.

Every failure is one line on stderr, ``disputes: error: <message>``: 1 when a check finds a fault (a
tampered store or bundle, an export refused), 2 for any other error, the same as a usage error.
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import TextIO

from pydantic import ValidationError

from disputes.adapters.database import DatabaseUrlError
from disputes.adapters.logs import configure_logging
from disputes.adapters.migrations import require_migrated
from disputes.application.records import parse_rfc3339
from disputes.bootstrap import Container, bootstrap
from disputes.domain.errors import DisputesError
from disputes.settings import Settings

PROG = "disputes"
FAULT_STATUS = 1
ERROR_STATUS = 2
INTERRUPTED_STATUS = 130


# --- the container a command works on --------------------------------------------------------------


@contextmanager
def opened_container(*, migrated: bool = True, logs: bool = False) -> Iterator[Container]:
    """The composition root from the environment's settings, closed when the command is done.

    ``migrated`` (the default) refuses, in one line, a database with a migration pending. ``logs``: a
    long-running worker's, whose log lines are JSON at DISPUTES_LOG_LEVEL.
    """
    settings = Settings()
    if migrated:
        require_migrated(settings.database)
    if logs:
        configure_logging(settings.log_level)
    container = bootstrap(settings)
    try:
        yield container
    finally:
        container.close()


# --- argument types ----------------------------------------------------------------------------------


def rfc3339_argument(text: str) -> datetime:
    """An RFC 3339 time with a zone (``--from 2026-11-01T00:00:00Z``), as UTC."""
    try:
        return parse_rfc3339(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an RFC 3339 time with a zone (e.g. {text}Z): {text!r}"
        ) from None


def rfc3339_option(text: str, option: str) -> datetime:
    """A time given on the command line, refused in one line naming the option, not with the usage."""
    try:
        return rfc3339_argument(text)
    except argparse.ArgumentTypeError as exc:
        raise DisputesError(f"{option}: {exc}") from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def port_number(text: str) -> int:
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return value


def log_position(text: str) -> int:
    """A position in the notification log (1 is the first event)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a position (a whole number): {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"positions start at 1: {text!r}")
    return value


def utc_text(moment: datetime) -> str:
    """A time for an operator's table: RFC 3339, UTC, whole seconds."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# --- output ------------------------------------------------------------------------------------------


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Lines of a plain-text table: columns as wide as their widest cell, no trailing spaces."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]


class ProgressBar:
    """``label [#####.....] 50% 5,000/10,000 events 1,234/s`` on ``stream``; ``enabled=False`` silences it.

    Redrawn in place on a terminal, a line at every tenth elsewhere (a log).
    """

    WIDTH = 30

    def __init__(
        self, stream: TextIO, label: str, *, total: int = 0, enabled: bool = True, unit: str = "events"
    ) -> None:
        self.stream, self.label, self.total, self.enabled, self.unit = stream, label, total, enabled, unit
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self._shown = -1.0
        self._tenth = -1
        self._drawn = False

    def update(self, done: int, total: int | None = None) -> None:
        if not self.enabled:
            return
        total = self.total if total is None else total
        done = min(done, total) if total else done
        fraction = done / total if total else 1.0
        now = time.monotonic()
        rate = done / max(now - self.started, 1e-9)
        bar = "#" * int(fraction * self.WIDTH)
        line = (
            f"{self.label} [{bar:<{self.WIDTH}}] {fraction:4.0%} {done:,}/{total:,} {self.unit} {rate:,.0f}/s"
        )
        if self.tty:
            if now - self._shown >= 0.1 or done >= total:
                self.stream.write("\r" + line)
                self.stream.flush()
                self._shown, self._drawn = now, True
        elif int(fraction * 10) > self._tenth:
            self._tenth = int(fraction * 10)
            self.stream.write(line + "\n")
            self.stream.flush()

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()


# --- long-running commands -----------------------------------------------------------------------------


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while the block runs; the previous handlers come back after."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# --- errors as one line --------------------------------------------------------------------------------


def error_message(exc: BaseException) -> str:
    """One line saying what went wrong, for an operator."""
    if isinstance(exc, ValidationError):
        text = _validation_message(exc)
    elif isinstance(exc, DisputesError):
        text = exc.detail
    elif isinstance(exc, DatabaseUrlError | OSError):
        text = str(exc)
    elif _is_database_error(exc):
        text = f"database error: {exc}"
    else:
        text = f"unexpected {type(exc).__name__}: {exc} (run with --traceback for details)"
    return " ".join(text.split())


def _validation_message(exc: ValidationError) -> str:
    prefix = Settings.model_config.get("env_prefix", "") if exc.title == Settings.__name__ else ""
    problems = (f"{prefix}{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
    what = "settings" if prefix else exc.title
    return f"invalid {what}: " + "; ".join(problems)


def _is_database_error(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        return True
    module = type(exc).__module__
    return module.startswith("psycopg") or module.startswith("eventsourcing")
