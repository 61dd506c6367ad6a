"""Every error status of API.md, over HTTP, where API.md says it comes; each one problem+json.

Each test walks a table of requests and reports every one that answers wrongly, not just the first.
A refused command records nothing: the claim's history is the same length afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from uuid import uuid4

from support.http import PRINCIPALS, START, Api, rfc3339

SHA = "a" * 64
Case = tuple[str | None, str, str, dict[str, Any]]
"""Who sends, method, path, and httpx keyword arguments (json=, params=, headers=, content=)."""


def refusals(api: Api, cases: Sequence[Case], status: int, claim_id: str | None) -> list[str]:
    """The cases that did not get ``status`` as a proper problem (naming ``claim_id`` if given)."""
    wrong = []
    for who, method, path, kwargs in cases:
        try:
            Api.problem(api.send(who, method, path, **kwargs), status, claim_id=claim_id)
        except AssertionError as error:
            wrong.append(f"{who} {method} {path} {kwargs}: {error}")
    return wrong


def assert_refused(api: Api, cases: Sequence[Case], status: int, claim_id: str | None) -> None:
    wrong = refusals(api, cases, status, claim_id)
    assert not wrong, "\n".join(wrong)


def under_mediation(api: Api, mediator: str = "med1") -> dict[str, Any]:
    """b1's claim on m1, rejected, under mediation, ``mediator`` assigned."""
    claim = api.open_claim()
    api.act("m1", claim["id"], "merchant-response", {"decision": "reject"})
    api.act("b1", claim["id"], "mediation-request", {"reason": "Please decide."})
    return api.act(mediator, claim["id"], "assignment")


# --- 401 ------------------------------------------------------------------------------------------
def test_requests_without_a_valid_token_get_401_and_record_nothing(api: Api) -> None:
    claim = api.open_claim()
    claim_id = claim["id"]
    real = api.token("m1")
    well_formed_unknown = "dsp_AAAAAAAAAAAA_" + "B" * 43
    tampered = real[:-1] + ("A" if real[-1] != "A" else "B")
    authorizations = [
        None,
        "Bearer",
        "Bearer not-a-token",
        f"Bearer {well_formed_unknown}",
        f"Bearer {tampered}",
        f"Basic {real}",
        real,
    ]
    wrong = []
    for authorization in authorizations:
        headers = {} if authorization is None else {"Authorization": authorization}
        for method, path, body in [
            ("GET", f"/claims/{claim_id}", None),
            ("GET", f"/claims/{claim_id}/history", None),
            ("POST", f"/claims/{claim_id}/merchant-response", {"decision": "accept"}),
            ("POST", "/claims", {"order_id": "o"}),
        ]:
            answer = api.send(None, method, path, headers=headers, json=body)
            try:
                Api.problem(answer, 401)
                assert answer.headers["WWW-Authenticate"].startswith("Bearer")
            except (AssertionError, KeyError) as error:
                wrong.append(f"{authorization!r} {method} {path}: {error!r}")
    assert not wrong, "\n".join(wrong)
    assert api.event_types(claim_id) == ["ClaimOpened"]


def test_authentication_comes_before_validation_and_authorisation(api: Api) -> None:
    claim = api.open_claim()
    cases: list[Case] = [
        (None, "POST", f"/claims/{claim['id']}/merchant-response", {"json": {"decision": "maybe"}}),
        (None, "POST", "/claims", {"json": {"colour": "blue"}}),
        (None, "GET", f"/claims/{claim['id']}", {"params": {"as_of_version": 0}}),
        (None, "POST", f"/claims/{uuid4()}/withdrawal", {"json": {"reason": "r"}}),
    ]
    assert_refused(api, cases, 401, None)


def test_a_revoked_token_gets_401(api: Api) -> None:
    claim = api.open_claim()
    assert api.get("m1", f"/claims/{claim['id']}").status_code == 200
    api.revoke("m1")
    Api.problem(api.get("m1", f"/claims/{claim['id']}"), 401)
    answer = api.post("m1", f"/claims/{claim['id']}/merchant-response", json={"decision": "accept"})
    Api.problem(answer, 401)
    assert api.event_types(claim["id"]) == ["ClaimOpened"]
    assert api.get("b1", f"/claims/{claim['id']}").status_code == 200  # others' tokens still work


