"""The commands on a claim: ``POST /claims/{claim_id}/<command>``, one route per row of :data:`COMMANDS`.

Each route: the command's body in, one application call on the claim the access check loaded, the
claim out (``ClaimPublic``, its version as the ETag, the position of its last event).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Response

from disputes.api.auth.access import Permit
from disputes.api.deps import App, CurrentActor, ExpectedVersion
from disputes.api.responses import claim_answer, problem_responses
from disputes.api.schemas.claims import ClaimPublic
from disputes.api.schemas.commands import (
    AppealCreate,
    AppealDecisionCreate,
    AssignmentCreate,
    ClosureCreate,
    DecisionCreate,
    EvidenceCreate,
    EvidenceRequestCreate,
    LegalEscalationCreate,
    LegalOutcomeCreate,
    MediationRequestCreate,
    MerchantResponseCreate,
    MessageCreate,
    OfferAnswerCreate,
    RefundCreate,
    ReturnReceiptCreate,
    ReturnShipmentCreate,
    WithdrawalCreate,
)
from disputes.api.schemas.common import RequestBody
from disputes.application.claims import CommandResult, DisputesApplication

DESCRIBED = {
    401: "no token, or an unknown, revoked or expired one",
    403: "the claim is visible to you but you may not do this (docs/access-control.md)",
    404: "no such claim, or not visible to you",
    409: "refused by a claim rule, or a concurrent change won",
    412: "If-Match names a version that is not the current one",
    422: "malformed input",
}
router = APIRouter(prefix="/claims", tags=["claims"])


@dataclass(frozen=True)
class Command:
    """One command route: ``POST /claims/{claim_id}/<path>`` with ``body``, answered by ``handler``."""

    path: str
    body: type[RequestBody]
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
        "appeal",
        AppealCreate,
        DisputesApplication.lodge_appeal,
        "Appeal the mediator's decision, once, within the policy's appeal window (the claim's buyer or merchant).",
    ),
    Command(
        "appeal-decision",
        AppealDecisionCreate,
        DisputesApplication.decide_appeal,
        "Uphold or overturn the decision under appeal (a mediator other than the one who decided).",
    ),
    Command(
        "closure",
        ClosureCreate,
        DisputesApplication.close_claim,
        "Close the case with a summary (the assigned mediator).",
    ),
)


OPERATION_NAMES = {
    "merchant-response": "respond_to_claim",
    "offer-answer": "answer_offer",
    "messages": "post_message",
    "evidence": "add_evidence",
    "mediation-request": "request_mediation",
    "assignment": "assign_mediator",
    "evidence-request": "request_evidence",
    "decision": "decide_claim",
    "return-shipment": "ship_return",
    "return-receipt": "receive_return",
    "refunds": "record_refund",
    "legal-escalation": "escalate_to_legal",
    "legal-outcome": "record_legal_outcome",
    "withdrawal": "withdraw_claim",
    "appeal": "appeal_decision",
    "appeal-decision": "decide_appeal",
    "closure": "close_claim",
}
"""Each command route's name: its operationId in the API document (``respondToClaim``)."""


def _add_command_route(command: Command) -> None:
    def endpoint(
        claim_id: str,
        body: RequestBody,
        response: Response,
        app: App,
        actor: CurrentActor,
        access: Permit,
        version: ExpectedVersion,
    ) -> ClaimPublic:
        claim = access.the_claim  # loaded once, by the access check
        result = command.handler(app, actor, claim, **body.model_dump(), expected_version=version)
        return claim_answer(response, app, result.claim, result.position)

    # FastAPI reads the body's schema from the annotation: give each route its own.
    endpoint.__annotations__ = {**endpoint.__annotations__, "body": command.body}
    endpoint.__doc__ = command.summary
    endpoint.__name__ = OPERATION_NAMES[command.path]
    router.add_api_route(
        f"/{{claim_id}}/{command.path}",
        endpoint,
        methods=["POST"],
        responses=problem_responses(DESCRIBED),
        summary=command.summary.rstrip("."),
        name=OPERATION_NAMES[command.path],
    )


for _command in COMMANDS:
    _add_command_route(_command)
