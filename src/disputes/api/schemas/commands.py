"""The bodies of the commands on a claim (``POST /claims/{claim_id}/<command>``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StrictInt, StringConstraints

from disputes.api.schemas.common import (
    TEXT_PATTERN,
    Amount,
    LongText,
    PrincipalId,
    Reference,
    RequestBody,
    Sha256,
    ShortText,
    Time,
    Uri,
)
from disputes.domain.vocabulary import (
    AppealOutcome,
    EvidenceKind,
    MerchantDecision,
    Outcome,
    Party,
    ReturnCondition,
)


class MerchantResponseCreate(RequestBody):
    decision: MerchantDecision
    amount: Amount | None = Field(default=None, description="the offered amount; only with 'offer'")
    message: Annotated[str, StringConstraints(max_length=4000, pattern=TEXT_PATTERN)] = ""


class OfferAnswerCreate(RequestBody):
    accept: StrictBool


class MessageCreate(RequestBody):
    body: LongText


class EvidenceCreate(RequestBody):
    kind: EvidenceKind
    description: LongText
    sha256: Sha256
    size_bytes: Annotated[StrictInt, Field(ge=0, le=10 * 1024**3)]
    uri: Uri | None = None


class MediationRequestCreate(RequestBody):
    reason: LongText


class AssignmentCreate(RequestBody):
    mediator_id: PrincipalId | None = Field(default=None, description="default: the calling mediator")


class EvidenceRequestCreate(RequestBody):
    from_party: Party
    description: LongText
    due_at: Time | None = Field(default=None, description="default: the policy's evidence window")


class DecisionCreate(RequestBody):
    outcome: Outcome
    amount: Amount | None = Field(
        default=None, description="for refund outcomes; full_refund defaults to the claim"
    )
    rationale: LongText


class AppealCreate(RequestBody):
    reason: LongText


class AppealDecisionCreate(RequestBody):
    outcome: AppealOutcome = Field(description="upheld: the decision stands; overturned: a new decision replaces it")
    rationale: LongText
    new_outcome: Outcome | None = Field(default=None, description="when overturned: the new decision's outcome")
    amount: Amount | None = Field(default=None, description="when overturned to a refund: as in /decision")


class ReturnShipmentCreate(RequestBody):
    carrier: ShortText
    tracking_number: Reference


class ReturnReceiptCreate(RequestBody):
    condition: ReturnCondition


class RefundCreate(RequestBody):
    amount: Amount
    payment_reference: Reference


class LegalEscalationCreate(RequestBody):
    reason: LongText
    case_reference: Reference | None = None


class LegalOutcomeCreate(RequestBody):
    outcome: LongText
    reference: Reference


class WithdrawalCreate(RequestBody):
    reason: LongText


class ClosureCreate(RequestBody):
    summary: LongText
