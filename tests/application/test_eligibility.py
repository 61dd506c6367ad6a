"""Eligibility at opening, against the real stores: one open claim per order, even under concurrency."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from disputes.application.claims import DisputesApplication
from disputes.bootstrap import Container
from disputes.domain import errors
from disputes.domain.parties import Actor, Role
from disputes.settings import Settings
from support import ManualClock, migrated_container, open_with_order

BUYER = Actor(Role.BUYER, "b1")
MERCHANT = Actor(Role.MERCHANT, "m1")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def container(database_url: str, clock: ManualClock) -> Iterator[Container]:
    with migrated_container(Settings(database_url=database_url, env="test"), clock) as built:
        yield built


CLAIM: dict[str, Any] = {
    "kind": "refund_only",
    "reason": "damaged",
    "claimed_amount": "80.00",
    "description": "The vase arrived broken.",
}
"""A claim as a v1.1 client sends it: the order's facts come from the order."""


def claim_on(app: DisputesApplication, order_id: str) -> str:
    """The id of the buyer's first claim on the order."""
    order = app.orders.find_recorded(order_id)
    assert order is not None
    return str(app.orders.claims_of(order)[0].id)


def open_claim(app: DisputesApplication, clock: ManualClock, order_id: str = "order-1", **fields: Any) -> str:
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


def test_a_second_claim_on_an_order_with_an_open_claim_is_refused(
    container: Container, clock: ManualClock
) -> None:
    first = open_claim(container.app, clock)

    with pytest.raises(errors.OpenClaimExists) as refused:
        open_claim(container.app, clock)

    assert refused.value.status == 422
    assert first not in refused.value.detail  # another buyer learns nothing about that claim
    open_claim(container.app, clock, order_id="order-2")  # other orders are not concerned


def test_a_new_claim_may_follow_once_the_previous_one_is_withdrawn_or_closed(
    container: Container, clock: ManualClock
) -> None:
    first = open_claim(container.app, clock)
    container.app.withdraw(BUYER, first, reason="Wrong order.")

    second = open_claim(container.app, clock)
    assert second != first
    assert container.app.load_claim(second).claim_number == 2
    with pytest.raises(errors.OpenClaimExists):
        open_claim(container.app, clock)


def test_claims_racing_on_one_order_record_exactly_one(container: Container, database_url: str) -> None:
    clock = container.clock
    assert isinstance(clock, ManualClock)
    open_claim(container.app, clock, order_id="order-race")  # the platform's order, and a first claim
    container.app.withdraw(BUYER, claim_on(container.app, "order-race"), reason="Opened by mistake.")
    with migrated_container(Settings(database_url=database_url, env="test"), clock) as other:
        apps = [container.app, other.app] * 4
        start = threading.Barrier(len(apps))
        outcomes: list[str] = []
        lock = threading.Lock()

        def attempt(app: DisputesApplication) -> None:
            start.wait()
            try:
                app.open_claim(BUYER, order_id="order-race", **CLAIM)
                outcome = "opened"
            except errors.OpenClaimExists:
                outcome = "refused"
            with lock:
                outcomes.append(outcome)

        threads = [threading.Thread(target=attempt, args=(app,)) for app in apps]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    assert sorted(outcomes) == ["opened"] + ["refused"] * (len(apps) - 1)


def test_a_policy_without_the_rule_allows_several_open_claims_per_order(
    database_url: str, clock: ManualClock
) -> None:
    with migrated_container(Settings(database_url=database_url, env="test"), clock) as built:
        policy = built.app.policy
        built.app.policy = replace(policy, eligibility=replace(policy.eligibility, one_open_claim_per_order=False))
        assert open_claim(built.app, clock) != open_claim(built.app, clock)


def test_a_stranger_naming_the_same_order_neither_blocks_nor_learns_of_the_buyers_claim(
    container: Container, clock: ManualClock
) -> None:
    open_claim(container.app, clock)
    stranger = Actor(Role.BUYER, "b-stranger")

    with pytest.raises(errors.OrderNotFound) as theirs:
        container.app.open_claim(stranger, order_id="order-1", **CLAIM)
    with pytest.raises(errors.OrderNotFound) as unknown:
        container.app.open_claim(stranger, order_id="order-never-recorded", **CLAIM)

    # The same answer as for an order that does not exist: nothing reveals the buyer's order.
    assert theirs.value.detail.replace("order-1", "X") == unknown.value.detail.replace("order-never-recorded", "X")
    with pytest.raises(errors.OpenClaimExists):
        open_claim(container.app, clock)  # the genuine buyer still has one open claim only
