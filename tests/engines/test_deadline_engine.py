"""The deadline engine: when a party lets a deadline pass, the platform records it and the policy's
outcome, once, and names the rule; a claim that moved on meanwhile fires nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from prometheus_client import REGISTRY

from disputes.application.claims import DisputesApplication
from disputes.bootstrap import Container, build_runner
from disputes.domain.policy import AutoOutcome, DeadlineRule, Policy
from disputes.engines.deadlines import DeadlineEngine
from disputes.settings import Settings
from projections.queue import QueueFilters, work_queue
from projections.runner import ProjectionRunner
from projections.store import ViewConnection, ViewStore
from support import migrated_container, run_together
from support.views import Claims, ManualClock, buyer, mediator, merchant


def history(app: DisputesApplication, claim_id: str) -> list[dict[str, Any]]:
    return [r.as_dict() for r in app.history(mediator(), claim_id)]


def automatic(app: DisputesApplication, claim_id: str) -> list[tuple[str, str | None, str | None]]:
    """(type, rule, policy version) of the events the platform recorded on its own."""
    return [
        (r["type"], r["data"].get("rule"), r["data"].get("policy_version"))
        for r in history(app, claim_id)
        if r["actor"]["role"] == "system"
    ]


def settle(runner: ProjectionRunner, engine: DeadlineEngine) -> list[str]:
    """Catch the views up, tick the engine, catch up again: the deadlines fired, as claim ids."""
    runner.run_until_caught_up()
    fired = engine.tick().fired
    runner.run_until_caught_up()
    return [f.claim_id for f in fired]


def test_a_merchant_silent_on_a_refund_only_claim_accepts_it_at_the_claimed_amount(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: DeadlineEngine
) -> None:
    claim_id = claims.open(kind="refund_only", claimed_amount="80.00")
    clock.advance(hours=47, minutes=59)
    assert settle(runner, engine) == []

    clock.advance(minutes=1)
    assert settle(runner, engine) == [claim_id]

    claim = claims.app.load_claim(claim_id)
    assert (claim.status, str(claim.agreed_amount.amount)) == ("refund_pending", "80.00")
    assert automatic(claims.app, claim_id) == [
        ("DeadlineMissed", "merchant-silent-accepts", "2026-11"),
        ("AcceptedByDefault", "merchant-silent-accepts", "2026-11"),
    ]


def test_a_merchant_silent_on_a_return_claim_accepts_it_and_the_return_is_awaited(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: DeadlineEngine
) -> None:
    claim_id = claims.open(kind="return_and_refund")
    clock.advance(hours=48)
    assert settle(runner, engine) == [claim_id]
    assert claims.app.load_claim(claim_id).status == "awaiting_return"


def test_a_buyer_silent_on_an_offer_lets_it_lapse_and_may_still_ask_for_mediation(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: DeadlineEngine
) -> None:
    claim_id = claims.open()
    claims.app.respond(merchant(), claim_id, decision="offer", amount="30.00", message="Half?")
    clock.advance(hours=48)
    assert settle(runner, engine) == [claim_id]
    assert claims.app.load_claim(claim_id).status == "offer_declined"
    assert [t for t, _, _ in automatic(claims.app, claim_id)] == ["DeadlineMissed", "OfferLapsed"]

    claims.app.request_mediation(buyer(), claim_id, reason="The offer was too low.")
    assert claims.app.load_claim(claim_id).status == "under_mediation"


def test_a_buyer_who_does_not_ask_for_mediation_after_a_rejection_has_the_claim_closed(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: DeadlineEngine
) -> None:
    claim_id = claims.open()
    claims.app.respond(merchant(), claim_id, decision="reject", amount=None, message="No.")
    clock.advance(days=6, hours=23)
    assert settle(runner, engine) == []
    clock.advance(hours=1)
    assert settle(runner, engine) == [claim_id]
    assert claims.app.load_claim(claim_id).status == "closed"
    assert automatic(claims.app, claim_id)[-1] == ("ClosedByDefault", "no-mediation-request-closes", "2026-11")


def test_a_buyer_who_ships_no_return_in_time_has_the_claim_closed(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: DeadlineEngine
) -> None:
    claim_id = claims.open(kind="return_and_refund")
    claims.app.respond(merchant(), claim_id, decision="accept", amount=None, message="Send it back.")
    clock.advance(days=7)
    assert settle(runner, engine) == [claim_id]
    assert claims.app.load_claim(claim_id).status == "closed"
    assert automatic(claims.app, claim_id)[-1] == ("ClosedByDefault", "no-return-shipped-closes", "2026-11")


def test_a_merchant_who_does_not_refund_within_seven_days_of_the_return_sends_the_case_to_mediation_flagged(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: DeadlineEngine, views: ViewConnection
) -> None:
    claim_id = claims.open(kind="return_and_refund")
    claims.app.respond(merchant(), claim_id, decision="accept", amount=None, message="Send it back.")
    claims.app.ship_return(buyer(), claim_id, carrier="DHL", tracking_number="T1")
    claims.app.receive_return(merchant(), claim_id, condition="as_sent")
    clock.advance(days=3)
    earlier = claims.open()
    claims.rejected_then_mediated(earlier)  # its decision is due before the flagged case's
    clock.advance(days=3, hours=21)
    assert settle(runner, engine) == []

    clock.advance(hours=1)
    assert settle(runner, engine) == [claim_id]
    claim = claims.app.load_claim(claim_id)
    assert (claim.status, claim.mediation_requested, claim.flag) == (
        "under_mediation",
        True,
        "merchant-refund-late-mediates",
    )
    items = work_queue(views, QueueFilters(), 10, None, clock()).items
    assert [(i["claim_id"], i["flag"]) for i in items] == [
        (claim_id, "merchant-refund-late-mediates"),
        (earlier, None),
    ]


def test_a_mediator_past_the_decision_window_is_flagged_first_in_the_queue_and_nothing_is_decided(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: DeadlineEngine, views: ViewConnection
) -> None:
    late = claims.open()
    claims.rejected_then_mediated(late)  # the platform has five days to decide from here
    clock.advance(days=3)
    other = claims.open()
    claims.rejected_then_mediated(other)
    clock.advance(days=2)
    assert settle(runner, engine) == [late]

    claim = claims.app.load_claim(late)
    assert (claim.status, claim.outcome, claim.flag) == ("under_mediation", None, "mediator-late-flagged")
    page = work_queue(views, QueueFilters(), 1, None, clock())
    assert [(i["claim_id"], i["flag"]) for i in page.items] == [(late, "mediator-late-flagged")]
    rest = work_queue(views, QueueFilters(), 10, page.next_cursor, clock()).items
    assert [i["claim_id"] for i in rest] == [other]

    clock.advance(days=3)
    assert settle(runner, engine) == [other]  # its own window; the late one is flagged once, never again
    assert [t for t, _, _ in automatic(claims.app, late)] == ["DeadlineMissed", "Flagged"]

    claims.decide(late, "full_refund")  # the decision answers the flag
    runner.run_until_caught_up()
    flagged = [i["claim_id"] for i in work_queue(views, QueueFilters(), 10, None, clock()).items if i["flag"]]
    assert flagged == [other]


def test_a_deadline_superseded_by_a_later_event_fires_nothing(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: DeadlineEngine
) -> None:
    claim_id = claims.open()
    runner.run_until_caught_up()  # the view knows the merchant's deadline...
    clock.advance(hours=47)
    claims.app.respond(merchant(), claim_id, decision="reject", amount=None, message="No.")
    clock.advance(hours=2)  # ...which has passed by the clock, but the merchant answered in time

    assert engine.tick().fired == []  # the view is behind; the claim refuses
    runner.run_until_caught_up()
    assert engine.tick().fired == []
    assert automatic(claims.app, claim_id) == []
    assert claims.app.load_claim(claim_id).status == "merchant_rejected"


def test_a_deadline_fires_once_however_often_the_engine_runs(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, container: Container
) -> None:
    claim_id = claims.open()
    clock.advance(hours=48)
    runner.run_until_caught_up()
    first = DeadlineEngine(container.app, ViewStore(container.settings.database))
    second = DeadlineEngine(container.app, ViewStore(container.settings.database))
    try:
        fired = first.tick().fired + second.tick().fired  # the second one's view is behind
    finally:
        first.close()
        second.close()
    assert [f.claim_id for f in fired] == [claim_id]
    assert len(automatic(claims.app, claim_id)) == 2


def test_a_policy_change_is_recorded_on_later_events_and_not_on_earlier_ones(
    settings: Settings, clock: ManualClock, container: Container, runner: ProjectionRunner, engine: DeadlineEngine
) -> None:
    claims = Claims(container.app, clock)
    before = claims.open()
    clock.advance(hours=48)
    assert settle(runner, engine) == [before]

    stricter = replace(
        container.app.policy,
        windows=replace(container.app.policy.windows, version="2027-01"),
        rules=(DeadlineRule("merchant-silent-mediates", "merchant_response", AutoOutcome.MEDIATE_WITH_FLAG),),
    )
    with migrated_container(settings, clock) as later:
        later.app.policy = stricter
        later.app.windows = stricter.windows
        after = Claims(later.app, clock).open()
        clock.advance(hours=48)
        other = DeadlineEngine(later.app, ViewStore(settings.database))
        try:
            assert settle(runner, other) == [after]
        finally:
            other.close()

    assert automatic(container.app, before) == [
        ("DeadlineMissed", "merchant-silent-accepts", "2026-11"),
        ("AcceptedByDefault", "merchant-silent-accepts", "2026-11"),
    ]
    assert automatic(container.app, after) == [
        ("DeadlineMissed", "merchant-silent-mediates", "2027-01"),
        ("MediationForced", "merchant-silent-mediates", "2027-01"),
    ]
    assert container.app.load_claim(after).policy_version == "2027-01"


def test_a_missed_evidence_request_is_recorded_and_leaves_the_decision_to_the_mediator(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: DeadlineEngine
) -> None:
    claim_id = claims.open()
    claims.rejected_then_mediated(claim_id)
    claims.app.request_evidence(mediator(), claim_id, from_party="buyer", description="Photos", due_at=None)
    clock.advance(hours=72)
    assert settle(runner, engine) == [claim_id]
    assert automatic(claims.app, claim_id) == [("DeadlineMissed", "evidence-not-provided", "2026-11")]
    assert claims.app.load_claim(claim_id).status == "under_mediation"


def test_policy_defaults_name_every_rule() -> None:
    assert {r.deadline for r in Policy().rules} == {
        "merchant_response",
        "offer_answer",
        "mediation_request",
        "return_shipment",
        "merchant_refund",
        "mediator_decision",
        "appeal_decision",
        "evidence_request",
    }


@pytest.mark.postgres
def test_two_engines_on_one_postgresql_fire_each_deadline_once(postgres_url: str) -> None:
    clock = ManualClock()
    settings = Settings(database_url=postgres_url, env="test")
    with migrated_container(settings, clock) as container, migrated_container(settings, clock) as other:
        claims = Claims(container.app, clock)
        ids = [claims.open(merchant_id=f"m{n % 3}") for n in range(12)]
        clock.advance(hours=48)
        runner = build_runner(container, ["deadlines"])
        runner.run_until_caught_up()
        runner.close()
        engines = [
            DeadlineEngine(c.app, ViewStore(settings.database)) for c in (container, other)
        ]
        results: list[list[str]] = [[], []]

        def work(n: int) -> Callable[[], None]:
            return lambda: results.__setitem__(n, [f.claim_id for f in engines[n].tick().fired])

        run_together(work(0), work(1))
        for e in engines:
            e.close()
        assert sorted(results[0] + results[1]) == sorted(ids)
        for claim_id in ids:
            assert [t for t, _, _ in automatic(container.app, claim_id)] == ["DeadlineMissed", "AcceptedByDefault"]


def test_each_automatic_outcome_is_one_structured_log_line_and_counted_by_rule(
    claims: Claims,
    clock: ManualClock,
    runner: ProjectionRunner,
    engine: DeadlineEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    labels = {"rule": "merchant-silent-accepts", "outcome": "accept_claim"}
    before = REGISTRY.get_sample_value("disputes_automatic_outcomes_total", labels) or 0.0
    claim_id = claims.open(kind="refund_only", claimed_amount="80.00")
    clock.advance(hours=48)
    caplog.set_level(logging.INFO, logger="disputes.deadlines")
    assert settle(runner, engine) == [claim_id]

    lines = [r for r in caplog.records if getattr(r, "event", None) == "automatic_outcome"]
    assert len(lines) == 1
    line = lines[0]
    assert (line.claim_id, line.deadline, line.rule, line.outcome) == (  # type: ignore[attr-defined]
        claim_id, "merchant_response", "merchant-silent-accepts", "accept_claim"
    )
    assert REGISTRY.get_sample_value("disputes_automatic_outcomes_total", labels) == before + 1
