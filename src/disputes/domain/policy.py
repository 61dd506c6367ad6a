"""Deadlines as pure functions of a claim's status and the policy's windows. No clock, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from disputes.domain.errors import InvalidValue
from disputes.domain.vocabulary import ClaimStatus


@dataclass(frozen=True)
class Windows:
    """The policy's time limits. Built from settings; every field has the platform default."""

    merchant_response: timedelta = timedelta(hours=48)
    offer_answer: timedelta = timedelta(hours=48)
    mediation_request: timedelta = timedelta(days=7)
    return_shipment: timedelta = timedelta(days=7)
    merchant_refund: timedelta = timedelta(days=7)
    evidence_request: timedelta = timedelta(hours=72)
    no_reason_return_days: int = 7
    timezone: str = "UTC"
    version: str = "2026-11"

    @classmethod
    def from_units(
        cls,
        *,
        merchant_response_hours: float,
        offer_answer_hours: float,
        mediation_request_days: float,
        return_shipment_days: float,
        merchant_refund_days: float,
        evidence_request_hours: float,
        no_reason_return_days: int,
        timezone: str,
        version: str,
    ) -> Windows:
        _zone(timezone)  # refuse an unknown zone at start-up, not at the first claim
        return cls(
            merchant_response=timedelta(hours=merchant_response_hours),
            offer_answer=timedelta(hours=offer_answer_hours),
            mediation_request=timedelta(days=mediation_request_days),
            return_shipment=timedelta(days=return_shipment_days),
            merchant_refund=timedelta(days=merchant_refund_days),
            evidence_request=timedelta(hours=evidence_request_hours),
            no_reason_return_days=no_reason_return_days,
            timezone=timezone,
            version=version,
        )


@dataclass(frozen=True)
class Deadline:
    name: str
    due_at: datetime


def _zone(name: str) -> ZoneInfo | timezone:
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(f"unknown time zone {name!r}") from None


def no_reason_return_deadline(delivered_at: datetime, windows: Windows) -> datetime:
    """The instant the no-reason return window closes.

    The days are counted from the day after delivery, in the policy's time zone: delivered on day D,
    the window covers days D+1 .. D+N and closes at the first instant of day D+N+1.
    """
    zone = _zone(windows.timezone)
    delivered_day: date = delivered_at.astimezone(zone).date()
    closing_day = delivered_day + timedelta(days=windows.no_reason_return_days + 1)
    return datetime.combine(closing_day, time.min, tzinfo=zone).astimezone(UTC)


_STATUS_DEADLINE: Mapping[str, tuple[str, str]] = {
    ClaimStatus.AWAITING_MERCHANT: ("merchant_response", "merchant_response"),
    ClaimStatus.OFFER_PENDING: ("offer_answer", "offer_answer"),
    ClaimStatus.MERCHANT_REJECTED: ("mediation_request", "mediation_request"),
    ClaimStatus.OFFER_DECLINED: ("mediation_request", "mediation_request"),
    ClaimStatus.AWAITING_RETURN: ("return_shipment", "return_shipment"),
    ClaimStatus.REFUND_PENDING: ("merchant_refund", "merchant_refund"),
}


def open_deadlines(
    status: str,
    status_since: datetime,
    evidence_due: Mapping[str, datetime],
    windows: Windows,
) -> list[Deadline]:
    """What the claim is waiting for, and by when, given how long it has been in its status.

    ``evidence_due`` maps a party (buyer, merchant) to the due time of the mediator's open request.
    """
    deadlines: list[Deadline] = []
    entry = _STATUS_DEADLINE.get(status)
    if entry is not None:
        name, window = entry
        deadlines.append(Deadline(name, status_since + getattr(windows, window)))
    if status == ClaimStatus.UNDER_MEDIATION:
        deadlines.extend(
            Deadline(f"evidence_from_{party}", due) for party, due in sorted(evidence_due.items())
        )
    return sorted(deadlines, key=lambda d: (d.due_at, d.name))
