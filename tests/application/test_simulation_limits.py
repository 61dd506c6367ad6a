"""What-if for the claim-rate limit: which buyers a candidate policy would have refused, and which claims,
against hand-computed cases (the limit: 2 claims within a day)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from disputes.application.simulation import LimitedBuyer, limited_buyers
from disputes.domain.policy import Limits, Policy

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
TWO_A_DAY = replace(Policy(), limits=Limits(buyer_claims=2, buyer_claims_window=timedelta(days=1)))


def test_the_claims_past_the_limit_are_refused_and_a_refused_claim_counts_for_nothing_after() -> None:
    openings = [
        ("b1", "c1", T0),
        ("b1", "c2", T0 + H),
        ("b1", "c3", T0 + 2 * H),  # third within a day: refused
        ("b1", "c4", T0 + 3 * H),  # refused
        ("b1", "c5", T0 + 24 * H + 30 * timedelta(minutes=1)),  # c1 has left the window; c3, c4 never counted
        ("b2", "c6", T0),
        ("b2", "c7", T0 + 30 * H),
    ]
    assert limited_buyers(openings, TWO_A_DAY, T0) == [LimitedBuyer("b1", ("c3", "c4"), T0 + 2 * H)]


def test_claims_opened_before_the_period_count_towards_the_limit_but_are_never_reported() -> None:
    openings = [
        ("b3", "c1", T0 - 2 * H),
        ("b3", "c2", T0 - H),
        ("b3", "c3", T0 - H + timedelta(minutes=1)),  # refused, but before the period
        ("b3", "c4", T0 + H),  # refused: c1 and c2 are within a day of it
    ]
    assert limited_buyers(openings, TWO_A_DAY, T0) == [LimitedBuyer("b3", ("c4",), T0 + H)]


def test_under_the_built_in_limit_two_claims_on_two_bad_orders_limit_no_one() -> None:
    openings = [("b1", "c1", T0), ("b1", "c2", T0 + H)]
    assert limited_buyers(openings, Policy(), T0) == []
