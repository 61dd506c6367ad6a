"""The read side as the server uses it: lag for /metrics and /readyz, the in-process runner, waits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from disputes.bootstrap import Container, build_read_side, start_projections
from disputes.settings import Settings
from projections import catalog
from projections.readside import lag_metrics
from projections.runner import ProjectionRunner
from support import migrated_container
from support.views import Claims, ManualClock, lifecycle_mix


def projection_lag(container: Container) -> dict[str, int]:
    side = build_read_side(container)
    try:
        return side.lag()
    finally:
        side.close()


def test_lag_is_the_last_recorded_position_minus_each_projections_position(
    container: Container, claims: Claims, clock: ManualClock, runner: ProjectionRunner
) -> None:
    assert projection_lag(container) == dict.fromkeys(catalog.NAMES, 0)
    lifecycle_mix(claims, clock, 3)
    head = container.app.recorder.max_notification_id()

    assert projection_lag(container) == dict.fromkeys(catalog.NAMES, head)
    runner.run_until_caught_up()
    assert projection_lag(container) == dict.fromkeys(catalog.NAMES, 0)

    side = build_read_side(container)
    try:
        families = {family.name: family for family in lag_metrics(side.statuses())}
    finally:
        side.close()
    assert families["disputes_projection_lag_events"].type == "gauge"
    values = {
        (family, sample.labels["projection"]): sample.value
        for family in families
        for sample in families[family].samples
    }
    assert values[("disputes_projection_lag_events", "queue")] == 0
    assert values[("disputes_projection_position", "audit")] == head


def test_the_in_process_runner_keeps_the_views_current_and_stops_cleanly(
    container: Container, claims: Claims
) -> None:
    handle = start_projections(container, run=True)
    try:
        assert handle.running
        claim_id = claims.open()
        head = container.app.recorder.max_notification_id()
        assert head is not None
        with handle.read_side.store.reading() as conn:
            assert handle.read_side.wait_for(conn, catalog.NAMES, head, timeout=10) == head
            assert conn.one("SELECT status FROM read_claims WHERE claim_id = ?", (claim_id,)) == (
                "awaiting_merchant",
            )
    finally:
        handle.stop()
    assert not handle.running


def test_a_wait_for_a_position_the_views_do_not_reach_gives_up_after_its_timeout(
    container: Container, claims: Claims
) -> None:
    claims.open()
    side = build_read_side(container)
    try:
        with side.store.reading() as conn:
            assert side.wait_for(conn, ["claims"], 1, timeout=0.05) is None
            # A position beyond the last recorded event is waited for only up to that event.
            assert side.wait_for(conn, ["claims"], 0, timeout=0.05) == 0
    finally:
        side.close()


def test_the_in_process_runner_can_be_turned_off_for_standalone_workers(
    database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPUTES_PROJECTIONS_IN_PROCESS", "false")
    with migrated_container(Settings(database_url=database_url, env="test"), clock) as container:
        handle = start_projections(container)
        assert not handle.running
        handle.stop()


def test_tier_thresholds_out_of_order_are_refused() -> None:
    with pytest.raises(ValidationError, match="scorecard_watch_min"):
        Settings(scorecard_good_min=50, scorecard_watch_min=70)
