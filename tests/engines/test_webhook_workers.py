"""The webhook delivery workers as processes and side by side: a worker killed after a receiver answered
but before it recorded the answer resumes without losing an event (the answered one comes again, with
the same id); several workers on one PostgreSQL never send one event to one subscriber twice at once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from disputes.adapters.webhooks import WebhookStore
from disputes.bootstrap import Container, build_delivery_workers
from disputes.engines.webhooks import CRASH_ENV, CRASH_EXIT_STATUS, DeliveryWorkers
from disputes.settings import Settings
from support import CLAIMANT_FACTS, migrated_container
from support.processes import run_cli
from support.receiver import FAST_DELIVERIES, Receiver, receiver_fixture  # noqa: F401
from support.views import Claims, ManualClock

WORKER_ENV = {f"DISPUTES_{name.upper()}": str(value).lower() for name, value in FAST_DELIVERIES.items()}


@pytest.fixture
def container(database_url: str, clock: ManualClock) -> Iterator[Container]:
    settings = Settings(database_url=database_url, env="test", order_facts=CLAIMANT_FACTS, **FAST_DELIVERIES)
    with migrated_container(settings, clock) as built:
        yield built


def subscribe(store: WebhookStore, receiver: Receiver, clock: ManualClock, path: str = "ok") -> str:
    subscription, secret = store.add(
        url=receiver.url(path), event_types=["*"], description="", created_by="admin:adm1", position=0, now=clock()
    )
    receiver.secrets[path] = secret
    return subscription.id


def delivered(store: WebhookStore, subscription_id: str) -> int:
    return len(store.deliveries(subscription_id, status="delivered", limit=1000))


def wait_delivered(store: WebhookStore, subscription_id: str, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while delivered(store, subscription_id) < count:
        assert time.monotonic() < deadline, f"{delivered(store, subscription_id)} of {count} delivered"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_killed_worker_resumes_without_losing_an_event(
    container: Container, claims: Claims, receiver: Receiver, clock: ManualClock, database_url: str
) -> None:
    subscription_id = subscribe(container.webhooks, receiver, clock)
    for _ in range(5):
        claims.open()
    head = int(container.app.recorder.max_notification_id() or 0)
    # Killed right after the third 2xx, before recording its round (a worker cut off by kill -9).
    stopped = run_cli(database_url, "deliver", **WORKER_ENV, **{CRASH_ENV: "3"})
    assert stopped.returncode == CRASH_EXIT_STATUS, stopped.stderr
    recorded = delivered(container.webhooks, subscription_id)
    assert recorded < 3
    workers = build_delivery_workers(container)
    try:
        workers.tick()
        wait_delivered(container.webhooks, subscription_id, head)
    finally:
        workers.close()
    ids = [r.webhook_id for r in receiver.on("ok")]
    positions = [r.position for r in receiver.on("ok")]
    assert sorted(set(positions)) == list(range(1, head + 1))  # nothing lost
    # Those answered but not recorded came again, with the same ids; nothing else twice.
    assert len(ids) == head + 3 - recorded
    assert sorted(ids[recorded:3]) == sorted(ids[3 : 3 + 3 - recorded])
    assert receiver.refused == []


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite: one process, no advisory locks
def test_several_workers_on_postgres_never_send_one_event_to_one_subscriber_twice_at_once(
    container: Container, claims: Claims, receiver: Receiver, clock: ManualClock
) -> None:
    receiver.delay = 0.01
    paths = ("ok", "ok2")
    subscription_ids = [subscribe(container.webhooks, receiver, clock, path) for path in paths]
    for _ in range(10):
        claims.open()
    head = int(container.app.recorder.max_notification_id() or 0)
    workers: list[DeliveryWorkers] = [build_delivery_workers(container) for _ in range(3)]
    try:
        for worker in workers:
            worker.tick()
        for subscription_id in subscription_ids:
            wait_delivered(container.webhooks, subscription_id, head)
    finally:
        for worker in workers:
            worker.close()
    assert receiver.max_in_flight == 1
    assert receiver.refused == []
    for path in paths:
        got = [r.webhook_id for r in receiver.on(path)]
        assert len(got) == len(set(got)) == head  # each event once to each subscriber
