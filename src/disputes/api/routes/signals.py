"""A claim's signals for the mediators and auditors, served from the ``signals`` view."""

from __future__ import annotations

from fastapi import APIRouter, Response

from disputes.api.auth.access import Permit
from disputes.api.deps import ContainerDep, CurrentActor, Language, MinPosition, Reads, reading
from disputes.api.responses import problem_responses
from disputes.api.schemas.signals import SignalPublic
from disputes.application.visibility import may_read_signals
from disputes.domain import errors
from projections.signals import SignalReader

DESCRIBED = {
    401: "no token, or an unknown, revoked or expired one",
    403: "only mediators and auditors read signals (never the buyer or merchant concerned)",
    404: "no such claim, or not visible to you",
    503: "the views have not caught up with min_position yet; retry after Retry-After seconds",
}
router = APIRouter(prefix="/claims", tags=["reads"])


@router.get(
    "/{claim_id}/signals",
    responses=problem_responses(DESCRIBED, 401, 403, 404, 503),
    summary="What may point at abuse in this case, and why (mediators, auditors)",
)
def claim_signals(
    claim_id: str,
    reads: Reads,
    response: Response,
    container: ContainerDep,
    actor: CurrentActor,
    access: Permit,
    lang: Language,
    min_position: MinPosition = None,
) -> list[SignalPublic]:
    """What may point at abuse in this case, why, and the claims or digests behind each (decides nothing)."""
    if not may_read_signals(actor):  # the matrix refused already; the rule's own home says so again
        raise errors.NotPermitted(f"{actor} may not read signals")
    policy = container.app.policy
    with reading(reads, response, ["signals"], min_position) as conn:
        found = SignalReader(conn, policy.signals, policy.version, lang).signals(str(access.the_claim.id))
    return [SignalPublic.model_validate(signal) for signal in found]
