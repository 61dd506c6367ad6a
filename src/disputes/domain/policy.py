"""Deadlines as pure functions of a claim's status and the policy's windows. No clock, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from disputes.domain.errors import InvalidValue
from disputes.domain.vocabulary import LANGUAGES, ClaimStatus


@dataclass(frozen=True)
class Windows:
    """The policy's time limits. Built from settings; every field has the platform default."""

    merchant_response: timedelta = timedelta(hours=48)
    offer_answer: timedelta = timedelta(hours=48)
    mediation_request: timedelta = timedelta(days=7)
    return_shipment: timedelta = timedelta(days=7)
    merchant_refund: timedelta = timedelta(days=7)
    evidence_request: timedelta = timedelta(hours=72)
    mediator_decision: timedelta = timedelta(days=5)
    appeal: timedelta = timedelta(days=7)
    """For the buyer or merchant to appeal a mediator's decision."""
    no_reason_return_days: int = 7
    timezone: str = "UTC"
    version: str = "2026-11"

    @property
    def zone(self) -> tzinfo:
        """The policy's calendar: where a "day" starts for windows counted in days, and for report dates."""
        return time_zone(self.timezone)

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
        mediator_decision_days: float = 5,
        appeal_days: float = 7,
    ) -> Windows:
        time_zone(timezone)  # refuse an unknown zone at start-up, not at the first claim
        return cls(
            merchant_response=timedelta(hours=merchant_response_hours),
            offer_answer=timedelta(hours=offer_answer_hours),
            mediation_request=timedelta(days=mediation_request_days),
            return_shipment=timedelta(days=return_shipment_days),
            merchant_refund=timedelta(days=merchant_refund_days),
            evidence_request=timedelta(hours=evidence_request_hours),
            mediator_decision=timedelta(days=mediator_decision_days),
            appeal=timedelta(days=appeal_days),
            no_reason_return_days=no_reason_return_days,
            timezone=timezone,
            version=version,
        )


@dataclass(frozen=True)
class Deadline:
    """An open deadline. ``rule`` and ``policy_version``: the rule and the policy it was set under when
    it opened (None for a deadline of a claim recorded before deadlines were fixed at opening)."""

    name: str
    due_at: datetime
    rule: str | None = None
    policy_version: str | None = None


def time_zone(name: str) -> ZoneInfo | timezone:
    """The named IANA zone (``UTC`` without the tz database); an unknown name is an ``InvalidValue``."""
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
    zone = windows.zone
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
    ClaimStatus.UNDER_MEDIATION: ("mediator_decision", "mediator_decision"),
    ClaimStatus.UNDER_APPEAL: ("appeal_decision", "mediator_decision"),
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


# --------------------------------------------------------------------------------------------------
# the policy as a whole: windows, the automatic outcome of each missed deadline, eligibility, tiers
# --------------------------------------------------------------------------------------------------


class AutoOutcome(StrEnum):
    """What the platform does when a deadline passes (always after recording ``DeadlineMissed``)."""

    ACCEPT_CLAIM = "accept_claim"
    """The merchant's silence accepts the claim: refund pending at the claimed amount, or await the return."""
    LAPSE_OFFER = "lapse_offer"
    """The buyer's silence lets the offer lapse; the buyer may still ask for mediation."""
    CLOSE_CLAIM = "close_claim"
    MEDIATE_WITH_FLAG = "mediate_with_flag"
    """The platform steps in, and the case is flagged in the mediators' queue."""
    FLAG_FOR_MEDIATOR = "flag_for_mediator"
    """The case goes first in the mediators' queue; never decided automatically."""
    RECORD_ONLY = "record_only"


ALLOWED_OUTCOMES: Mapping[str, frozenset[AutoOutcome]] = {
    "merchant_response": frozenset(
        {AutoOutcome.ACCEPT_CLAIM, AutoOutcome.MEDIATE_WITH_FLAG, AutoOutcome.RECORD_ONLY}
    ),
    "offer_answer": frozenset({AutoOutcome.LAPSE_OFFER, AutoOutcome.RECORD_ONLY}),
    "mediation_request": frozenset({AutoOutcome.CLOSE_CLAIM, AutoOutcome.RECORD_ONLY}),
    "return_shipment": frozenset(
        {AutoOutcome.CLOSE_CLAIM, AutoOutcome.MEDIATE_WITH_FLAG, AutoOutcome.RECORD_ONLY}
    ),
    "merchant_refund": frozenset({AutoOutcome.MEDIATE_WITH_FLAG, AutoOutcome.RECORD_ONLY}),
    "mediator_decision": frozenset({AutoOutcome.FLAG_FOR_MEDIATOR, AutoOutcome.RECORD_ONLY}),
    "appeal_decision": frozenset({AutoOutcome.FLAG_FOR_MEDIATOR, AutoOutcome.RECORD_ONLY}),
    "evidence_request": frozenset({AutoOutcome.RECORD_ONLY}),
}
"""Which outcomes make sense for which deadline (the mediator's decision is never automatic)."""


