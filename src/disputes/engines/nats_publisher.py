"""The NATS JetStream publisher: every recorded event, in store order, to the stream ``DISPUTES``.

It follows the notification log from its tracked position (``outbox_positions``, name ``nats``) like
a projection, publishing each event as its CloudEvent (structured JSON) to
``disputes.<aggregate>.<EventName>`` and waiting for the stream's acknowledgement before the next, so
the stream holds them in store order. The position moves after the batch (compare-and-set). Each
message carries ``Nats-Msg-Id`` = the CloudEvent id, so a publisher killed between publishing and
recording its position republishes into the stream's duplicate window and the stream keeps one copy;
and at start-up it reads the position of the stream's last message (header ``Disputes-Position``) and
starts from there if it is further, so even a restart after the window publishes no event twice.

It creates the stream if missing (subjects ``disputes.>``). On PostgreSQL each batch holds a
transaction-scoped advisory lock, so of several publishers one publishes at a time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from disputes.application.outbound import OutboundEvent, OutboundEvents
from disputes.engines.loop import ViewEngine
from projections.store import ViewConnection, ViewStore, lock_key, time_text

log = logging.getLogger("disputes.nats")
POSITION_NAME = "nats"
POSITION_HEADER = "Disputes-Position"
DUPLICATE_WINDOW_SECONDS = 120.0
CRASH_ENV = "DISPUTES_NATS_TEST_CRASH_AFTER_PUBLISH"
"""For tests only: the process exits abruptly after publishing this many events, before recording them."""
CRASH_EXIT_STATUS = 88

ENSURE_POSITION = (
    "INSERT INTO outbox_positions (name, position, updated_at) VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING"
)
SELECT_POSITION = "SELECT position FROM outbox_positions WHERE name = ?"
ADVANCE_POSITION = "UPDATE outbox_positions SET position = ?, updated_at = ? WHERE name = ? AND position = ?"


@dataclass(frozen=True)
class NatsSettings:
    url: str
    stream: str = "DISPUTES"
    subject_prefix: str = "disputes"
    batch_size: int = 500
    poll_seconds: float = 0.5
    connect_timeout: float = 2.0


def subject_of(event: OutboundEvent, prefix: str) -> str:
    """``disputes.claim.Refunded``."""
    return f"{prefix}.{event.aggregate}.{event.name}"


def read_position(conn: ViewConnection, name: str = POSITION_NAME) -> int:
    row = conn.one(SELECT_POSITION, (name,))
    return int(row[0]) if row else 0


class NatsPublisher(ViewEngine):
    """Publishes the log to JetStream, a batch per :meth:`step`, in a thread with its own event loop."""

    what = "NATS publisher"
    logger = log

    def __init__(self, events: OutboundEvents, store: ViewStore, settings: NatsSettings) -> None:
        super().__init__(store)
        self.events = events
        self.settings = settings
        self.connected = False
        self._crash_after = crash_hook_from_environment()
        self._published = 0
        self._position_row = False

    @property
    def conn(self) -> ViewConnection:
        conn = super().conn
        if not self._position_row:
            conn.execute(ENSURE_POSITION, (POSITION_NAME, time_text(datetime.now(UTC))))
            self._position_row = True
        return conn

    def position(self) -> int:
        return read_position(self.conn)

    # --- the stream ------------------------------------------------------------------------------
    async def connect(self) -> Any:
        import nats

        nc = await nats.connect(
            self.settings.url,
            connect_timeout=self.settings.connect_timeout,
            max_reconnect_attempts=3,
            allow_reconnect=True,
        )
        js = nc.jetstream()
        await self.ensure_stream(js)
        self.connected = True
        return nc, js

    async def ensure_stream(self, js: Any) -> None:
        from nats.js.errors import NotFoundError

        try:
            await js.stream_info(self.settings.stream)
        except NotFoundError:
            log.info("creating the JetStream stream %s", self.settings.stream)
            await js.add_stream(
                name=self.settings.stream,
                subjects=[f"{self.settings.subject_prefix}.>"],
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
            )

    async def stream_position(self, js: Any) -> int:
        """The store position of the stream's last message (0 for an empty stream)."""
        info = await js.stream_info(self.settings.stream)
        last = int(info.state.last_seq or 0)
        if last == 0:
            return 0
        message = await js.get_msg(self.settings.stream, seq=last)
        value = (message.headers or {}).get(POSITION_HEADER)
        return int(value) if value else 0

    async def step(self, js: Any) -> int:
        """Publish one batch past the position and record it; the number of events published."""
        conn = self.conn
        if conn.dialect == "postgres":
            with conn.transaction():
                if not conn.try_lock(lock_key(f"outbox:{POSITION_NAME}")):
                    return 0
                return await self._batch(js, conn)
        return await self._batch(js, conn)

    async def _batch(self, js: Any, conn: ViewConnection) -> int:
        start = read_position(conn)
        events = self.events.after(start, self.settings.batch_size)
        for event in events:
            await js.publish(
                subject_of(event, self.settings.subject_prefix),
                event.body(),
                stream=self.settings.stream,
                headers={"Nats-Msg-Id": event.id, POSITION_HEADER: str(event.position)},
            )
            self._maybe_crash()
        if events:
            advanced = conn.execute(
                ADVANCE_POSITION, (events[-1].position, time_text(datetime.now(UTC)), POSITION_NAME, start)
            )
            if advanced != 1:
                log.info("another publisher moved the NATS position; reloading")
        return len(events)

    async def catch_up_to_stream(self, js: Any) -> None:
        """Start after the stream's last message if the recorded position is behind it."""
        in_stream = await self.stream_position(js)
        conn = self.conn
        at = read_position(conn)
        if in_stream > at:
            log.info("the stream holds events up to %d; the NATS position moves from %d", in_stream, at)
            conn.execute(ADVANCE_POSITION, (in_stream, time_text(datetime.now(UTC)), POSITION_NAME, at))

    def _maybe_crash(self) -> None:
        self._published += 1
        if self._crash_after is not None and self._published >= self._crash_after:
            log.error("crashing after %d publishes, as %s asks", self._published, CRASH_ENV)
            os._exit(CRASH_EXIT_STATUS)

    # --- loops -----------------------------------------------------------------------------------
    async def run_until_caught_up(self) -> int:
        nc, js = await self.connect()
        try:
            await self.catch_up_to_stream(js)
            total = 0
            while True:
                published = await self.step(js)
                total += published
                if published < self.settings.batch_size:
                    return total
        finally:
            await nc.close()

    async def _follow(self, stop: threading.Event) -> None:
        nc, js = await self.connect()
        try:
            await self.catch_up_to_stream(js)
            while not stop.is_set():
                published = await self.step(js)
                self.last_error = None
                if published == 0:
                    await asyncio.sleep(self.settings.poll_seconds)
        finally:
            self.connected = False
            await nc.close()

    def run_forever(self, stop: threading.Event, poll_seconds: float = 0.0) -> None:
        """Follow the log until ``stop`` is set; errors (NATS away, the database away) are logged and retried."""
        backoff = 0.5
        while not stop.is_set():
            try:
                asyncio.run(self._follow(stop))
            except Exception as error:
                self.last_error = error
                self.connected = False
                log.warning("NATS publisher failed (%s: %s); retrying in %.1fs", type(error).__name__, error, backoff)
                self.close()
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)



def crash_hook_from_environment() -> int | None:
    value = os.environ.get(CRASH_ENV, "").strip()
    return int(value) if value else None


def nats_lag(store: ViewStore, head: int) -> dict[str, int]:
    """Plain numbers for /metrics and /readyz: the publisher's position and how far it is behind."""
    conn = store.connect()
    try:
        position = read_position(conn)
    finally:
        conn.close()
    return {"position": position, "lag": max(0, head - position)}
