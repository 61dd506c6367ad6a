"""The NATS JetStream publisher against the real server on 127.0.0.1:4222 (with JetStream): it creates
the stream, publishes every event once, in store order, as its CloudEvent with Nats-Msg-Id = its id,
and a publisher killed between publishing and recording its position leaves no event twice in the stream.

Each test uses a stream and subject prefix of its own, deleted afterwards. Without a NATS server the
tests are skipped (and fail under CI=true); start one with ``nats-server -js`` (Debian: ``apt-get install
nats-server``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from disputes.application.outbound import OutboundEvents
from disputes.bootstrap import Container, build_nats_publisher, outbox_status, start_deliveries
from disputes.engines.nats_publisher import CRASH_ENV, CRASH_EXIT_STATUS
from disputes.settings import Settings
from support import CLAIMANT_FACTS, migrated_container
from support.nats import Stream, published, stream_fixture  # noqa: F401
from support.processes import run_cli
from support.views import Claims, ManualClock


@pytest.fixture
def container(database_url: str, clock: ManualClock, stream: Stream) -> Iterator[Container]:
    settings = Settings(
        database_url=database_url, env="test", order_facts=CLAIMANT_FACTS, webhook_poll_seconds=0.05,
        **stream.settings(),
    )
    with migrated_container(settings, clock) as built:
        yield built


def expected(container: Container) -> list[tuple[str, str, int]]:
    """(subject, id, position) of every recorded event, in store order."""
    events = OutboundEvents(container.app).after(0, 10_000)
    prefix = container.settings.nats_subject_prefix
    return [(f"{prefix}.{e.aggregate}.{e.name}", e.id, e.position) for e in events]


def test_the_publisher_creates_the_stream_and_publishes_every_event_once_in_store_order(
    container: Container, claims: Claims, stream: Stream
) -> None:
    claims.open()
    claims.open()
    publisher = build_nats_publisher(container)
    assert publisher is not None
    try:
        assert asyncio.run(publisher.run_until_caught_up()) == len(expected(container))
        assert asyncio.run(publisher.run_until_caught_up()) == 0
    finally:
        publisher.close()
    assert published(stream) == expected(container)
    assert f"{stream.prefix}.claim.ClaimOpened" in [subject for subject, _, _ in published(stream)]
    head = expected(container)[-1][2]
    assert outbox_status(container)["nats"] == {"position": head, "lag": 0}


def test_the_in_process_publisher_follows_new_events(container: Container, claims: Claims, stream: Stream) -> None:
    deliveries = start_deliveries(container, run=True)
    try:
        claims.open()
        deadline = time.monotonic() + 10
        while len(published_or_none(stream)) < len(expected(container)):
            assert time.monotonic() < deadline, "the publisher did not publish"
            time.sleep(0.05)
    finally:
        deliveries.stop()
    assert published(stream) == expected(container)


def published_or_none(stream: Stream) -> list[tuple[str, str, int]]:
    try:
        return published(stream)
    except Exception:  # the stream is not created yet
        return []


@pytest.mark.slow
def test_a_publisher_killed_between_publishing_and_recording_leaves_no_event_twice(
    container: Container, claims: Claims, stream: Stream, database_url: str
) -> None:
    for _ in range(6):
        claims.open()
    killed = run_cli(database_url, "deliver", "--publish-once", **stream.env(), **{CRASH_ENV: "4"})
    assert killed.returncode == CRASH_EXIT_STATUS, killed.stderr
    assert len(published(stream)) == 4 < len(expected(container))
    assert outbox_status(container)["nats"]["position"] == 0  # killed before recording anything
    again = run_cli(database_url, "deliver", "--publish-once", **stream.env())
    assert again.returncode == 0, again.stderr
    assert published(stream) == expected(container)


@pytest.mark.slow
def test_a_publisher_restarted_after_the_duplicate_window_starts_after_the_streams_last_message(
    container: Container, claims: Claims, stream: Stream, database_url: str
) -> None:
    stream.create(duplicate_window=0.1)
    for _ in range(5):
        claims.open()
    killed = run_cli(database_url, "deliver", "--publish-once", **stream.env(), **{CRASH_ENV: "3"})
    assert killed.returncode == CRASH_EXIT_STATUS, killed.stderr
    time.sleep(0.5)  # the stream no longer knows the ids it saw
    again = run_cli(database_url, "deliver", "--publish-once", **stream.env())
    assert again.returncode == 0, again.stderr
    assert published(stream) == expected(container)
