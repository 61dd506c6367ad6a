"""Orders over HTTP (API.md v1.1, "Orders"): the platform records them, claims are judged by them, and
money is paid once per order however many claims it has; appeals of a decision."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from support import order_record
from support.http import START, Api, rfc3339

DELIVERED = rfc3339(START - timedelta(days=2))
LINES = [
    {"line_id": "cup", "sku": "C-1", "title": "Tea cup", "quantity": 2, "unit_price": "30.00"},
    {"line_id": "pot", "sku": "P-1", "title": "Tea pot", "quantity": 1, "unit_price": "60.00"},
]


def tea_set(**changes: Any) -> dict[str, Any]:
    body = {**order_record(buyer_id="b1", total="120.00", currency="CNY", lines=LINES), "delivered_at": DELIVERED}
    body["placed_at"] = rfc3339(body["placed_at"])
    body.update(changes)
    return body


def claim_body(**changes: Any) -> dict[str, Any]:
    return {
        "order_id": "tea-set",
        "kind": "refund_only",
        "reason": "damaged",
        "claimed_amount": "60.00",
        "description": "Both cups arrived broken.",
        **changes,
    }


def test_the_platform_records_an_order_once_and_the_same_facts_again_change_nothing(api: Api) -> None:
    first = api.send("plat1", "PUT", "/orders/tea-set", json=tea_set())
    assert first.status_code == 201, first.text
    assert first.headers["Location"] == "/orders/tea-set"
    again = api.send("plat1", "PUT", "/orders/tea-set", json=tea_set())
    assert (again.status_code, again.json()["version"]) == (200, 1)

    differs = api.send("plat1", "PUT", "/orders/tea-set", json=tea_set(merchant_id="m2"))
    assert api.problem(differs, 409)["type"] == "/problems/order-facts-differ"
    wrong_sum = api.send("plat1", "PUT", "/orders/other", json=tea_set(total_amount="119.00"))
    assert api.problem(wrong_sum, 422)["type"] == "/problems/order-total-mismatch"
    by_buyer = api.send("b1", "PUT", "/orders/mine", json=tea_set())
    api.problem(by_buyer, 403)


def test_a_delivery_is_recorded_once(api: Api) -> None:
    assert api.send("plat1", "PUT", "/orders/tea-set", json=tea_set(delivered_at=None)).status_code == 201
    at = rfc3339(START - timedelta(hours=3))
    delivered = api.post("plat1", "/orders/tea-set/delivery", json={"delivered_at": at})
    assert (delivered.status_code, delivered.json()["delivered_at"]) == (200, at)
    assert api.post("plat1", "/orders/tea-set/delivery", json={"delivered_at": at}).status_code == 200
    other = api.post("plat1", "/orders/tea-set/delivery", json={"delivered_at": rfc3339(START)})
    assert api.problem(other, 409)["type"] == "/problems/delivery-already-recorded"
    unknown = api.post("plat1", "/orders/nothing/delivery", json={"delivered_at": at})
    assert api.problem(unknown, 404)["type"] == "/problems/order-unknown"


def test_a_buyer_claims_two_lines_and_cannot_move_a_fact_the_platform_recorded(api: Api) -> None:
    api.send("plat1", "PUT", "/orders/tea-set", json=tea_set())
    lines = [{"line_id": "cup", "quantity": 2}]
    for stated in ({"merchant_id": "m2"}, {"currency": "USD"}, {"order_amount": "1000.00"},
                   {"delivered_at": rfc3339(START - timedelta(minutes=1))}, {"delivered_at": None}):
        refused = api.post("b1", "/claims", json=claim_body(lines=lines, **stated))
        assert api.problem(refused, 422)["type"] == "/problems/order-facts-mismatch", stated

    opened = api.post("b1", "/claims", json=claim_body(lines=[*lines, {"line_id": "pot", "quantity": 1}], claimed_amount="120.00"))
    assert opened.status_code == 201, opened.text
    claim = opened.json()
    assert (claim["merchant_id"], claim["currency"], claim["order_amount"]) == ("m1", "CNY", "120.00")
    assert claim["order_facts"] == "platform"
    assert claim["lines"] == [{"line_id": "cup", "quantity": 2}, {"line_id": "pot", "quantity": 1}]
    assert claim["deadlines"] == [
        {
            "name": "merchant_response",
            "due_at": rfc3339(START + timedelta(hours=48)),
            "rule": "merchant-silent-accepts",
            "policy_version": "2026-11",
            "rule_url": "/policy#merchant_response",
        }
    ]
    assert claim["appeal"] is None


def test_an_unknown_order_and_another_buyers_order_look_the_same(api: Api) -> None:
    api.send("plat1", "PUT", "/orders/tea-set", json=tea_set())
    theirs = api.problem(api.post("b2", "/claims", json=claim_body()), 422)
    unknown = api.problem(api.post("b2", "/claims", json=claim_body(order_id="no-such")), 422)
    assert theirs["type"] == unknown["type"] == "/problems/order-not-found"
    assert theirs["detail"].replace("tea-set", "X") == unknown["detail"].replace("no-such", "X")
    assert api.get("b2", "/orders/tea-set").status_code == 404


def test_a_refunded_claim_cannot_be_withdrawn_and_the_order_is_not_paid_twice(api: Api) -> None:
    """The v1 leak: refund a claim in full, withdraw it, claim again, let the merchant stay silent."""
    api.send("plat1", "PUT", "/orders/tea-set", json=tea_set())
    first = api.post("b1", "/claims", json=claim_body(claimed_amount="120.00")).json()
    api.act("m1", first["id"], "merchant-response", {"decision": "accept"})
    api.act("m1", first["id"], "refunds", {"amount": "120.00", "payment_reference": "pay-1"})

    withdrawn = api.post("b1", f"/claims/{first['id']}/withdrawal", json={"reason": "Claim again."})
    assert api.problem(withdrawn, 409)["type"] == "/problems/claim-refunded"
    again = api.post("b1", "/claims", json=claim_body(claimed_amount="120.00"))
    assert api.problem(again, 422)["type"] == "/problems/claim-exceeds-refundable"

    order = api.get("m1", "/orders/tea-set").json()
    assert order["refunded_amount"] == "120.00"
    assert [line["refunded_amount"] for line in order["lines"]] == ["60.00", "60.00"]
    assert order["claims"] == [{"id": first["id"], "status": "refunded"}]
    for reader in ("b1", "m1", "plat1", "med1", "aud1"):
        assert api.get(reader, "/orders/tea-set").status_code == 200, reader


def _decided(api: Api, amount: str = "30.00") -> str:
    api.send("plat1", "PUT", "/orders/tea-set", json=tea_set())
    claim_id: str = api.post("b1", "/claims", json=claim_body()).json()["id"]
    api.act("m1", claim_id, "merchant-response", {"decision": "reject", "message": "Packed well."})
    api.act("b1", claim_id, "mediation-request", {"reason": "They are broken."})
    api.act("med1", claim_id, "assignment")
    api.act("med1", claim_id, "decision", {"outcome": "partial_refund", "amount": amount, "rationale": "One cup."})
    return claim_id


def test_an_appeal_goes_to_another_mediator_who_overturns_the_decision(api: Api) -> None:
    claim_id = _decided(api)
    appealed = api.act("b1", claim_id, "appeal", {"reason": "Both cups are broken; see the photos."})
    assert appealed["status"] == "under_appeal"
    assert appealed["appeal"]["by"] == {"role": "buyer", "id": "b1"}
    assert [d["name"] for d in appealed["deadlines"]] == ["appeal_decision"]

    same = api.post("med1", f"/claims/{claim_id}/appeal-decision", json={"outcome": "upheld", "rationale": "Mine."})
    assert api.problem(same, 403)["type"] == "/problems/same-mediator"
    overturned = api.act(
        "med2",
        claim_id,
        "appeal-decision",
        {"outcome": "overturned", "rationale": "Both broken.", "new_outcome": "partial_refund", "amount": "60.00"},
    )
    assert (overturned["status"], overturned["agreed_amount"]) == ("refund_pending", "60.00")
    assert (overturned["appeal"]["outcome"], overturned["appeal"]["decided_by"]) == ("overturned", "med2")
    twice = api.post("m1", f"/claims/{claim_id}/appeal", json={"reason": "Now me."})
    assert api.problem(twice, 409)["type"] == "/problems/appeal-already-lodged"
    assert api.event_types(claim_id)[-2:] == ["Appealed", "AppealDecided"]


def test_a_late_appeal_and_a_party_asking_for_mediation_again_are_refused(api: Api) -> None:
    claim_id = _decided(api)
    again = api.post("b1", f"/claims/{claim_id}/mediation-request", json={"reason": "Once more."})
    assert api.problem(again, 409)["type"] == "/problems/decision-final"
    api.clock.advance(days=7, seconds=1)
    late = api.post("m1", f"/claims/{claim_id}/appeal", json={"reason": "Too late?"})
    assert api.problem(late, 409)["type"] == "/problems/appeal-window-closed"
