"""The deadline engine can never starve or forget: however many rows it cannot fire stand first, a due
deadline behind them fires; a firing that failed for a transient reason fires once the database is
back; a claim recorded before deadlines were fixed at opening is fixed once, then left alone."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import psycopg
import pytest

from disputes.bootstrap import Container, build_runner
from disputes.domain.claim import LEGACY, Claim
from disputes.domain.money import Money
from disputes.domain.vocabulary import ClaimKind, ClaimReason
from disputes.engines.deadlines import DeadlineEngine
from disputes.settings import Settings
from projections.runner import ProjectionRunner
from projections.store import ViewConnection, ViewStore, time_text
from support import CLAIMANT_FACTS, migrated_container
from support.views import Claims, ManualClock, buyer


def test_a_due_deadline_behind_150_rows_the_engine_cannot_fire_fires_in_the_same_round(
    claims: Claims, clock: ManualClock, runner: ProjectionRunner, engine: DeadlineEngine, views: ViewConnection
) -> None:
    claim_id = claims.open()
    clock.advance(hours=48)
    runner.run_until_caught_up()
    due = views.one("SELECT due_at FROM read_deadlines WHERE claim_id = ?", (claim_id,))
    assert due is not None
    earlier = time_text(clock() - timedelta(days=30))
    # Rows of claims that are not there (a view restored from elsewhere, say): each is refused.
    views.executemany(
        "INSERT INTO read_deadlines (claim_id, name, due_at, status, position, fired) VALUES (?, ?, ?, ?, ?, 0)",
        [(str(uuid4()), "merchant_response", earlier, "awaiting_merchant", 1) for _ in range(150)],
    )

    result = engine.tick()

    assert [f.claim_id for f in result.fired] == [claim_id]
    assert result.skipped == 150
    # And the next round tries none of the 150 again while the view still shows them.
    assert engine.tick().skipped == 0


@pytest.mark.postgres
def test_a_deadline_whose_firing_failed_while_the_store_was_locked_fires_next_round(
    postgres_url: str,
) -> None:
    clock = ManualClock()
    settings = Settings(database_url=postgres_url, env="test", order_facts=CLAIMANT_FACTS)
    with migrated_container(settings, clock) as container:
        claims = Claims(container.app, clock)
        first, second = claims.open(), claims.open()
        clock.advance(hours=48)
        views_runner = build_runner(container, ["deadlines"])
        views_runner.run_until_caught_up()
        engine = DeadlineEngine(container.app, ViewStore(settings.database))
        # Another session holds the events table: every save waits out the lock timeout and fails.
        with psycopg.connect(postgres_url) as holder:
            holder.execute("LOCK TABLE disputes_events IN EXCLUSIVE MODE")
            with pytest.raises(Exception) as failed:
                engine.tick()
            assert "lock" in str(failed.value).lower() or "timeout" in type(failed.value).__name__.lower()
            holder.rollback()
        engine.close()

        result = engine.tick()  # the database answers again: the same engine fires both

        assert sorted(f.claim_id for f in result.fired) == sorted([first, second])
        engine.close()
        views_runner.close()


def _legacy_claim(container: Container, clock: ManualClock) -> str:
    """A claim as this program recorded it before deadlines were fixed at opening."""
    claim = Claim(
        buyer=buyer(),
        order_id=f"legacy-{uuid4().hex[:6]}",
        merchant_id="m1",
        kind=ClaimKind.REFUND_ONLY.value,
        reason=ClaimReason.DAMAGED.value,
        order_amount=Money.of("100.00", "USD"),
        claimed_amount=Money.of("80.00", "USD"),
        delivered_at=clock() - timedelta(days=1),
        description="Recorded long ago.",
        policy_version="2026-10",
        timestamp=clock(),
        claim_number=0,
        lines=[],
        order_facts="claimant",
        ledger_id=None,
        deadline=LEGACY,
    )
    container.app.save(claim)
    return str(claim.id)


def test_a_claim_recorded_before_deadlines_were_fixed_is_fixed_once_and_then_left_alone(
    database_url: str, clock: ManualClock
) -> None:
    longer = Settings(database_url=database_url, env="test", order_facts=CLAIMANT_FACTS, merchant_response_hours=72)
    with migrated_container(longer, clock) as container:
        claim_id = _legacy_claim(container, clock)
        opened = clock()
        runner = build_runner(container, ["deadlines"])
        engine = DeadlineEngine(container.app, ViewStore(longer.database), before_tick=runner.run_until_caught_up)
        try:
            assert container.app.load_claim(claim_id).deadlines(container.app.windows)[0].rule is None
            assert engine.tick().fixed == 1
            runner.run_until_caught_up()
            assert engine.tick().fixed == 0  # once

            fixed = container.app.load_claim(claim_id).deadlines(container.app.windows)
            assert [(d.due_at, d.rule, d.policy_version) for d in fixed] == [
                (opened + timedelta(hours=72), "merchant-silent-accepts", container.app.policy.version)
            ]
            assert [r.type for r in container.app.history(buyer(), claim_id)][-1] == "DeadlinesFixed"
        finally:
            engine.close()
            runner.close()
    shorter = Settings(database_url=database_url, env="test", order_facts=CLAIMANT_FACTS, merchant_response_hours=24)
    with migrated_container(shorter, clock) as container:
        again = container.app.load_claim(claim_id).deadlines(container.app.windows)
        assert [d.due_at for d in again] == [opened + timedelta(hours=72)]
