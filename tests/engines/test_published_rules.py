"""GET /policy publishes what the engine does: for each deadline of the published rules, a claim left
waiting fires nothing a minute before the published window ends, and at its end the engine records the
published rule and the published outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from disputes.application.rules import published
from disputes.domain import errors
from disputes.domain.policy import AutoOutcome, DeadlineRule, Policy
from disputes.engines.deadlines import DeadlineEngine
from projections.runner import ProjectionRunner
from support.views import Claims, ManualClock, buyer, mediator, merchant

Setup = Callable[[Claims], str]


def _offered(claims: Claims) -> str:
    claim_id = claims.open()
    claims.app.respond(merchant(), claim_id, decision="offer", amount="30.00", message="Half?")
    return claim_id


def _rejected(claims: Claims) -> str:
    claim_id = claims.open()
    claims.app.respond(merchant(), claim_id, decision="reject", amount=None, message="No.")
    return claim_id


def _return_agreed(claims: Claims) -> str:
    claim_id = claims.open(kind="return_and_refund")
    claims.app.respond(merchant(), claim_id, decision="accept", amount=None, message="Send it back.")
    return claim_id


def _return_received(claims: Claims) -> str:
    claim_id = _return_agreed(claims)
    claims.app.ship_return(buyer(), claim_id, carrier="DHL", tracking_number="T1")
    claims.app.receive_return(merchant(), claim_id, condition="as_sent")
    return claim_id


def _mediated(claims: Claims) -> str:
    claim_id = claims.open()
    claims.rejected_then_mediated(claim_id)
    return claim_id


def _evidence_asked(claims: Claims) -> str:
    claim_id = _mediated(claims)
    claims.app.request_evidence(mediator(), claim_id, from_party="buyer", description="Photos.", due_at=None)
    return claim_id


def _appealed(claims: Claims) -> str:
    claim_id = _mediated(claims)
    claims.decide(claim_id, "full_refund")
    claims.app.lodge_appeal(merchant(), claim_id, reason="The vase left us intact.")
    return claim_id


SETUPS: dict[str, Setup] = {
    "merchant_response": lambda claims: claims.open(),
    "offer_answer": _offered,
    "mediation_request": _rejected,
    "return_shipment": _return_agreed,
    "merchant_refund": _return_received,
    "evidence_request": _evidence_asked,
    "mediator_decision": _mediated,
    "appeal_decision": _appealed,
}
EFFECTS = {
    "accept_claim": ("AcceptedByDefault", "refund_pending"),
    "lapse_offer": ("OfferLapsed", "offer_declined"),
    "close_claim": ("ClosedByDefault", "closed"),
    "mediate_with_flag": ("MediationForced", "under_mediation"),
    "flag_for_mediator": ("Flagged", None),
    "record_only": (None, None),
}
"""What the engine records for each published outcome, and the status it leaves (None: unchanged)."""


def _automatic(claims: Claims, claim_id: str) -> list[tuple[str, Any]]:
    return [
        (r.as_dict()["type"], r.as_dict()["data"].get("rule"))
        for r in claims.app.history(mediator(), claim_id)
        if r.as_dict()["actor"]["role"] == "system"
    ]


def test_every_published_deadline_has_a_case_here() -> None:
    assert {item["id"] for item in published(Policy())["deadlines"]} == set(SETUPS)


@pytest.mark.parametrize("deadline", list(SETUPS))
def test_the_published_window_rule_and_outcome_are_what_the_engine_does(
    deadline: str, claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: DeadlineEngine
) -> None:
    [rule] = [item for item in published(claims.app.policy)["deadlines"] if item["id"] == deadline]
    claim_id = SETUPS[deadline](claims)
    before = claims.app.load_claim(claim_id)
    status_before = before.status
    # The window runs from the request for evidence, else from entering the status that waits.
    opened = clock() if deadline == "evidence_request" else before.status_since
    window = timedelta(seconds=rule["window_seconds"])

    clock.advance(seconds=(opened + window - clock()).total_seconds() - 60)
    runner.run_until_caught_up()
    assert [f.claim_id for f in engine.tick().fired] == [], "fired before the published window ended"
    clock.advance(seconds=60)
    runner.run_until_caught_up()
    assert [f.claim_id for f in engine.tick().fired] == [claim_id], "did not fire when the published window ended"

    event, status = EFFECTS[rule["outcome"]]
    recorded = _automatic(claims, claim_id)
    assert recorded == [("DeadlineMissed", rule["rule"])] + ([(event, rule["rule"])] if event else [])
    claim = claims.app.load_claim(claim_id)
    assert claim.status == (status or status_before)
    if rule["outcome"] == "accept_claim":  # "a refund-only claim is refunded at the amount claimed"
        assert claim.agreed_amount == claim.claimed_amount
    if rule["outcome"] in ("flag_for_mediator", "mediate_with_flag"):  # "first in the queue"
        assert claim.flag == rule["rule"]


def test_another_policy_publishes_its_own_window_and_outcome_and_the_engine_follows_it(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: DeadlineEngine
) -> None:
    policy = replace(
        claims.app.policy,
        windows=replace(claims.app.policy.windows, merchant_response=timedelta(hours=24), version="2027-01"),
        rules=(DeadlineRule("merchant-silent-mediates", "merchant_response", AutoOutcome.MEDIATE_WITH_FLAG),),
    )
    claims.app.policy, claims.app.windows = policy, policy.windows
    [rule] = [item for item in published(policy)["deadlines"] if item["id"] == "merchant_response"]
    assert (rule["window"], rule["rule"], rule["outcome"]) == ("PT24H", "merchant-silent-mediates", "mediate_with_flag")
    assert rule["text"]["en"].startswith("The merchant has 24 hours to answer")
    assert rule["when_missed"]["zh-CN"] == "期限届满：平台介入并优先调解此案。"

    claim_id = claims.open()
    clock.advance(hours=24)
    runner.run_until_caught_up()
    assert [f.claim_id for f in engine.tick().fired] == [claim_id]
    assert _automatic(claims, claim_id)[-1] == ("MediationForced", "merchant-silent-mediates")


def test_the_published_no_reason_return_window_and_not_received_condition_are_what_opening_enforces(
    claims: Claims, clock: ManualClock
) -> None:
    eligibility = {item["id"]: item for item in published(claims.app.policy)["eligibility"]}
    days = eligibility["no_reason_return"]["days"]
    assert f"{days} days" in eligibility["no_reason_return"]["text"]["en"]
    no_reason = {"kind": "return_and_refund", "reason": "no_reason_return"}

    assert claims.open(**no_reason, delivered_at=clock() - timedelta(days=days))  # the last day
    with pytest.raises(errors.NoReasonReturnWindowClosed):
        claims.open(**no_reason, delivered_at=clock() - timedelta(days=days + 1))
    assert "not_received" in eligibility
    with pytest.raises(errors.NotReceivedButDelivered):
        claims.open(reason="not_received", delivered_at=clock() - timedelta(days=1))
