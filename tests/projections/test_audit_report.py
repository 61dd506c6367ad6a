"""The audit report of a period: openings, closings, outcomes, refunds, resolution times, deadlines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from projections.audit_report import audit_report
from projections.runner import ProjectionRunner
from projections.store import ViewConnection
from support.views import Claims, ManualClock, buyer, mediator, merchant


def day(d: int) -> datetime:
    return datetime(2026, 11, d, tzinfo=UTC)


@pytest.fixture
def period(claims: Claims, clock: ManualClock, runner: ProjectionRunner) -> dict[str, str]:
    """On 20 November: one claim accepted and refunded, one decided by a mediator, one withdrawn, one
    opened late in the day that the merchant answers only on the 23rd, after its deadline."""
    app = claims.app
    accepted = claims.open()
    returned = claims.open(kind="return_and_refund", reason="not_as_described")
    withdrawn = claims.open(reason="no_reason_return")
    clock.advance(hours=1)
    app.respond(merchant(), accepted, decision="accept", amount=None, message="")  # 10:00
    clock.advance(hours=1)
    app.withdraw(buyer(), withdrawn, reason="Changed my mind.")  # 11:00
    claims.refund(accepted, "80.00", who=merchant())  # 12:00
    app.respond(merchant(), returned, decision="reject", amount=None, message="")  # 12:00
    clock.advance(hours=1)
    app.request_mediation(buyer(), returned, reason="It is not as described.")  # 13:00
    clock.advance(hours=1)
    app.assign_mediator(mediator(), returned, mediator_id=None)  # 14:00
    claims.decide(returned, "return_then_refund", "80.00")  # 15:00
    clock.advance(hours=5)
    late = claims.open()  # 20:00
    clock.advance(hours=61)
    app.respond(merchant(), late, decision="reject", amount=None, message="")  # 23rd, 09:00
    runner.run_until_caught_up()
    return {"accepted": accepted, "returned": returned, "withdrawn": withdrawn, "late": late}


def test_the_report_of_a_day_counts_what_happened_that_day(period: dict[str, str], views: ViewConnection) -> None:
    report: dict[str, Any] = audit_report(views, day(20), day(21))

    assert (report["claims_opened"], report["claims_closed"]) == (4, 1)
    assert report["closed_by_status"] == [{"status": "withdrawn", "count": 1}]
    assert report["outcomes"] == [
        {"outcome": "merchant_accepted", "count": 1},
        {"outcome": "return_then_refund", "count": 1},
        {"outcome": "withdrawn", "count": 1},
    ]
    assert report["outcomes_by_kind"] == [
        {"outcome": "merchant_accepted", "kind": "refund_only", "count": 1},
        {"outcome": "return_then_refund", "kind": "return_and_refund", "count": 1},
        {"outcome": "withdrawn", "kind": "refund_only", "count": 1},
    ]
    assert report["outcomes_by_reason"] == [
        {"outcome": "merchant_accepted", "reason": "damaged", "count": 1},
        {"outcome": "return_then_refund", "reason": "not_as_described", "count": 1},
        {"outcome": "withdrawn", "reason": "no_reason_return", "count": 1},
    ]
    assert report["refunds_by_currency"] == [{"currency": "USD", "amount": "80.00", "refunds": 1}]
    # Resolved after 1 h, 2 h and 6 h.
    assert (report["resolutions"], report["median_time_to_resolution_seconds"]) == (3, 7200)
    assert report["deadline_compliance"] == [
        {"party": "buyer", "met": 1, "missed": 0, "superseded": 0, "compliance_rate": 1.0},
        {"party": "merchant", "met": 3, "missed": 0, "superseded": 1, "compliance_rate": 1.0},
        {"party": "platform", "met": 1, "missed": 0, "superseded": 0, "compliance_rate": 1.0},
    ]


def test_facts_outside_the_period_are_left_out(period: dict[str, str], views: ViewConnection) -> None:
    report = audit_report(views, day(21), day(24))

    assert (report["claims_opened"], report["claims_closed"], report["outcomes"]) == (0, 0, [])
    assert report["refunds_by_currency"] == []
    assert report["median_time_to_resolution_seconds"] is None
    assert report["deadline_compliance"] == [
        {"party": "merchant", "met": 0, "missed": 1, "superseded": 0, "compliance_rate": 0.0}
    ]


def test_refunds_in_several_currencies_are_summed_exactly(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    for amount in ("0.10", "0.20"):
        claim_id = claims.open(claimed_amount=amount)
        claims.app.respond(merchant(), claim_id, decision="accept", amount=None, message="")
        claims.refund(claim_id, amount, who=merchant())
    dinar = claims.open(order_amount="1.000", claimed_amount="0.125", currency="KWD")
    claims.app.respond(merchant(), dinar, decision="accept", amount=None, message="")
    claims.refund(dinar, "0.125", who=merchant())
    runner.run_until_caught_up()

    report = audit_report(views, day(1), day(30))

    assert report["refunds_by_currency"] == [
        {"currency": "KWD", "amount": "0.125", "refunds": 1},
        {"currency": "USD", "amount": "0.30", "refunds": 2},
    ]
