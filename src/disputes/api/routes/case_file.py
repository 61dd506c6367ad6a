"""A claim's case file for a court or arbitrator: ``GET /claims/{claim_id}/case-file`` (printable HTML)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from disputes.api.auth.access import Permit
from disputes.api.deps import App, ContainerDep, Language
from disputes.api.responses import problem_responses
from disputes.documents.case_file import case_file_html

router = APIRouter(prefix="/claims")
DESCRIBED = {
    401: "no token, or an unknown, revoked or expired one",
    403: "the claim is visible to you but its case file is for its parties, mediators and auditors",
    404: "no such claim visible to you",
}


@router.get(
    "/{claim_id}/case-file",
    summary="The case file: one printable HTML document for a court or arbitrator",
    tags=["claims"],
    response_class=HTMLResponse,
    responses=problem_responses(DESCRIBED, 401, 403, 404),
)
def get_case_file(claim_id: str, app: App, container: ContainerDep, access: Permit, language: Language) -> HTMLResponse:
    """Order, parties, every event in plain words with its chain hash, evidence, decisions, refunds."""
    html = case_file_html(app, container.settings.database, access.the_claim, language, container.clock())
    return HTMLResponse(html)