def test_an_expired_token_gets_401(api: Api) -> None:
    claim = api.open_claim()
    _, token = api.principals.add(
        PRINCIPALS["aud1"], "aud1", expires_at=START + timedelta(hours=1), now=api.clock()
    )
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get(None, f"/claims/{claim['id']}", headers=bearer).status_code == 200
    api.clock.advance(hours=1)
    Api.problem(api.get(None, f"/claims/{claim['id']}", headers=bearer), 401)


# --- 403 ------------------------------------------------------------------------------------------
def test_a_principal_that_sees_the_claim_but_may_not_act_gets_403_and_records_nothing(api: Api) -> None:
    claim = under_mediation(api)
    claim_id = claim["id"]
    on = f"/claims/{claim_id}"
    cases: list[Case] = [
        ("b1", "POST", f"{on}/merchant-response", {"json": {"decision": "accept"}}),
        ("m1", "POST", f"{on}/offer-answer", {"json": {"accept": True}}),
        ("aud1", "POST", f"{on}/messages", {"json": {"body": "Auditors only read."}}),
        ("med2", "POST", f"{on}/messages", {"json": {"body": "Not my case."}}),
        (
            "aud1",
            "POST",
            f"{on}/evidence",
            {"json": {"kind": "photo", "description": "x", "sha256": SHA, "size_bytes": 1}},
        ),
        ("aud1", "POST", f"{on}/mediation-request", {"json": {"reason": "r"}}),
        ("med1", "POST", f"{on}/mediation-request", {"json": {"reason": "r"}}),
        ("b1", "POST", f"{on}/assignment", {"json": {}}),
        ("m1", "POST", f"{on}/assignment", {"json": {"mediator_id": "med2"}}),
        ("aud1", "POST", f"{on}/assignment", {"json": {}}),
        ("med2", "POST", f"{on}/evidence-request", {"json": {"from_party": "buyer", "description": "d"}}),
        ("b1", "POST", f"{on}/evidence-request", {"json": {"from_party": "merchant", "description": "d"}}),
        ("med2", "POST", f"{on}/decision", {"json": {"outcome": "full_refund", "rationale": "r"}}),
        ("b1", "POST", f"{on}/decision", {"json": {"outcome": "full_refund", "rationale": "r"}}),
        ("m1", "POST", f"{on}/decision", {"json": {"outcome": "claim_rejected", "rationale": "r"}}),
        ("aud1", "POST", f"{on}/decision", {"json": {"outcome": "claim_rejected", "rationale": "r"}}),
        ("m1", "POST", f"{on}/return-shipment", {"json": {"carrier": "c", "tracking_number": "t"}}),
        ("b1", "POST", f"{on}/return-receipt", {"json": {"condition": "as_sent"}}),
        ("b1", "POST", f"{on}/refunds", {"json": {"amount": "1.00", "payment_reference": "P"}}),
        ("med2", "POST", f"{on}/refunds", {"json": {"amount": "1.00", "payment_reference": "P"}}),
        ("aud1", "POST", f"{on}/legal-escalation", {"json": {"reason": "r"}}),
        ("med2", "POST", f"{on}/legal-escalation", {"json": {"reason": "r"}}),
        ("b1", "POST", f"{on}/legal-outcome", {"json": {"outcome": "o", "reference": "r"}}),
        ("aud1", "POST", f"{on}/legal-outcome", {"json": {"outcome": "o", "reference": "r"}}),
        ("m1", "POST", f"{on}/withdrawal", {"json": {"reason": "r"}}),
        ("med1", "POST", f"{on}/withdrawal", {"json": {"reason": "r"}}),
        ("med2", "POST", f"{on}/closure", {"json": {"summary": "s"}}),
        ("b1", "POST", f"{on}/closure", {"json": {"summary": "s"}}),
        ("b1", "GET", on, {"params": {"as_of_version": 1}}),
        ("b1", "GET", on, {"params": {"as_of": rfc3339(START)}}),
        ("m1", "GET", on, {"params": {"as_of_version": 1}}),
    ]
    assert_refused(api, cases, 403, claim_id)
    assert len(api.history(claim_id)) == claim["version"]


