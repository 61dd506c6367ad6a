"""Whole claims over HTTP, as a client written from API.md alone would drive them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from support.http import START, Api, rfc3339

SHA = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"


def deadlines(claim: dict[str, Any]) -> list[tuple[str, str]]:
    return [(d["name"], d["due_at"]) for d in claim["deadlines"]]


def test_a_rejected_claim_goes_through_mediation_to_a_partial_refund(api: Api) -> None:
    body = {
        "order_id": "order-77",
        "merchant_id": "m1",
        "kind": "refund_only",
        "reason": "not_as_described",
        "order_amount": "120",
        "claimed_amount": "80.5",
        "currency": "USD",
        "delivered_at": "2026-11-18T17:30:00+08:00",
        "description": "The jacket is blue, the listing said black.",
    }
    api.record_order_of("b1", body)  # the platform's order, as the claim states it
    opened = api.post("b1", "/claims", json=body)
    assert opened.status_code == 201
    claim = opened.json()
    claim_id = claim["id"]
    assert opened.headers["Location"] == f"/claims/{claim_id}"
    assert opened.headers["ETag"] == '"1"'
    assert claim["version"] == 1
    assert claim["status"] == "awaiting_merchant"
    assert (claim["kind"], claim["reason"], claim["order_id"]) == (
        "refund_only",
        "not_as_described",
        "order-77",
    )
    assert (claim["buyer_id"], claim["merchant_id"], claim["mediator_id"]) == ("b1", "m1", None)
    assert claim["currency"] == "USD"
    assert (claim["order_amount"], claim["claimed_amount"]) == ("120.00", "80.50")
    assert (claim["agreed_amount"], claim["refunded_amount"]) == (None, "0.00")
    assert claim["opened_at"] == claim["updated_at"] == rfc3339(START)
    assert deadlines(claim) == [("merchant_response", rfc3339(START + timedelta(hours=48)))]

    t1 = api.clock.advance(hours=1)
    rejected = api.post(
        "m1", f"/claims/{claim_id}/merchant-response", json={"decision": "reject", "message": "Worn."}
    )
    assert rejected.status_code == 200
    assert rejected.headers["ETag"] == '"2"'
    claim = rejected.json()
    assert (claim["version"], claim["status"], claim["updated_at"]) == (2, "merchant_rejected", rfc3339(t1))
    assert deadlines(claim) == [("mediation_request", rfc3339(t1 + timedelta(days=7)))]

    api.clock.advance(hours=1)
    asked = api.post("b1", f"/claims/{claim_id}/mediation-request", json={"reason": "It is not worn."})
    assert (asked.status_code, asked.headers["ETag"]) == (200, '"3"')
    assert asked.json()["status"] == "under_mediation"
    # The platform's own time limit: a decision within five days.
    assert deadlines(asked.json()) == [("mediator_decision", rfc3339(api.clock() + timedelta(days=5)))]

    api.clock.advance(hours=1)
    assigned = api.post("med1", f"/claims/{claim_id}/assignment", json={})
    assert (assigned.status_code, assigned.headers["ETag"]) == (200, '"4"')
    assert assigned.json()["mediator_id"] == "med1"
    assert assigned.json()["status"] == "under_mediation"

    t4 = api.clock.advance(hours=1)
    decided = api.post(
        "med1",
        f"/claims/{claim_id}/decision",
        json={"outcome": "partial_refund", "amount": "50", "rationale": "Colour differs; item usable."},
        headers={"If-Match": '"4"'},
    )
    assert (decided.status_code, decided.headers["ETag"]) == (200, '"5"')
    claim = decided.json()
    assert (claim["status"], claim["agreed_amount"], claim["refunded_amount"]) == (
        "refund_pending",
        "50.00",
        "0.00",
    )
    assert deadlines(claim) == [("merchant_refund", rfc3339(t4 + timedelta(days=7)))]

    api.clock.advance(hours=1)
    refunded = api.post(
        "m1", f"/claims/{claim_id}/refunds", json={"amount": "50.00", "payment_reference": "PAY-0001"}
    )
    assert (refunded.status_code, refunded.headers["ETag"]) == (200, '"6"')
    claim = refunded.json()
    assert (claim["status"], claim["agreed_amount"], claim["refunded_amount"]) == (
        "refunded",
        "50.00",
        "50.00",
    )
    assert claim["deadlines"] == []

    read = api.get("b1", f"/claims/{claim_id}")
    assert (read.status_code, read.headers["ETag"]) == (200, '"6"')
    assert read.json() == claim

    history = api.get("m1", f"/claims/{claim_id}/history")
    assert history.status_code == 200
    entries = history.json()
    assert [e["version"] for e in entries] == [1, 2, 3, 4, 5, 6]
    assert [e["type"] for e in entries] == [
        "ClaimOpened",
        "MerchantResponded",
        "MediationRequested",
        "MediatorAssigned",
        "Mediated",
        "Refunded",
    ]
    assert [e["actor"] for e in entries] == [
        {"role": "buyer", "id": "b1"},
        {"role": "merchant", "id": "m1"},
        {"role": "buyer", "id": "b1"},
        {"role": "mediator", "id": "med1"},
        {"role": "mediator", "id": "med1"},
        {"role": "merchant", "id": "m1"},
    ]
    assert [e["recorded_at"] for e in entries] == [rfc3339(START + timedelta(hours=h)) for h in range(6)]
    assert entries[0]["data"]["order_amount"] == {"amount": "120.00", "currency": "USD"}
    assert entries[4]["data"]["outcome"] == "partial_refund"
    assert entries[4]["data"]["amount"] == {"amount": "50.00", "currency": "USD"}
    assert entries[5]["data"]["payment_reference"] == "PAY-0001"

    first = api.get("aud1", f"/claims/{claim_id}", params={"as_of_version": 1})
    assert (first.status_code, first.headers["ETag"]) == (200, '"1"')
    assert (first.json()["version"], first.json()["status"]) == (1, "awaiting_merchant")
    assert first.json()["agreed_amount"] is None

    then = api.get("med1", f"/claims/{claim_id}", params={"as_of": rfc3339(START + timedelta(minutes=90))})
    assert (then.status_code, then.headers["ETag"]) == (200, '"2"')
    assert (then.json()["version"], then.json()["status"]) == (2, "merchant_rejected")

    at_the_instant = api.get("med1", f"/claims/{claim_id}", params={"as_of": rfc3339(t1)})
    assert at_the_instant.json()["version"] == 2  # an event recorded at that very instant counts

    in_another_zone = api.get("aud1", f"/claims/{claim_id}", params={"as_of": "2026-11-20T15:30:00+02:00"})
    assert in_another_zone.status_code == 200
    assert (in_another_zone.json()["version"], in_another_zone.json()["status"]) == (5, "refund_pending")


def test_a_refund_only_claim_accepted_by_the_merchant_is_refunded_in_two_payments(api: Api) -> None:
    claim = api.open_claim(
        kind="refund_only", reason="damaged", order_amount="100.00", claimed_amount="30.00"
    )
    accepted = api.act("m1", claim["id"], "merchant-response", {"decision": "accept"})
    assert (accepted["status"], accepted["agreed_amount"]) == ("refund_pending", "30.00")
    assert [d["name"] for d in accepted["deadlines"]] == ["merchant_refund"]

    part = api.act("m1", claim["id"], "refunds", {"amount": "10.00", "payment_reference": "PAY-1"})
    assert (part["status"], part["refunded_amount"]) == ("refund_pending", "10.00")
    rest = api.act("m1", claim["id"], "refunds", {"amount": "20", "payment_reference": "PAY-2"})
    assert (rest["status"], rest["refunded_amount"], rest["version"]) == ("refunded", "30.00", 4)
    assert api.event_types(claim["id"]) == ["ClaimOpened", "MerchantResponded", "Refunded", "Refunded"]


def test_a_return_and_refund_claim_is_refunded_after_the_goods_come_back(api: Api) -> None:
    claim = api.open_claim(kind="return_and_refund", reason="defective", claimed_amount="120.00")
    accepted = api.act(
        "m1", claim["id"], "merchant-response", {"decision": "accept", "message": "Send it back."}
    )
    assert (accepted["status"], accepted["agreed_amount"]) == ("awaiting_return", "120.00")
    assert [d["name"] for d in accepted["deadlines"]] == ["return_shipment"]

    shipped = api.act(
        "b1", claim["id"], "return-shipment", {"carrier": "SF Express", "tracking_number": "SF1234567"}
    )
    assert shipped["status"] == "return_in_transit"
    received = api.act("m1", claim["id"], "return-receipt", {"condition": "as_sent"})
    assert received["status"] == "refund_pending"
    refunded = api.act("m1", claim["id"], "refunds", {"amount": "120.00", "payment_reference": "PAY-9"})
    assert (refunded["status"], refunded["refunded_amount"]) == ("refunded", "120.00")

    history = api.history(claim["id"], who="b1")
    assert [e["type"] for e in history] == [
        "ClaimOpened",
        "MerchantResponded",
        "ReturnShipped",
        "ReturnReceived",
        "Refunded",
    ]
    assert history[2]["actor"] == {"role": "buyer", "id": "b1"}
    assert history[2]["data"]["tracking_number"] == "SF1234567"
    assert history[3]["data"]["condition"] == "as_sent"


def test_an_exchange_decided_in_mediation_is_closed_by_the_assigned_mediator_after_the_return(
    api: Api,
) -> None:
    claim = api.open_claim(kind="exchange", reason="defective")
    claim_id = claim["id"]
    api.act("m1", claim_id, "merchant-response", {"decision": "reject", "message": "Works for us."})
    api.act("b1", claim_id, "mediation-request", {"reason": "It does not switch on."})
    api.act("med1", claim_id, "assignment")
    decided = api.act("med1", claim_id, "decision", {"outcome": "exchange", "rationale": "Defect on video."})
    assert (decided["status"], decided["outcome"], decided["agreed_amount"]) == (
        "awaiting_return",
        "exchange",
        None,
    )
    api.act("b1", claim_id, "return-shipment", {"carrier": "DHL", "tracking_number": "DHL-42"})
    received = api.act("m1", claim_id, "return-receipt", {"condition": "as_sent"})
    assert received["status"] == "fulfilment_pending"
    closed = api.act("med1", claim_id, "closure", {"summary": "Replacement sent."})
    assert (closed["status"], closed["version"]) == ("closed", 8)
    assert api.event_types(claim_id)[-3:] == ["ReturnShipped", "ReturnReceived", "Closed"]


def test_a_repair_handed_to_a_colleague_is_decided_and_closed_by_that_colleague(api: Api) -> None:
    claim = api.open_claim(kind="repair", reason="defective")
    claim_id = claim["id"]
    api.act("m1", claim_id, "merchant-response", {"decision": "reject"})
    asked = api.act(
        "m1", claim_id, "mediation-request", {"reason": "We offered a repair, the buyer refused."}
    )
    assert asked["status"] == "under_mediation"
    handed = api.act("med1", claim_id, "assignment", {"mediator_id": "med2"})
    assert handed["mediator_id"] == "med2"
    decided = api.act("med2", claim_id, "decision", {"outcome": "repair", "rationale": "Repairable fault."})
    assert (decided["status"], decided["outcome"]) == ("awaiting_return", "repair")
    api.act("b1", claim_id, "return-shipment", {"carrier": "UPS", "tracking_number": "1Z999"})
    assert (
        api.act("m1", claim_id, "return-receipt", {"condition": "as_sent"})["status"] == "fulfilment_pending"
    )
    closed = api.act("med2", claim_id, "closure", {"summary": "Repaired and sent back."})
    assert closed["status"] == "closed"

    history = api.history(claim_id)
    assert [(e["type"], e["actor"]["id"]) for e in history] == [
        ("ClaimOpened", "b1"),
        ("MerchantResponded", "m1"),
        ("MediationRequested", "m1"),
        ("MediatorAssigned", "med1"),
        ("Mediated", "med2"),
        ("ReturnShipped", "b1"),
        ("ReturnReceived", "m1"),
        ("Closed", "med2"),
    ]
    assert history[3]["data"]["mediator_id"] == "med2"


def test_an_accepted_offer_becomes_the_agreed_amount_and_is_refunded(api: Api) -> None:
    claim = api.open_claim(claimed_amount="80.00")
    offered = api.act(
        "m1", claim["id"], "merchant-response", {"decision": "offer", "amount": "60", "message": "60?"}
    )
    assert (offered["status"], offered["offer_amount"], offered["agreed_amount"]) == (
        "offer_pending",
        "60.00",
        None,
    )
    assert [d["name"] for d in offered["deadlines"]] == ["offer_answer"]

    answered = api.act("b1", claim["id"], "offer-answer", {"accept": True})
    assert (answered["status"], answered["agreed_amount"]) == ("refund_pending", "60.00")
    api.act("med1", claim["id"], "assignment")  # the assigned mediator may refund too
    refunded = api.act("med1", claim["id"], "refunds", {"amount": "60.00", "payment_reference": "PAY-60"})
    assert (refunded["status"], refunded["refunded_amount"]) == ("refunded", "60.00")

    history = api.history(claim["id"])
    assert history[2]["type"] == "OfferAnswered"
    assert history[2]["data"]["accepted"] is True
    assert history[-1]["actor"] == {"role": "mediator", "id": "med1"}


def test_a_declined_offer_lets_the_buyer_ask_for_mediation(api: Api) -> None:
    claim = api.open_claim()
    api.act("m1", claim["id"], "merchant-response", {"decision": "offer", "amount": "10.00"})
    declined = api.act("b1", claim["id"], "offer-answer", {"accept": False})
    assert (declined["status"], declined["agreed_amount"]) == ("offer_declined", None)
    assert [d["name"] for d in declined["deadlines"]] == ["mediation_request"]
    assert (
        api.act("b1", claim["id"], "mediation-request", {"reason": "Too low."})["status"] == "under_mediation"
    )
    assert api.history(claim["id"])[2]["data"]["accepted"] is False


def test_evidence_requested_by_the_mediator_is_due_until_the_party_adds_it(api: Api) -> None:
    claim = api.open_claim()
    claim_id = claim["id"]
    api.act("m1", claim_id, "merchant-response", {"decision": "reject"})
    api.act("b1", claim_id, "mediation-request", {"reason": "Please look."})
    api.act("med1", claim_id, "assignment")

    due = START + timedelta(days=1)
    asked = api.act(
        "med1",
        claim_id,
        "evidence-request",
        {"from_party": "buyer", "description": "A photo of the label.", "due_at": rfc3339(due)},
    )
    decision = ("mediator_decision", rfc3339(START + timedelta(days=5)))
    assert deadlines(asked) == [("evidence_from_buyer", rfc3339(due)), decision]
    by_default = api.act(
        "med1", claim_id, "evidence-request", {"from_party": "merchant", "description": "Listing."}
    )
    assert deadlines(by_default) == [
        ("evidence_from_buyer", rfc3339(due)),
        ("evidence_from_merchant", rfc3339(START + timedelta(hours=72))),
        decision,
    ]

    photo = {"kind": "photo", "description": "Label photo", "sha256": SHA, "size_bytes": 48213}
    answered = api.act("b1", claim_id, "evidence", photo)
    assert deadlines(answered) == [("evidence_from_merchant", rfc3339(START + timedelta(hours=72))), decision]
    listing = {
        "kind": "document",
        "description": "Listing snapshot",
        "sha256": SHA.lower(),
        "size_bytes": 0,
        "uri": "https://files.example.com/listing.pdf",
    }
    assert deadlines(api.act("m1", claim_id, "evidence", listing)) == [decision]
    api.act(
        "med1",
        claim_id,
        "evidence",
        {"kind": "chat_log", "description": "Chat", "sha256": SHA, "size_bytes": 5},
    )

    history = api.history(claim_id)
    assert [e["type"] for e in history[4:]] == [
        "EvidenceRequested",
        "EvidenceRequested",
        "EvidenceAdded",
        "EvidenceAdded",
        "EvidenceAdded",
    ]
    assert history[4]["data"]["from_party"] == "buyer"
    assert history[4]["data"]["due_at"] == rfc3339(due)
    added = history[6]["data"]
    assert (added["party"], added["kind"], added["sha256"], added["size_bytes"]) == (
        "buyer",
        "photo",
        SHA.lower(),
        48213,
    )
    assert added["uri"] is None
    assert history[7]["data"]["uri"] == "https://files.example.com/listing.pdf"
    assert [e["actor"]["id"] for e in history[6:]] == ["b1", "m1", "med1"]


def test_messages_of_buyer_merchant_and_assigned_mediator_are_recorded_in_order(api: Api) -> None:
    claim = api.open_claim()
    claim_id = claim["id"]
    api.act("b1", claim_id, "messages", {"body": "Hello?"})
    api.act("m1", claim_id, "messages", {"body": "Looking into it."})
    api.act("med1", claim_id, "assignment")
    last = api.act("med1", claim_id, "messages", {"body": "I am on the case."})
    assert (last["version"], last["status"]) == (5, "awaiting_merchant")

    messages = [e for e in api.history(claim_id, who="b1") if e["type"] == "MessagePosted"]
    assert [(m["actor"]["role"], m["actor"]["id"], m["data"]["body"]) for m in messages] == [
        ("buyer", "b1", "Hello?"),
        ("merchant", "m1", "Looking into it."),
        ("mediator", "med1", "I am on the case."),
    ]


def test_a_claim_taken_to_court_records_the_legal_outcome(api: Api) -> None:
    claim = api.open_claim()
    claim_id = claim["id"]
    api.act("m1", claim_id, "merchant-response", {"decision": "reject"})
    escalated = api.act(
        "b1",
        claim_id,
        "legal-escalation",
        {"reason": "Filing with the court.", "case_reference": "(2026) Hu 0105 1234"},
    )
    assert (escalated["status"], escalated["deadlines"]) == ("escalated_to_legal", [])
    concluded = api.act(
        "med2", claim_id, "legal-outcome", {"outcome": "Buyer wins 80.00", "reference": "Judgment 77"}
    )
    assert concluded["status"] == "legal_concluded"

    history = api.history(claim_id)
    assert [e["type"] for e in history[-2:]] == ["EscalatedToLegal", "LegalOutcomeRecorded"]
    assert history[-2]["data"]["case_reference"] == "(2026) Hu 0105 1234"
    assert history[-1]["actor"] == {"role": "mediator", "id": "med2"}
    assert history[-1]["data"]["reference"] == "Judgment 77"


def test_a_merchant_may_escalate_without_a_case_reference(api: Api) -> None:
    claim = api.open_claim()
    escalated = api.act("m1", claim["id"], "legal-escalation", {"reason": "Fraud suspected."})
    assert escalated["status"] == "escalated_to_legal"
    assert api.history(claim["id"])[-1]["data"]["case_reference"] is None


def test_a_withdrawn_claim_takes_no_further_commands(api: Api) -> None:
    claim = api.open_claim()
    withdrawn = api.act("b1", claim["id"], "withdrawal", {"reason": "The parcel turned up."})
    assert (withdrawn["status"], withdrawn["deadlines"]) == ("withdrawn", [])
    assert api.history(claim["id"])[-1]["data"]["reason"] == "The parcel turned up."
    answer = api.post("m1", f"/claims/{claim['id']}/merchant-response", json={"decision": "accept"})
    Api.problem(answer, 409, claim_id=claim["id"])
    assert api.event_types(claim["id"]) == ["ClaimOpened", "Withdrawn"]


def test_a_no_reason_return_is_open_for_seven_days_counted_from_the_day_after_delivery(api: Api) -> None:
    # Delivered on the 13th: the window covers the 14th to the 20th, so it is still open on the 20th.
    on_the_13th = api.open_claim(
        kind="return_and_refund", reason="no_reason_return", delivered_at="2026-11-13T00:30:00Z"
    )
    assert on_the_13th["status"] == "awaiting_merchant"
    late_claim = {
        "order_id": "order-late",
        "merchant_id": "m1",
        "kind": "return_and_refund",
        "reason": "no_reason_return",
        "order_amount": "120.00",
        "claimed_amount": "120.00",
        "currency": "USD",
        "delivered_at": "2026-11-12T23:30:00Z",
        "description": "Changed my mind.",
    }
    api.record_order_of("b1", late_claim)
    late = api.post("b1", "/claims", json=late_claim)
    problem = Api.problem(late, 422)
    assert problem["type"].endswith("/no-reason-return-window-closed")
    assert "2026-11-20T00:00:00" in problem["detail"]
