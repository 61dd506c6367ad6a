"""A claim's case file for a court or arbitrator: ``GET /claims/{claim_id}/case-file`` (printable HTML)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from disputes.api.auth.access import Permit
from disputes.api.deps import App, ContainerDep, Language
from disputes.documents.case_file import case_file_html

router = APIRouter(prefix="/claims")


@router.get(
    "/{claim_id}/case-file",
    summary="The case file: one printable HTML document for a court or arbitrator",
    tags=["claims"],
    response_class=HTMLResponse,
)
def get_case_file(claim_id: str, app: App, container: ContainerDep, access: Permit, language: Language) -> HTMLResponse:
    """Order, parties, every event in plain words with its chain hash, evidence, decisions, refunds."""
    html = case_file_html(app, container.settings.database, access.the_claim, language, container.clock())
    return HTMLResponse(html)