def test_only_buyers_may_open_a_claim(api: Api) -> None:
    body = {
        "order_id": "order-1",
        "merchant_id": "m1",
        "kind": "refund_only",
        "reason": "damaged",
        "order_amount": "10.00",
        "claimed_amount": "10.00",
        "currency": "USD",
        "delivered_at": None,
        "description": "Broken.",
    }
    cases: list[Case] = [
        (who, "POST", "/claims", {"json": body}) for who in ("m1", "med1", "aud1", "reg1", "adm1")
    ]
    assert_refused(api, cases, 403, None)


def test_a_party_who_may_never_close_gets_403_even_before_a_mediator_is_assigned(api: Api) -> None:
    claim = api.open_claim()
    cases: list[Case] = [
        ("b1", "POST", f"/claims/{claim['id']}/closure", {"json": {"summary": "s"}}),
        (
            "m1",
            "POST",
            f"/claims/{claim['id']}/evidence-request",
            {"json": {"from_party": "buyer", "description": "d"}},
        ),
    ]
    assert_refused(api, cases, 403, claim["id"])


# --- 404 ------------------------------------------------------------------------------------------
def test_a_claim_is_not_found_by_those_who_may_not_see_it_nor_when_it_does_not_exist(api: Api) -> None:
    claim = api.open_claim()
    message = {"json": {"body": "Hello"}}
    wrong = []
    for claim_id in (claim["id"], str(uuid4()), "not-a-claim-id", "1"):
        on = f"/claims/{claim_id}"
        cases: list[Case] = [
            ("b2", "GET", on, {}),
            ("b2", "GET", f"{on}/history", {}),
            ("b2", "POST", f"{on}/messages", message),
            ("b2", "POST", f"{on}/withdrawal", {"json": {"reason": "r"}}),
            ("m2", "GET", on, {}),
            ("m2", "POST", f"{on}/merchant-response", {"json": {"decision": "accept"}}),
            ("reg1", "GET", on, {}),
            ("reg1", "GET", f"{on}/history", {}),
            ("reg1", "POST", f"{on}/messages", message),
            ("adm1", "GET", on, {}),
            ("b2", "POST", f"{on}/messages", {**message, "headers": {"If-Match": '"7"'}}),
        ]
        if claim_id != claim["id"]:  # those who may see the claim, asking for one that is not there
            cases += [
                ("aud1", "GET", on, {}),
                ("aud1", "GET", f"{on}/history", {}),
                ("med1", "GET", on, {"params": {"as_of_version": 1}}),
                ("b1", "GET", on, {}),
                ("m1", "POST", f"{on}/merchant-response", {"json": {"decision": "accept"}}),
                ("med1", "POST", f"{on}/assignment", {"json": {}}),
            ]
        wrong += refusals(api, cases, 404, claim_id)
    assert not wrong, "\n".join(wrong)
    assert api.event_types(claim["id"]) == ["ClaimOpened"]

    # A stranger cannot tell a hidden claim from a missing one.
    hidden = api.get("b2", f"/claims/{claim['id']}").json()
    missing_id = str(uuid4())
    missing = api.get("b2", f"/claims/{missing_id}").json()
    assert (hidden["type"], hidden["title"]) == (missing["type"], missing["title"])
    assert hidden["detail"].replace(claim["id"], missing_id) == missing["detail"]


def test_a_version_or_time_the_claim_never_had_is_not_found(api: Api) -> None:
    claim = api.open_claim()
    on = f"/claims/{claim['id']}"
    cases: list[Case] = [
        ("aud1", "GET", on, {"params": {"as_of_version": 2}}),
        ("med1", "GET", on, {"params": {"as_of_version": 10**9}}),
        ("aud1", "GET", on, {"params": {"as_of": rfc3339(START - timedelta(seconds=1))}}),
    ]
    assert_refused(api, cases, 404, claim["id"])


