"""Dates in report and scorecard queries are days of the policy's calendar, not UTC days."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from disputes.bootstrap import Container
from disputes.settings import Settings
from support import ManualClock, migrated_container
from support import reads as reads_support
from support.http import Api

reads_api = reads_support.reads_api

# 01:30 on 1 November in Shanghai (UTC+8) is still 31 October in UTC; 01:30 on 2 November is 1 November.
FIRST_OF_NOVEMBER_IN_SHANGHAI = datetime(2026, 10, 31, 17, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(FIRST_OF_NOVEMBER_IN_SHANGHAI)


@pytest.fixture
def container(database_url: str, clock: ManualClock) -> Iterator[Container]:
    settings = Settings(database_url=database_url, policy_timezone="Asia/Shanghai")
    with migrated_container(settings, clock) as built:
        yield built


def test_a_report_for_a_day_covers_that_day_in_the_policys_time_zone(reads_api: Api, clock: ManualClock) -> None:
    delivered = "2026-10-30T08:00:00Z"
    reads_api.open_claim(order_id="first", delivered_at=delivered)
    clock.advance(days=1)
    reads_api.open_claim(order_id="second", delivered_at=delivered)
    at = reads_api.container.app.recorder.max_notification_id()  # the views must show both claims

    def report(day_from: str, day_to: str) -> dict[str, object]:
        period = {"from": day_from, "to": day_to, "min_position": at}
        answer = reads_api.get("aud1", "/reports/audit", params=period)
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    assert report("2026-11-01", "2026-11-01")["claims_opened"] == 1
    assert report("2026-10-31", "2026-10-31")["claims_opened"] == 0  # the UTC day of the first claim
    assert report("2026-11-01", "2026-11-02")["claims_opened"] == 2

    def received(as_of: str) -> object:
        answer = reads_api.get("aud1", "/merchants/m1/scorecard", params={"as_of": as_of, "min_position": at})
        assert answer.status_code == 200, answer.text
        return answer.json()["claims_received"]

    assert received("2026-10-31") == 0
    assert received("2026-11-01") == 1
    assert received("2026-11-02") == 2
