"""The deadlines view: one row per open deadline of each claim, following the claim as deadlines open,
move and close, whether the events come one batch at a time or all in one rebuild."""

from __future__ import annotations

from disputes.bootstrap import Container, build_runner
from disputes.domain.vocabulary import EvidenceKind, Party
from projections import catalog
from projections.runner import ProjectionRunner, reset
from projections.store import ViewConnection, ViewStore
from support.views import Claims, ManualClock, buyer, dump_views, mediator, merchant

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def open_names(runner: ProjectionRunner, views: ViewConnection, claim_id: str) -> set[str]:
    runner.run_until_caught_up()
    return {str(name) for (name,) in views.query("SELECT name FROM read_deadlines WHERE claim_id = ?", (claim_id,))}


def add_evidence(claims: Claims, who: str, claim_id: str) -> None:
    actor = merchant() if who == "merchant" else buyer()
    claims.app.add_evidence(
        actor, claim_id, kind=EvidenceKind.PHOTO, description="Photos.", sha256=SHA, size_bytes=10, uri=None
    )


def test_the_deadlines_view_keeps_exactly_the_open_deadlines_of_a_claim_as_they_open_and_close(
    container: Container, claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    claim_id = claims.open()
    assert open_names(runner, views, claim_id) == {"merchant_response"}

    claims.rejected_then_mediated(claim_id)
    assert open_names(runner, views, claim_id) == {"mediator_decision"}

    for party in (Party.MERCHANT, Party.BUYER):
        claims.app.request_evidence(mediator(), claim_id, from_party=party, description="Photos.", due_at=None)
    assert open_names(runner, views, claim_id) == {
        "mediator_decision",
        "evidence_from_merchant",
        "evidence_from_buyer",
    }

    clock.advance(hours=1)
    add_evidence(claims, "merchant", claim_id)
    assert open_names(runner, views, claim_id) == {"mediator_decision", "evidence_from_buyer"}

    add_evidence(claims, "buyer", claim_id)
    assert open_names(runner, views, claim_id) == {"mediator_decision"}

    claims.decide(claim_id, "partial_refund", "50.00")
    assert open_names(runner, views, claim_id) == {"merchant_refund"}

    claims.refund(claim_id, "50.00")
    assert open_names(runner, views, claim_id) == set()


def test_a_rebuild_of_the_deadlines_view_equals_the_view_built_event_by_event(
    container: Container, claims: Claims, clock: ManualClock, views: ViewConnection
) -> None:
    step_by_step = build_runner(container, ["deadlines"], batch_size=1)
    try:
        first, second = claims.open(), claims.open(who="b2")
        claims.rejected_then_mediated(first)
        claims.app.request_evidence(mediator(), first, from_party=Party.MERCHANT, description="More.", due_at=None)
        clock.advance(hours=1)
        add_evidence(claims, "merchant", first)
        claims.app.respond(merchant(), second, decision="offer", amount="30.00", message="")
        step_by_step.run_until_caught_up()
    finally:
        step_by_step.close()
    incremental = dump_views(views)["read_deadlines"]
    assert {(row[0], row[1]) for row in incremental} == {(first, "mediator_decision"), (second, "offer_answer")}

    reset(ViewStore(container.settings.database), catalog.select(["deadlines"]))
    rebuilt = build_runner(container, ["deadlines"])
    try:
        rebuilt.run_until_caught_up()
    finally:
        rebuilt.close()

    assert dump_views(views)["read_deadlines"] == incremental
