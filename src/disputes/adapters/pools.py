"""PostgreSQL connection pools that fail fast while the server is away and serve again soon after it is back.

psycopg_pool's own pool, with three changes of behaviour (each through a documented constructor
argument or one of its small internal hooks, kept together here):

- **Fail fast.** A pool that could not open a connection on its last try counts the server as away:
  a request for a connection then waits only :data:`AWAY_WAIT_SECONDS` (enough to take one that came
  back meanwhile) instead of the whole timeout, and a request already waiting gives up as soon as a
  connection attempt fails. The caller answers 503 at once rather than holding a worker thread.
- **Reconnect soon.** The pool keeps trying to reconnect in the background, but never more than
  :data:`RECONNECT_DELAY_CAP` seconds apart (psycopg_pool doubles the delay without limit up to its
  ``reconnect_timeout``, which after a long outage left the server tens of seconds behind the database),
  and it never gives up.
- **Check on failure, not on checkout.** A connection is handed out without a round trip to check it:
  only its socket is looked at (an idle connection has nothing to read; one the server closed, on a
  restart or a terminated backend, reads as the end of the stream), and one that was dropped is
  replaced before anyone sees it. When one comes back broken all the same, the pool checks its idle
  connections at once, in the background, so the next requests get fresh ones rather than each
  finding its own broken connection.
"""

from __future__ import annotations

import select
import threading
from time import monotonic
from typing import Any

from psycopg import Connection
from psycopg.pq import ConnStatus, TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout
from psycopg_pool.base import AttemptWithBackoff

AWAY_WAIT_SECONDS = 0.05
"""How long a request waits for a connection while the server is counted as away."""
WAIT_SLICE_SECONDS = 0.2
"""A waiting request looks this often whether the server has gone away meanwhile."""
RECONNECT_DELAY_CAP = 1.0
"""The longest pause between two reconnection attempts."""
NEVER_GIVE_UP = 365 * 24 * 3600.0


class CappedBackoff(AttemptWithBackoff):
    """psycopg_pool's exponential back-off, never longer than :data:`RECONNECT_DELAY_CAP`."""

    def update_delay(self, now: float) -> None:
        super().update_delay(now)
        self.delay = min(self.delay, RECONNECT_DELAY_CAP)


class FailFast:
    """The behaviour of this module, mixed into a psycopg_pool ``ConnectionPool`` (or a subclass)."""

    timeout: float
    reconnect_timeout: float

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("reconnect_timeout", NEVER_GIVE_UP)
        kwargs["check"] = None
        super().__init__(*args, **kwargs)
        self.away_since: float | None = None
        """When the last failed connection attempt began a run of failures (None: reachable)."""
        self._checking = threading.Lock()

    @property
    def away(self) -> bool:
        return self.away_since is not None

    def getconn(self, timeout: float | None = None) -> Any:
        deadline = monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = deadline - monotonic()
            wait = min(left, AWAY_WAIT_SECONDS if self.away else WAIT_SLICE_SECONDS)
            try:
                conn: Connection[Any] = super().getconn(max(wait, 0.001))  # type: ignore[misc]
            except PoolTimeout:
                if self.away:
                    raise PoolTimeout("the database does not answer (connection attempts fail)") from None
                if monotonic() >= deadline:
                    raise PoolTimeout(f"no database connection free within {timeout or self.timeout:.1f} s") from None
                continue
            if not dropped(conn):
                return conn
            conn.close()
            super().putconn(conn)  # type: ignore[misc]  # the pool replaces it
            self._start_check()

    def putconn(self, conn: Connection[Any]) -> None:
        broken = conn.closed or conn.pgconn.transaction_status == TransactionStatus.UNKNOWN
        super().putconn(conn)  # type: ignore[misc]
        if broken:
            self._start_check()

    def _start_check(self) -> None:
        threading.Thread(target=self._check_idle, name="disputes-pool-check", daemon=True).start()

    def _check_idle(self) -> None:
        if not self._checking.acquire(blocking=False):
            return  # a check is running already
        try:
            self.check()  # type: ignore[attr-defined]
        except Exception:  # the pool closed meanwhile, or the server is away: nothing to do
            pass
        finally:
            self._checking.release()

    def _connect(self, timeout: float | None = None) -> Any:
        try:
            conn = super()._connect(timeout)  # type: ignore[misc]
        except Exception:
            if self.away_since is None:
                self.away_since = monotonic()
            raise
        self.away_since = None
        return conn

    def _add_connection(self, attempt: AttemptWithBackoff | None, growing: bool = False) -> None:
        super()._add_connection(  # type: ignore[misc]
            attempt or CappedBackoff(timeout=self.reconnect_timeout), growing
        )


def dropped(conn: Connection[Any]) -> bool:
    """Whether an idle connection was closed by the server, seen without a round trip: its socket is
    readable (the end of the stream, or the server's last words) when nothing was asked."""
    if conn.closed or conn.pgconn.status != ConnStatus.OK:
        return True
    poller = select.poll()
    try:
        poller.register(conn.pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


class Pool(FailFast, ConnectionPool[Any]):
    """A psycopg_pool ``ConnectionPool`` that fails fast and reconnects soon (see the module)."""


def open_pool(
    conninfo: str, *, max_size: int, wait_seconds: float, autocommit: bool, name: str, min_size: int = 1
) -> Pool:
    """An open pool of up to ``max_size`` connections, waiting at most ``wait_seconds`` for one."""
    return Pool(
        conninfo,
        kwargs={"autocommit": autocommit, "connect_timeout": connect_timeout(wait_seconds)},
        min_size=min(min_size, max_size),
        max_size=max_size,
        timeout=wait_seconds,
        name=name,
        open=True,
    )


def connect_timeout(wait_seconds: float) -> int:
    """libpq's ``connect_timeout`` (whole seconds, at least 2) for a wait of ``wait_seconds``."""
    return max(2, round(wait_seconds))
