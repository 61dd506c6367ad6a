"""Claim commands and the claim's own reads. Each route: schema in, one application call, schema out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from disputes.api.deps import App, CurrentActor, ExpectedVersion, require_role
from disputes.api.problems import PROBLEM_MEDIA_TYPE, ApiProblem
from disputes.api.schemas import (
    AssignmentCreate,
    ClaimCreate,
    ClaimPublic,
    ClosureCreate,
    DecisionCreate,
    EvidenceCreate,
    EvidenceRequestCreate,
    HistoryEntry,
    LegalEscalationCreate,
    LegalOutcomeCreate,
    MediationRequestCreate,
    MerchantResponseCreate,
    MessageCreate,
    OfferAnswerCreate,
    Problem,
    RefundCreate,
    ReturnReceiptCreate,
    ReturnShipmentCreate,
    WithdrawalCreate,
)
from disputes.application import CommandResult, DisputesApplication
from disputes.domain.claim import Claim
from disputes.domain.parties import Actor, Role

POSITION_HEADER = "X-Disputes-Position"


def _problems(*codes: int) -> dict[int | str, dict[str, object]]:
    described = {
        401: "no token, or an unknown, revoked or expired one",
        403: "the claim is visible to you but you may not do this",
        404: "no such claim, or not visible to you",
        409: "refused by a claim rule, or a concurrent change won",
        412: "If-Match names a version that is not the current one",
        422: "malformed input",
    }
    return {
        code: {"model": Problem, "description": described[code], "content": {PROBLEM_MEDIA_TYPE: {}}}
        for code in codes
    }


COMMAND_ERRORS = _problems(401, 403, 404, 409, 412, 422)
router = APIRouter(prefix="/claims", tags=["claims"])


def _answer(response: Response, app: DisputesApplication, result: CommandResult) -> ClaimPublic:
    response.headers["ETag"] = f'"{result.claim.version}"'
    if result.position is not None:
        response.headers[POSITION_HEADER] = str(result.position)
    return ClaimPublic.of(result.claim, app.windows)


def _shown(response: Response, app: DisputesApplication, claim: Claim) -> ClaimPublic:
    response.headers["ETag"] = f'"{claim.version}"'
    return ClaimPublic.of(claim, app.windows)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=_problems(401, 403, 422),
)
def open_claim(
    body: ClaimCreate,
    response: Response,
    app: App,
    actor: Annotated[Actor, Depends(require_role(Role.BUYER))],
) -> ClaimPublic:
    """Open a claim on an order (buyers)."""
    result = app.open_claim(actor, **body.model_dump())
    response.headers["Location"] = f"/claims/{result.claim.id}"
    return _answer(response, app, result)


@router.get("/{claim_id}", responses=_problems(401, 403, 404, 422))
def get_claim(
    claim_id: str,
    response: Response,
    app: App,
    actor: CurrentActor,
    as_of_version: Annotated[int | None, Query(ge=1, description="the claim at this version")] = None,
    as_of: Annotated[
        str | None, Query(description="RFC 3339 time: the claim as it stood then (auditors, mediators)")
    ] = None,
) -> ClaimPublic:
    """The claim now, or as it stood at a version or a time."""
    if as_of_version is not None and as_of is not None:
        raise ApiProblem(422, "validation-error", "Invalid request", "give as_of_version or as_of, not both")
    if as_of_version is not None:
        return _shown(response, app, app.get_claim_at_version(actor, claim_id, as_of_version))
    if as_of is not None:
        return _shown(response, app, app.get_claim_as_of(actor, claim_id, parse_time(as_of, "as_of")))
    return _shown(response, app, app.get_claim(actor, claim_id))


@router.get("/{claim_id}/history", responses=_problems(401, 404))
def get_history(claim_id: str, app: App, actor: CurrentActor) -> list[HistoryEntry]:
    """Every event of the claim in order, with who did it and when."""
    return [HistoryEntry.of(r) for r in app.history(actor, claim_id)]


@router.post("/{claim_id}/merchant-response", responses=COMMAND_ERRORS)
def merchant_response(
    claim_id: str,
    body: MerchantResponseCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
    version: ExpectedVersion,
) -> ClaimPublic:
    """Accept, reject, or offer a partial amount (the claim's merchant)."""
    result = app.respond(actor, claim_id, **body.model_dump(), expected_version=version)
    return _answer(response, app, result)


@router.post("/{claim_id}/offer-answer", responses=COMMAND_ERRORS)
def offer_answer(
    claim_id: str,
    body: OfferAnswerCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
    version: ExpectedVersion,
) -> ClaimPublic:
    """Accept or decline the merchant's offer (the claim's buyer)."""
    return _answer(
        response, app, app.answer_offer(actor, claim_id, **body.model_dump(), expected_version=version)
    )


@router.post("/{claim_id}/messages", responses=COMMAND_ERRORS)
def post_message(
    claim_id: str,
    body: MessageCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
    version: ExpectedVersion,
) -> ClaimPublic:
    """Post a message to the case (buyer, merchant, assigned mediator)."""
    return _answer(
        response, app, app.post_message(actor, claim_id, **body.model_dump(), expected_version=version)
    )


@router.post("/{claim_id}/evidence", responses=COMMAND_ERRORS)
def add_evidence(
    claim_id: str,
    body: EvidenceCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
    version: ExpectedVersion,
) -> ClaimPublic:
    """Add evidence by its digest and size (buyer, merchant, assigned mediator)."""
    return _answer(
        response, app, app.add_evidence(actor, claim_id, **body.model_dump(), expected_version=version)
    )


@router.post("/{claim_id}/mediation-request", responses=COMMAND_ERRORS)
def request_mediation(
    claim_id: str,
    body: MediationRequestCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
    version: ExpectedVersion,
) -> ClaimPublic:
    """Ask the platform to step in (the claim's buyer or merchant)."""
    result = app.request_mediation(actor, claim_id, **body.model_dump(), expected_version=version)
    return _answer(response, app, result)


@router.post("/{claim_id}/assignment", responses=COMMAND_ERRORS)
def assign_mediator(
    claim_id: str,
    body: AssignmentCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
    version: ExpectedVersion,
) -> ClaimPublic:
    """Assign a mediator, by default the caller (mediators)."""
    result = app.assign_mediator(actor, claim_id, **body.model_dump(), expected_version=version)
    return _answer(response, app, result)


@router.post("/{claim_id}/evidence-request", responses=COMMAND_ERRORS)
def request_evidence(
    claim_id: str,
    body: EvidenceRequestCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
    version: ExpectedVersion,
) -> ClaimPublic:
    """Ask a party for evidence by a due time (the assigned mediator)."""
    result = app.request_evidence(actor, claim_id, **body.model_dump(), expected_version=version)
    return _answer(response, app, result)


@router.post("/{claim_id}/decision", responses=COMMAND_ERRORS)
def decide(
    claim_id: str,
    body: DecisionCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
    version: ExpectedVersion,
) -> ClaimPublic:
    """Decide the case under mediation (the assigned mediator)."""
    return _answer(
        response, app, app.decide_claim(actor, claim_id, **body.model_dump(), expected_version=version)
    )


@router.post("/{claim_id}/return-shipment", responses=COMMAND_ERRORS)
def ship_return(
    claim_id: str,
    body: ReturnShipmentCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
    version: ExpectedVersion,
) -> ClaimPublic:
    """Record the return parcel's carrier and tracking number (the claim's buyer)."""
    return _answer(
        response, app, app.ship_return(actor, claim_id, **body.model_dump(), expected_version=version)
    )


@router.post("/{claim_id}/return-receipt", responses=COMMAND_ERRORS)
def receive_return(
    claim_id: str,
    body: ReturnReceiptCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
    version: ExpectedVersion,
) -> ClaimPublic:
    """Record the returned goods' arrival and condition (the claim's merchant)."""
    result = app.receive_return(actor, claim_id, **body.model_dump(), expected_version=version)
    return _answer(response, app, result)


@router.post("/{claim_id}/refunds", responses=COMMAND_ERRORS)
def refund(
    claim_id: str,
    body: RefundCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
    version: ExpectedVersion,
) -> ClaimPublic:
    """Record a refund paid to the buyer (the claim's merchant or the assigned mediator)."""
    return _answer(response, app, app.refund(actor, claim_id, **body.model_dump(), expected_version=version))


@router.post("/{claim_id}/legal-escalation", responses=COMMAND_ERRORS)
def escalate_to_legal(
    claim_id: str,
    body: LegalEscalationCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
    version: ExpectedVersion,
) -> ClaimPublic:
    """Take the case to court or arbitration (buyer, merchant, assigned mediator)."""
    result = app.escalate_to_legal(actor, claim_id, **body.model_dump(), expected_version=version)
    return _answer(response, app, result)


@router.post("/{claim_id}/legal-outcome", responses=COMMAND_ERRORS)
def legal_outcome(
    claim_id: str,
    body: LegalOutcomeCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
    version: ExpectedVersion,
) -> ClaimPublic:
    """Record the court's or arbitrator's outcome (mediators)."""
    result = app.record_legal_outcome(actor, claim_id, **body.model_dump(), expected_version=version)
    return _answer(response, app, result)


@router.post("/{claim_id}/withdrawal", responses=COMMAND_ERRORS)
def withdraw(
    claim_id: str,
    body: WithdrawalCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
    version: ExpectedVersion,
) -> ClaimPublic:
    """Withdraw the claim (the claim's buyer)."""
    return _answer(
        response, app, app.withdraw(actor, claim_id, **body.model_dump(), expected_version=version)
    )


@router.post("/{claim_id}/closure", responses=COMMAND_ERRORS)
def close(
    claim_id: str,
    body: ClosureCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
    version: ExpectedVersion,
) -> ClaimPublic:
    """Close the case with a summary (the assigned mediator)."""
    return _answer(
        response, app, app.close_claim(actor, claim_id, **body.model_dump(), expected_version=version)
    )


def parse_time(value: str, name: str) -> datetime:
    """An RFC 3339 time with a zone, or a 422 problem naming the parameter."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ApiProblem(
            422, "validation-error", "Invalid request", f"{name} must be an RFC 3339 time with a zone"
        )
    return parsed.astimezone(UTC)
