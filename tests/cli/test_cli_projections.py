"""``disputes project`` and ``disputes rebuild`` as an operator runs them: processes of their own."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from disputes.bootstrap import Container
from projections.runner import ProjectionRunner
from projections.store import ViewConnection
from support import view_fixtures
from support.processes import cli_command, cli_environment, run_cli
from support.views import Claims, ManualClock, dump_views, lifecycle_mix, positions

pytestmark = pytest.mark.slow
app, claims, clock, container, runner, settings, views = (
    view_fixtures.app,
    view_fixtures.claims,
    view_fixtures.clock,
    view_fixtures.container,
    view_fixtures.runner,
    view_fixtures.settings,
    view_fixtures.views,
)


def test_rebuild_empties_every_view_and_builds_it_again_with_a_progress_bar(
    database_url: str, container: Container, claims: Claims, clock: ManualClock, runner: ProjectionRunner,
    views: ViewConnection,
) -> None:
    lifecycle_mix(claims, clock, 8)
    runner.run_until_caught_up()
    before = dump_views(views)
    head = container.app.recorder.max_notification_id()
    views.execute("DELETE FROM read_timeline WHERE version > 1")  # damage one view

    done = run_cli(database_url, "rebuild")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        f"rebuilt claims, queue, timeline, scorecard, audit, audit_seal, deadlines, signals: {head} events in "
    )
    assert "rebuild [" in done.stderr and "100%" in done.stderr
    assert dump_views(views) == before


def test_rebuild_of_one_view_touches_no_other(
    database_url: str, claims: Claims, clock: ManualClock, runner: ProjectionRunner, views: ViewConnection
) -> None:
    lifecycle_mix(claims, clock, 4)
    runner.run_until_caught_up()
    views.execute("UPDATE projection_positions SET updated_at = 'untouched'")

    done = run_cli(database_url, "rebuild", "queue", "--quiet")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("rebuilt queue: ")
    assert done.stderr == ""
    touched = views.query("SELECT name FROM projection_positions WHERE updated_at <> 'untouched'")
    assert touched == [("queue",)]


def test_an_unknown_view_or_an_unmigrated_database_is_one_line_of_error(database_url: str) -> None:
    unmigrated = run_cli(database_url, "project", "--once")
    assert unmigrated.returncode == 2
    assert unmigrated.stderr.count("\n") == 1
    assert "error: the database is not migrated" in unmigrated.stderr

    unknown = run_cli(database_url, "rebuild", "scoreboard")
    assert unknown.returncode == 2
    assert unknown.stderr == (
        "disputes: error: no projection named scoreboard; "
        "the projections are claims, queue, timeline, scorecard, audit, audit_seal, deadlines, signals\n"
    )


def test_a_standalone_worker_follows_new_events_and_stops_cleanly_on_sigterm(
    database_url: str, container: Container, claims: Claims, views: ViewConnection
) -> None:
    process = subprocess.Popen(
        cli_command("project", "claims", "timeline"),
        env=cli_environment(database_url, DISPUTES_PROJECTION_POLL_SECONDS="0.05"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        claim_id = claims.open()
        deadline = time.monotonic() + 20
        while views.one("SELECT 1 FROM read_claims WHERE claim_id = ?", (claim_id,)) is None:
            assert time.monotonic() < deadline and process.poll() is None, "the worker did not project the claim"
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0, err
    assert "projecting claims, timeline (Ctrl-C to stop)" in err
    assert err.rstrip().endswith("stopped")
    head = container.app.recorder.max_notification_id()
    assert {n: p for n, p in positions(views).items() if p} == {"claims": head, "timeline": head}
