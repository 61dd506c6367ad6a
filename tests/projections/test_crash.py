"""Exactly once across crashes: a worker process killed between processing a batch and committing it
counts nothing twice once it (or another) starts again."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from disputes.bootstrap import Container
from projections import catalog
from projections.runner import CRASH_ENV, CRASH_EXIT_STATUS
from projections.store import ViewConnection
from support.processes import cli_command, cli_environment, run_cli
from support.views import (
    Claims,
    ManualClock,
    claim_events,
    dump_views,
    lifecycle_mix,
    positions,
    rebuilt_views,
)

pytestmark = pytest.mark.slow


def test_a_worker_that_dies_before_committing_a_batch_counts_nothing_twice_after_a_restart(
    database_url: str, container: Container, claims: Claims, clock: ManualClock, views: ViewConnection
) -> None:
    lifecycle_mix(claims, clock, 12)
    head = container.app.recorder.max_notification_id()
    assert head is not None and head > 21

    crashed = run_cli(database_url, "project", "--once", DISPUTES_PROJECTION_BATCH_SIZE="7", **{CRASH_ENV: "3"})

    assert crashed.returncode == CRASH_EXIT_STATUS, crashed.stderr
    # Two batches committed; the third was written, then lost with the process.
    assert positions(views) == dict.fromkeys(catalog.NAMES, 14)
    assert views.query("SELECT COUNT(*) FROM read_timeline") == [(claim_events(container.app, upto=14),)]

    restarted = run_cli(database_url, "project", "--once", DISPUTES_PROJECTION_BATCH_SIZE="7")

    assert restarted.returncode == 0, restarted.stderr
    assert positions(views) == dict.fromkeys(catalog.NAMES, head)
    after_restart = dump_views(views)
    assert len(after_restart["read_timeline"]) == claim_events(container.app)
    assert sum(1 for row in after_restart["read_scorecard_facts"] if row[5] == "received") == 12
    assert after_restart == rebuilt_views(container, views)


def test_a_worker_killed_at_any_moment_of_a_catch_up_leaves_views_that_a_restart_completes_exactly(
    database_url: str, container: Container, claims: Claims, clock: ManualClock, views: ViewConnection
) -> None:
    lifecycle_mix(claims, clock, 60)
    head = container.app.recorder.max_notification_id()
    assert head is not None
    process = subprocess.Popen(
        cli_command("project"),
        env=cli_environment(database_url, DISPUTES_PROJECTION_BATCH_SIZE="2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while min(positions(views).values(), default=0) == 0:  # started, and not yet done
            assert time.monotonic() < deadline, "the worker made no progress"
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(30)
    assert process.returncode == -signal.SIGKILL
    at_kill = positions(views)
    stood = min(at_kill.values())
    assert stood == max(at_kill.values())  # every view's batch committed together, or not at all
    # One timeline row per claim event up to there (the orders' own events have none).
    recorded = container.app.recorder.select_notifications(1, stood)
    claim_events = [n for n in recorded if n.topic.startswith("disputes.domain.claim:")]
    assert len(dump_views(views)["read_timeline"]) == len(claim_events)

    restarted = run_cli(database_url, "project", "--once")

    assert restarted.returncode == 0, restarted.stderr
    assert positions(views) == dict.fromkeys(catalog.NAMES, head)
    assert dump_views(views) == rebuilt_views(container, views)
