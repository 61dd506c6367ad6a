"""Claims judged by the platform's orders, and one refund ledger per order, on both stores."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from disputes.application.claims import DisputesApplication
from disputes.application.orders import CLAIMS_READ_TOGETHER
from disputes.bootstrap import Container
from disputes.domain import errors
from disputes.domain.parties import Actor, Role
from disputes.settings import Settings
from support import START, ManualClock, given_order, migrated_container

BUYER, OTHER_BUYER = Actor(Role.BUYER, "b1"), Actor(Role.BUYER, "b2")
MERCHANT = Actor(Role.MERCHANT, "m1")
MEDIATOR, OTHER_MEDIATOR = Actor(Role.MEDIATOR, "med1"), Actor(Role.MEDIATOR, "med2")
LINES = [
    {"line_id": "cup", "sku": "C-1", "title": "Tea cup", "quantity": 2, "unit_price": "30.00"},
    {"line_id": "pot", "sku": "P-1", "title": "Tea pot", "quantity": 1, "unit_price": "60.00"},
]
CLAIM: dict[str, Any] = {"kind": "refund_only", "reason": "damaged", "description": "Broken in the box."}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def container(database_url: str, clock: ManualClock) -> Iterator[Container]:
    with migrated_container(Settings(database_url=database_url, env="test"), clock) as built:
        yield built


@pytest.fixture
def app(container: Container) -> DisputesApplication:
    given_order(
        container.app, "tea-set", buyer_id="b1", total="120.00", currency="CNY", lines=LINES,
        delivered_at=START - timedelta(days=2),
    )
    return container.app


def open_claim(app: DisputesApplication, claimed: str, lines: list[dict[str, Any]] | None = None, **more: Any) -> str:
    return str(app.open_claim(BUYER, order_id="tea-set", claimed_amount=claimed, lines=lines, **{**CLAIM, **more}).claim.id)


def accept_and_refund(app: DisputesApplication, claim_id: str, amount: str, reference: str) -> None:
    app.respond(MERCHANT, claim_id, decision="accept", amount=None, message="Sorry.")
    app.refund(MERCHANT, claim_id, amount=amount, payment_reference=reference)


def test_a_claim_takes_its_facts_from_the_recorded_order(app: DisputesApplication) -> None:
    claim = app.load_claim(open_claim(app, "30.00", [{"line_id": "cup", "quantity": 1}]))

    assert (claim.merchant_id, claim.currency, str(claim.order_amount.amount)) == ("m1", "CNY", "120.00")
    assert claim.delivered_at == START - timedelta(days=2)
    assert (claim.order_facts, claim.lines) == ("platform", [{"line_id": "cup", "quantity": 1}])


@pytest.mark.parametrize(
    "stated",
    [{"merchant_id": "m2"}, {"currency": "USD"}, {"order_amount": "1000000.00"}, {"delivered_at": START - timedelta(minutes=1)}, {"delivered_at": None}],
    ids=["merchant", "currency", "amount", "a delivery a minute ago", "not delivered"],
)
def test_a_fact_the_buyer_states_otherwise_than_the_order_is_refused(
    app: DisputesApplication, stated: dict[str, Any]
) -> None:
    with pytest.raises(errors.OrderFactsMismatch):
        open_claim(app, "30.00", **stated)


def test_an_unknown_order_and_another_buyers_order_get_the_same_refusal(app: DisputesApplication) -> None:
    with pytest.raises(errors.OrderNotFound) as theirs:
        app.open_claim(OTHER_BUYER, order_id="tea-set", claimed_amount="10.00", **CLAIM)
    with pytest.raises(errors.OrderNotFound) as unknown:
        app.open_claim(OTHER_BUYER, order_id="no-such", claimed_amount="10.00", **CLAIM)
    assert theirs.value.detail.replace("tea-set", "X") == unknown.value.detail.replace("no-such", "X")


def test_the_no_reason_window_is_counted_from_the_delivery_the_platform_recorded(container: Container) -> None:
    given_order(container.app, "old", buyer_id="b1", delivered_at=START - timedelta(days=9))
    with pytest.raises(errors.NoReasonReturnWindowClosed):
        container.app.open_claim(
            BUYER, order_id="old", kind="return_and_refund", reason="no_reason_return", claimed_amount="10.00",
            description="Changed my mind.",
        )
    # Claiming a delivery one minute ago does not reopen it.
    with pytest.raises(errors.OrderFactsMismatch):
        container.app.open_claim(
            BUYER, order_id="old", kind="return_and_refund", reason="no_reason_return", claimed_amount="10.00",
            description="Changed my mind.", delivered_at=START - timedelta(minutes=1),
        )


def test_not_received_is_refused_on_an_order_the_platform_recorded_as_delivered(app: DisputesApplication) -> None:
    with pytest.raises(errors.NotReceivedButDelivered):
        app.open_claim(BUYER, order_id="tea-set", kind="refund_only", reason="not_received", claimed_amount="10.00", description="Never came.")


def test_one_order_is_paid_once_across_its_claims(app: DisputesApplication) -> None:
    first = open_claim(app, "120.00")
    accept_and_refund(app, first, "120.00", "pay-1")

    with pytest.raises(errors.ClaimRefunded):
        app.withdraw(BUYER, first, reason="Let me claim again.")
    with pytest.raises(errors.ClaimExceedsRefundable):
        open_claim(app, "120.00")  # nothing is left to refund on the order
    order = app.orders.find_recorded("tea-set")
    assert order is not None and order.refunded_amount.amount == Decimal("120.00")


def test_a_refunded_claim_does_not_block_a_later_claim_on_what_it_did_not_refund(app: DisputesApplication) -> None:
    cups = open_claim(app, "60.00", [{"line_id": "cup", "quantity": 2}])
    with pytest.raises(errors.OpenClaimExists):
        open_claim(app, "30.00", [{"line_id": "cup", "quantity": 1}])  # an open claim names the cups
    pot = open_claim(app, "60.00", [{"line_id": "pot", "quantity": 1}])  # the pot is free
    accept_and_refund(app, cups, "40.00", "pay-cups")
    app.respond(MERCHANT, pot, decision="reject", amount=None, message="Not broken.")
    with pytest.raises(errors.OpenClaimExists):
        open_claim(app, "20.00", [{"line_id": "cup", "quantity": 2}])  # the rest is still due on it

    # Withdrawn, the partly refunded claim frees what it did not refund: 20.00 left on the cups.
    app.withdraw(BUYER, cups, reason="Settled with the shop.")
    with pytest.raises(errors.ClaimExceedsRefundable):
        open_claim(app, "20.01", [{"line_id": "cup", "quantity": 2}])
    third = open_claim(app, "20.00", [{"line_id": "cup", "quantity": 2}])
    assert app.load_claim(third).claim_number == 3


def test_an_order_has_at_most_the_policys_number_of_claims(app: DisputesApplication) -> None:
    for _ in range(3):
        app.withdraw(BUYER, open_claim(app, "10.00"), reason="Mistake.")
    with pytest.raises(errors.ClaimsPerOrderExceeded):
        open_claim(app, "10.00")


def test_a_decided_rejection_holds_against_a_new_claim_on_its_lines(app: DisputesApplication) -> None:
    claim_id = open_claim(app, "60.00")
    app.respond(MERCHANT, claim_id, decision="reject", amount=None, message="No.")
    app.request_mediation(BUYER, claim_id, reason="Please look.")
    app.assign_mediator(MEDIATOR, claim_id, mediator_id=None)
    app.decide_claim(MEDIATOR, claim_id, outcome="claim_rejected", amount=None, rationale="Worn by use.")

    with pytest.raises(errors.ClaimAlreadyDecided):
        open_claim(app, "60.00")


def test_an_appeal_is_decided_by_another_mediator_upheld_or_overturned(
    app: DisputesApplication,
) -> None:
    cups = open_claim(app, "60.00", [{"line_id": "cup", "quantity": 2}])
    app.respond(MERCHANT, cups, decision="reject", amount=None, message="No.")
    app.request_mediation(BUYER, cups, reason="Please look.")
    app.assign_mediator(MEDIATOR, cups, mediator_id=None)
    app.decide_claim(MEDIATOR, cups, outcome="partial_refund", amount="20.00", rationale="One cup.")
    app.refund(MEDIATOR, cups, amount="20.00", payment_reference="pay-1")  # refunded: finished
    app.lodge_appeal(BUYER, cups, reason="Both cups were broken.")
    with pytest.raises(errors.SameMediator):
        app.decide_appeal(MEDIATOR, cups, outcome="upheld", rationale="I was right.")
    upheld = app.decide_appeal(OTHER_MEDIATOR, cups, outcome="upheld", rationale="One cup, as decided.")
    assert upheld.claim.status == "refunded"

    # A second claim took what was left on the cups; an overturn of the first could not pay it again.
    again = open_claim(app, "40.00", [{"line_id": "cup", "quantity": 2}])
    accept_and_refund(app, again, "40.00", "pay-2")
    second = open_claim(app, "60.00", [{"line_id": "pot", "quantity": 1}])
    app.respond(MERCHANT, second, decision="reject", amount=None, message="No.")
    app.request_mediation(BUYER, second, reason="Please look.")
    app.assign_mediator(MEDIATOR, second, mediator_id=None)
    app.decide_claim(MEDIATOR, second, outcome="partial_refund", amount="10.00", rationale="A chip.")
    app.lodge_appeal(MERCHANT, second, reason="There is no chip.")
    app.decide_appeal(OTHER_MEDIATOR, second, outcome="overturned", rationale="No chip.", new_outcome="claim_rejected")
    assert app.load_claim(second).status == "claim_rejected"
    order = app.orders.find_recorded("tea-set")
    assert order is not None and str(order.refunded_amount.amount) == "60.00"


def test_an_overturn_that_would_refund_past_the_ledger_is_refused(container: Container) -> None:
    given_order(container.app, "plate", buyer_id="b1", total="50.00", currency="CNY", delivered_at=START - timedelta(days=1))
    app = container.app
    loose = replace(app.policy, eligibility=replace(app.policy.eligibility, one_open_claim_per_order=False))
    app.policy = loose
    first = str(app.open_claim(BUYER, order_id="plate", claimed_amount="50.00", **CLAIM).claim.id)
    second = str(app.open_claim(BUYER, order_id="plate", claimed_amount="50.00", **CLAIM).claim.id)
    app.respond(MERCHANT, first, decision="reject", amount=None, message="No.")
    app.request_mediation(BUYER, first, reason="Please look.")
    app.assign_mediator(MEDIATOR, first, mediator_id=None)
    app.decide_claim(MEDIATOR, first, outcome="partial_refund", amount="10.00", rationale="A crack.")
    accept_and_refund(app, second, "50.00", "pay-second")  # the whole plate is refunded on the other claim

    app.lodge_appeal(BUYER, first, reason="It is broken in two.")
    with pytest.raises(errors.RefundExceedsOrder):
        app.decide_appeal(
            OTHER_MEDIATOR, first, outcome="overturned", rationale="Broken.", new_outcome="full_refund", amount="50.00"
        )
    assert app.load_claim(first).status == "under_appeal"


def test_two_claims_refunding_at_once_never_both_pass_the_orders_total(
    container: Container, database_url: str, clock: ManualClock
) -> None:
    """With the policy's one-open-claim rule off, two whole-order claims of 100.00 on a 120.00 order race
    to be refunded from two applications (two processes' worth of connections): one is paid."""
    given_order(container.app, "race", buyer_id="b1", total="120.00", currency="CNY", delivered_at=START - timedelta(days=1))
    loose = replace(container.app.policy, eligibility=replace(container.app.policy.eligibility, one_open_claim_per_order=False))
    with migrated_container(Settings(database_url=database_url, env="test"), clock) as other:
        apps = [container.app, other.app]
        for app in apps:
            app.policy = loose
        ids = [
            str(container.app.open_claim(BUYER, order_id="race", claimed_amount="100.00", **CLAIM).claim.id)
            for _ in range(2)
        ]
        for claim_id in ids:
            container.app.respond(MERCHANT, claim_id, decision="accept", amount=None, message="OK.")
        start = threading.Barrier(2)
        outcomes: list[str] = []

        def pay(app: DisputesApplication, claim_id: str) -> None:
            start.wait()
            try:
                app.refund(MERCHANT, claim_id, amount="100.00", payment_reference=f"pay-{claim_id}")
                outcomes.append("paid")
            except errors.RefundExceedsOrder:
                outcomes.append("refused")

        threads = [threading.Thread(target=pay, args=(app, claim_id)) for app, claim_id in zip(apps, ids, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

    assert sorted(outcomes) == ["paid", "refused"]
    order = container.app.orders.find_recorded("race")
    assert order is not None and str(order.refunded_amount.amount) == "100.00"


def test_without_the_platforms_orders_the_claimants_word_is_taken_and_the_ledger_still_holds(
    database_url: str, clock: ManualClock
) -> None:
    with migrated_container(Settings(database_url=database_url, env="test", order_facts="claimant"), clock) as built:
        app = built.app
        stated = {"merchant_id": "m1", "order_amount": "100.00", "currency": "USD", "delivered_at": None}
        first = app.open_claim(BUYER, order_id="o-9", claimed_amount="100.00", **CLAIM, **stated).claim
        assert (first.order_facts, first.lines) == ("claimant", [{"line_id": "whole-order", "quantity": 1}])
        accept_and_refund(app, str(first.id), "100.00", "pay-1")

        with pytest.raises(errors.ClaimExceedsRefundable):
            app.open_claim(BUYER, order_id="o-9", claimed_amount="100.00", **CLAIM, **stated)
        with pytest.raises(errors.OrderFactsMismatch):
            app.open_claim(BUYER, order_id="o-9", claimed_amount="10.00", **CLAIM, **{**stated, "order_amount": "200.00"})


def test_an_order_with_more_claims_than_are_read_together_lists_every_one_in_the_order_they_were_opened(
    app: DisputesApplication,
) -> None:
    policy = app.policy
    app.policy = replace(policy, eligibility=replace(policy.eligibility, max_claims_per_order=20))
    opened = []
    for _ in range(CLAIMS_READ_TOGETHER + 3):
        opened.append(open_claim(app, "10.00"))
        app.withdraw(BUYER, opened[-1], reason="Let me claim again.")
    order = app.orders.find_recorded("tea-set")
    assert order is not None

    assert [str(claim.id) for claim in app.orders.claims_of(order)] == opened
    again = app.open_claim(BUYER, order_id="tea-set", claimed_amount="10.00", **CLAIM).claim
    assert again.claim_number == CLAIMS_READ_TOGETHER + 4  # numbered after every earlier claim
