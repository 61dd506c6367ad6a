"""The webhook delivery workers: one thread per subscription, following the notification log from the
subscription's own tracked position, as the projections do.

Each round a worker (1) queues the events recorded past the subscription's position that it wants,
moving the position in the same transaction (compare-and-set: nothing is queued twice, nothing is
skipped after a crash), then (2) sends the pending deliveries whose time has come, oldest first,
holding back any whose claim (subject) has an earlier delivery still pending: never out of order
within one claim. A 2xx within the timeout is delivered; anything else (a timeout, a 5xx, a refused
connection, any other status) is tried again after the next wait of the retry schedule, with jitter,
and after the last one the delivery is failed, and the claim's next event goes.

A subscriber is served by its own thread, HTTP client and timeout: a slow or dead one delays no other
and never the API. On PostgreSQL a worker holds a session advisory lock per subscription while it
works on it, so several workers (processes, machines) share the subscriptions and never send one
event to one subscriber twice at the same time. At least once: a worker killed after a receiver
answered but before the answer was recorded sends that event again (same ``webhook-id``).
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from disputes.adapters.webhook_sender import Sender, signature_headers
from disputes.adapters.webhooks import (
    ACTIVE,
    Attempt,
    Delivery,
    Queued,
    Subscription,
    WebhookNotFound,
    WebhookStore,
)
from disputes.application.outbound import CONTENT_TYPE, OutboundEvent, OutboundEvents
from disputes.engines.loop import BackgroundLoop
from projections.store import ViewConnection, ViewStore, lock_key

log = logging.getLogger("disputes.webhooks")
JITTER = 0.2
"""Each wait of the schedule is stretched or shrunk by up to this fraction, at random."""
CRASH_ENV = "DISPUTES_WEBHOOKS_TEST_CRASH_AFTER_SENDS"
"""For tests only: the worker's process exits abruptly after this many deliveries answered 2xx, before
recording the round they are in."""
CRASH_EXIT_STATUS = 87
ROUND = 50
"""Deliveries sent per round at most; their attempts are recorded together at its end."""


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DeliverySettings:
    schedule: tuple[timedelta, ...]
    timeout: float
    allow_private: bool
    poll_seconds: float
    batch_size: int = 500


class SubscriptionWorker:
    """Delivers one subscription's events, a round per :meth:`round`."""

    def __init__(
        self,
        subscription_id: str,
        *,
        events: OutboundEvents,
        store: WebhookStore,
        locks: ViewStore,
        settings: DeliverySettings,
        now: Callable[[], datetime] = wall_clock,
        on_sent: Callable[[], None] | None = None,
    ) -> None:
        self.subscription_id = subscription_id
        self.events = events
        self.store = store
        self.locks = locks
        self.settings = settings
        self.now = now
        self.on_sent = on_sent
        self.sender = Sender(timeout=settings.timeout, allow_private=settings.allow_private)
        self._secret: str | None = None
        self.last_error: BaseException | None = None

    # --- one round -------------------------------------------------------------------------------
    def round(self) -> tuple[int, int] | None:
        """Queue what is new, send what is due: (events read, attempts made). None: the subscription is gone."""
        try:
            subscription = self.store.get(self.subscription_id)
        except WebhookNotFound:
            return None
        if subscription.status != ACTIVE:
            return None
        read = self.queue_new(subscription)
        due = self.store.due(self.subscription_id, self.now(), ROUND)
        events = self.events.at_positions([d.position for d in due])
        attempts = [self.attempt(subscription, d, events.get(d.position)) for d in due]
        # One commit for the round: a worker killed before it sends the round's events again (at least once).
        self.store.record_attempts(self.subscription_id, attempts, self.now())
        return read, len(attempts)

    def queue_new(self, subscription: Subscription) -> int:
        events = self.events.after(subscription.position, self.settings.batch_size)
        if not events:
            return 0
        wanted = [
            Queued(e.position, e.id, e.type, e.subject) for e in events if subscription.wants(e.name)
        ]
        self.store.queue(self.subscription_id, subscription.position, events[-1].position, wanted, self.now())
        return len(events)

    def attempt(self, subscription: Subscription, delivery: Delivery, event: OutboundEvent | None) -> Attempt:
        if event is None:  # pragma: no cover - the store never loses an event
            return Attempt(delivery.position, "failed", None, "no such event", None)
        body = event.body()
        if self._secret is None:
            self._secret = self.store.secret(self.subscription_id)
        headers = {"Content-Type": CONTENT_TYPE, **signature_headers(self._secret, event.id, body, wall_clock())}
        outcome = self.sender.send(subscription.url, body, headers)
        attempts = delivery.attempts + 1
        if outcome.delivered:
            if self.on_sent is not None:
                self.on_sent()
            return Attempt(delivery.position, "delivered", outcome.status_code, None, None)
        if attempts > len(self.settings.schedule) or (outcome.error or "").startswith("refused:"):
            log.warning("webhook %s: %s failed after %d attempts (%s)", self.subscription_id, event.id, attempts,
                        outcome.error)
            return Attempt(delivery.position, "failed", outcome.status_code, outcome.error, None)
        wait = self.settings.schedule[attempts - 1] * random.uniform(1 - JITTER, 1 + JITTER)
        return Attempt(delivery.position, "pending", outcome.status_code, outcome.error, self.now() + wait)

    def idle_wait(self) -> float:
        """How long to wait when nothing was to do: the poll interval, or less if a retry comes due sooner."""
        wait = self.settings.poll_seconds
        next_at = self.store.next_attempt(self.subscription_id)
        if next_at is not None:
            wait = min(wait, max(0.0, (next_at - self.now()).total_seconds()))
        return max(wait, 0.01)

    # --- the loop --------------------------------------------------------------------------------
    def run_forever(self, stop: threading.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            try:
                with self._held() as held:
                    if not held:  # another worker serves this subscription
                        stop.wait(self.settings.poll_seconds)
                        continue
                    while not stop.is_set():
                        result = self.round()
                        self.last_error = None
                        backoff = 0.5
                        if result is None:
                            return
                        if result == (0, 0):
                            stop.wait(self.idle_wait())
            except Exception as error:
                self.last_error = error
                log.warning("webhook worker %s failed (%s: %s); retrying in %.1fs", self.subscription_id,
                            type(error).__name__, error, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    @contextmanager
    def _held(self) -> Iterator[bool]:
        """PostgreSQL: this subscription's session advisory lock, on a connection of its own, if free."""
        if self.locks.dialect != "postgres":
            yield True
            return
        conn: ViewConnection = self.locks.connect()
        key = lock_key(f"webhook:{self.subscription_id}")
        try:
            row = conn.raw.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            held = bool(row[0])
            try:
                yield held
            finally:
                if held:
                    with suppress(Exception):
                        conn.raw.execute("SELECT pg_advisory_unlock(%s)", (key,))
        finally:
            with suppress(Exception):
                conn.close()

    def close(self) -> None:
        self.sender.close()


class DeliveryWorkers:
    """Keeps one :class:`SubscriptionWorker` thread per active subscription, as subscriptions come and go."""

    what = "webhook deliveries"

    def __init__(
        self,
        *,
        events: OutboundEvents,
        store: WebhookStore,
        locks: ViewStore,
        settings: DeliverySettings,
        now: Callable[[], datetime] = wall_clock,
    ) -> None:
        self.events = events
        self.store = store
        self.locks = locks
        self.settings = settings
        self.now = now
        self.workers: dict[str, tuple[SubscriptionWorker, BackgroundLoop]] = {}
        self.last_error: BaseException | None = None
        self._sent = 0
        self._crash_after = crash_hook_from_environment()
        self._lock = threading.Lock()

    def _count_sent(self) -> None:
        with self._lock:
            self._sent += 1
            if self._crash_after is not None and self._sent >= self._crash_after:
                log.error("crashing after %d deliveries, as %s asks", self._sent, CRASH_ENV)
                os._exit(CRASH_EXIT_STATUS)

    def tick(self) -> object:
        """Start a worker for each new active subscription; forget those whose worker ended."""
        active = {s.id for s in self.store.subscriptions(active_only=True)}
        for subscription_id, (worker, loop) in list(self.workers.items()):
            if not loop.running or subscription_id not in active:
                loop.stop()
                worker.close()
                del self.workers[subscription_id]
        for subscription_id in active - set(self.workers):
            worker = SubscriptionWorker(
                subscription_id,
                events=self.events,
                store=self.store,
                locks=self.locks,
                settings=self.settings,
                now=self.now,
                on_sent=self._count_sent,
            )
            self.workers[subscription_id] = (worker, BackgroundLoop(worker.run_forever, f"disputes-webhook-{subscription_id}"))
        return len(self.workers)

    def close(self) -> None:
        for worker, loop in self.workers.values():
            loop.stop()
            worker.close()
        self.workers.clear()


def crash_hook_from_environment() -> int | None:
    value = os.environ.get(CRASH_ENV, "").strip()
    return int(value) if value else None


def delivery_counts(store: WebhookStore) -> dict[str, Any]:
    """Plain numbers for /metrics and /readyz: deliveries by status."""
    return dict(store.counts())
