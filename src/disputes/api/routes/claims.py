"""Claim commands and the claim's own reads. Each route: schema in, one application call, schema out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from disputes.api.access import Permit
from disputes.api.deps import App, CurrentActor, ExpectedVersion
from disputes.api.problems import PROBLEM_MEDIA_TYPE, ApiProblem
from disputes.api.routes.audit import history_with_diff
from disputes.api.schemas import (
    AssignmentCreate,
    ClaimCreate,
    ClaimPublic,
    ClosureCreate,
    DecisionCreate,
    EvidenceCreate,
    EvidenceRequestCreate,
    HistoryChangesEntry,
    HistoryEntry,
    LegalEscalationCreate,
    LegalOutcomeCreate,
    MediationRequestCreate,
    MerchantResponseCreate,
    MessageCreate,
    OfferAnswerCreate,
    Problem,
    RefundCreate,
    Request,
    ReturnReceiptCreate,
    ReturnShipmentCreate,
    WithdrawalCreate,
)
from disputes.application import CommandResult, DisputesApplication
from disputes.domain.claim import Claim
from disputes.event_data import parse_rfc3339

POSITION_HEADER = "X-Disputes-Position"


def _problems(*codes: int) -> dict[int | str, dict[str, object]]:
    described = {
        401: "no token, or an unknown, revoked or expired one",
        403: "the claim is visible to you but you may not do this (docs/access-control.md)",
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
    summary="Open a claim on an order (buyers)",
)
def open_claim(
    body: ClaimCreate,
    response: Response,
    app: App,
    actor: CurrentActor,
) -> ClaimPublic:
    """Open a claim on an order (buyers)."""
    result = app.open_claim(actor, **body.model_dump())
    response.headers["Location"] = f"/claims/{result.claim.id}"
    return _answer(response, app, result)


@router.get(
    "/{claim_id}",
    responses=_problems(401, 403, 404, 422),
    summary="The claim now, or as it stood at a version or a time",
)
def get_claim(
    claim_id: str,
    response: Response,
    app: App,
    actor: CurrentActor,
    access: Permit,
    as_of_version: Annotated[int | None, Query(ge=1, description="the claim at this version")] = None,
    as_of: Annotated[
        str | None, Query(description="RFC 3339 time: the claim as it stood then (auditors, mediators)")
    ] = None,
) -> ClaimPublic:
    """The claim now, or as it stood at a version or a time."""
    if as_of_version is not None and as_of is not None:
        raise ApiProblem(422, "validation-error", "Invalid request", "give as_of_version or as_of, not both")
    claim = access.the_claim
    if as_of_version is not None:
        return _shown(response, app, app.get_claim_at_version(actor, claim, as_of_version))
    if as_of is not None:
        return _shown(response, app, app.get_claim_as_of(actor, claim, parse_time(as_of, "as_of")))
    return _shown(response, app, app.get_claim(actor, claim))


@router.get(
    "/{claim_id}/history",
    responses=_problems(401, 404),
    summary="Every event of the claim in order, with who did it and when",
)
def get_history(
    claim_id: str,
    app: App,
    actor: CurrentActor,
    access: Permit,
    diff: Annotated[
        bool, Query(description="add to each event the fields it changed (before, after)")
    ] = False,
) -> list[HistoryChangesEntry] | list[HistoryEntry]:
    """Every event of the claim in order, with who did it and when."""
    records = app.history(actor, access.the_claim)
    if diff:
        return [HistoryChangesEntry.model_validate(entry) for entry in history_with_diff(app, records)]
    return [HistoryEntry.of(r) for r in records]


@dataclass(frozen=True)
class Command:
    """One command route: ``POST /claims/{claim_id}/<path>`` with ``body``, answered by ``handler``."""

    path: str
    body: type[Request]
    handler: Callable[..., CommandResult]
    summary: str


COMMANDS = (
    Command(
        "merchant-response",
        MerchantResponseCreate,
        DisputesApplication.respond,
        "Accept, reject, or offer a partial amount (the claim's merchant).",
    ),
    Command(
        "offer-answer",
        OfferAnswerCreate,
        DisputesApplication.answer_offer,
        "Accept or decline the merchant's offer (the claim's buyer).",
    ),
    Command(
        "messages",
        MessageCreate,
        DisputesApplication.post_message,
        "Post a message to the case (buyer, merchant, assigned mediator).",
    ),
    Command(
        "evidence",
        EvidenceCreate,
        DisputesApplication.add_evidence,
        "Add evidence by its digest and size (buyer, merchant, assigned mediator).",
    ),
    Command(
        "mediation-request",
        MediationRequestCreate,
        DisputesApplication.request_mediation,
        "Ask the platform to step in (the claim's buyer or merchant).",
    ),
    Command(
        "assignment",
        AssignmentCreate,
        DisputesApplication.assign_mediator,
        "Assign a mediator, by default the caller (mediators).",
    ),
    Command(
        "evidence-request",
        EvidenceRequestCreate,
        DisputesApplication.request_evidence,
        "Ask a party for evidence by a due time (the assigned mediator).",
    ),
    Command(
        "decision",
        DecisionCreate,
        DisputesApplication.decide_claim,
        "Decide the case under mediation (the assigned mediator).",
    ),
    Command(
        "return-shipment",
        ReturnShipmentCreate,
        DisputesApplication.ship_return,
        "Record the return parcel's carrier and tracking number (the claim's buyer).",
    ),
    Command(
        "return-receipt",
        ReturnReceiptCreate,
        DisputesApplication.receive_return,
        "Record the returned goods' arrival and condition (the claim's merchant).",
    ),
    Command(
        "refunds",
        RefundCreate,
        DisputesApplication.refund,
        "Record a refund paid to the buyer (the claim's merchant or the assigned mediator).",
    ),
    Command(
        "legal-escalation",
        LegalEscalationCreate,
        DisputesApplication.escalate_to_legal,
        "Take the case to court or arbitration (buyer, merchant, assigned mediator).",
    ),
    Command(
        "legal-outcome",
        LegalOutcomeCreate,
        DisputesApplication.record_legal_outcome,
        "Record the court's or arbitrator's outcome (mediators).",
    ),
    Command(
        "withdrawal",
        WithdrawalCreate,
        DisputesApplication.withdraw,
        "Withdraw the claim (the claim's buyer).",
    ),
    Command(
        "closure",
        ClosureCreate,
        DisputesApplication.close_claim,
        "Close the case with a summary (the assigned mediator).",
    ),
)


def _add_command_route(command: Command) -> None:
    def endpoint(
        claim_id: str,
        body: Request,
        response: Response,
        app: App,
        actor: CurrentActor,
        access: Permit,
        version: ExpectedVersion,
    ) -> ClaimPublic:
        claim = access.the_claim  # loaded once, by the access check
        result = command.handler(app, actor, claim, **body.model_dump(), expected_version=version)
        return _answer(response, app, result)

    # FastAPI reads the body's schema from the annotation: give each route its own.
    endpoint.__annotations__ = {**endpoint.__annotations__, "body": command.body}
    endpoint.__doc__ = command.summary
    endpoint.__name__ = command.path.replace("-", "_")
    router.add_api_route(
        f"/{{claim_id}}/{command.path}",
        endpoint,
        methods=["POST"],
        responses=COMMAND_ERRORS,
        summary=command.summary.rstrip("."),
        name=command.path,
    )


for _command in COMMANDS:
    _add_command_route(_command)


def parse_time(value: str, name: str) -> datetime:
    """An RFC 3339 time with a zone, or a 422 problem naming the parameter."""
    try:
        return parse_rfc3339(value)
    except ValueError:
        raise ApiProblem(
            422, "validation-error", "Invalid request", f"{name} must be an RFC 3339 time with a zone"
        ) from None