# --- 409 ------------------------------------------------------------------------------------------
def test_refunds_beyond_the_order_or_the_agreed_amount_are_refused_with_409(api: Api) -> None:
    claim = api.open_claim(order_amount="100.00", claimed_amount="100.00")
    claim_id = claim["id"]
    api.act("m1", claim_id, "merchant-response", {"decision": "accept"})
    api.act("m1", claim_id, "refunds", {"amount": "40.00", "payment_reference": "PAY-1"})
    refunds = f"/claims/{claim_id}/refunds"

    beyond_order = Api.problem(
        api.post("m1", refunds, json={"amount": "60.01", "payment_reference": "PAY-2"}),
        409,
        claim_id=claim_id,
    )
    assert beyond_order["type"].endswith("/refund-exceeds-order")
    again = Api.problem(
        api.post("m1", refunds, json={"amount": "1.00", "payment_reference": "PAY-1"}), 409, claim_id=claim_id
    )
    assert again["type"].endswith("/duplicate-payment-reference")
    assert api.event_types(claim_id) == ["ClaimOpened", "MerchantResponded", "Refunded"]

    partial = api.open_claim(order_id="order-2", order_amount="100.00", claimed_amount="50.00")
    api.act("m1", partial["id"], "merchant-response", {"decision": "accept"})
    beyond_agreed = Api.problem(
        api.post(
            "m1", f"/claims/{partial['id']}/refunds", json={"amount": "50.01", "payment_reference": "P"}
        ),
        409,
        claim_id=partial["id"],
    )
    assert beyond_agreed["type"].endswith("/refund-exceeds-agreed")


def test_commands_the_claim_rules_refuse_get_409_and_record_nothing(api: Api) -> None:
    claim = api.open_claim()
    claim_id = claim["id"]
    on = f"/claims/{claim_id}"
    api.act("med1", claim_id, "assignment")
    cases: list[Case] = [
        ("b1", "POST", f"{on}/offer-answer", {"json": {"accept": True}}),  # no offer
        ("b1", "POST", f"{on}/mediation-request", {"json": {"reason": "r"}}),  # merchant has not answered
        ("med1", "POST", f"{on}/decision", {"json": {"outcome": "claim_rejected", "rationale": "r"}}),
        ("b1", "POST", f"{on}/return-shipment", {"json": {"carrier": "c", "tracking_number": "t"}}),
        ("m1", "POST", f"{on}/return-receipt", {"json": {"condition": "as_sent"}}),
        ("m1", "POST", f"{on}/refunds", {"json": {"amount": "1.00", "payment_reference": "P"}}),
        ("med2", "POST", f"{on}/legal-outcome", {"json": {"outcome": "o", "reference": "r"}}),
        ("med1", "POST", f"{on}/assignment", {"json": {}}),  # already assigned
    ]
    assert_refused(api, cases, 409, claim_id)
    api.act("m1", claim_id, "merchant-response", {"decision": "reject"})
    twice = [("m1", "POST", f"{on}/merchant-response", {"json": {"decision": "accept"}})]
    assert_refused(api, twice, 409, claim_id)
    assert api.event_types(claim_id) == ["ClaimOpened", "MediatorAssigned", "MerchantResponded"]


