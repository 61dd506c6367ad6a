"""Eligibility at opening over HTTP: each refusal is a named 422 problem."""

from __future__ import annotations

from datetime import timedelta

import pytest

from support.http import START, Api, rfc3339


def test_a_second_open_claim_on_one_order_is_a_named_422_until_the_first_is_withdrawn(api: Api) -> None:
    first = api.open_claim(order_id="order-42")

    again = api.post("b1", "/claims", json={**_body(), "order_id": "order-42"})  # the order, recorded
    problem = api.problem(again, 422)
    assert problem["type"] == "/problems/open-claim-exists"
    assert first["id"] not in again.text

    api.act("b1", first["id"], "withdrawal", {"reason": "Opened by mistake."})
    second = api.open_claim(order_id="order-42")
    assert second["id"] != first["id"]


@pytest.mark.parametrize(
    ("fields", "problem_type"),
    [
        ({"claimed_amount": "120.01"}, "/problems/claimed-amount-exceeds-order"),
        ({"reason": "not_received"}, "/problems/not-received-but-delivered"),
        ({"reason": "no_reason_return", "delivered_at": None}, "/problems/no-reason-return-not-delivered"),
        (
            {"reason": "no_reason_return", "delivered_at": rfc3339(START - timedelta(days=9))},
            "/problems/no-reason-return-window-closed",
        ),
    ],
)
def test_an_ineligible_claim_is_a_named_422(api: Api, fields: dict[str, object], problem_type: str) -> None:
    body = {**_body(), **fields}
    api.record_order_of("b1", body)  # the platform's order, as the claim states it
    answer = api.post("b1", "/claims", json=body)
    assert api.problem(answer, 422)["type"] == problem_type


def _body() -> dict[str, object]:
    return {
        "order_id": "order-7",
        "merchant_id": "m1",
        "kind": "refund_only",
        "reason": "damaged",
        "order_amount": "120.00",
        "claimed_amount": "80.00",
        "currency": "USD",
        "delivered_at": rfc3339(START - timedelta(days=2)),
        "description": "Broken.",
    }
