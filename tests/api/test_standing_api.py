"""A merchant's standing over HTTP: claims lost to buyers restrict the merchant (the platform records
it, naming the rule), the merchant appeals, a mediator overturns; who may read and act, as problems."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from disputes.bootstrap import Container, build_runner
from disputes.engines.standing import StandingEngine
from projections.store import ViewStore
from support.http import Api


@pytest.fixture
def engine(container: Container) -> Iterator[StandingEngine]:
    """The standing engine as ``disputes deadlines`` runs it: it catches the views up before each round."""
    runner = build_runner(container)
    built = StandingEngine(
        container.app, ViewStore(container.settings.database), before_tick=runner.run_until_caught_up
    )
    try:
        yield built
    finally:
        built.close()
        runner.close()


def lose_claim(api: Api, order_id: str) -> str:
    """A claim m1 rejects and a mediator decides for the buyer."""
    claim_id = str(api.open_claim(order_id=order_id)["id"])
    api.act("m1", claim_id, "merchant-response", {"decision": "reject", "message": "Not our fault."})
    api.act("b1", claim_id, "mediation-request", {"reason": "Please look."})
    api.act("med1", claim_id, "assignment")
    api.act("med1", claim_id, "decision", {"outcome": "full_refund", "rationale": "Photos show it."})
    return claim_id


def standing(api: Api, who: str = "m1", merchant_id: str = "m1") -> dict[str, Any]:
    answer = api.get(who, f"/merchants/{merchant_id}/standing")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def history(api: Api, who: str = "aud1") -> list[dict[str, Any]]:
    answer = api.get(who, "/merchants/m1/standing/history")
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()
    return entries


def test_a_merchant_losing_claims_is_restricted_appeals_and_a_mediator_overturns(
    api: Api, engine: StandingEngine
) -> None:
    assert standing(api)["tier"] == "good" and standing(api)["version"] == 0
    lost = [lose_claim(api, f"order-{n}") for n in range(5)]  # the policy's minimum sample: 5 decided
    assert [r.event for r in engine.tick().recorded] == ["Restricted"]

    restricted = standing(api)
    assert (restricted["tier"], restricted["figures"]["score"], restricted["claim_ids"]) == ("restricted", 40, lost)
    assert restricted["last_change"]["rule"] == "scorecard-restricted-restricts"
    assert restricted["appealable"] is True and restricted["appeal"] is None
    assert standing(api, "reg1") == standing(api, "med1") == restricted

    key = {"Idempotency-Key": "appeal-1"}
    body = {"reason": "The carrier broke the parcels."}
    appealed = api.post("m1", "/merchants/m1/standing/appeals", json=body, headers=key)
    assert appealed.status_code == 200, appealed.text
    assert appealed.json()["appeal"]["against"] == "Restricted"
    assert appealed.headers["ETag"] == f'"{appealed.json()["version"]}"'
    again = api.post("m1", "/merchants/m1/standing/appeals", json=body, headers=key)
    assert (again.status_code, again.json()) == (200, appealed.json())
    api.problem(api.post("m1", "/merchants/m1/standing/appeals", json=body), 409)

    decision = {"outcome": "overturned", "rationale": "Carrier damage is not the merchant's doing."}
    api.problem(api.post("m1", "/merchants/m1/standing/appeals/decision", json=decision), 403)
    decided = api.post("med1", "/merchants/m1/standing/appeals/decision", json=decision)
    assert decided.status_code == 200, decided.text
    assert (decided.json()["tier"], decided.json()["appeal"], decided.json()["appealable"]) == ("good", None, False)
    # The overturn is the latest change, and the figures say the same tier as the standing.
    overturned = standing(api)
    assert overturned["last_change"] == {
        "type": "AppealDecided",
        "version": decided.json()["version"],
        "from_tier": "restricted",
        "to_tier": "good",
        "rule": "standing-appeal-overturned",
        "policy_version": "2026-11",
        "outcome": "overturned",
        "overturned": "Restricted",
        "overturned_version": restricted["last_change"]["version"],
    }
    assert (overturned["figures"]["tier"], overturned["figures"]["scorecard_tier"]) == ("good", "restricted")
    assert overturned["figures"]["score"] == 40 and overturned["claim_ids"] == lost

    entries = history(api)
    assert [e["type"] for e in entries] == ["StandingOpened", "Restricted", "AppealLodged", "AppealDecided"]
    assert entries[1]["actor"] == {"role": "system", "id": "standing-engine"}
    assert (entries[1]["data"]["rule"], entries[1]["data"]["policy_version"]) == (
        "scorecard-restricted-restricts",
        "2026-11",
    )
    assert entries[2]["actor"] == {"role": "merchant", "id": "m1"}
    assert entries[3]["actor"] == {"role": "mediator", "id": "med1"}
    assert entries[3]["data"]["restored_tier"] == "good"
    assert engine.tick().recorded == []  # the overturn holds while the figures stay restricted
    problem = api.problem(api.post("m1", "/merchants/m1/standing/appeals", json=body), 409)
    assert problem["type"] == "/problems/appeal-already-decided"


def test_only_that_merchant_mediators_auditors_and_regulators_read_a_standing(api: Api) -> None:
    assert standing(api, "aud1")["merchant_id"] == "m1"
    assert api.problem(api.get("m2", "/merchants/m1/standing"), 404)["type"] == "/problems/not-found"
    api.problem(api.get("m2", "/merchants/m1/standing/history"), 404)
    api.problem(api.get("b1", "/merchants/m1/standing"), 403)
    api.problem(api.get(None, "/merchants/m1/standing"), 401)
    api.problem(api.get("aud1", "/merchants/bad id/standing"), 422)


def test_appeals_are_refused_as_problems_when_there_is_nothing_to_appeal(api: Api) -> None:
    body = {"reason": "Why?"}
    assert api.problem(api.post("m1", "/merchants/m1/standing/appeals", json=body), 409)["type"] == (
        "/problems/nothing-to-appeal"
    )
    api.problem(api.post("m2", "/merchants/m1/standing/appeals", json=body), 404)
    api.problem(api.post("med1", "/merchants/m1/standing/appeals", json=body), 403)
    api.problem(api.post("m1", "/merchants/m1/standing/appeals", json={"reason": ""}), 422)
    decision = {"outcome": "upheld", "rationale": "Nothing open."}
    assert api.problem(api.post("med1", "/merchants/m1/standing/appeals/decision", json=decision), 409)["type"] == (
        "/problems/no-open-appeal"
    )
    api.problem(api.post("med1", "/merchants/m1/standing/appeals/decision", json={"outcome": "maybe"}), 422)
    assert history(api) == []
