"""What-if replay of a policy against recorded claims, on both stores: hand-computed cases, nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from disputes.application.claims import DisputesApplication
from disputes.application.simulation import SimulationReport, simulate
from disputes.bootstrap import Container
from disputes.domain.parties import Actor, Role
from disputes.domain.policy import Policy, Windows
from disputes.domain.vocabulary import MerchantDecision, Outcome, ReturnCondition
from disputes.settings import Settings
from support import ManualClock, migrated_container, open_with_order

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
BUYER = Actor(Role.BUYER, "b1")
MERCHANT = Actor(Role.MERCHANT, "m1")
MEDIATOR = Actor(Role.MEDIATOR, "med1")


def policy(**windows: timedelta) -> Policy:
    return Policy(windows=replace(Windows(), version="what-if", **windows))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def container(database_url: str, clock: ManualClock) -> Iterator[Container]:
    with migrated_container(Settings(database_url=database_url, env="test"), clock) as built:
        yield built


def open_claim(app: DisputesApplication, clock: ManualClock, order_id: str, **fields: Any) -> str:
    body: dict[str, Any] = {
        "order_id": order_id,
        "merchant_id": "m1",
        "kind": "refund_only",
        "reason": "damaged",
        "order_amount": "120.00",
        "claimed_amount": "80.00",
        "currency": "USD",
        "delivered_at": clock() - timedelta(days=1),
        "description": "Broken.",
    }
    body.update(fields)
    return str(open_with_order(app, BUYER, **body).claim.id)


def run(container: Container, new: Policy, *, to: datetime, start: datetime = T0) -> SimulationReport:
    return simulate(container.app, new, start, to, now=container.clock())


def test_a_merchant_answering_after_30h_would_have_been_accepted_under_a_24h_window(
    container: Container, clock: ManualClock
) -> None:
    app = container.app
    late = open_claim(app, clock, "late")
    quick = open_claim(app, clock, "quick")
    clock.advance(hours=10)
    app.respond(MERCHANT, quick, decision=MerchantDecision.REJECT, amount=None, message="No.")
    clock.advance(hours=20)
    app.respond(MERCHANT, late, decision=MerchantDecision.REJECT, amount=None, message="No.")
    clock.advance(hours=18)
    before = app.recorder.max_notification_id()

    report = run(container, policy(merchant_response=timedelta(hours=24)), to=T0 + timedelta(days=2))

    assert report.claims_replayed == 2
    assert [c.claim_id for c in report.changes] == [late]
    change = report.changes[0]
    assert (change.rule, change.deadline) == ("merchant-silent-accepts", "merchant_response")
    assert (change.recorded_status, change.simulated_status) == ("merchant_rejected", "refund_pending")
    assert change.money_change == Decimal("80.00")
    [rule] = report.by_rule()
    assert rule.claim_ids == (late,)
    assert rule.money == {"USD": Decimal("80.00")}
    assert report.to_json()["rules"][0]["money_change"] == {"USD": "80.00"}
    assert app.recorder.max_notification_id() == before  # nothing was written


def test_the_recorded_policy_replayed_changes_nothing(container: Container, clock: ManualClock) -> None:
    app = container.app
    silent = open_claim(app, clock, "silent")
    clock.advance(hours=49)
    app.apply_missed_deadline(silent, "merchant_response")  # accepted by default under 48 h
    clock.advance(hours=1)
    app.refund(MERCHANT, silent, amount="80.00", payment_reference="p-1")

    same = run(container, Policy(), to=T0 + timedelta(days=3))
    assert same.claims_replayed == 1 and same.changes == ()
    # Accepting after 24 h instead of 48 h leads to the same refund: no outcome changes either.
    earlier = run(container, policy(merchant_response=timedelta(hours=24)), to=T0 + timedelta(days=3))
    assert earlier.changes == ()
    # A week-long window: at the refund the merchant would still have had time to answer.
    longer = run(container, policy(merchant_response=timedelta(days=7)), to=T0 + timedelta(days=3))
    [change] = longer.changes
    assert (change.recorded_status, change.simulated_status) == ("refunded", "awaiting_merchant")
    assert change.money_change == Decimal("-80.00")


def test_a_buyer_silent_on_an_offer_for_three_days(container: Container, clock: ManualClock) -> None:
    app = container.app
    lapsed = open_claim(app, clock, "lapsed")  # recorded under 48 h: the offer lapsed
    answered = open_claim(app, clock, "answered", currency="EUR")  # recorded under 96 h: accepted on day 3
    clock.advance(hours=1)
    for claim_id in (lapsed, answered):
        app.respond(MERCHANT, claim_id, decision=MerchantDecision.OFFER, amount="50.00", message="Half?")
    clock.advance(hours=48)
    app.apply_missed_deadline(lapsed, "offer_answer")
    clock.advance(hours=24)
    app.answer_offer(BUYER, answered, accept=True)
    clock.advance(hours=1)
    before = app.recorder.max_notification_id()
    to = T0 + timedelta(hours=74)

    under_48h = run(container, policy(offer_answer=timedelta(hours=48)), to=to)
    [change] = under_48h.changes
    assert change.claim_id == answered
    assert (change.recorded_status, change.simulated_status) == ("refund_pending", "offer_declined")
    assert under_48h.by_rule()[0].money == {"EUR": Decimal("-50.00")}
    assert under_48h.by_rule()[0].rule == "buyer-silent-offer-lapses"

    under_96h = run(container, policy(offer_answer=timedelta(hours=96)), to=to)
    [change] = under_96h.changes
    assert change.claim_id == lapsed
    assert (change.recorded_status, change.simulated_status) == ("offer_declined", "offer_pending")
    assert change.rule == "buyer-silent-offer-lapses"
    assert change.money_change == Decimal("0.00")
    assert app.recorder.max_notification_id() == before


def test_only_claims_opened_in_the_period_are_replayed(container: Container, clock: ManualClock) -> None:
    app = container.app
    open_claim(app, clock, "early")
    clock.advance(days=1)
    inside = open_claim(app, clock, "inside")
    clock.advance(days=1)
    open_claim(app, clock, "after")
    clock.advance(days=3)

    report = run(
        container,
        policy(merchant_response=timedelta(hours=12)),
        start=T0 + timedelta(hours=12),
        to=T0 + timedelta(hours=36),
    )

    assert report.claims_replayed == 1
    [change] = report.changes  # judged at the period's end: 12 h after its opening
    assert change.claim_id == inside
    assert report.horizon == T0 + timedelta(hours=36)


def test_a_return_shipped_on_day_five_would_have_closed_the_claim_under_a_three_day_window(
    container: Container, clock: ManualClock
) -> None:
    app = container.app
    slow = open_claim(app, clock, "slow", kind="return_and_refund")
    prompt = open_claim(app, clock, "prompt", kind="return_and_refund")
    clock.advance(hours=1)
    for claim_id in (slow, prompt):  # both awaiting the return from here, 80.00 agreed
        app.respond(
            MERCHANT, claim_id, decision=MerchantDecision.ACCEPT, amount=None, message="Send it back."
        )
    clock.advance(days=2)
    app.ship_return(BUYER, prompt, carrier="DHL", tracking_number="T-2")
    clock.advance(days=3)
    app.ship_return(BUYER, slow, carrier="DHL", tracking_number="T-5")
    before = app.recorder.max_notification_id()

    report = run(container, policy(return_shipment=timedelta(days=3)), to=T0 + timedelta(days=7))

    assert report.claims_replayed == 2
    [change] = report.changes
    assert (change.claim_id, change.rule, change.deadline) == (
        slow,
        "no-return-shipped-closes",
        "return_shipment",
    )
    assert (change.recorded_status, change.simulated_status) == ("return_in_transit", "closed")
    # Recorded: 80.00 still due to the buyer; closed by default: nothing is.
    assert (change.recorded_money, change.simulated_money) == (Decimal("80.00"), Decimal("0.00"))
    assert [f.due_at for f in change.firings] == [T0 + timedelta(hours=1, days=3)]
    assert app.recorder.max_notification_id() == before


def test_a_refund_five_days_after_the_return_arrived_would_have_gone_to_mediation_under_three_days(
    container: Container, clock: ManualClock
) -> None:
    app = container.app
    late = open_claim(app, clock, "late-refund", kind="return_and_refund")
    clock.advance(hours=1)
    app.respond(MERCHANT, late, decision=MerchantDecision.ACCEPT, amount=None, message="Send it back.")
    clock.advance(days=1)
    app.ship_return(BUYER, late, carrier="DHL", tracking_number="T-1")
    clock.advance(days=1)
    app.receive_return(MERCHANT, late, condition=ReturnCondition.AS_SENT)  # refund due from here
    received = clock()
    clock.advance(days=5)
    app.refund(MERCHANT, late, amount="80.00", payment_reference="p-late")

    unchanged = run(container, Policy(), to=T0 + timedelta(days=9))
    assert unchanged.changes == ()

    report = run(container, policy(merchant_refund=timedelta(days=3)), to=T0 + timedelta(days=9))

    [change] = report.changes
    assert (change.rule, change.deadline) == ("merchant-refund-late-mediates", "merchant_refund")
    assert (change.recorded_status, change.simulated_status) == ("refunded", "under_mediation")
    # The money still due is the same 80.00: the platform steps in instead of the merchant paying late.
    assert change.money_change == Decimal("0.00")
    assert [(f.outcome, f.due_at) for f in change.firings] == [
        ("mediate_with_flag", received + timedelta(days=3))
    ]


def test_a_case_undecided_for_three_days_would_be_flagged_under_a_two_day_mediator_window(
    container: Container, clock: ManualClock
) -> None:
    app = container.app
    waiting = open_claim(app, clock, "waiting")
    decided = open_claim(app, clock, "decided")
    clock.advance(hours=1)
    for claim_id in (waiting, decided):
        app.respond(MERCHANT, claim_id, decision=MerchantDecision.REJECT, amount=None, message="No.")
        app.request_mediation(BUYER, claim_id, reason="Please look at the photos.")
    under_mediation = clock()
    clock.advance(days=1)
    app.assign_mediator(MEDIATOR, decided, mediator_id=None)
    app.decide_claim(MEDIATOR, decided, outcome=Outcome.PARTIAL_REFUND, amount="40.00", rationale="Half.")
    clock.advance(days=2)

    report = run(container, policy(mediator_decision=timedelta(days=2)), to=T0 + timedelta(days=3, hours=1))

    [change] = report.changes  # the decided case was decided inside the shorter window
    assert (change.claim_id, change.rule) == (waiting, "mediator-late-flagged")
    # The flag only puts the case first in the queue: status and money stay as recorded.
    assert (change.recorded_status, change.simulated_status) == ("under_mediation", "under_mediation")
    assert change.money_change == Decimal("0.00")
    assert [(f.outcome, f.due_at) for f in change.firings] == [
        ("flag_for_mediator", under_mediation + timedelta(days=2))
    ]
