"""The closed vocabularies of a claim: kinds, reasons, statuses, decisions, outcomes."""

from __future__ import annotations

from enum import StrEnum


class ClaimKind(StrEnum):
    REFUND_ONLY = "refund_only"
    RETURN_AND_REFUND = "return_and_refund"
    EXCHANGE = "exchange"
    REPAIR = "repair"


class ClaimReason(StrEnum):
    NOT_RECEIVED = "not_received"
    NOT_AS_DESCRIBED = "not_as_described"
    DAMAGED = "damaged"
    DEFECTIVE = "defective"
    NO_REASON_RETURN = "no_reason_return"
    UNAUTHORIZED_CHARGE = "unauthorized_charge"
    OTHER = "other"


class ClaimStatus(StrEnum):
    AWAITING_MERCHANT = "awaiting_merchant"
    OFFER_PENDING = "offer_pending"
    OFFER_DECLINED = "offer_declined"
    MERCHANT_REJECTED = "merchant_rejected"
    UNDER_MEDIATION = "under_mediation"
    AWAITING_RETURN = "awaiting_return"
    RETURN_IN_TRANSIT = "return_in_transit"
    REFUND_PENDING = "refund_pending"
    REFUNDED = "refunded"
    FULFILMENT_PENDING = "fulfilment_pending"
    CLAIM_REJECTED = "claim_rejected"
    ESCALATED_TO_LEGAL = "escalated_to_legal"
    LEGAL_CONCLUDED = "legal_concluded"
    UNDER_APPEAL = "under_appeal"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


TERMINAL_STATUSES = frozenset({ClaimStatus.WITHDRAWN, ClaimStatus.CLOSED})


class MerchantDecision(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    OFFER = "offer"


class EvidenceKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    DOCUMENT = "document"
    TRACKING = "tracking"
    CHAT_LOG = "chat_log"
    OTHER = "other"


class Party(StrEnum):
    BUYER = "buyer"
    MERCHANT = "merchant"


class Outcome(StrEnum):
    FULL_REFUND = "full_refund"
    PARTIAL_REFUND = "partial_refund"
    RETURN_THEN_REFUND = "return_then_refund"
    EXCHANGE = "exchange"
    REPAIR = "repair"
    CLAIM_REJECTED = "claim_rejected"


class AppealOutcome(StrEnum):
    """How an appeal (of a claim's decision, or of a merchant's standing) was decided."""

    UPHELD = "upheld"
    """The decision (the warning or restriction) stands."""
    OVERTURNED = "overturned"
    """It is undone: a new decision replaces it (the standing goes back to the tier before it)."""


class ReturnCondition(StrEnum):
    AS_SENT = "as_sent"
    DAMAGED = "damaged"
    NOT_RECEIVED = "not_received"


LANGUAGES = ("en", "zh-CN")
"""The languages people are spoken to in (tags as HTTP writes them): every message exists in each."""