def test_every_command_on_a_withdrawn_or_closed_claim_gets_409(api: Api) -> None:
    withdrawn = api.open_claim()
    api.act("b1", withdrawn["id"], "withdrawal", {"reason": "Found it."})
    closed = under_mediation(api)
    api.act("med1", closed["id"], "closure", {"summary": "Settled by phone."})
    wrong = []
    for claim in (withdrawn, closed):
        on = f"/claims/{claim['id']}"
        cases: list[Case] = [
            ("m1", "POST", f"{on}/merchant-response", {"json": {"decision": "accept"}}),
            ("b1", "POST", f"{on}/messages", {"json": {"body": "Hello?"}}),
            (
                "m1",
                "POST",
                f"{on}/evidence",
                {"json": {"kind": "photo", "description": "d", "sha256": SHA, "size_bytes": 1}},
            ),
            ("m1", "POST", f"{on}/mediation-request", {"json": {"reason": "r"}}),
            ("med2", "POST", f"{on}/assignment", {"json": {}}),
            ("b1", "POST", f"{on}/legal-escalation", {"json": {"reason": "r"}}),
            ("b1", "POST", f"{on}/withdrawal", {"json": {"reason": "again"}}),
        ]
        wrong += refusals(api, cases, 409, claim["id"])
        answer = api.post("b1", f"{on}/withdrawal", json={"reason": "again"})
        assert answer.json()["type"].endswith("/claim-closed")
    assert not wrong, "\n".join(wrong)
    assert api.event_types(withdrawn["id"]) == ["ClaimOpened", "Withdrawn"]
    assert api.event_types(closed["id"])[-1] == "Closed"
    assert len(api.history(closed["id"])) == 5


# --- 412 ------------------------------------------------------------------------------------------
def test_stale_if_match_gets_412_and_records_nothing(api: Api) -> None:
    claim = api.open_claim()
    claim_id = claim["id"]
    etag = api.get("m1", f"/claims/{claim_id}").headers["ETag"]
    assert etag == '"1"'
    answered = api.post(
        "m1", f"/claims/{claim_id}/merchant-response", json={"decision": "reject"}, headers={"If-Match": etag}
    )
    assert (answered.status_code, answered.headers["ETag"]) == (200, '"2"')

    wrong = []
    for stale in ('"1"', '"3"', "1", 'W/"1"'):
        for who, command, body in [
            ("b1", "messages", {"body": "Still there?"}),
            ("b1", "mediation-request", {"reason": "Rejected."}),
            ("b1", "withdrawal", {"reason": "Never mind."}),
        ]:
            answer = api.post(who, f"/claims/{claim_id}/{command}", json=body, headers={"If-Match": stale})
            try:
                problem = Api.problem(answer, 412, claim_id=claim_id)
                assert problem["type"].endswith("/stale-version")
            except AssertionError as error:
                wrong.append(f"If-Match {stale} {command}: {error}")
    assert not wrong, "\n".join(wrong)
    assert len(api.history(claim_id)) == 2

    current = api.act("b1", claim_id, "messages", {"body": "Hello again."}, if_match=2)
    assert current["version"] == 3
    anyway = api.post("b1", f"/claims/{claim_id}/messages", json={"body": "Any."}, headers={"If-Match": "*"})
    assert anyway.status_code == 200
    assert len(api.history(claim_id)) == 4


# --- 422 ------------------------------------------------------------------------------------------
GOOD_CLAIM: dict[str, Any] = {
    "order_id": "order-9",
    "merchant_id": "m1",
    "kind": "return_and_refund",
    "reason": "damaged",
    "order_amount": "100.00",
    "claimed_amount": "100.00",
    "currency": "USD",
    "delivered_at": rfc3339(START - timedelta(days=1)),
    "description": "Arrived crushed.",
}
BAD_CLAIMS: list[dict[str, Any]] = [
    {"colour": "blue"},
    {"buyer_id": "b2"},
    {"order_amount": 100},
    {"claimed_amount": 99.5},
    {"claimed_amount": "0"},
    {"claimed_amount": "0.00"},
    {"claimed_amount": "-1"},
    {"order_amount": "-100.00"},
    {"claimed_amount": "1.005"},
    {"claimed_amount": "NaN"},
    {"claimed_amount": "1e2"},
    {"claimed_amount": ""},
    {"claimed_amount": "10000000000000"},
    {"currency": "JPY", "order_amount": "1000", "claimed_amount": "1.5"},
    {"currency": "XXX"},
    {"currency": "usd"},
    {"currency": "US"},
    {"currency": 840},
    {"kind": "replacement"},
    {"kind": "REFUND_ONLY"},
    {"reason": "changed_mind"},
    {"delivered_at": "2026-11-19T09:00:00"},
    {"delivered_at": "yesterday"},
    {"delivered_at": 1763542800},
    {"delivered_at": "1763542800"},
    {"delivered_at": "2026-11-19"},
    {"merchant_id": "m 1"},
    {"merchant_id": None},
    {"order_id": ""},
    {"description": ""},
    {"description": 7},
]


