"""The standing engine: when a merchant's scorecard crosses a tier, its standing records it once, as the
platform, naming the rule and the policy version; appeals on the same store; two engines on PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from disputes.application.claims import DisputesApplication
from disputes.application.standing import MerchantStandings
from disputes.bootstrap import Container, build_runner, start_standing_engine
from disputes.domain import errors
from disputes.domain.parties import Actor, Role
from disputes.domain.standing import AppealOutcome, standing_id_for
from disputes.engines.standing import REVIEW_POSITION_PREFIX, StandingEngine, StandingTick
from disputes.settings import Settings
from projections.runner import ProjectionRunner, reset
from projections.scorecard import ScorecardProjection
from projections.store import ViewStore
from support import CLAIMANT_FACTS, migrated_container, policy_file, run_together
from support.views import Claims, ManualClock, mediator, merchant

AUDITOR = Actor(Role.AUDITOR, "aud1")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """These cases judge small records: a policy whose standing may move from the first decided claim
    (the minimum sample has its own tests: test_standing_sample.py)."""
    policy = policy_file(tmp_path, standing_min_decided=1)
    return Settings(database_url=database_url, env="test", order_facts=CLAIMANT_FACTS, policy_file=policy)


@pytest.fixture
def engine(container: Container) -> Iterator[StandingEngine]:
    built = StandingEngine(container.app, ViewStore(container.settings.database))
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def standings(app: DisputesApplication) -> MerchantStandings:
    return MerchantStandings(app)


def lost(claims: Claims, merchant_id: str = "m1", count: int = 1) -> list[str]:
    """Claims decided for the buyer after the merchant rejected them: losses and interventions."""
    ids = []
    for _ in range(count):
        claim_id = claims.open(merchant_id=merchant_id)
        claims.rejected_then_mediated(claim_id, merchant_id=merchant_id)
        claims.decide(claim_id, "full_refund", "80.00")
        ids.append(claim_id)
    return ids


def settled(claims: Claims, merchant_id: str = "m1", count: int = 1) -> None:
    """Claims the merchant accepted at once: they count, and cost nothing."""
    for _ in range(count):
        claim_id = claims.open(merchant_id=merchant_id)
        claims.app.respond(merchant(merchant_id), claim_id, decision="accept", amount=None, message="Sorry.")


def review(runner: ProjectionRunner, engine: StandingEngine) -> list[tuple[str, str, str, str]]:
    """Catch the views up and run a round: (merchant, event, from, to) of each standing change."""
    runner.run_until_caught_up()
    return [(r.merchant_id, r.event, r.from_tier, r.to_tier) for r in engine.tick().recorded]


def history(standings: MerchantStandings, merchant_id: str = "m1") -> list[dict[str, Any]]:
    return [r.as_dict() for r in standings.history(AUDITOR, merchant_id)]


def test_a_merchant_losing_its_claims_is_restricted_once_by_the_platform_naming_rule_and_figures(
    claims: Claims, runner: ProjectionRunner, engine: StandingEngine, standings: MerchantStandings
) -> None:
    ids = lost(claims, count=3)
    head = claims.app.recorder.max_notification_id()
    assert review(runner, engine) == [("m1", "Restricted", "good", "restricted")]
    assert review(runner, engine) == []

    records = history(standings)
    assert [r["type"] for r in records] == ["StandingOpened", "Restricted"]
    restricted = records[-1]
    assert restricted["actor"] == {"role": "system", "id": "standing-engine"}
    assert restricted["claim_id"] == str(standing_id_for("m1"))
    data = restricted["data"]
    assert (data["rule"], data["policy_version"]) == ("scorecard-restricted-restricts", "2026-11")
    assert (data["figures"]["score"], data["figures"]["losses"], data["figures"]["loss_rate"]) == (40, 3, "1.0000")
    assert data["figures"]["as_of_position"] == head
    assert data["claim_ids"] == ids


def test_the_standing_follows_the_figures_from_warned_to_restricted_to_reinstated(
    claims: Claims, runner: ProjectionRunner, engine: StandingEngine, standings: MerchantStandings
) -> None:
    settled(claims, count=2)
    assert review(runner, engine) == []  # good: nothing recorded, no standing opened
    assert standings.get(AUDITOR, "m1") is None

    lost(claims, count=2)  # 2 of 4 lost: 70
    assert review(runner, engine) == [("m1", "Warned", "good", "watch")]
    lost(claims, count=4)  # 6 of 8 lost: 48
    assert review(runner, engine) == [("m1", "Restricted", "watch", "restricted")]
    settled(claims, count=12)  # 6 of 20: 82
    assert review(runner, engine) == [("m1", "Reinstated", "restricted", "good")]
    assert [r["data"].get("rule") for r in history(standings)] == [
        None, "scorecard-watch-warns", "scorecard-restricted-restricts", "scorecard-recovered-reinstates"
    ]


def test_a_fresh_engine_beside_a_scorecard_view_being_rebuilt_records_nothing_from_the_past(
    claims: Claims, runner: ProjectionRunner, engine: StandingEngine, container: Container
) -> None:
    lost(claims, count=3)
    settled(claims, count=1)  # 3 of 4 lost: 55
    assert review(runner, engine) == [("m1", "Restricted", "good", "restricted")]
    settled(claims, count=4)  # 3 of 8 lost: 78
    assert review(runner, engine) == [("m1", "Reinstated", "restricted", "watch")]

    reset(ViewStore(container.settings.database), [ScorecardProjection()])
    partial = build_runner(container, ["scorecard"], batch_size=15, catchup_batch_size=15)
    try:
        partial.step()  # the three lost claims only: restricted, as the merchant was then
    finally:
        partial.close()
    # An engine of a new policy version has reviewed no merchant yet: it reads the view from the start.
    newer = Settings(
        database_url=container.settings.database_url,
        env="test",
        policy_version="2026-12",
        policy_file=container.settings.policy_file,
    )
    with migrated_container(newer, ManualClock()) as later:
        fresh = StandingEngine(later.app, ViewStore(container.settings.database))
        try:
            tick = fresh.tick()
            assert (tick.reviewed, tick.recorded) == (1, [])
        finally:
            fresh.close()
    assert review(runner, engine) == []


def test_only_merchants_whose_figures_moved_are_reviewed(
    claims: Claims, runner: ProjectionRunner, engine: StandingEngine
) -> None:
    lost(claims, "m1", 2)
    lost(claims, "m2", 2)
    runner.run_until_caught_up()
    assert engine.tick().reviewed == 2
    lost(claims, "m2", 1)
    runner.run_until_caught_up()
    assert engine.tick().reviewed == 1


def test_a_busy_merchant_is_reviewed_once_per_review_interval_and_what_moved_meanwhile_next_round(
    claims: Claims, runner: ProjectionRunner, container: Container
) -> None:
    engine = StandingEngine(container.app, ViewStore(container.settings.database), review_every=0.5)
    try:
        lost(claims, "m1", 2)
        runner.run_until_caught_up()
        assert engine.tick().reviewed == 1
        lost(claims, "m1", 1)
        runner.run_until_caught_up()
        assert engine.tick().reviewed == 0  # within the interval: the round waits
        time.sleep(0.6)
        assert engine.tick().reviewed == 1  # and then reviews what moved meanwhile
    finally:
        engine.close()


def test_a_restarted_engine_reviews_only_what_moved_since_and_a_new_policy_version_reviews_everyone(
    claims: Claims, runner: ProjectionRunner, container: Container
) -> None:
    def restarted(settings: Settings) -> StandingTick:
        with migrated_container(settings, ManualClock()) as started:
            built = StandingEngine(started.app, ViewStore(settings.database))
            try:
                return built.tick()
            finally:
                built.close()

    lost(claims, "m1", 3)
    lost(claims, "m2", 1)
    settled(claims, "m2", 3)
    runner.run_until_caught_up()
    first = restarted(container.settings)
    assert (first.reviewed, [r.merchant_id for r in first.recorded]) == (2, ["m1"])
    assert restarted(container.settings).reviewed == 0  # nothing moved since the kept position

    settled(claims, "m2", 1)
    runner.run_until_caught_up()
    assert restarted(container.settings).reviewed == 1  # m2 only

    # A stricter policy version: every merchant is reviewed again, and m2 (1 of 5 lost: score 88, good
    # under the default 80, watch under 95) is warned; m1 stays restricted.
    stricter = Settings(
        database_url=container.settings.database_url,
        env="test",
        policy_version="2026-12",
        scorecard_good_min=95,
        policy_file=container.settings.policy_file,
    )
    again = restarted(stricter)
    assert again.reviewed == 2
    assert [(r.merchant_id, r.event, r.rule) for r in again.recorded] == [
        ("m2", "Warned", "scorecard-watch-warns")
    ]


def test_a_restricted_merchant_appeals_and_an_overturn_holds_until_the_figures_cross_again(
    claims: Claims,
    clock: ManualClock,
    runner: ProjectionRunner,
    engine: StandingEngine,
    standings: MerchantStandings,
) -> None:
    lost(claims, count=3)
    review(runner, engine)
    clock.advance(hours=1)
    appealed = standings.lodge_appeal(merchant("m1"), "m1", reason="The carrier broke them.")
    assert appealed.position is not None and appealed.standing.appeal is not None
    clock.advance(hours=1)
    decided = standings.decide_appeal(
        mediator(), "m1", outcome=AppealOutcome.OVERTURNED, rationale="Carrier damage, not the merchant's."
    )
    assert (decided.standing.tier, decided.standing.since) == ("good", clock())

    lost(claims, count=1)  # still restricted by the figures: the overturn holds
    assert review(runner, engine) == []
    settled(claims, count=30)
    assert review(runner, engine) == [("m1", "Reinstated", "good", "good")]
    lost(claims, count=30)  # 34 of 64 lost: a new fall counts again
    assert review(runner, engine) == [("m1", "Warned", "good", "watch")]
    assert [r["type"] for r in history(standings)] == [
        "StandingOpened", "Restricted", "AppealLodged", "AppealDecided", "Reinstated", "Warned"
    ]


def test_appeals_are_refused_by_name_and_nothing_is_recorded(
    claims: Claims, runner: ProjectionRunner, engine: StandingEngine, standings: MerchantStandings
) -> None:
    with pytest.raises(errors.NothingToAppeal):
        standings.lodge_appeal(merchant("m1"), "m1", reason="Just because.")
    with pytest.raises(errors.NoOpenAppeal):
        standings.decide_appeal(mediator(), "m1", outcome=AppealOutcome.UPHELD, rationale="None open.")
    lost(claims, count=3)
    review(runner, engine)
    with pytest.raises(errors.StandingNotFound):
        standings.lodge_appeal(merchant("m2"), "m1", reason="Not mine.")
    with pytest.raises(errors.StandingNotFound):
        standings.get(Actor(Role.BUYER, "b1"), "m1")
    standings.lodge_appeal(merchant("m1"), "m1", reason="Unfair.")
    with pytest.raises(errors.AppealAlreadyOpen):
        standings.lodge_appeal(merchant("m1"), "m1", reason="Unfair!")
    with pytest.raises(errors.NotMediator):
        standings.decide_appeal(AUDITOR, "m1", outcome=AppealOutcome.UPHELD, rationale="Auditors do not decide.")
    assert [r["type"] for r in history(standings)] == ["StandingOpened", "Restricted", "AppealLodged"]


def test_a_standing_id_is_no_claim(
    claims: Claims, runner: ProjectionRunner, engine: StandingEngine, app: DisputesApplication
) -> None:
    lost(claims, count=3)
    review(runner, engine)
    with pytest.raises(errors.ClaimNotFound):
        app.get_claim(AUDITOR, str(standing_id_for("m1")))


def test_every_view_ignores_standing_events_and_the_seal_covers_them(
    claims: Claims, runner: ProjectionRunner, engine: StandingEngine, container: Container
) -> None:
    lost(claims, count=3)
    review(runner, engine)
    head = int(container.app.recorder.max_notification_id() or 0)
    runner.run_until_caught_up()
    rows = runner.conn.query("SELECT position, claim_id FROM audit_seal ORDER BY position DESC LIMIT 1")
    assert (rows[0][0], rows[0][1]) == (head, str(standing_id_for("m1")))
    positions = dict(runner.conn.query("SELECT name, position FROM projection_positions"))
    reviewed = positions.pop(REVIEW_POSITION_PREFIX + "2026-11")  # the views' position at the review
    assert {int(p) for p in positions.values()} == {head}
    assert reviewed < head  # the standing's own events came after it


@pytest.mark.postgres
def test_two_engines_on_one_postgresql_record_each_crossing_once(postgres_url: str, tmp_path: Path) -> None:
    clock = ManualClock()
    settings = Settings(
        database_url=postgres_url, env="test", policy_file=policy_file(tmp_path, standing_min_decided=1)
    )
    with migrated_container(settings, clock) as container, migrated_container(settings, clock) as other:
        claims = Claims(container.app, clock)
        for n in range(4):
            lost(claims, f"m{n}", 3)
        runner = build_runner(container, ["scorecard"])
        runner.run_until_caught_up()
        runner.close()
        engines = [StandingEngine(c.app, ViewStore(settings.database)) for c in (container, other)]
        results: list[list[str]] = [[], []]

        def work(n: int) -> Callable[[], None]:
            return lambda: results.__setitem__(n, [r.merchant_id for r in engines[n].tick().recorded])

        run_together(work(0), work(1))
        for e in engines:
            e.close()
        assert sorted(results[0] + results[1]) == ["m0", "m1", "m2", "m3"]
        standings = MerchantStandings(container.app)
        for n in range(4):
            assert [r["type"] for r in history(standings, f"m{n}")] == ["StandingOpened", "Restricted"]


def test_the_engine_runs_in_a_thread_of_the_server_unless_the_engines_are_switched_off(
    container: Container,
) -> None:
    handle = start_standing_engine(container)
    try:
        assert handle.running and isinstance(handle.engine, StandingEngine)
    finally:
        handle.stop()
    assert not handle.running
    container.settings = container.settings.model_copy(update={"deadlines_in_process": False})
    off = start_standing_engine(container)
    assert not off.running
    off.stop()