@dataclass(frozen=True)
class DeadlineRule:
    """A named rule: when ``deadline`` passes, the platform applies ``outcome``."""

    name: str
    deadline: str
    outcome: AutoOutcome


@dataclass(frozen=True)
class Eligibility:
    """The conditions a claim must meet to be opened (each refusal is a named 422 problem)."""

    not_received_requires_undelivered: bool = True
    claimed_amount_within_order: bool = True
    one_open_claim_per_order: bool = True
    """One open claim per order line: a claim may not name a line that an open claim names."""
    max_claims_per_order: int = 3
    """How many claims an order may have in all."""


@dataclass(frozen=True)
class ScorecardThresholds:
    good_min: int = 80
    watch_min: int = 60


DEADLINE_PARTY: dict[str, str] = {
    "merchant_response": "merchant",
    "offer_answer": "buyer",
    "mediation_request": "buyer",
    "return_shipment": "buyer",
    "merchant_refund": "merchant",
    "evidence_from_buyer": "buyer",
    "evidence_from_merchant": "merchant",
}
"""Whose move each deadline waits for (the platform's for the others)."""


def deadline_party(name: str) -> str:
    return DEADLINE_PARTY.get(name, "platform")


DEFAULT_REMINDER_LEADS: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=2))


@dataclass(frozen=True)
class Reminders:
    """How long before an open deadline the party who must act is reminded, once per lead time."""

    lead_times: tuple[timedelta, ...] = DEFAULT_REMINDER_LEADS

    def __post_init__(self) -> None:
        if any(lead <= timedelta(0) for lead in self.lead_times):
            raise InvalidValue("reminder lead times must be positive")
        if len(set(self.lead_times)) != len(self.lead_times):
            raise InvalidValue("reminder lead times must differ")
        # Longest first: the order in which they come due.
        object.__setattr__(self, "lead_times", tuple(sorted(self.lead_times, reverse=True)))
@dataclass(frozen=True)
class SignalThresholds:
    """When a claim carries a signal for the mediators (``[signals]``); a signal never decides anything.

    Rates are exact decimals (``Decimal("0.5")``), compared without floats.
    """

    serial_refund_only_claims: int = 5
    """Refund-only claims of one buyer within the window (either side of the claim) ..."""
    serial_refund_only_merchants: int = 3
    """... against at least this many merchants."""
    serial_refund_only_window: timedelta = timedelta(days=30)
    silence_wins_min_claims: int = 4
    """A buyer's share of claims won by merchant silence counts from this many claims on."""
    silence_wins_share: Decimal = Decimal("0.5")
    shared_evidence_min_claims: int = 2
    """One evidence digest on this many claims (this one included) of different buyers or orders."""
    near_total_ratio: Decimal = Decimal("0.9")
    """A claimed amount at least this share of the order's total is "near the total" ..."""
    near_total_orders: int = 3
    """... on at least this many orders of one buyer ..."""
    near_total_window: timedelta = timedelta(hours=72)
    """... within this time (either side of the claim)."""
    reject_then_lose_min_rejections: int = 5
    """A merchant's rejections that then lost in mediation count from this many rejections on ..."""
    reject_then_lose_rate: Decimal = Decimal("0.6")
    """... and signal at or above this share."""


@dataclass(frozen=True)
class Limits:
    """Limits that act (``[limits]``): each refusal or hold names its rule and the policy version."""

    buyer_claims: int = 10
    """Claims one buyer may open within ``buyer_claims_window``; one more is refused (422)."""
    buyer_claims_window: timedelta = timedelta(days=30)
    standing_min_decided: int = 5
    """A merchant's standing moves only once its scorecard has this many decided claims ..."""
    standing_window: timedelta = timedelta(days=90)
    """... within this window before the review."""
    claim_messages: int = 500
    """Messages one claim may hold (both parties and the mediator together); one more is refused (422)."""
    claim_evidence: int = 50
    """Evidence items one claim may hold (both parties together); one more is refused (422)."""


BUYER_CLAIM_RATE_RULE = "buyer-claim-rate-limit"
STANDING_SAMPLE_RULE = "standing-minimum-sample"
CLAIM_MESSAGE_LIMIT_RULE = "claim-message-limit"
CLAIM_EVIDENCE_LIMIT_RULE = "claim-evidence-limit"


