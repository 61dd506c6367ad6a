"""Signals over HTTP: a mediator sees which cases carry signals and why, with the claims and digests
behind them; the parties concerned never do."""

from __future__ import annotations

from typing import Any

import pytest

from support import reads as reads_support
from support.http import Api

reads_api = reads_support.reads_api
DIGEST = "c" * 64


def position(answer: Any) -> int:
    return int(answer.headers["X-Disputes-Position"])


def disputed(api: Api, who: str, order_id: str, merchant_id: str) -> dict[str, Any]:
    """A claim its merchant rejected and its buyer took to the platform: in the mediators' queue."""
    claim = api.open_claim(who, order_id=order_id, merchant_id=merchant_id)
    api.act(merchant_id, claim["id"], "merchant-response", {"decision": "reject", "message": "Packed well."})
    return api.act(who, claim["id"], "mediation-request", {"reason": "The merchant refuses."})


def attach(api: Api, who: str, claim_id: str, digest: str = DIGEST) -> int:
    body = {"kind": "photo", "description": "The broken vase.", "sha256": digest, "size_bytes": 4096}
    answer = api.post(who, f"/claims/{claim_id}/evidence", json=body)
    assert answer.status_code == 200, answer.text
    return position(answer)


@pytest.fixture
def shared(reads_api: Api) -> dict[str, Any]:
    """b1 and b2 attach one photo to their claims against m1 and m2; b1 has a second, innocent claim."""
    first = disputed(reads_api, "b1", "order-1", "m1")
    second = disputed(reads_api, "b2", "order-2", "m2")
    innocent = disputed(reads_api, "b1", "order-3", "m2")
    attach(reads_api, "b1", first["id"])
    at = attach(reads_api, "b2", second["id"])
    attach(reads_api, "b1", innocent["id"], "d" * 64)
    return {"first": first["id"], "second": second["id"], "innocent": innocent["id"], "at": at}


def test_a_mediator_sees_why_a_case_carries_signals_with_the_claims_and_digests_behind_them(
    reads_api: Api, shared: dict[str, Any]
) -> None:
    answer = reads_api.get("med1", f"/claims/{shared['first']}/signals", params={"min_position": shared["at"]})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Language"] == "en"
    [signal] = answer.json()
    assert (signal["signal"], signal["severity"]) == ("shared_evidence", "high")
    assert (signal["claims"], signal["digests"]) == ([shared["first"], shared["second"]], [DIGEST])
    assert signal["policy_version"] == "2026-11"
    assert "same SHA-256 digest" in signal["explanation"]

    chinese = reads_api.get("aud1", f"/claims/{shared['second']}/signals", headers={"Accept-Language": "zh-CN"})
    assert chinese.headers["Content-Language"] == "zh-CN"
    assert "SHA-256摘要" in chinese.json()[0]["explanation"]
    assert reads_api.get("med1", f"/claims/{shared['innocent']}/signals").json() == []


def test_the_queue_names_each_cases_signals_and_filters_by_one(reads_api: Api, shared: dict[str, Any]) -> None:
    page = reads_api.get("med1", "/queue", params={"min_position": shared["at"]}).json()
    names = {item["claim_id"]: item["signals"] for item in page["items"]}
    assert names == {shared["first"]: ["shared_evidence"], shared["second"]: ["shared_evidence"], shared["innocent"]: []}

    filtered = reads_api.get("med1", "/queue", params={"signal": "shared_evidence", "limit": 1}).json()
    assert [item["claim_id"] for item in filtered["items"]] == [
        item["claim_id"] for item in page["items"] if item["signals"]
    ][:1]
    rest = reads_api.get(
        "med1", "/queue", params={"signal": "shared_evidence", "limit": 1, "cursor": filtered["next_cursor"]}
    ).json()
    assert [item["claim_id"] for item in filtered["items"] + rest["items"]] == [
        item["claim_id"] for item in page["items"] if item["signals"]
    ]
    assert rest["next_cursor"] is None
    assert reads_api.get("med1", "/queue", params={"signal": "serial_refund_only"}).json()["items"] == []
    reads_api.problem(reads_api.get("med1", "/queue", params={"signal": "suspicious"}), 422)


def test_a_buyer_never_sees_a_signal_about_itself_and_a_merchant_never_sees_a_buyers_signals(
    reads_api: Api, shared: dict[str, Any]
) -> None:
    path = f"/claims/{shared['first']}/signals"
    assert reads_api.problem(reads_api.get("b1", path), 403)["type"] == "/problems/not-permitted"
    reads_api.problem(reads_api.get("m1", path), 403)
    reads_api.problem(reads_api.get("b2", path), 404)  # another buyer: the claim is not revealed
    reads_api.problem(reads_api.get("m2", path), 404)
    reads_api.problem(reads_api.get("reg1", path), 404)
    reads_api.problem(reads_api.get("plat1", path), 404)
    # Nothing the parties read carries the signals either.
    for who in ("b1", "m1"):
        for read in (f"/claims/{shared['first']}", f"/claims/{shared['first']}/timeline", "/claims"):
            answer = reads_api.get(who, read, params={"min_position": shared["at"]})
            assert answer.status_code == 200, answer.text
            assert "shared_evidence" not in answer.text and "signals" not in answer.json()
