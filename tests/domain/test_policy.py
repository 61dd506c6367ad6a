"""Policy: the no-reason return window and the deadlines of each status, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from disputes.domain.errors import InvalidValue
from disputes.domain.policy import (
    Deadline,
    Limits,
    Windows,
    claim_rate_refusal,
    no_reason_return_deadline,
    open_deadlines,
)
from disputes.domain.vocabulary import ClaimStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
SINCE = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def test_the_platform_defaults_are_the_documented_windows() -> None:
    windows = Windows()

    assert windows.merchant_response == timedelta(hours=48)
    assert windows.offer_answer == timedelta(hours=48)
    assert windows.mediation_request == timedelta(days=7)
    assert windows.return_shipment == timedelta(days=7)
    assert windows.merchant_refund == timedelta(days=7)
    assert windows.evidence_request == timedelta(hours=72)
    assert windows.no_reason_return_days == 7
    assert windows.timezone == "UTC"


def test_windows_are_built_from_hours_and_days() -> None:
    windows = Windows.from_units(
        merchant_response_hours=24,
        offer_answer_hours=12,
        mediation_request_days=3,
        return_shipment_days=10,
        merchant_refund_days=2.5,
        evidence_request_hours=36,
        no_reason_return_days=15,
        timezone="Asia/Shanghai",
        version="test-1",
    )

    assert windows.merchant_response == timedelta(hours=24)
    assert windows.offer_answer == timedelta(hours=12)
    assert windows.mediation_request == timedelta(days=3)
    assert windows.return_shipment == timedelta(days=10)
    assert windows.merchant_refund == timedelta(days=2, hours=12)
    assert windows.evidence_request == timedelta(hours=36)
    assert windows.no_reason_return_days == 15
    assert windows.version == "test-1"


def test_an_unknown_policy_time_zone_is_refused_at_start_up() -> None:
    with pytest.raises(InvalidValue, match="time zone"):
        Windows.from_units(
            merchant_response_hours=48,
            offer_answer_hours=48,
            mediation_request_days=7,
            return_shipment_days=7,
            merchant_refund_days=7,
            evidence_request_hours=72,
            no_reason_return_days=7,
            timezone="Mars/Olympus_Mons",
            version="x",
        )


# --- the seven-day no-reason return ---------------------------------------------------------------


@pytest.mark.parametrize(
    "delivered_at",
    [
        datetime(2026, 11, 2, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 2, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 2, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_the_window_closes_at_the_first_instant_of_the_eighth_day_after_delivery(
    delivered_at: datetime,
) -> None:
    # Delivered on 2 November: the window covers 3..9 November and closes as 10 November begins.
    assert no_reason_return_deadline(delivered_at, Windows()) == datetime(2026, 11, 10, tzinfo=UTC)


def test_the_window_counts_calendar_days_in_the_policy_time_zone() -> None:
    shanghai = Windows(timezone="Asia/Shanghai")
    # 16:30 UTC on 2 November is 00:30 on 3 November in Shanghai: day D is the 3rd there.
    delivered_at = datetime(2026, 11, 2, 16, 30, tzinfo=UTC)

    closes = no_reason_return_deadline(delivered_at, shanghai)

    assert closes == datetime(2026, 11, 11, 0, 0, tzinfo=SHANGHAI)
    assert closes == datetime(2026, 11, 10, 16, 0, tzinfo=UTC)
    assert closes.tzinfo is UTC
    # In UTC the same delivery falls on the 2nd, so the window closes earlier.
    assert no_reason_return_deadline(delivered_at, Windows()) == datetime(2026, 11, 10, tzinfo=UTC)


def test_a_delivery_just_before_midnight_in_the_policy_zone_counts_from_that_day() -> None:
    shanghai = Windows(timezone="Asia/Shanghai")
    delivered_at = datetime(2026, 11, 2, 15, 59, 59, tzinfo=UTC)  # 23:59:59 on 2 November in Shanghai

    assert no_reason_return_deadline(delivered_at, shanghai) == datetime(2026, 11, 9, 16, 0, tzinfo=UTC)


def test_the_window_is_the_same_whatever_zone_the_delivery_time_is_given_in() -> None:
    shanghai = Windows(timezone="Asia/Shanghai")
    in_utc = datetime(2026, 11, 2, 16, 30, tzinfo=UTC)

    assert no_reason_return_deadline(in_utc.astimezone(NEW_YORK), shanghai) == no_reason_return_deadline(
        in_utc, shanghai
    )


def test_the_window_closes_at_local_midnight_across_a_daylight_saving_change() -> None:
    new_york = Windows(timezone="America/New_York")
    # Delivered on 31 October (EDT, UTC-4); the window closes as 8 November begins (EST, UTC-5).
    delivered_at = datetime(2026, 10, 31, 12, 0, tzinfo=NEW_YORK)

    assert no_reason_return_deadline(delivered_at, new_york) == datetime(2026, 11, 8, 5, 0, tzinfo=UTC)


def test_a_longer_window_from_settings_moves_the_closing_day() -> None:
    delivered_at = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)

    assert no_reason_return_deadline(delivered_at, Windows(no_reason_return_days=15)) == datetime(
        2026, 11, 18, tzinfo=UTC
    )


# --- deadlines per status -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "name", "window"),
    [
        (ClaimStatus.AWAITING_MERCHANT, "merchant_response", timedelta(hours=48)),
        (ClaimStatus.OFFER_PENDING, "offer_answer", timedelta(hours=48)),
        (ClaimStatus.MERCHANT_REJECTED, "mediation_request", timedelta(days=7)),
        (ClaimStatus.OFFER_DECLINED, "mediation_request", timedelta(days=7)),
        (ClaimStatus.AWAITING_RETURN, "return_shipment", timedelta(days=7)),
        (ClaimStatus.REFUND_PENDING, "merchant_refund", timedelta(days=7)),
    ],
)
def test_a_waiting_status_has_one_deadline_counted_from_when_the_claim_entered_it(
    status: ClaimStatus, name: str, window: timedelta
) -> None:
    assert open_deadlines(status, SINCE, {}, Windows()) == [Deadline(name, SINCE + window)]


@pytest.mark.parametrize(
    "status",
    [
        ClaimStatus.RETURN_IN_TRANSIT,
        ClaimStatus.REFUNDED,
        ClaimStatus.FULFILMENT_PENDING,
        ClaimStatus.CLAIM_REJECTED,
        ClaimStatus.ESCALATED_TO_LEGAL,
        ClaimStatus.LEGAL_CONCLUDED,
        ClaimStatus.WITHDRAWN,
        ClaimStatus.CLOSED,
    ],
)
def test_other_statuses_wait_for_no_one(status: ClaimStatus) -> None:
    assert open_deadlines(status, SINCE, {}, Windows()) == []


def test_under_mediation_each_open_evidence_request_is_a_deadline_most_urgent_first() -> None:
    buyer_due = SINCE + timedelta(hours=72)
    merchant_due = SINCE + timedelta(hours=24)

    deadlines = open_deadlines(
        ClaimStatus.UNDER_MEDIATION, SINCE, {"buyer": buyer_due, "merchant": merchant_due}, Windows()
    )

    assert deadlines == [
        Deadline("evidence_from_merchant", merchant_due),
        Deadline("evidence_from_buyer", buyer_due),
        Deadline("mediator_decision", SINCE + timedelta(days=5)),
    ]


def test_under_mediation_the_platform_has_five_days_to_decide() -> None:
    assert open_deadlines(ClaimStatus.UNDER_MEDIATION, SINCE, {}, Windows()) == [
        Deadline("mediator_decision", SINCE + timedelta(days=5))
    ]


def test_evidence_requests_count_only_under_mediation() -> None:
    due = {"buyer": SINCE + timedelta(hours=72)}

    assert open_deadlines(ClaimStatus.REFUND_PENDING, SINCE, due, Windows()) == [
        Deadline("merchant_refund", SINCE + timedelta(days=7))
    ]


def test_windows_from_settings_change_the_deadlines() -> None:
    windows = Windows(merchant_response=timedelta(hours=24), merchant_refund=timedelta(days=3))

    assert open_deadlines(ClaimStatus.AWAITING_MERCHANT, SINCE, {}, windows) == [
        Deadline("merchant_response", SINCE + timedelta(hours=24))
    ]
    assert open_deadlines(ClaimStatus.REFUND_PENDING, SINCE, {}, windows) == [
        Deadline("merchant_refund", SINCE + timedelta(days=3))
    ]


def test_a_buyer_at_the_claim_rate_limit_may_open_again_when_its_oldest_claim_in_the_window_leaves_it() -> None:
    limits = Limits(buyer_claims=3, buyer_claims_window=timedelta(days=30))
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    openings = [t0, t0 + timedelta(days=1), t0 + timedelta(days=2)]
    assert claim_rate_refusal(openings[:2], t0 + timedelta(days=3), limits) is None
    assert claim_rate_refusal(openings, t0 + timedelta(days=3), limits) == t0 + timedelta(days=30)
    assert claim_rate_refusal(openings, t0 + timedelta(days=30), limits) is None  # t0 has left the window
    assert claim_rate_refusal([t0 - timedelta(days=40), *openings[1:]], t0 + timedelta(days=3), limits) is None
