"""Request and response schemas of the HTTP contract (shared/API.md).

Requests are strict: unknown fields, wrong JSON types (a number where a string is due, "true" or 1 for
a boolean, "5" for an integer), amounts that are not decimal strings, unknown enum values and naive times are all refused
with 422 before the application is called.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)

from disputes.domain.claim import Claim
from disputes.domain.parties import PRINCIPAL_ID_PATTERN, TOKEN_ROLES
from disputes.domain.policy import Windows
from disputes.domain.vocabulary import (
    ClaimKind,
    ClaimReason,
    ClaimStatus,
    EvidenceKind,
    MerchantDecision,
    Outcome,
    Party,
    ReturnCondition,
)
from disputes.event_data import EventRecord, plain
from disputes.principals import TokenRecord

AMOUNT_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,4})?$"

Amount = Annotated[
    str,
    StringConstraints(pattern=AMOUNT_PATTERN, max_length=18),
    Field(description='Decimal string in the claim\'s currency, e.g. "12.50"', examples=["12.50"]),
]
Currency = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217 code", examples=["CNY"])
]
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$")


def _rfc3339_text(value: Any) -> Any:
    """Refuse what lax pydantic would take for a time: a JSON number or a digit string (Unix seconds)."""
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 time with a zone, e.g. 2026-11-20T09:00:00Z")
    return value


Time = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]
PrincipalId = Annotated[str, StringConstraints(pattern=PRINCIPAL_ID_PATTERN)]
Reference = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
# Tab, line feed and carriage return are text; other control characters are refused (input_guard
# refuses them first, in any string; the pattern says so in the OpenAPI document).
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=TEXT_PATTERN)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=TEXT_PATTERN)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
Uri = Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://[^\s]+$")]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClaimCreate(Request):
    order_id: PrincipalId
    merchant_id: PrincipalId
    kind: ClaimKind
    reason: ClaimReason
    order_amount: Amount
    claimed_amount: Amount
    currency: Currency
    delivered_at: Time | None = Field(description="null when the order was not delivered")
    description: LongText


class MerchantResponseCreate(Request):
    decision: MerchantDecision
    amount: Amount | None = Field(default=None, description="the offered amount; only with 'offer'")
    message: Annotated[str, StringConstraints(max_length=4000, pattern=TEXT_PATTERN)] = ""


class OfferAnswerCreate(Request):
    accept: StrictBool


class MessageCreate(Request):
    body: LongText


class EvidenceCreate(Request):
    kind: EvidenceKind
    description: LongText
    sha256: Sha256
    size_bytes: Annotated[StrictInt, Field(ge=0, le=10 * 1024**3)]
    uri: Uri | None = None


class MediationRequestCreate(Request):
    reason: LongText


class AssignmentCreate(Request):
    mediator_id: PrincipalId | None = Field(default=None, description="default: the calling mediator")


class EvidenceRequestCreate(Request):
    from_party: Party
    description: LongText
    due_at: Time | None = Field(default=None, description="default: the policy's evidence window")


class DecisionCreate(Request):
    outcome: Outcome
    amount: Amount | None = Field(
        default=None, description="for refund outcomes; full_refund defaults to the claim"
    )
    rationale: LongText


class ReturnShipmentCreate(Request):
    carrier: ShortText
    tracking_number: Reference


class ReturnReceiptCreate(Request):
    condition: ReturnCondition


class RefundCreate(Request):
    amount: Amount
    payment_reference: Reference


class LegalEscalationCreate(Request):
    reason: LongText
    case_reference: Reference | None = None


class LegalOutcomeCreate(Request):
    outcome: LongText
    reference: Reference


class WithdrawalCreate(Request):
    reason: LongText


class ClosureCreate(Request):
    summary: LongText


# ---- responses ----------------------------------------------------------------------------------
class DeadlinePublic(BaseModel):
    name: str = Field(examples=["merchant_response"])
    due_at: datetime


class ClaimPublic(BaseModel):
    id: str
    version: int
    status: ClaimStatus
    kind: ClaimKind
    reason: ClaimReason
    order_id: str
    buyer_id: str
    merchant_id: str
    currency: str
    order_amount: str
    claimed_amount: str
    offer_amount: str | None
    agreed_amount: str | None
    refunded_amount: str
    outcome: Outcome | None
    mediator_id: str | None
    delivered_at: datetime | None
    deadlines: list[DeadlinePublic]
    opened_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, claim: Claim, windows: Windows) -> ClaimPublic:
        def amount(money: Any) -> str | None:
            return None if money is None else str(money.amount)

        return cls(
            id=str(claim.id),
            version=claim.version,
            status=ClaimStatus(claim.status),
            kind=ClaimKind(claim.kind),
            reason=ClaimReason(claim.reason),
            order_id=claim.order_id,
            buyer_id=claim.buyer_id,
            merchant_id=claim.merchant_id,
            currency=claim.currency,
            order_amount=str(claim.order_amount.amount),
            claimed_amount=str(claim.claimed_amount.amount),
            offer_amount=amount(claim.offer_amount),
            agreed_amount=amount(claim.agreed_amount),
            refunded_amount=str(claim.refunded_amount.amount),
            outcome=None if claim.outcome is None else Outcome(claim.outcome),
            mediator_id=claim.mediator_id,
            delivered_at=claim.delivered_at,
            deadlines=[DeadlinePublic(name=d.name, due_at=d.due_at) for d in claim.deadlines(windows)],
            opened_at=claim.opened_at,
            updated_at=claim.modified_on,
        )


class ActorPublic(BaseModel):
    role: str
    id: str


class HistoryEntry(BaseModel):
    version: int
    type: str = Field(examples=["ClaimOpened"])
    recorded_at: datetime
    actor: ActorPublic
    data: dict[str, Any]

    @classmethod
    def of(cls, record: EventRecord) -> HistoryEntry:
        return cls(
            version=record.version,
            type=record.type,
            recorded_at=record.recorded_at,
            actor=ActorPublic(**record.actor.as_dict()),
            data=plain(record.data),
        )


class FieldChange(BaseModel):
    before: Any
    after: Any


class HistoryChangesEntry(HistoryEntry):
    """A history entry with the claim's public fields that this event changed."""

    changes: dict[str, FieldChange]


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    claim_id: str | None = None
    errors: list[dict[str, Any]] | None = None


