"""The MerchantStanding aggregate: crossings of the scorecard's tiers, appeals, and their refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from disputes.domain import errors
from disputes.domain.parties import Actor, Role
from disputes.domain.standing import (
    STANDING_ENGINE,
    AppealOutcome,
    MerchantStanding,
    StandingFigures,
    Tier,
    crossing,
    standing_id_for,
)

AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
MERCHANT = Actor(Role.MERCHANT, "m1")
MEDIATOR = Actor(Role.MEDIATOR, "med1")


def figures(tier: Tier, score: int = 50, position: int = 10) -> StandingFigures:
    return StandingFigures(
        tier=tier,
        score=score,
        claims_received=4,
        losses=3,
        loss_rate="0.75",
        platform_interventions=4,
        intervention_rate="1",
        deadlines_met=1,
        deadlines_missed=0,
        as_of_position=position,
        claim_ids=("c1", "c2"),
    )


def reviewed(standing: MerchantStanding, tier: Tier, minutes: int = 1, position: int | None = None) -> str | None:
    found = standing.review(
        figures=figures(tier, position=10 + minutes if position is None else position),
        actor=STANDING_ENGINE,
        policy_version="2026-11",
        at=AT + timedelta(minutes=minutes),
    )
    return None if found is None else found.event


def types(standing: MerchantStanding) -> list[str]:
    return [type(e).__name__ for e in standing.collect_events()]


@pytest.fixture
def standing() -> MerchantStanding:
    return MerchantStanding.open(merchant_id="m1", actor=STANDING_ENGINE, at=AT)


@pytest.fixture
def restricted(standing: MerchantStanding) -> MerchantStanding:
    reviewed(standing, Tier.RESTRICTED)
    return standing


def test_a_standing_id_follows_from_the_merchant_id(standing: MerchantStanding) -> None:
    assert standing.id == standing_id_for("m1") != standing_id_for("m2")


def test_figures_falling_to_watch_warn_a_merchant_in_good_standing(standing: MerchantStanding) -> None:
    assert reviewed(standing, Tier.WATCH) == "Warned"
    assert (standing.tier, standing.last_change and standing.last_change["rule"]) == ("watch", "scorecard-watch-warns")


def test_figures_falling_to_restricted_restrict_from_good_or_from_watch(standing: MerchantStanding) -> None:
    assert reviewed(standing, Tier.WATCH) == "Warned"
    assert reviewed(standing, Tier.RESTRICTED, 2) == "Restricted"
    assert standing.last_change is not None and standing.last_change["from_tier"] == "watch"


def test_figures_that_stay_in_their_tier_record_nothing(restricted: MerchantStanding) -> None:
    assert reviewed(restricted, Tier.RESTRICTED, 2) is None
    assert types(restricted) == ["StandingOpened", "Restricted"]


def test_a_restricted_merchant_whose_figures_reach_watch_is_reinstated_to_watch(
    restricted: MerchantStanding,
) -> None:
    assert reviewed(restricted, Tier.WATCH, 2) == "Reinstated"
    assert restricted.tier == "watch"
    assert reviewed(restricted, Tier.GOOD, 3) == "Reinstated"
    assert restricted.tier == "good"


def test_a_crossing_records_the_figures_the_policy_version_and_the_rule(restricted: MerchantStanding) -> None:
    event = restricted.collect_events()[-1]
    data: dict[str, Any] = vars(event)
    assert data["figures"]["score"] == 50 and data["figures"]["loss_rate"] == "0.75"
    assert (data["claim_ids"], data["policy_version"], data["rule"]) == (["c1", "c2"], "2026-11", "scorecard-restricted-restricts")
    assert (data["actor"], data["timestamp"]) == (STANDING_ENGINE, AT + timedelta(minutes=1))


def test_only_the_platform_changes_a_standing_by_figures(standing: MerchantStanding) -> None:
    with pytest.raises(errors.NotPermitted):
        standing.review(figures=figures(Tier.WATCH), actor=MEDIATOR, policy_version="v", at=AT)


def test_the_merchant_appeals_and_a_mediator_overturning_restores_the_tier_before(
    standing: MerchantStanding,
) -> None:
    reviewed(standing, Tier.WATCH)
    reviewed(standing, Tier.RESTRICTED, 2)
    standing.lodge_appeal(actor=MERCHANT, reason="The losses were carrier damage.", at=AT + timedelta(hours=1))
    assert standing.appeal is not None and standing.appeal["against"] == "Restricted"
    standing.decide_appeal(
        actor=MEDIATOR, outcome=AppealOutcome.OVERTURNED, rationale="Carrier fault.", at=AT + timedelta(hours=2)
    )
    assert (standing.tier, standing.since, standing.appeal) == ("watch", AT + timedelta(hours=2), None)


def test_an_overturned_restriction_holds_while_the_figures_stay_restricted(restricted: MerchantStanding) -> None:
    restricted.lodge_appeal(actor=MERCHANT, reason="Unfair.", at=AT)
    restricted.decide_appeal(actor=MEDIATOR, outcome=AppealOutcome.OVERTURNED, rationale="Agreed.", at=AT)
    assert reviewed(restricted, Tier.RESTRICTED, 5) is None
    assert restricted.tier == "good"
    # Once the figures cross again the standing follows them: back to good, then a new fall counts.
    assert reviewed(restricted, Tier.GOOD, 6) == "Reinstated"
    assert reviewed(restricted, Tier.RESTRICTED, 7) == "Restricted"


def test_an_upheld_appeal_changes_nothing_and_may_not_be_repeated(restricted: MerchantStanding) -> None:
    restricted.lodge_appeal(actor=MERCHANT, reason="Unfair.", at=AT)
    restricted.decide_appeal(actor=MEDIATOR, outcome=AppealOutcome.UPHELD, rationale="The figures stand.", at=AT)
    assert restricted.tier == "restricted"
    with pytest.raises(errors.AppealAlreadyDecided):
        restricted.lodge_appeal(actor=MERCHANT, reason="Again.", at=AT)


def test_a_merchant_in_good_standing_has_nothing_to_appeal(standing: MerchantStanding) -> None:
    with pytest.raises(errors.NothingToAppeal):
        standing.lodge_appeal(actor=MERCHANT, reason="Why not.", at=AT)


def test_a_reinstatement_to_watch_is_not_appealable(restricted: MerchantStanding) -> None:
    reviewed(restricted, Tier.WATCH, 2)
    with pytest.raises(errors.NothingToAppeal):
        restricted.lodge_appeal(actor=MERCHANT, reason="Still unfair.", at=AT)


def test_one_appeal_at_a_time(restricted: MerchantStanding) -> None:
    restricted.lodge_appeal(actor=MERCHANT, reason="Unfair.", at=AT)
    with pytest.raises(errors.AppealAlreadyOpen):
        restricted.lodge_appeal(actor=MERCHANT, reason="Unfair, really.", at=AT)


def test_only_that_merchant_may_appeal(restricted: MerchantStanding) -> None:
    for stranger in (Actor(Role.MERCHANT, "m2"), MEDIATOR, Actor(Role.BUYER, "m1")):
        with pytest.raises(errors.NotStandingMerchant):
            restricted.lodge_appeal(actor=stranger, reason="Unfair.", at=AT)


def test_only_a_mediator_decides_an_appeal_and_only_an_open_one(restricted: MerchantStanding) -> None:
    with pytest.raises(errors.NoOpenAppeal):
        restricted.decide_appeal(actor=MEDIATOR, outcome=AppealOutcome.UPHELD, rationale="No.", at=AT)
    restricted.lodge_appeal(actor=MERCHANT, reason="Unfair.", at=AT)
    for who in (MERCHANT, Actor(Role.AUDITOR, "a1")):
        with pytest.raises(errors.NotMediator):
            restricted.decide_appeal(actor=who, outcome=AppealOutcome.OVERTURNED, rationale="Mine.", at=AT)


def test_an_appeal_needs_a_reason_and_a_decision_a_rationale(restricted: MerchantStanding) -> None:
    with pytest.raises(errors.InvalidValue):
        restricted.lodge_appeal(actor=MERCHANT, reason="  ", at=AT)
    restricted.lodge_appeal(actor=MERCHANT, reason="Unfair.", at=AT)
    with pytest.raises(errors.InvalidValue):
        restricted.decide_appeal(actor=MEDIATOR, outcome=AppealOutcome.UPHELD, rationale="", at=AT)


def test_a_new_crossing_lets_an_open_appeal_lapse(restricted: MerchantStanding) -> None:
    restricted.lodge_appeal(actor=MERCHANT, reason="Unfair.", at=AT)
    assert reviewed(restricted, Tier.GOOD, 5) == "Reinstated"
    assert restricted.appeal is None
    assert vars(restricted.collect_events()[-1])["lapsed_appeal"] is True


@pytest.mark.parametrize(
    ("standing_tier", "before", "now", "expected"),
    [
        (Tier.GOOD, Tier.GOOD, Tier.WATCH, ("Warned", Tier.GOOD, Tier.WATCH)),
        (Tier.WATCH, Tier.WATCH, Tier.RESTRICTED, ("Restricted", Tier.WATCH, Tier.RESTRICTED)),
        (Tier.RESTRICTED, Tier.RESTRICTED, Tier.WATCH, ("Reinstated", Tier.RESTRICTED, Tier.WATCH)),
        (Tier.GOOD, Tier.RESTRICTED, Tier.WATCH, ("Warned", Tier.GOOD, Tier.WATCH)),  # after an overturn
        (Tier.GOOD, Tier.RESTRICTED, Tier.GOOD, ("Reinstated", Tier.GOOD, Tier.GOOD)),  # the overturn lapses
        (Tier.WATCH, Tier.WATCH, Tier.WATCH, None),
    ],
)
def test_which_event_a_change_of_tier_calls_for(
    standing_tier: Tier, before: Tier, now: Tier, expected: tuple[str, Tier, Tier] | None
) -> None:
    found = crossing(standing_tier, before, now)
    assert (None if found is None else (found.event, found.from_tier, found.to_tier)) == expected


def test_figures_older_than_those_last_recorded_are_ignored(restricted: MerchantStanding) -> None:
    # A scorecard view rebuilt from the start shows the merchant as it was: no crossing is recorded.
    assert reviewed(restricted, Tier.GOOD, 2, position=3) is None
    assert restricted.tier == "restricted"
    assert reviewed(restricted, Tier.GOOD, 3, position=40) == "Reinstated"
