"""``disputes deadlines --once`` run as a separate process records a merchant's tier crossing once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from disputes.application.standing import MerchantStandings
from disputes.domain.parties import Actor, Role
from disputes.domain.standing import standing_id_for
from disputes.domain.vocabulary import MerchantDecision, Outcome
from disputes.settings import Settings
from support import ManualClock, migrated_container, open_with_order
from support.processes import run_cli

BUYER, MERCHANT, MEDIATOR = Actor(Role.BUYER, "b1"), Actor(Role.MERCHANT, "m1"), Actor(Role.MEDIATOR, "med1")


def record_lost_claims(database_url: str, count: int) -> None:
    """Claims m1 rejected and a mediator decided for the buyer, an hour ago."""
    clock = ManualClock(datetime.now(UTC) - timedelta(hours=1))
    with migrated_container(Settings(database_url=database_url), clock) as container:
        app = container.app
        for n in range(count):
            claim_id = str(
                open_with_order(
                    app,
                    BUYER,
                    order_id=f"order-{n}",
                    merchant_id="m1",
                    kind="refund_only",  # type: ignore[arg-type]
                    reason="damaged",  # type: ignore[arg-type]
                    order_amount="120.00",
                    claimed_amount="80.00",
                    currency="USD",
                    delivered_at=clock() - timedelta(days=1),
                    description="Broken.",
                ).claim.id
            )
            app.respond(MERCHANT, claim_id, decision=MerchantDecision.REJECT, amount=None, message="No.")
            app.request_mediation(BUYER, claim_id, reason="Please look.")
            app.assign_mediator(MEDIATOR, claim_id, mediator_id=None)
            app.decide_claim(MEDIATOR, claim_id, outcome=Outcome.FULL_REFUND, amount=None, rationale="Broken.")


def test_the_worker_records_a_restriction_once_and_names_the_rule(database_url: str) -> None:
    assert run_cli(database_url, "migrate").returncode == 0
    record_lost_claims(database_url, 5)  # the policy's minimum sample

    first = run_cli(database_url, "deadlines", "--once")
    assert first.returncode == 0, first.stderr
    assert "merchant m1  Restricted good -> restricted  rule scorecard-restricted-restricts" in first.stderr
    assert "standings changed 1 of 1 reviewed" in first.stderr
    second = run_cli(database_url, "deadlines", "--once")
    assert second.returncode == 0, second.stderr
    # The first run kept how far it reviewed: nothing moved since, so no merchant is reviewed again.
    assert "standings changed 0 of 0 reviewed" in second.stderr

    with migrated_container(Settings(database_url=database_url), ManualClock()) as container:
        records = MerchantStandings(container.app).history(Actor(Role.AUDITOR, "aud1"), "m1")
        assert [(r.type, r.claim_id) for r in records] == [
            ("StandingOpened", str(standing_id_for("m1"))),
            ("Restricted", str(standing_id_for("m1"))),
        ]