def claim_rate_refusal(openings: Sequence[datetime], at: datetime, limits: Limits) -> datetime | None:
    """When the buyer who opened claims at ``openings`` may open another, if not now (else None).

    At most ``buyer_claims`` claims within any ``buyer_claims_window``: the buyer may open again once
    enough of the claims in the window have left it.
    """
    window = limits.buyer_claims_window
    recent = sorted(t for t in openings if t > at - window)
    if len(recent) < limits.buyer_claims:
        return None
    return recent[len(recent) - limits.buyer_claims] + window


DEFAULT_RULES: tuple[DeadlineRule, ...] = (
    DeadlineRule("merchant-silent-accepts", "merchant_response", AutoOutcome.ACCEPT_CLAIM),
    DeadlineRule("buyer-silent-offer-lapses", "offer_answer", AutoOutcome.LAPSE_OFFER),
    DeadlineRule("no-mediation-request-closes", "mediation_request", AutoOutcome.CLOSE_CLAIM),
    DeadlineRule("no-return-shipped-closes", "return_shipment", AutoOutcome.CLOSE_CLAIM),
    DeadlineRule("merchant-refund-late-mediates", "merchant_refund", AutoOutcome.MEDIATE_WITH_FLAG),
    DeadlineRule("mediator-late-flagged", "mediator_decision", AutoOutcome.FLAG_FOR_MEDIATOR),
    DeadlineRule("appeal-late-flagged", "appeal_decision", AutoOutcome.FLAG_FOR_MEDIATOR),
    DeadlineRule("evidence-not-provided", "evidence_request", AutoOutcome.RECORD_ONLY),
)


@dataclass(frozen=True)
class Policy:
    """Everything the platform enforces, versioned: each event a rule produces names version and rule."""

    windows: Windows = Windows()
    rules: tuple[DeadlineRule, ...] = DEFAULT_RULES
    eligibility: Eligibility = Eligibility()
    scorecard: ScorecardThresholds = ScorecardThresholds()
    reminders: Reminders = Reminders()
    default_language: str = "en"
    """The language of people's words when a request asks for none of ours (``Accept-Language``)."""
    signals: SignalThresholds = SignalThresholds()
    limits: Limits = Limits()

    def __post_init__(self) -> None:
        if self.default_language not in LANGUAGES:
            raise InvalidValue(
                f"default_language must be one of {', '.join(LANGUAGES)}, not {self.default_language!r}"
            )
        seen: set[str] = set()
        for rule in self.rules:
            allowed = ALLOWED_OUTCOMES.get(rule.deadline)
            if allowed is None:
                raise InvalidValue(
                    f"rule {rule.name!r}: no deadline {rule.deadline!r} "
                    f"(the deadlines are {', '.join(ALLOWED_OUTCOMES)})"
                )
            if rule.outcome not in allowed:
                raise InvalidValue(
                    f"rule {rule.name!r}: {rule.outcome.value!r} is not an outcome for {rule.deadline} "
                    f"(possible: {', '.join(sorted(o.value for o in allowed))})"
                )
            if rule.deadline in seen:
                raise InvalidValue(f"two rules for the deadline {rule.deadline}")
            seen.add(rule.deadline)
        if self.scorecard.watch_min > self.scorecard.good_min:
            raise InvalidValue("the scorecard's watch_min must not be above its good_min")

    @property
    def version(self) -> str:
        return self.windows.version

    def deadline_terms(self, status: str, at: datetime) -> dict[str, Any] | None:
        """The deadline a claim entering ``status`` at ``at`` opens under this policy, as recorded on
        the event that opens it: name, due time, rule, its outcome and the policy version (None when
        the status waits for no one)."""
        entry = _STATUS_DEADLINE.get(status)
        if entry is None:
            return None
        name, window = entry
        return self.terms(name, at + getattr(self.windows, window))

    def terms(self, deadline: str, due_at: datetime) -> dict[str, Any]:
        """The recorded form of the deadline ``deadline`` due at ``due_at`` under this policy."""
        rule = self.rule_for(deadline)
        return {
            "name": deadline,
            "due_at": due_at,
            "rule": rule.name,
            "outcome": rule.outcome.value,
            "policy_version": self.version,
        }

    def rule_for(self, deadline: str) -> DeadlineRule:
        """The rule of a deadline name as claims show it (``evidence_from_buyer`` -> evidence_request)."""
        key = deadline_key(deadline)
        for rule in self.rules:
            if rule.deadline == key:
                return rule
        return DeadlineRule(f"{key}-recorded", key, AutoOutcome.RECORD_ONLY)


def deadline_key(deadline: str) -> str:
    """The deadline a rule names for a deadline as claims show it (``evidence_from_buyer`` ->
    ``evidence_request``): also its section of the published rules (``/policy#evidence_request``)."""
    return "evidence_request" if deadline.startswith("evidence_from_") else deadline
