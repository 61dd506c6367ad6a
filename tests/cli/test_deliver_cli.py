"""``disputes deliver`` as an operator runs it: bad settings and a missing NATS URL are one clear line."""

from __future__ import annotations

import pytest

from support.processes import assert_one_line_error, run_cli


@pytest.fixture
def migrated(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('deliver') / 'disputes.sqlite'}"
    assert run_cli(url, "migrate").returncode == 0
    return url


def test_a_bad_retry_schedule_is_refused_in_one_line(migrated: str) -> None:
    result = run_cli(migrated, "deliver", DISPUTES_WEBHOOK_RETRY_SCHEDULE="5s,soon")
    assert_one_line_error(result, "DISPUTES_WEBHOOK_RETRY_SCHEDULE", "'soon'")


def test_publishing_without_a_nats_url_is_refused_in_one_line(migrated: str) -> None:
    result = run_cli(migrated, "deliver", "--publish-once")
    assert_one_line_error(result, "DISPUTES_NATS_URL is not set")
