"""A claim's life as the read routes show it: the mediator's queue, the buyer's timeline, the merchant's
scorecard and the auditor's report, each read right after the command it shows (min_position)."""

from __future__ import annotations

from typing import Any

from support import reads as reads_support
from support.http import Api

reads_api = reads_support.reads_api


def after(api: Api, who: str, path: str, answer: Any, **params: Any) -> Any:
    """Read ``path`` as ``who`` once the views show the command that gave ``answer``."""
    got = api.get(who, path, params={"min_position": answer.headers["X-Disputes-Position"], **params})
    assert got.status_code == 200, got.text
    return got.json()


def test_a_disputed_claim_moves_through_queue_timeline_scorecard_and_audit_report(reads_api: Api) -> None:
    api = reads_api
    claim_id = api.open_claim("b1")["id"]
    api.clock.advance(hours=2)
    api.act("m1", claim_id, "merchant-response", {"decision": "reject", "message": "Colour is fine."})
    api.clock.advance(hours=1)
    asked = api.post("b1", f"/claims/{claim_id}/mediation-request", json={"reason": "It is blue."})

    queue = after(api, "med1", "/queue", asked)
    assert [(i["claim_id"], i["action"], i["mediator_id"]) for i in queue["items"]] == [
        (claim_id, "assign a mediator", None)
    ]
    assert after(api, "med1", "/queue", asked, assigned_to="-")["items"][0]["claim_id"] == claim_id

    api.clock.advance(hours=1)
    api.act("med1", claim_id, "assignment", {})
    api.clock.advance(hours=1)
    api.act("med1", claim_id, "decision", {"outcome": "partial_refund", "amount": "50.00", "rationale": "Shade differs."})
    api.clock.advance(hours=1)
    refunded = api.post(
        "m1", f"/claims/{claim_id}/refunds", json={"amount": "50.00", "payment_reference": "pay-1"}
    )
    assert refunded.status_code == 200

    [item] = after(api, "med1", "/queue", refunded, assigned_to="med1")["items"]
    assert (item["status"], item["action"], item["needs_platform"]) == ("refunded", "confirm and close the case", True)

    story = after(api, "b1", f"/claims/{claim_id}/timeline", refunded)
    assert [e["type"] for e in story["entries"]] == [
        "ClaimOpened",
        "MerchantResponded",
        "MediationRequested",
        "MediatorAssigned",
        "Mediated",
        "Refunded",
    ]
    assert story["entries"][-1]["text"] == "Merchant m1 refunded $50.00 (payment pay-1)."
    assert story["entries"][-1]["at"] == "2026-11-20T15:00:00Z"
    assert [(step["who"], step["text"], step["due_at"]) for step in story["next"]] == [
        ("mediator", "Mediator med1 closes the case.", None)
    ]

    card = after(api, "m1", "/merchants/m1/scorecard", refunded)
    assert (card["claims_received"], card["platform_interventions"], card["losses"]) == (1, 1, 1)
    assert card["refunded"] == [{"currency": "USD", "amount": "50.00", "refunds": 1}]
    assert card["median_first_response_seconds"] == 7200
    assert card["claims"]["losses"] == [claim_id]
    assert (card["score"], card["tier"]) == (39, "restricted")  # 100 - 35 - 25 - 15 * 2h/48h
    assert card["as_of"] is None
    earlier = after(api, "m1", "/merchants/m1/scorecard", refunded, as_of="2026-11-19")
    assert (earlier["claims_received"], earlier["score"], earlier["as_of"]) == (0, 100, "2026-11-20T00:00:00Z")

    report = after(api, "aud1", "/reports/audit", refunded, **{"from": "2026-11-20", "to": "2026-11-20"})
    assert (report["from"], report["to"]) == ("2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z")
    assert (report["claims_opened"], report["claims_closed"]) == (1, 0)
    assert report["outcomes_by_kind"] == [{"outcome": "partial_refund", "kind": "refund_only", "count": 1}]
    assert report["refunds_by_currency"] == [{"currency": "USD", "amount": "50.00", "refunds": 1}]
    assert report["median_time_to_resolution_seconds"] == 5 * 3600

    api.clock.advance(hours=1)
    closed = api.post("med1", f"/claims/{claim_id}/closure", json={"summary": "Refunded in part."})
    assert after(api, "med1", "/queue", closed)["items"] == []
    assert after(api, "aud1", "/claims", closed, status="closed")["items"][0]["id"] == claim_id
