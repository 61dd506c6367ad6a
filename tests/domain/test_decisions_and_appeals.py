"""Decisions that hold: finished refunds, final decisions, appeals, court-ordered refunds, and deadlines
fixed under the policy in force when they open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_claim import (
    BUYER,
    MEDIATOR,
    MERCHANT,
    OTHER_MEDIATOR,
    SYSTEM,
    WINDOWS,
    assert_refused,
    assign,
    at,
    decide,
    last_event,
    open_claim,
    receive,
    refund,
    replay,
    request_mediation,
    respond,
    ship,
    state,
)

from disputes.domain import errors
from disputes.domain.claim import Claim
from disputes.domain.policy import AutoOutcome, DeadlineRule, Policy, Windows
from disputes.domain.vocabulary import AppealOutcome, ClaimKind, ClaimStatus, Outcome

S = ClaimStatus


def mediated(kind: ClaimKind = ClaimKind.REFUND_ONLY) -> Claim:
    claim = open_claim(kind=kind)
    respond(claim, "reject")
    request_mediation(claim)
    assign(claim)
    return claim


@pytest.fixture
def decided_claim() -> Claim:
    """Decided for the buyer, a partial refund of 50.00 pending, at hour 4."""
    claim = mediated()
    decide(claim, "partial_refund", "50.00")
    return claim


def appeal(claim: Claim, who=MERCHANT, when=None) -> None:  # type: ignore[no-untyped-def]
    claim.lodge_appeal(actor=who, reason="The photos show a different vase.", at=when or at(5))


def decide_appeal(claim: Claim, outcome: str, new_outcome=None, amount=None, who=OTHER_MEDIATOR):  # type: ignore[no-untyped-def]
    claim.decide_appeal(
        actor=who,
        outcome=AppealOutcome(outcome),
        rationale="Looked at it again.",
        new_outcome=None if new_outcome is None else Outcome(new_outcome),
        amount=amount,
        at=at(6),
    )


# --- finished claims and final decisions -----------------------------------------------------------


def test_a_refunded_claim_is_finished_for_the_buyer_and_cannot_be_withdrawn() -> None:
    claim = open_claim()
    respond(claim, "accept")
    refund(claim, "80.00")
    assert claim.status == S.REFUNDED

    assert_refused(claim, errors.ClaimRefunded, lambda: claim.withdraw(actor=BUYER, reason="again", at=at(9)))


def test_a_decided_claim_cannot_be_brought_back_to_mediation_by_a_party(decided_claim: Claim) -> None:
    for party in (BUYER, MERCHANT):
        assert_refused(decided_claim, errors.DecisionFinal, lambda p=party: request_mediation(decided_claim, actor=p, when=at(5)))  # type: ignore[misc]


def test_an_exchange_the_merchant_does_not_fulfil_may_go_back_to_mediation() -> None:
    claim = mediated(ClaimKind.EXCHANGE)
    decide(claim, "exchange")
    ship(claim, when=at(5))
    receive(claim, when=at(6))
    assert claim.status == S.FULFILMENT_PENDING

    request_mediation(claim, when=at(7))

    assert claim.status == S.UNDER_MEDIATION


def test_a_partial_refund_decision_may_not_exceed_the_claimed_amount() -> None:
    claim = mediated()
    assert_refused(claim, errors.DecisionExceedsClaim, lambda: decide(claim, "partial_refund", "80.01"))


def test_once_part_of_a_claim_is_refunded_a_rejection_exchange_or_repair_is_refused() -> None:
    claim = open_claim()
    respond(claim, "offer", "30.00")
    claim.answer_offer(actor=BUYER, accept=True, at=at(2))
    refund(claim, "10.00", when=at(3))
    claim.request_mediation(actor=BUYER, reason="The rest never came.", at=at(4))
    assign(claim, when=at(5))

    for outcome in ("claim_rejected", "exchange", "repair"):
        assert_refused(claim, errors.DecisionBelowRefunded, lambda o=outcome: decide(claim, o, when=at(6)))  # type: ignore[misc]
    decide(claim, "partial_refund", "10.00", when=at(6))
    assert (claim.status, claim.refunded_amount.amount) == (S.REFUNDED, 10)


def test_a_court_ordered_refund_is_recorded_after_the_legal_outcome() -> None:
    claim = open_claim()
    claim.escalate_to_legal(actor=BUYER, reason="Court.", case_reference="C-1", at=at(1))
    claim.record_legal_outcome(actor=MEDIATOR, outcome="Refund 60.00 ordered", reference="J-1", at=at(2))

    claim.refund(actor=MERCHANT, amount="60.00", payment_reference="court-1", at=at(3))

    assert (claim.status, claim.refunded_amount.amount) == (S.LEGAL_CONCLUDED, 60)
    assert last_event(claim).court_ordered is True


# --- appeals --------------------------------------------------------------------------------------


def test_the_merchant_appeals_within_the_window_and_another_mediator_overturns(decided_claim: Claim) -> None:
    appeal(decided_claim)
    assert decided_claim.status == S.UNDER_APPEAL
    assert decided_claim.appeal is not None and decided_claim.appeal["by"] == MERCHANT.as_dict()
    assert [d.name for d in decided_claim.deadlines(WINDOWS)] == ["appeal_decision"]

    decide_appeal(decided_claim, "overturned", "claim_rejected")

    assert (decided_claim.status, decided_claim.outcome) == (S.CLAIM_REJECTED, "claim_rejected")
    assert decided_claim.appeal["outcome"] == "overturned"
    assert decided_claim.appeal["decided_by"] == OTHER_MEDIATOR.id
    assert state(replay(decided_claim.collect_events())) == state(decided_claim)


def test_an_upheld_decision_goes_on_where_it_stood(decided_claim: Claim) -> None:
    appeal(decided_claim, who=BUYER)
    decide_appeal(decided_claim, "upheld")

    assert (decided_claim.status, decided_claim.outcome) == (S.REFUND_PENDING, "partial_refund")
    assert decided_claim.agreed_amount is not None and decided_claim.agreed_amount.amount == 50
    # The refund deadline opens again from the appeal's decision.
    assert [(d.name, d.due_at) for d in decided_claim.deadlines(WINDOWS)] == [
        ("merchant_refund", at(6) + WINDOWS.merchant_refund)
    ]


def test_a_late_appeal_is_refused(decided_claim: Claim) -> None:
    late = at(4) + WINDOWS.appeal + timedelta(seconds=1)
    assert_refused(decided_claim, errors.AppealWindowClosed, lambda: appeal(decided_claim, when=late))


def test_a_claim_is_appealed_once(decided_claim: Claim) -> None:
    appeal(decided_claim)
    decide_appeal(decided_claim, "upheld")
    assert_refused(decided_claim, errors.AppealAlreadyLodged, lambda: appeal(decided_claim, who=BUYER, when=at(7)))


def test_the_mediator_who_decided_may_not_decide_the_appeal(decided_claim: Claim) -> None:
    appeal(decided_claim)
    assert_refused(decided_claim, errors.SameMediator, lambda: decide_appeal(decided_claim, "upheld", who=MEDIATOR))


def test_an_undecided_claim_has_nothing_to_appeal() -> None:
    claim = open_claim()
    assert_refused(claim, errors.AppealNotAllowed, lambda: appeal(claim))


def test_an_overturn_is_checked_as_a_decision_is(decided_claim: Claim) -> None:
    appeal(decided_claim)
    assert_refused(
        decided_claim,
        errors.DecisionExceedsClaim,
        lambda: decide_appeal(decided_claim, "overturned", "partial_refund", "99.00"),
    )


# --- deadlines fixed when they open ---------------------------------------------------------------


@pytest.mark.parametrize("later", [timedelta(hours=72), timedelta(hours=24)], ids=["72h", "24h"])
def test_a_policy_change_never_moves_an_open_deadline(later: timedelta) -> None:
    claim = open_claim()  # under 48 h
    after = Policy(windows=Windows(merchant_response=later, version="2026-12"))

    assert [(d.due_at, d.rule, d.policy_version) for d in claim.deadlines(after.windows)] == [
        (at(48), "merchant-silent-accepts", "2026-11")
    ]
    if later < timedelta(hours=48):  # due under the new policy, not under the one it opened under
        assert_refused(
            claim,
            errors.InvalidTransition,
            lambda: claim.apply_missed_deadline(actor=SYSTEM, deadline="merchant_response", policy=after, at=at(30)),
        )
    claim.apply_missed_deadline(actor=SYSTEM, deadline="merchant_response", policy=after, at=at(48))
    assert claim.status == S.REFUND_PENDING


def test_a_passed_deadline_applies_the_rule_recorded_when_it_opened() -> None:
    claim = open_claim()
    rules = tuple(r for r in Policy().rules if r.deadline != "merchant_response")
    stricter = Policy(
        windows=Windows(version="2026-12"),
        rules=(*rules, DeadlineRule("merchant-silent-mediates", "merchant_response", AutoOutcome.MEDIATE_WITH_FLAG)),
    )

    rule = claim.apply_missed_deadline(actor=SYSTEM, deadline="merchant_response", policy=stricter, at=at(48))

    assert (rule.name, rule.outcome) == ("merchant-silent-accepts", AutoOutcome.ACCEPT_CLAIM)
    assert claim.status == S.REFUND_PENDING
    # The deadline it opens is set under the policy in force now.
    assert [d.policy_version for d in claim.deadlines(stricter.windows)] == ["2026-12"]
