"""A flood of /readyz and /metrics calls, unauthenticated, costs the database at most one batch of
queries per sample period (DISPUTES_HEALTH_SAMPLE_SECONDS), whatever the number of callers.

Counted with PostgreSQL's own statistics: the transactions committed in the test's database
(``pg_stat_database``). A server's backends report theirs when they end, so each count is taken after
its server has stopped: a run with no calls, a run with one call of each, and the flood."""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from disputes.adapters.database import DatabaseUrl
from disputes.adapters.migrations import apply_migrations
from support.processes import server_process

pytestmark = pytest.mark.postgres
CALLS = 400
PERIOD = 1.0
LISTENER_CHECKS_PER_SECOND = 1
QUIET = {  # nothing but the health routes asks the database
    "DISPUTES_PROJECTIONS_IN_PROCESS": "false",
    "DISPUTES_DEADLINES_IN_PROCESS": "false",
    "DISPUTES_DELIVERIES_IN_PROCESS": "false",
    "DISPUTES_HEALTH_SAMPLE_SECONDS": str(PERIOD),
}


def transactions(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    return int(row[0])


def served(url: str, calls: int) -> tuple[int, float]:
    """The transactions a server's run cost with ``calls`` health calls (alternately /readyz and
    /metrics, 16 at a time), and how long the calls took."""
    before = transactions(url)
    with server_process(url, **QUIET) as (_, base):
        started = time.monotonic()

        def one(i: int) -> int:
            return httpx.get(base + ("/readyz" if i % 2 else "/metrics"), timeout=30).status_code

        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(one, range(calls)))
        seconds = time.monotonic() - started
        assert statuses == [200] * calls
    time.sleep(0.5)  # the ended backends' figures reach the statistics
    return transactions(url) - before - 1, seconds  # less the count's own query


def test_a_flood_of_readiness_and_metrics_calls_asks_the_database_at_most_once_per_sample_period(
    postgres_url: str,
) -> None:
    apply_migrations(DatabaseUrl.parse(postgres_url))
    start_up, _ = served(postgres_url, 0)
    with_one_each, _ = served(postgres_url, 2)
    one_sample = with_one_each - start_up  # the probe, the readiness body and the gauges, once each
    assert one_sample > 0
    flood, seconds = served(postgres_url, CALLS)
    periods = math.ceil(seconds / PERIOD) + 1
    extra = flood - start_up
    # Besides the samples: the token cache's listener checks its connection once a second (SELECT 1),
    # so a flood slowed down by a busy machine costs one more transaction per second it lasts.
    assert extra <= periods * (one_sample + LISTENER_CHECKS_PER_SECOND) + 5, (extra, periods, one_sample, seconds)
    # Each call asking on its own would cost about half a sample each (a call is one of the two routes).
    assert extra < CALLS * one_sample / 8, (extra, one_sample)