class TokenRole(StrEnum):
    """The roles a token may be issued for (every role but the platform's own ``system``)."""

    BUYER = "buyer"
    MERCHANT = "merchant"
    MEDIATOR = "mediator"
    AUDITOR = "auditor"
    REGULATOR = "regulator"
    ADMIN = "admin"


assert {r.value for r in TokenRole} == {r.value for r in TOKEN_ROLES}
MAX_TTL_SECONDS = 10 * 366 * 24 * 3600


class PrincipalCreate(Request):
    """A principal to issue a token for; the token expires at ``expires_at``, after ``ttl_seconds``, or never."""

    role: TokenRole
    id: PrincipalId
    expires_at: Time | None = Field(default=None, description="RFC 3339, in the future")
    ttl_seconds: StrictInt | None = Field(
        default=None, ge=1, le=MAX_TTL_SECONDS, description="seconds from now until the token expires"
    )

    @model_validator(mode="after")
    def _one_expiry(self) -> PrincipalCreate:
        if self.expires_at is not None and self.ttl_seconds is not None:
            raise ValueError("give expires_at or ttl_seconds, not both")
        return self


class PrincipalPublic(BaseModel):
    """A token as the admins see it: whose it is and its life, never the token nor its digest."""

    token_id: str
    role: TokenRole
    id: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    status: Literal["active", "revoked", "expired"]

    @classmethod
    def of(cls, record: TokenRecord, now: datetime) -> PrincipalPublic:
        return cls(
            token_id=record.token_id,
            role=TokenRole(record.role.value),
            id=record.principal_id,
            created_at=record.created_at,
            expires_at=record.expires_at,
            revoked_at=record.revoked_at,
            status=record.status(now),
        )


class PrincipalCreated(PrincipalPublic):
    token: str = Field(description="the bearer token: shown in this answer only, never again")


class Health(BaseModel):
    status: str
