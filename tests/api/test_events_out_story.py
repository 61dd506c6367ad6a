"""The whole story, over HTTP with every real part: the platform subscribes, a buyer opens a claim, and
the platform receives ``disputes.ClaimOpened`` signed and verified by the standard library; the
merchant's silence brings a reminder 24 h and 2 h before the deadline, then ``AcceptedByDefault``; and
the same events are in the NATS stream, once each, in store order."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from disputes.application.outbound import OutboundEvents
from disputes.bootstrap import (
    Container,
    build_deadline_engine,
    build_nats_publisher,
    build_reminder_engine,
    build_runner,
    start_deliveries,
)
from disputes.settings import Settings
from support import migrated_container
from support.http import Api, ManualClock
from support.nats import Stream, published, stream_fixture  # noqa: F401
from support.receiver import FAST_DELIVERIES, Receiver, receiver_fixture  # noqa: F401


@pytest.fixture
def container(database_url: str, clock: ManualClock, stream: Stream) -> Iterator[Container]:
    settings = Settings(database_url=database_url, **FAST_DELIVERIES, **stream.settings())
    with migrated_container(settings, clock) as built:
        yield built


@pytest.mark.slow
def test_a_silent_merchant_is_reminded_twice_then_accepts_by_default_and_the_platform_hears_it_all(
    api: Api, receiver: Receiver, clock: ManualClock, stream: Stream
) -> None:
    container = api.container
    created = api.post(
        "adm1", "/webhooks",
        json={"url": receiver.url("platform"), "event_types": ["ClaimOpened", "DeadlineReminder", "AcceptedByDefault"]},
    ).json()
    receiver.secrets["platform"] = created["secret"]
    runner, reminders, deadlines = build_runner(container), build_reminder_engine(container), build_deadline_engine(container)
    deliveries = start_deliveries(container, run=True)
    try:
        claim = api.open_claim("b1")
        (opened,) = receiver.wait_for("platform", 1)
        assert opened.type == "disputes.ClaimOpened" and opened.event.get_subject() == claim["id"]
        for hours in (24.5, 22, 2):  # 23.5 h before the deadline, 1.5 h before, past it
            clock.advance(hours=hours)
            runner.run_until_caught_up()
            reminders.tick()
            deadlines.tick()
        got = receiver.wait_for("platform", 4)
    finally:
        deliveries.stop()
        runner.close()
        reminders.close()
        deadlines.close()
    assert receiver.refused == []
    assert [r.type for r in got] == [
        "disputes.ClaimOpened",
        "disputes.DeadlineReminder",
        "disputes.DeadlineReminder",
        "disputes.AcceptedByDefault",
    ]
    assert [r.data["data"]["lead_time"] for r in got[1:3]] == ["24h", "2h"]
    assert all(r.data["data"]["party"] == "merchant" for r in got[1:3])
    assert api.claim(claim["id"])["status"] == "refund_pending"
    publisher = build_nats_publisher(container)
    assert publisher is not None
    try:
        asyncio.run(publisher.run_until_caught_up())  # whatever the in-process one had not reached yet
    finally:
        publisher.close()
    in_stream = published(stream)
    recorded = OutboundEvents(container.app).after(0, 1000)
    assert [(event_id, position) for _, event_id, position in in_stream] == [(e.id, e.position) for e in recorded]
    ids = {r.webhook_id for r in got}
    assert ids <= {event_id for _, event_id, _ in in_stream}
