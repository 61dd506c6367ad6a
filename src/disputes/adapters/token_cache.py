"""Token checks served from a server process's memory, forgotten as soon as any token changes.

A request's token is looked up once in the database; its record (never the token) is then kept in
memory under the token's digest, and each later request with it is judged from there: its expiry
against the clock, its revocation by what the cache still holds. What the cache holds is forgotten
whole whenever a token changes anywhere, in whatever process (migration 0080):

- on PostgreSQL a change notifies channel ``disputes_principal_tokens`` when it commits; a thread of
  each process listens on a connection of its own and forgets. While that connection is not
  listening (at start, after it was lost), nothing is served from memory, nor while a notification
  is arriving (its socket is readable: looked at on every check, without a round trip). What is left
  is the time a notification takes to reach the socket after the change committed, well under the
  round trip of the HTTP answer that tells a client its revocation was done;
- on SQLite every check reads the counter that each change moves: one read of one row of a local file,
  no round trip; a counter that moved makes the cache forget.

A record is put in the cache only if nothing was forgotten while it was being read, so a revocation
that commits during a lookup is never covered up by the lookup's older answer.
"""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from disputes.adapters.database import DatabaseUrl, connect

if TYPE_CHECKING:
    from disputes.adapters.principals import TokenRecord

CHANNEL = "disputes_principal_tokens"
SELECT_COUNTER = "SELECT counter FROM principal_token_changes WHERE id = 1"
MAX_ENTRIES = 100_000
RELISTEN_SECONDS = 0.5
log = logging.getLogger("disputes.tokens")


class TokenCache:
    """Token records by digest, for one process; :meth:`close` stops listening."""

    def __init__(self, url: DatabaseUrl) -> None:
        self.url = url
        self._records: dict[str, TokenRecord] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self._counter: int | None = None
        self._listening = False
        self._socket: int | None = None
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        if url.dialect == "postgres":
            self._listener = threading.Thread(target=self._listen_forever, name="disputes-tokens", daemon=True)
            self._listener.start()

    # --- what the store asks ---------------------------------------------------------------------
    def get(self, digest: str) -> tuple[TokenRecord | None, int]:
        """The cached record of ``digest`` if it may be trusted, and the generation to :meth:`put` with."""
        if self.url.dialect == "sqlite":
            self._follow_counter()
        with self._lock:
            if self.url.dialect == "postgres" and not (self._listening and self._quiet()):
                return None, -1
            return self._records.get(digest), self._generation

    def peek(self, digest: str) -> TokenRecord | None:
        """The cached record of ``digest`` if it may be trusted without reading anything: on PostgreSQL
        (SQLite's counter is a read), while listening and nothing is arriving."""
        return self.get(digest)[0] if self.url.dialect == "postgres" else None

    def _quiet(self) -> bool:
        """Whether nothing is waiting on the listening socket (a notification is, else)."""
        if self._socket is None:
            return False
        poller = select.poll()
        try:
            poller.register(self._socket, select.POLLIN | select.POLLERR | select.POLLHUP)
            return not poller.poll(0)
        except (OSError, ValueError):
            return False

    def put(self, digest: str, record: TokenRecord, generation: int) -> None:
        """Keep ``record``, read at ``generation``: unless the cache forgot everything since."""
        with self._lock:
            if generation != self._generation or generation < 0:
                return
            if len(self._records) >= MAX_ENTRIES:
                self._records.clear()
            self._records[digest] = record

    def forget(self) -> None:
        """Forget every record (a token changed)."""
        with self._lock:
            self._records.clear()
            self._generation += 1

    def close(self) -> None:
        self._stop.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.join(timeout=5)

    # --- SQLite: the change counter ---------------------------------------------------------------
    def _follow_counter(self) -> None:
        with connect(self.url, write=False) as conn:
            row = conn.execute(SELECT_COUNTER).fetchone()
        counter = int(row[0]) if row else -1
        if counter != self._counter:
            self.forget()
            self._counter = counter

    # --- PostgreSQL: LISTEN -------------------------------------------------------------------------
    def _listen_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen(lambda: self._stop.is_set())
            except Exception as error:
                if not self._stop.is_set():
                    log.warning("token changes not followed (%s: %s); checking tokens in the database",
                                type(error).__name__, error)
            finally:
                with self._lock:
                    self._listening = False
                    self._socket = None
                self.forget()
            self._stop.wait(RELISTEN_SECONDS)

    def _listen(self, stopped: Callable[[], bool]) -> None:
        import psycopg

        conn: Any
        with psycopg.connect(self.url.conninfo(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self.forget()  # whatever was kept before listening may be stale
            with self._lock:
                self._listening = True
                self._socket = conn.pgconn.socket
            while not stopped():
                for _ in conn.notifies(timeout=1.0):
                    self.forget()
                conn.execute("SELECT 1")  # a lost connection shows here, not only at the next change
