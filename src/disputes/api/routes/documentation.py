"""Where to start (``GET /``), and the documentation of each problem type at its ``type`` URI."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from disputes import __version__
from disputes.adapters.problem_docs import ProblemDoc, problem_docs
from disputes.api.problems import PROBLEM_BASE, ApiProblem
from disputes.api.responses import problem_responses
from disputes.api.schemas.documentation import ApiIndex, ProblemTypePublic

router = APIRouter(tags=["documentation"])
LINKS = {
    "docs": "/docs",
    "redoc": "/redoc",
    "openapi": "/openapi.json",
    "policy": "/policy",
    "problems": PROBLEM_BASE.rstrip("/"),
    "health": "/healthz",
    "readiness": "/readyz",
    "metrics": "/metrics",
}
_BOTH = {"text/html": {"schema": {"type": "string"}}, "application/json": {}}
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}}
code{{background:#f3f3f3;padding:0 .2em}}td,th{{text-align:left;padding:.2em .6em;vertical-align:top}}</style>
</head><body>{body}</body></html>
"""


def _public(doc: ProblemDoc) -> ProblemTypePublic:
    return ProblemTypePublic(
        type=PROBLEM_BASE + doc.code, status=doc.status, title=doc.title, when=doc.when, section=doc.section
    )


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


@router.get("/", summary="Where to start: links to the docs, the policy and the problem types")
def index() -> ApiIndex:
    """The API's name and version, and links to its interactive docs (/docs, /redoc), its OpenAPI document,
    the published policy, the problem types and the operations endpoints."""
    return ApiIndex(name="Disputes", version=__version__, links=LINKS)


@router.get(
    "/problems",
    response_class=Response,
    responses={200: {"content": _BOTH, "model": list[ProblemTypePublic]}},
    summary="Every problem type an answer may carry",
)
def problem_index(request: Request) -> Response:
    """Every problem type, as a page (or JSON with `Accept: application/json`)."""
    docs = sorted(problem_docs().values(), key=lambda doc: (doc.status, doc.code))
    if _wants_json(request):
        return JSONResponse([_public(doc).model_dump() for doc in docs])
    rows = "".join(
        f'<tr><td><a href="{PROBLEM_BASE}{doc.code}"><code>{PROBLEM_BASE}{doc.code}</code></a></td>'
        f"<td>{doc.status}</td><td>{html.escape(doc.title)}</td></tr>"
        for doc in docs
    )
    body = f"<h1>Problem types</h1><table><tr><th>type</th><th>status</th><th>title</th></tr>{rows}</table>"
    return HTMLResponse(_PAGE.format(title="Problem types", body=body))


@router.get(
    "/problems/{code}",
    response_class=Response,
    responses={
        200: {"content": _BOTH, "model": ProblemTypePublic},
        **problem_responses({404: "no such problem type"}),
    },
    summary="What a problem type means, and what to do about it",
)
def problem_type(request: Request, code: Annotated[str, Path(max_length=80)]) -> Response:
    """The documentation of the problem whose `type` is this URL (docs/problems.md), as a page (or JSON
    with `Accept: application/json`)."""
    doc = problem_docs().get(code)
    if doc is None:
        raise ApiProblem(404, "not-found", "Not found", f"no problem type {code!r}; see {PROBLEM_BASE.rstrip('/')}")
    if _wants_json(request):
        return JSONResponse(_public(doc).model_dump())
    when = f"<p>{html.escape(doc.when)}</p>" if doc.when else ""
    body = (
        f"<h1>{html.escape(doc.title)}</h1><p><code>{PROBLEM_BASE}{doc.code}</code>, HTTP {doc.status} "
        f"({html.escape(doc.section)})</p>{when}"
        f'<p><a href="{PROBLEM_BASE.rstrip("/")}">Every problem type</a></p>'
    )
    return HTMLResponse(_PAGE.format(title=html.escape(doc.title), body=body))
