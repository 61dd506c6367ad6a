"""The minimum sample: a merchant's standing moves only once its scorecard has the policy's number of
decided claims within the policy's window (``[limits] standing_min_decided = 5``, ``standing_window =
"90d"``, rule ``standing-minimum-sample``), so a small merchant is not restricted by one bad day."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from disputes.application.claims import DisputesApplication
from disputes.application.standing import MerchantStandings
from disputes.bootstrap import Container
from disputes.domain.parties import Actor, Role
from disputes.engines.standing import StandingEngine
from projections.runner import ProjectionRunner
from projections.scorecard import Sample, Thresholds, merchant_scorecard
from projections.store import ViewConnection, ViewStore
from support.views import Claims, ManualClock, buyer, merchant

AUDITOR = Actor(Role.AUDITOR, "aud1")


@pytest.fixture
def engine(container: Container) -> Iterator[StandingEngine]:
    built = StandingEngine(container.app, ViewStore(container.settings.database))
    try:
        yield built
    finally:
        built.close()


def lose(claims: Claims, count: int, merchant_id: str = "m1") -> list[str]:
    ids = []
    for n in range(count):
        claim_id = claims.open(who=f"b{n}", merchant_id=merchant_id)
        claims.rejected_then_mediated(claim_id, merchant_id=merchant_id, who=f"b{n}")
        claims.decide(claim_id, "full_refund", "80.00")
        ids.append(claim_id)
    return ids


def review(runner: ProjectionRunner, engine: StandingEngine) -> list[tuple[str, str]]:
    runner.run_until_caught_up()
    return [(r.merchant_id, r.event) for r in engine.tick().recorded]


def test_a_merchants_first_lost_claim_restricts_nothing_and_the_fifth_decided_claim_does(
    claims: Claims, runner: ProjectionRunner, engine: StandingEngine, app: DisputesApplication
) -> None:
    lose(claims, 1)
    assert review(runner, engine) == []  # score 40, tier restricted by the figures, but one claim is no record
    assert MerchantStandings(app).get(AUDITOR, "m1") is None
    lose(claims, 3)
    assert review(runner, engine) == []  # four decided: still short of five
    lose(claims, 1)
    assert review(runner, engine) == [("m1", "Restricted")]
    standing = MerchantStandings(app).get(AUDITOR, "m1")
    assert standing is not None and standing.figures is not None
    assert (standing.figures["decided_in_window"], standing.figures["score"]) == (5, 40)


def test_open_claims_are_no_sample_and_decisions_older_than_the_window_stop_counting(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    lose(claims, 5)
    for n in range(3):
        claims.open(who=f"b{n + 10}")  # awaiting the merchant: undecided
    runner.run_until_caught_up()
    sample = Sample(5, claims.app.policy.limits.standing_window, "standing-minimum-sample")

    def card() -> dict[str, object]:
        return merchant_scorecard(
            views, "m1", None, thresholds=Thresholds(), response_window=claims.app.windows.merchant_response,
            sample=sample, now=clock(),
        )

    now = card()
    assert (now["decided_claims"], now["claims_received"]) == (5, 8)
    assert now["standing_sample"] == {
        "decided_in_window": 5,
        "minimum": 5,
        "window_from": clock() - sample.window,
        "enough": True,
        "rule": "standing-minimum-sample",
    }
    clock.advance(days=91)
    later = card()["standing_sample"]
    assert isinstance(later, dict) and (later["decided_in_window"], later["enough"]) == (0, False)


def test_a_withdrawn_claim_is_no_decided_claim(
    claims: Claims, runner: ProjectionRunner, views: ViewConnection
) -> None:
    claim_id = claims.open()
    claims.app.withdraw(buyer(), claim_id, reason="Found it.")
    accepted = claims.open(who="b2")
    claims.app.respond(merchant(), accepted, decision="accept", amount=None, message="Sorry.")
    runner.run_until_caught_up()
    card = merchant_scorecard(
        views, "m1", None, thresholds=Thresholds(), response_window=claims.app.windows.merchant_response
    )
    assert (card["claims_received"], card["decided_claims"]) == (2, 1)
