"""Deadline reminders, with a hand-turned clock: one DeadlineReminder per open deadline and lead time
(24 h and 2 h by default), to the party who must act, in English and Chinese; none for a deadline that
closed first; recorded in the store, so sealed and exported like every event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from disputes.application.claims import DisputesApplication
from disputes.application.outbound import OutboundEvents
from disputes.bootstrap import Container, build_reminder_engine
from disputes.engines.deadlines import DeadlineEngine
from disputes.engines.reminders import ReminderEngine
from projections.runner import ProjectionRunner
from projections.store import ViewStore
from support.views import Claims, ManualClock, merchant


@pytest.fixture
def engine(container: Container) -> Iterator[ReminderEngine]:
    built = build_reminder_engine(container)
    try:
        yield built
    finally:
        built.close()


def reminders(app: DisputesApplication) -> list[dict[str, Any]]:
    """Every DeadlineReminder recorded, as it goes out: (claim, deadline, lead, party, text)."""
    events = OutboundEvents(app).after(0, 1000)
    return [e.record.data for e in events if e.type == "disputes.DeadlineReminder"]


def settle(runner: ProjectionRunner, engine: ReminderEngine) -> int:
    runner.run_until_caught_up()
    sent = len(engine.tick().sent)
    runner.run_until_caught_up()
    return sent


def test_a_silent_merchant_is_reminded_24_and_2_hours_before_the_deadline_once_each(
    app: DisputesApplication, claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: ReminderEngine
) -> None:
    claim_id = claims.open()  # merchant_response: 48 h
    assert settle(runner, engine) == 0
    clock.advance(hours=23, minutes=59)
    assert settle(runner, engine) == 0
    clock.advance(minutes=2)
    assert settle(runner, engine) == 1
    assert settle(runner, engine) == 0  # once
    clock.advance(hours=21)
    assert settle(runner, engine) == 0
    clock.advance(hours=1)  # 1 h 59 min before
    assert settle(runner, engine) == 1
    clock.advance(hours=3)  # past the deadline
    assert settle(runner, engine) == 0
    sent = reminders(app)
    assert [(r["claim_id"], r["deadline"], r["lead_time"], r["party"]) for r in sent] == [
        (claim_id, "merchant_response", "24h", "merchant"),
        (claim_id, "merchant_response", "2h", "merchant"),
    ]
    text = sent[0]["text"]
    assert set(text) == {"en", "zh-CN"}
    assert claim_id in text["en"] and "answer the claim" in text["en"]
    assert "商家" in text["zh-CN"] and "回应售后申请" in text["zh-CN"]
    assert sent[0]["due_at"] == sent[1]["due_at"]


def test_a_deadline_that_closed_before_its_reminder_sends_none(
    app: DisputesApplication, claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: ReminderEngine
) -> None:
    claim_id = claims.open()
    clock.advance(hours=24, minutes=1)
    assert settle(runner, engine) == 1
    app.respond(merchant(), claim_id, decision="accept", amount=None, message="Sorry.")
    clock.advance(hours=23)  # the 2 h mark of a deadline that is no longer open
    assert settle(runner, engine) == 0
    assert [r["lead_time"] for r in reminders(app) if r["deadline"] == "merchant_response"] == ["24h"]


def test_a_reminder_the_view_has_not_seen_close_is_still_refused_by_the_claim(
    app: DisputesApplication, claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: ReminderEngine
) -> None:
    claim_id = claims.open()
    runner.run_until_caught_up()
    app.respond(merchant(), claim_id, decision="accept", amount=None, message="Sorry.")
    clock.advance(hours=46, minutes=30)
    assert len(engine.tick().sent) == 0  # the view still shows the deadline open: the claim says no
    assert reminders(app) == []


def test_an_engine_first_seeing_a_deadline_late_sends_only_the_most_imminent_reminder(
    app: DisputesApplication, claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: ReminderEngine
) -> None:
    claims.open()
    clock.advance(hours=47)
    assert settle(runner, engine) == 1
    assert [r["lead_time"] for r in reminders(app)] == ["2h"]


def test_two_engines_racing_record_each_reminder_once(
    app: DisputesApplication, container: Container, claims: Claims, clock: ManualClock, runner: ProjectionRunner
) -> None:
    claims.open()
    claims.open()
    clock.advance(hours=24, minutes=1)
    runner.run_until_caught_up()
    first, second = (ReminderEngine(app, ViewStore(container.settings.database)) for _ in range(2))
    try:
        sent = len(first.tick().sent) + len(second.tick().sent)
    finally:
        first.close()
        second.close()
    assert sent == 2
    assert len(reminders(app)) == 2


def test_the_deadline_still_fires_after_its_reminders(
    app: DisputesApplication, container: Container, claims: Claims, clock: ManualClock, runner: ProjectionRunner,
    engine: ReminderEngine,
) -> None:
    claim_id = claims.open()
    deadlines = DeadlineEngine(app, ViewStore(container.settings.database))
    try:
        for hours in (24.1, 22, 2):
            clock.advance(hours=hours)
            settle(runner, engine)
            deadlines.tick()
    finally:
        deadlines.close()
    types = [e.type for e in OutboundEvents(app).after(0, 1000)]
    assert types.count("disputes.DeadlineReminder") == 2
    assert types[-2:] == ["disputes.DeadlineMissed", "disputes.AcceptedByDefault"]
    assert app.load_claim(claim_id).status == "refund_pending"
