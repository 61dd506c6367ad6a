"""The Order aggregate: the platform's facts, recorded once, and the refund ledger across its claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.application import project_aggregate

from disputes.domain import errors
from disputes.domain.money import Money
from disputes.domain.order import Order, OrderFacts, order_id_for
from disputes.domain.parties import Actor, Role

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PLATFORM = Actor(Role.PLATFORM, "orders")
LINES = [
    {"line_id": "cup", "sku": "C-1", "title": "Tea cup", "quantity": 2, "unit_price": "30.00"},
    {"line_id": "pot", "sku": "P-1", "title": "Tea pot", "quantity": 1, "unit_price": "60.00"},
]


def facts(**overrides: Any) -> OrderFacts:
    fields: dict[str, Any] = {
        "buyer_id": "b1",
        "merchant_id": "m1",
        "currency": "CNY",
        "total_amount": "120.00",
        "placed_at": T0 - timedelta(days=5),
        "lines": LINES,
    }
    fields.update(overrides)
    return OrderFacts.parse(**fields)


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


@pytest.fixture
def order() -> Order:
    return Order.record(actor=PLATFORM, order_id="o-1", facts=facts(), delivered_at=T0 - timedelta(days=1), at=T0)


def test_an_order_is_recorded_under_an_id_that_follows_from_the_platforms_order_id(order: Order) -> None:
    assert order.id == order_id_for("o-1")
    assert (order.buyer_id, order.merchant_id, order.total_amount) == ("b1", "m1", cny("120.00"))
    assert project_aggregate(None, order.collect_events()).facts == order.facts  # type: ignore[union-attr]


def test_the_total_must_be_the_sum_of_the_lines() -> None:
    with pytest.raises(errors.OrderTotalMismatch, match=r"120\.00 CNY"):
        facts(total_amount="119.99")


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [{**LINES[0], "quantity": 0}],
        [LINES[0], {**LINES[1], "line_id": "cup"}],
        [{**LINES[0], "unit_price": "0.001"}],
    ],
    ids=["no line", "quantity 0", "a line twice", "a price finer than the currency"],
)
def test_malformed_lines_are_refused(lines: list[dict[str, Any]]) -> None:
    with pytest.raises(errors.InvalidValue):
        facts(lines=lines, total_amount="60.00")


def test_only_the_platform_records_an_order() -> None:
    with pytest.raises(errors.NotPermitted):
        Order.record(actor=Actor(Role.BUYER, "b1"), order_id="o-1", facts=facts(), delivered_at=None, at=T0)


def test_the_same_facts_again_are_accepted_and_other_facts_refused(order: Order) -> None:
    order.require_same_facts(facts())
    with pytest.raises(errors.OrderFactsDiffer, match="merchant_id"):
        order.require_same_facts(facts(merchant_id="m2"))


def test_a_delivery_is_recorded_once() -> None:
    undelivered = Order.record(actor=PLATFORM, order_id="o-2", facts=facts(), delivered_at=None, at=T0)
    assert undelivered.record_delivery(actor=PLATFORM, delivered_at=T0 - timedelta(hours=1), at=T0) is True
    assert undelivered.record_delivery(actor=PLATFORM, delivered_at=T0 - timedelta(hours=1), at=T0) is False
    with pytest.raises(errors.DeliveryAlreadyRecorded):
        undelivered.record_delivery(actor=PLATFORM, delivered_at=T0, at=T0)
    with pytest.raises(errors.DeliveryInFuture):
        Order.record(actor=PLATFORM, order_id="o-3", facts=facts(), delivered_at=T0 + timedelta(1), at=T0)


def test_refunds_fall_on_the_claims_lines_and_never_past_a_lines_value(order: Order) -> None:
    cups = {"cup": 2}
    order.count_refund(actor=PLATFORM, claim_id="c1", lines=cups, amount=cny("40.00"), payment_reference="p1", at=T0)

    assert order.refunded_lines == {"cup": cny("40.00")}
    assert order.room_for("c1", cups) == cny("20.00")
    with pytest.raises(errors.RefundExceedsOrder):
        order.count_refund(actor=PLATFORM, claim_id="c2", lines=cups, amount=cny("20.01"), payment_reference="p2", at=T0)
    # Another claim of the same lines may take only what is left of them.
    order.count_refund(actor=PLATFORM, claim_id="c2", lines=cups, amount=cny("20.00"), payment_reference="p2", at=T0)
    assert order.room_for("c2", cups) == cny("0.00")
    assert order.refundable(order.claimed_lines([{"line_id": "pot", "quantity": 1}])) == cny("60.00")


def test_the_refunds_of_every_claim_never_add_up_to_more_than_the_total(order: Order) -> None:
    whole = {"cup": 2, "pot": 1}
    order.count_refund(actor=PLATFORM, claim_id="c1", lines=whole, amount=cny("120.00"), payment_reference="p1", at=T0)
    with pytest.raises(errors.RefundExceedsOrder):
        order.count_refund(actor=PLATFORM, claim_id="c2", lines=whole, amount=cny("0.01"), payment_reference="p2", at=T0)
    assert order.refunded_amount == cny("120.00")


def test_claims_recorded_before_ledgers_count_with_the_first_refund(order: Order) -> None:
    prior = [{"claim_id": "old", "refunded_amount": cny("100.00")}]
    order.count_refund(
        actor=PLATFORM, claim_id="c1", lines={"pot": 1}, amount=cny("20.00"), payment_reference="p1", at=T0, prior=prior
    )
    assert order.refunded_amount == cny("120.00")
    assert project_aggregate(None, order.collect_events()).refunded_amount == cny("120.00")  # type: ignore[union-attr]


def test_a_claim_may_name_only_lines_of_the_order_in_quantities_ordered(order: Order) -> None:
    with pytest.raises(errors.OrderLinesInvalid, match="no line 'spoon'"):
        order.claimed_lines([{"line_id": "spoon", "quantity": 1}])
    with pytest.raises(errors.OrderLinesInvalid, match="1 to 2"):
        order.claimed_lines([{"line_id": "cup", "quantity": 3}])
    assert [(c.line_id, c.quantity) for c in order.claimed_lines(None)] == [("cup", 2), ("pot", 1)]
