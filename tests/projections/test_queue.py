"""The mediators' work queue: what needs the platform, most urgent first, filters and pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from projections.queue import UNASSIGNED, QueueFilters, work_queue
from projections.runner import ProjectionRunner
from projections.store import ViewConnection
from support.views import Claims, ManualClock, buyer, mediator, merchant


def queue(conn: ViewConnection, now: datetime, **filters: Any) -> list[dict[str, Any]]:
    return work_queue(conn, QueueFilters(**filters), 100, None, now).items


def under_mediation(claims: Claims, clock: ManualClock, *, assign: bool = True, **fields: Any) -> str:
    claim_id = claims.open(**fields)
    claims.app.respond(merchant(), claim_id, decision="reject", amount=None, message="")
    claims.app.request_mediation(buyer(), claim_id, reason="Please look.")
    if assign:
        claims.app.assign_mediator(mediator(), claim_id, mediator_id=None)
    return claim_id


def test_a_claim_under_mediation_waits_for_a_mediator_then_for_a_decision_then_leaves_when_closed(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    claim_id = under_mediation(claims, clock, assign=False)
    runner.run_until_caught_up()
    [item] = queue(views, clock())
    assert (item["claim_id"], item["status"], item["action"], item["needs_platform"]) == (
        claim_id,
        "under_mediation",
        "assign a mediator",
        True,
    )
    assert item["mediator_id"] is None

    claims.app.assign_mediator(mediator(), claim_id, mediator_id=None)
    runner.run_until_caught_up()
    [item] = queue(views, clock())
    assert (item["action"], item["mediator_id"]) == ("decide", "med1")

    claims.decide(claim_id, "claim_rejected")
    runner.run_until_caught_up()
    [item] = queue(views, clock())
    assert (item["status"], item["action"]) == ("claim_rejected", "close the case")

    claims.app.close_claim(mediator(), claim_id, summary="Rejected on the evidence.")
    runner.run_until_caught_up()
    assert queue(views, clock()) == []


def test_a_claim_waiting_on_a_party_joins_the_queue_only_once_its_deadline_has_passed(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    claim_id = claims.open()
    runner.run_until_caught_up()
    assert queue(views, clock()) == []

    later = clock() + timedelta(hours=48)
    [item] = queue(views, later)
    assert (item["claim_id"], item["needs_platform"], item["overdue"]) == (claim_id, False, True)
    assert item["action"] == "wait for the merchant's answer"
    assert item["next_deadline"] == {"name": "merchant_response", "due_at": "2026-11-22T09:00:00.000000Z"}


def test_the_most_urgent_comes_first_nearest_deadline_then_oldest_then_largest(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    small_old = under_mediation(claims, clock, claimed_amount="10.00")
    large_old = under_mediation(claims, clock, claimed_amount="100.00")
    clock.advance(hours=1)
    newer = under_mediation(claims, clock, claimed_amount="110.00")
    due_late = under_mediation(claims, clock)
    due_soon = under_mediation(claims, clock)
    for claim_id, hours in ((due_late, 72), (due_soon, 24)):
        claims.app.request_evidence(
            mediator(), claim_id, from_party="merchant", description="Packing photos.",
            due_at=clock() + timedelta(hours=hours),
        )
    runner.run_until_caught_up()

    order = [item["claim_id"] for item in queue(views, clock())]

    assert order == [due_soon, due_late, large_old, small_old, newer]
    assert queue(views, clock())[0]["action"] == "await the requested evidence, then decide"


def test_status_assignee_and_due_before_filters(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    unassigned = under_mediation(claims, clock, assign=False)
    mine = under_mediation(claims, clock)
    colleague = under_mediation(claims, clock, assign=False)
    claims.app.assign_mediator(mediator("med2"), colleague, mediator_id=None)
    claims.app.request_evidence(
        mediator("med2"), colleague, from_party="buyer", description="The receipt.",
        due_at=clock() + timedelta(hours=10),
    )
    legal = claims.open()
    claims.app.escalate_to_legal(buyer(), legal, reason="Court.", case_reference="C-1")
    runner.run_until_caught_up()
    now = clock()

    def ids(**filters: Any) -> set[str]:
        return {item["claim_id"] for item in queue(views, now, **filters)}

    assert ids() == {unassigned, mine, colleague, legal}
    assert ids(status="escalated_to_legal") == {legal}
    assert ids(assigned_to="med1") == {mine}
    assert ids(assigned_to="med2") == {colleague}
    assert ids(assigned_to=UNASSIGNED) == {unassigned, legal}
    assert ids(due_before=now + timedelta(hours=11)) == {colleague}
    assert ids(due_before=now + timedelta(hours=9)) == set()


def test_queue_pages_follow_the_cursor_in_urgency_order(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    for n in range(5):
        under_mediation(claims, clock, claimed_amount=f"{10 + n}.00")
    runner.run_until_caught_up()
    everything = [item["claim_id"] for item in queue(views, clock())]

    paged: list[str] = []
    cursor = None
    while True:
        page = work_queue(views, QueueFilters(), 2, cursor, clock())
        paged += [item["claim_id"] for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert paged == everything
    assert len(paged) == 5
