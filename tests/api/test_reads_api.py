"""The read routes over HTTP: read-your-writes, who may read what, and malformed queries."""

from __future__ import annotations

from typing import Any

import pytest

from support import reads as reads_support
from support.http import Api

reads_api = reads_support.reads_api
lagging_api = reads_support.lagging_api


def position(answer: Any) -> int:
    return int(answer.headers["X-Disputes-Position"])


def read(api: Api, who: str, path: str, **params: Any) -> Any:
    answer = api.get(who, path, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert "X-Disputes-Position" in answer.headers
    return answer.json()


def test_a_buyer_reads_their_own_new_claim_at_once_with_min_position(reads_api: Api) -> None:
    reads_api.record_order_of("b1", _claim_body())
    opened = reads_api.post("b1", "/claims", json=_claim_body())
    assert opened.status_code == 201
    claim_id, at = opened.json()["id"], position(opened)

    page = read(reads_api, "b1", "/claims", min_position=at)

    assert [item["id"] for item in page["items"]] == [claim_id]
    assert page["next_cursor"] is None
    item = page["items"][0]
    assert (item["status"], item["claimed_amount"], item["currency"]) == ("awaiting_merchant", "80.00", "USD")
    assert item["deadlines"] == [
        {
            "name": "merchant_response",
            "due_at": "2026-11-22T09:00:00Z",
            "rule": "merchant-silent-accepts",
            "policy_version": "2026-11",
            "rule_url": "/policy#merchant_response",
        }
    ]
    timeline = read(reads_api, "b1", f"/claims/{claim_id}/timeline", min_position=at)
    assert timeline["entries"][0]["type"] == "ClaimOpened"
    assert timeline["next"] == [
        {
            "who": "merchant",
            "text": "Merchant m1 accepts, rejects or offers a partial refund.",
            "due_at": "2026-11-22T09:00:00Z",
            "due": "22 Nov 2026, 09:00 UTC",
            "if_missed": "If nothing is done by 22 Nov 2026, 09:00 UTC: the claim is accepted as claimed: "
            "a refund-only claim is refunded at the amount claimed, other claims wait for the return.",
            "rule_url": "/policy#merchant_response",
        }
    ]


def test_a_read_whose_views_lag_behind_min_position_answers_503_with_retry_after(lagging_api: Api) -> None:
    lagging_api.record_order_of("b1", _claim_body())
    opened = lagging_api.post("b1", "/claims", json=_claim_body())

    answer = lagging_api.get("b1", "/claims", params={"min_position": position(opened)})

    body = lagging_api.problem(answer, 503)
    assert body["type"] == "/problems/views-behind"
    assert answer.headers["Retry-After"] == "1"
    # Without min_position the (empty) view answers at once, and says where it stands.
    plain = lagging_api.get("b1", "/claims")
    assert (plain.status_code, plain.json()["items"], position(plain)) == (200, [], 0)


def test_each_role_reads_only_what_it_may(reads_api: Api) -> None:
    claim = reads_api.open_claim("b1")
    at = 0
    for n in range(4):
        body = _claim_body(merchant_id="m2", order_id=f"o-{n}")
        reads_api.record_order_of("b2", body)
        at = position(reads_api.post("b2", "/claims", json=body))
    claim_id = claim["id"]

    assert len(read(reads_api, "b1", "/claims", min_position=at)["items"]) == 1
    assert len(read(reads_api, "m2", "/claims", min_position=at)["items"]) == 4
    assert len(read(reads_api, "aud1", "/claims", min_position=at)["items"]) == 5
    for who in ("reg1", "adm1"):
        reads_api.problem(reads_api.get(who, "/claims"), 403)
    reads_api.problem(reads_api.get(None, "/claims"), 401)

    reads_api.problem(reads_api.get("b2", f"/claims/{claim_id}/timeline"), 404)
    reads_api.problem(reads_api.get("reg1", f"/claims/{claim_id}/timeline"), 404)
    assert read(reads_api, "m1", f"/claims/{claim_id}/timeline", min_position=at)["claim_id"] == claim_id

    for who in ("b1", "m1", "aud1", "reg1", "adm1"):
        reads_api.problem(reads_api.get(who, "/queue"), 403)
    assert read(reads_api, "med1", "/queue", min_position=at)["items"] == []

    assert read(reads_api, "m1", "/merchants/m1/scorecard", min_position=at)["claims_received"] == 1
    reads_api.problem(reads_api.get("m2", "/merchants/m1/scorecard"), 404)
    for who in ("b1", "adm1"):
        reads_api.problem(reads_api.get(who, "/merchants/m1/scorecard"), 403)
    for who in ("med1", "aud1", "reg1"):
        assert read(reads_api, who, "/merchants/m2/scorecard", min_position=at)["claims_received"] == 4

    period = {"from": "2026-11-01", "to": "2026-11-30"}
    for who in ("aud1", "reg1"):
        assert read(reads_api, who, "/reports/audit", min_position=at, **period)["claims_opened"] == 5
    for who in ("b1", "m1", "med1", "adm1"):
        reads_api.problem(reads_api.get(who, "/reports/audit", params=period), 403)


@pytest.mark.parametrize(
    ("who", "path", "params"),
    [
        ("aud1", "/claims", {"status": "lost"}),
        ("aud1", "/claims", {"limit": "0"}),
        ("aud1", "/claims", {"limit": "201"}),
        ("aud1", "/claims", {"cursor": "not-a-cursor"}),
        ("aud1", "/claims", {"min_position": "-1"}),
        ("aud1", "/claims", {"buyer_id": "no spaces"}),
        ("med1", "/queue", {"due_before": "tomorrow"}),
        ("med1", "/queue", {"assigned_to": "--"}),
        ("med1", "/queue", {"cursor": "WzEsMl0"}),
        ("aud1", "/merchants/m1/scorecard", {"as_of": "2026-13-01"}),
        ("aud1", "/reports/audit", {"from": "2026-11-01"}),
        ("aud1", "/reports/audit", {"from": "2026-11-30", "to": "2026-11-01"}),
        ("aud1", "/reports/audit", {"from": "2026-11-01T00:00:00", "to": "2026-11-02"}),
    ],
)
def test_malformed_queries_are_refused_with_422(reads_api: Api, who: str, path: str, params: dict[str, str]) -> None:
    reads_api.problem(reads_api.get(who, path, params=params), 422)


def _claim_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": "order-1",
        "merchant_id": "m1",
        "kind": "refund_only",
        "reason": "not_as_described",
        "order_amount": "120.00",
        "claimed_amount": "80.00",
        "currency": "USD",
        "delivered_at": "2026-11-18T09:00:00Z",
        "description": "The jacket is blue, the listing said black.",
    }
    body.update(fields)
    return body