def test_malformed_claims_get_422_and_open_nothing(api: Api) -> None:
    cases: list[Case] = [
        ("b1", "POST", "/claims", {"json": {**GOOD_CLAIM, **change}}) for change in BAD_CLAIMS
    ]
    missing = {k: v for k, v in GOOD_CLAIM.items() if k != "description"}
    api.record_order_of("b1", GOOD_CLAIM)  # v1.1: delivered_at may be left out (the order's is used)
    cases += [
        ("b1", "POST", "/claims", {"json": missing}),
        ("b1", "POST", "/claims", {"json": [GOOD_CLAIM]}),
        ("b1", "POST", "/claims", {"json": None}),
        (
            "b1",
            "POST",
            "/claims",
            {"content": b'{"order_id": "o",', "headers": {"Content-Type": "application/json"}},
        ),
    ]
    assert_refused(api, cases, 422, None)
    text_body = [("b1", "POST", "/claims", {"content": b"order_id=o", "headers": {"Content-Type": "text/plain"}})]
    assert_refused(api, text_body, 415, None)
    assert api.post("b1", "/claims", json=GOOD_CLAIM).status_code == 201  # the good one is fine


# Who may send each command to a claim of b1 on m1 with med1 assigned (docs/access-control.md).
SENDER = {
    "merchant-response": "m1",
    "offer-answer": "b1",
    "messages": "m1",
    "evidence": "m1",
    "mediation-request": "m1",
    "assignment": "med1",
    "evidence-request": "med1",
    "decision": "med1",
    "return-shipment": "b1",
    "return-receipt": "m1",
    "refunds": "m1",
    "legal-escalation": "m1",
    "legal-outcome": "med1",
    "withdrawal": "b1",
    "closure": "med1",
}


