"""Whether the database answers, asked on the event loop: readiness must not wait for a worker thread.

While the database is away every worker thread may be waiting on it (each at most
``DISPUTES_DATABASE_TIMEOUT_SECONDS``); ``/readyz`` still answers at once, from this probe: one
asynchronous connection kept open between calls (made again when it is lost) and a one-second
timeout on each question. Its answer is kept for ``period`` seconds (the health sample period): a
flood of calls asks the database at most once per period, and while the database is away they all
answer "no" at once from the last answer. SQLite is a file of this machine: it always answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from disputes.adapters.database import DatabaseUrl

PROBE_TIMEOUT_SECONDS = 1.0


class ReadinessProbe:
    def __init__(self, url: DatabaseUrl, *, timeout: float = PROBE_TIMEOUT_SECONDS, period: float = 0.0) -> None:
        self.url = url
        self.timeout = timeout
        self.period = period
        self._conn: Any = None
        self._lock: asyncio.Lock | None = None
        self._answer = False
        self._asked: float | None = None

    async def answers(self) -> bool:
        """True if the database answered ``SELECT 1`` within the timeout (at most ``period`` ago)."""
        if self.url.dialect == "sqlite":
            return True
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # the callers that queue here share the one answer
            if self._asked is not None and time.monotonic() - self._asked < self.period:
                return self._answer
            self._answer = await self._ask()
            self._asked = time.monotonic()
            return self._answer

    async def _ask(self) -> bool:
        import psycopg

        try:
            if self._conn is None or self._conn.closed:
                self._conn = await asyncio.wait_for(
                    psycopg.AsyncConnection.connect(self.url.conninfo(), autocommit=True, connect_timeout=2),
                    self.timeout,
                )
            await asyncio.wait_for(self._conn.execute("SELECT 1"), self.timeout)
            return True
        except (psycopg.Error, OSError, TimeoutError):
            await self._discard()
            return False

    async def close(self) -> None:
        await self._discard()

    async def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # closing a lost connection: nothing to keep
                await asyncio.wait_for(conn.close(), self.timeout)
