"""The merchant scorecard: figures, the claims behind them, score and tier, as of a date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from projections.runner import ProjectionRunner
from projections.scorecard import Thresholds, merchant_scorecard
from projections.store import ViewConnection
from support.views import Claims, ManualClock, buyer, mediator, merchant

WINDOW = timedelta(hours=48)


def card(conn: ViewConnection, before: datetime | None, merchant_id: str = "m1", **thresholds: int) -> dict[str, Any]:
    return merchant_scorecard(
        conn, merchant_id, before, thresholds=Thresholds(**thresholds), response_window=WINDOW
    )


@pytest.fixture
def record(claims: Claims, clock: ManualClock, runner: ProjectionRunner) -> dict[str, str]:
    """Merchant m1's record: a mediated loss refunded in two parts, an accepted claim refunded at once,
    a claim it never answered (withdrawn after the deadline), and a claim in yen. m2 has one claim."""
    app = claims.app
    lost = claims.open()
    clock.advance(hours=1)
    app.respond(merchant(), lost, decision="reject", amount=None, message="No.")
    clock.advance(hours=1)
    app.request_mediation(buyer(), lost, reason="Broken.")
    clock.advance(hours=1)
    app.assign_mediator(mediator(), lost, mediator_id=None)
    claims.decide(lost, "partial_refund", "50.00")
    claims.refund(lost, "20.00", who=merchant())
    claims.refund(lost, "30.00", who=merchant())  # 15:00

    accepted = claims.open()
    clock.advance(hours=3)
    app.respond(merchant(), accepted, decision="accept", amount=None, message="")
    claims.refund(accepted, "80.00", who=merchant())  # 19:00

    ignored = claims.open()
    clock.advance(hours=49)
    app.withdraw(buyer(), ignored, reason="No answer.")

    yen = claims.open(order_amount="8000", claimed_amount="5000", currency="JPY")
    app.respond(merchant(), yen, decision="accept", amount=None, message="")
    claims.refund(yen, "5000", who=merchant())

    claims.open(merchant_id="m2")
    runner.run_until_caught_up()
    return {"lost": lost, "accepted": accepted, "ignored": ignored, "yen": yen}


def test_the_scorecard_counts_claims_interventions_losses_refunds_response_times_and_deadlines(
    record: dict[str, str], clock: ManualClock, views: ViewConnection
) -> None:
    figures = card(views, None)

    assert figures["claims_received"] == 4
    assert (figures["platform_interventions"], figures["intervention_rate"]) == (1, 0.25)
    assert (figures["losses"], figures["loss_rate"]) == (1, 0.25)
    assert figures["refunded"] == [
        {"currency": "JPY", "amount": "5000", "refunds": 1},
        {"currency": "USD", "amount": "130.00", "refunds": 3},
    ]
    assert (figures["first_responses"], figures["median_first_response_seconds"]) == (3, 3600)
    assert (figures["deadlines_met"], figures["deadlines_missed"]) == (6, 1)
    # 100 - 35/4 - 25/4 - 25/7 - 15 * 1h/48h = 81.1
    assert (figures["score"], figures["tier"]) == (81, "good")
    behind = figures["claims"]
    assert sorted(behind["received"]) == sorted(record.values())
    assert behind["interventions"] == behind["losses"] == [record["lost"]]
    assert behind["refunds"] == {"JPY": [record["yen"]], "USD": [record["lost"], record["accepted"]]}
    assert sorted(behind["first_responses"]) == sorted([record["lost"], record["accepted"], record["yen"]])
    assert behind["deadlines_missed"] == [{"claim_id": record["ignored"], "deadline": "merchant_response"}]


def test_the_scorecard_as_of_a_date_shows_the_record_as_it_stood_then(
    record: dict[str, str], views: ViewConnection
) -> None:
    end_of_first_day = datetime(2026, 11, 21, tzinfo=UTC)

    figures = card(views, end_of_first_day)

    assert figures["claims_received"] == 3
    assert figures["refunded"] == [{"currency": "USD", "amount": "130.00", "refunds": 3}]
    assert (figures["first_responses"], figures["median_first_response_seconds"]) == (2, 3600)
    assert (figures["deadlines_met"], figures["deadlines_missed"]) == (4, 0)
    assert card(views, datetime(2026, 11, 20, tzinfo=UTC))["claims_received"] == 0


def test_the_tier_follows_the_thresholds(record: dict[str, str], clock: ManualClock, views: ViewConnection) -> None:
    assert card(views, None, good=85, watch=80)["tier"] == "watch"
    assert card(views, None, good=95, watch=90)["tier"] == "restricted"


def test_a_merchant_without_claims_has_a_clean_record(views: ViewConnection, runner: ProjectionRunner) -> None:
    runner.run_until_caught_up()
    figures = card(views, datetime(2030, 1, 1, tzinfo=UTC), merchant_id="m9")

    assert (figures["claims_received"], figures["score"], figures["tier"]) == (0, 100, "good")
    assert figures["median_first_response_seconds"] is None


def test_losing_every_claim_slowly_makes_a_merchant_restricted(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    for _ in range(2):
        claim_id = claims.open()
        clock.advance(hours=50)  # answers after its deadline
        claims.app.respond(merchant(), claim_id, decision="reject", amount=None, message="")
        claims.app.request_mediation(buyer(), claim_id, reason="Please.")
        claims.app.assign_mediator(mediator(), claim_id, mediator_id=None)
        claims.decide(claim_id, "full_refund")
    runner.run_until_caught_up()

    figures = card(views, None)

    assert (figures["loss_rate"], figures["intervention_rate"], figures["deadlines_missed"]) == (1.0, 1.0, 2)
    assert (figures["score"], figures["tier"]) == (0, "restricted")


def test_an_appeal_that_overturns_a_loss_into_a_rejection_takes_the_loss_off_the_record(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    claim_id = claims.open(merchant_id="m-appeal")
    claims.rejected_then_mediated(claim_id, merchant_id="m-appeal")
    claims.decide(claim_id, "partial_refund", "30.00")
    runner.run_until_caught_up()
    assert card(views, None, "m-appeal")["claims"]["losses"] == [claim_id]

    claims.app.lodge_appeal(merchant("m-appeal"), claim_id, reason="It was not broken.")
    claims.app.decide_appeal(
        mediator("med2"), claim_id, outcome="overturned", rationale="Not broken.", new_outcome="claim_rejected"
    )
    runner.run_until_caught_up()

    after = card(views, None, "m-appeal")
    assert (after["losses"], after["claims"]["losses"]) == (0, [])