def test_malformed_commands_get_422_and_record_nothing(api: Api) -> None:
    claim = api.open_claim()
    claim_id = claim["id"]
    on = f"/claims/{claim_id}"
    api.act("med1", claim_id, "assignment")
    photo = {"kind": "photo", "description": "d", "sha256": SHA, "size_bytes": 5}
    bodies: list[tuple[str, dict[str, Any]]] = [
        ("merchant-response", {"decision": "maybe"}),
        ("merchant-response", {"decision": "accept", "note": "extra"}),
        ("merchant-response", {"decision": "offer", "amount": 60}),
        ("merchant-response", {"decision": "offer", "amount": "60.005"}),
        ("merchant-response", {"decision": "offer", "amount": "0"}),
        ("merchant-response", {"decision": "offer", "amount": "-1"}),
        ("merchant-response", {"decision": "offer"}),
        ("merchant-response", {"decision": "reject", "amount": "10.00"}),
        ("merchant-response", {}),
        ("offer-answer", {"accept": "true"}),
        ("offer-answer", {"accept": 1}),
        ("offer-answer", {"accept": None}),
        ("messages", {"body": ""}),
        ("messages", {"body": ["hi"]}),
        ("evidence", {**photo, "size_bytes": "5"}),
        ("evidence", {**photo, "size_bytes": 5.0}),
        ("evidence", {**photo, "size_bytes": -1}),
        ("evidence", {**photo, "kind": "selfie"}),
        ("evidence", {**photo, "sha256": "abc"}),
        ("evidence", {**photo, "uri": "ftp://files.example.com/x"}),
        ("mediation-request", {"reason": "r", "urgent": True}),
        ("assignment", {"mediator_id": "med 2"}),
        ("evidence-request", {"from_party": "mediator", "description": "d"}),
        ("evidence-request", {"from_party": "buyer", "description": "d", "due_at": "2026-11-25T09:00:00"}),
        ("decision", {"outcome": "split", "rationale": "r"}),
        ("decision", {"outcome": "partial_refund", "amount": 50, "rationale": "r"}),
        ("return-shipment", {"carrier": "c"}),
        ("return-receipt", {"condition": "lost"}),
        ("refunds", {"amount": "-1", "payment_reference": "P"}),
        ("refunds", {"amount": 50, "payment_reference": "P"}),
        ("refunds", {"amount": "50.00", "payment_reference": ""}),
        ("legal-escalation", {"reason": "r", "case_reference": 12}),
        ("legal-outcome", {"outcome": "o"}),
        ("withdrawal", {"reason": None}),
        ("closure", {"summary": "s", "reopen": False}),
    ]
    cases: list[Case] = [
        (SENDER[command], "POST", f"{on}/{command}", {"json": body}) for command, body in bodies
    ]
    cases += [
        (
            "m1",
            "POST",
            f"{on}/merchant-response",
            {"content": b'{"decision": ', "headers": {"Content-Type": "application/json"}},
        ),
        ("m1", "POST", f"{on}/merchant-response", {"json": "accept"}),
    ]
    form = {"content": b"decision=accept", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    assert_refused(api, [("m1", "POST", f"{on}/merchant-response", form)], 415, claim_id)
    for bad in ('"abc"', '"1.5"', '"1", "2"', "v1", '"-1"', '""'):
        cases.append(
            (
                "m1",
                "POST",
                f"{on}/merchant-response",
                {"json": {"decision": "accept"}, "headers": {"If-Match": bad}},
            )
        )
    for params in (
        {"as_of_version": 0},
        {"as_of_version": "one"},
        {"as_of": "2026-11-20T09:00:00"},
        {"as_of": "yesterday"},
        {"as_of_version": 1, "as_of": rfc3339(START)},
    ):
        cases.append(("aud1", "GET", on, {"params": params}))
    assert_refused(api, cases, 422, claim_id)
    assert api.event_types(claim_id) == ["ClaimOpened", "MediatorAssigned"]


def test_who_may_not_send_a_command_gets_403_or_404_before_its_body_is_read(api: Api) -> None:
    claim = api.open_claim()
    on = f"/claims/{claim['id']}"
    assert_refused(api, [("m1", "POST", f"{on}/offer-answer", {"json": {"accept": "true"}})], 403, claim["id"])
    assert_refused(api, [("m2", "POST", f"{on}/offer-answer", {"json": {"accept": "true"}})], 404, claim["id"])
    assert api.event_types(claim["id"]) == ["ClaimOpened"]


def test_non_positive_or_over_precise_refunds_get_422_and_record_nothing(api: Api) -> None:
    claim = api.open_claim()
    api.act("m1", claim["id"], "merchant-response", {"decision": "accept"})
    refunds = f"/claims/{claim['id']}/refunds"
    cases: list[Case] = [
        (who, "POST", refunds, {"json": {"amount": amount, "payment_reference": "PAY-1"}})
        for who in ("m1", "med1")
        for amount in ("0", "0.00", "-1", "-0.01", "1.005", "1.0001", 80, 80.0, "80,00", " 80.00", "")
    ]
    api.act("med1", claim["id"], "assignment")
    assert_refused(api, cases, 422, claim["id"])
    assert api.event_types(claim["id"]) == ["ClaimOpened", "MerchantResponded", "MediatorAssigned"]


def test_amounts_must_fit_the_claims_currency_precision(api: Api) -> None:
    yen = api.open_claim(currency="JPY", order_amount="12000", claimed_amount="5000")
    assert (yen["order_amount"], yen["claimed_amount"], yen["refunded_amount"]) == ("12000", "5000", "0")
    dinar = api.open_claim(order_id="order-kwd", currency="KWD", order_amount="10.5", claimed_amount="1.125")
    assert (dinar["order_amount"], dinar["claimed_amount"]) == ("10.500", "1.125")

    on = f"/claims/{yen['id']}"
    cases: list[Case] = [
        ("m1", "POST", f"{on}/merchant-response", {"json": {"decision": "offer", "amount": "1000.5"}}),
        ("m1", "POST", f"{on}/merchant-response", {"json": {"decision": "offer", "amount": "0.1"}}),
    ]
    assert_refused(api, cases, 422, yen["id"])
    offered = api.act("m1", yen["id"], "merchant-response", {"decision": "offer", "amount": "3000.00"})
    assert offered["offer_amount"] == "3000"
    api.act("b1", yen["id"], "offer-answer", {"accept": True})
    sen = [("m1", "POST", f"{on}/refunds", {"json": {"amount": "1.5", "payment_reference": "P"}})]
    assert_refused(api, sen, 422, yen["id"])
    assert (
        api.act("m1", yen["id"], "refunds", {"amount": "3000", "payment_reference": "P"})["status"]
        == "refunded"
    )


def test_an_offer_or_decision_that_breaks_a_value_rule_gets_422(api: Api) -> None:
    claim = under_mediation(api)
    on = f"/claims/{claim['id']}"
    cases: list[Case] = [
        (
            "med1",
            "POST",
            f"{on}/decision",
            {"json": {"outcome": "partial_refund", "amount": "120.01", "rationale": "r"}},
        ),
        ("med1", "POST", f"{on}/decision", {"json": {"outcome": "partial_refund", "rationale": "r"}}),
        (
            "med1",
            "POST",
            f"{on}/decision",
            {"json": {"outcome": "exchange", "amount": "1.00", "rationale": "r"}},
        ),
        (
            "med1",
            "POST",
            f"{on}/decision",
            {"json": {"outcome": "partial_refund", "amount": "0", "rationale": "r"}},
        ),
        (
            "med1",
            "POST",
            f"{on}/decision",
            {"json": {"outcome": "partial_refund", "amount": "50.001", "rationale": "r"}},
        ),
        (
            "med1",
            "POST",
            f"{on}/evidence-request",
            {
                "json": {
                    "from_party": "buyer",
                    "description": "d",
                    "due_at": rfc3339(START - timedelta(hours=1)),
                }
            },
        ),
    ]
    assert_refused(api, cases, 422, claim["id"])
    fresh = api.open_claim(order_id="order-3")
    too_much = [
        (
            "m1",
            "POST",
            f"/claims/{fresh['id']}/merchant-response",
            {"json": {"decision": "offer", "amount": "80.00"}},
        )
    ]
    assert_refused(api, too_much, 422, fresh["id"])
    assert len(api.history(claim["id"])) == claim["version"]
    assert api.event_types(fresh["id"]) == ["ClaimOpened"]


def test_unknown_routes_and_methods_answer_problem_json_too(api: Api) -> None:
    claim = api.open_claim()
    assert_refused(
        api,
        [("b1", "GET", "/no-such-thing", {}), ("b1", "POST", f"/claims/{claim['id']}/refund", {})],
        404,
        None,
    )
    methods: list[Case] = [
        ("b1", "DELETE", f"/claims/{claim['id']}", {}),
        ("b1", "PUT", f"/claims/{claim['id']}", {"json": {}}),
        ("b1", "GET", f"/claims/{claim['id']}/refunds", {}),
    ]
    for who, method, path, kwargs in methods:
        Api.problem(api.send(who, method, path, **kwargs), 405)
    assert api.event_types(claim["id"]) == ["ClaimOpened"]


# --- Idempotency-Key (more in test_idempotency.py) ------------------------------------------------
def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer_and_records_nothing(api: Api) -> None:
    claim = api.open_claim()
    headers = {"Idempotency-Key": "retry-7f3a"}
    first = api.post("b1", f"/claims/{claim['id']}/messages", json={"body": "Once."}, headers=headers)
    retry = api.post("b1", f"/claims/{claim['id']}/messages", json={"body": "Once."}, headers=headers)
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert api.event_types(claim["id"]) == ["ClaimOpened", "MessagePosted"]
