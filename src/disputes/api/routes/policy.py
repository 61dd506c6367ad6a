"""The published rules (no token): ``GET /policy``, generated from the policy the engine enforces."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from disputes.api.deps import App, Language
from disputes.application.rules import published, published_html

router = APIRouter()


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split("text/html")[0]


@router.get(
    "/policy",
    summary="The rules in force, in plain words, in every language",
    tags=["rules"],
    responses={200: {"content": {"text/html": {}}, "description": "JSON, or a printable page for Accept: text/html"}},
    response_model=None,
)
def get_policy(request: Request, app: App, language: Language) -> Any:
    """Every time limit, what happens when it passes, eligibility, the appeal, rights, other channels."""
    if _wants_html(request):
        return HTMLResponse(published_html(app.policy, language))
    return JSONResponse(published(app.policy))
