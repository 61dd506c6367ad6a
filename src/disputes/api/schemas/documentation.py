"""Where to start: the API's links, and the problem types' documentation."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ApiIndex(BaseModel):
    name: str
    version: str
    links: dict[str, str] = Field(
        description="docs (Swagger UI), redoc, openapi (this document), policy (the rules in force), "
        "problems (every error type), health, readiness, metrics"
    )


class ProblemTypePublic(BaseModel):
    type: str = Field(description="the URI a problem's `type` carries")
    status: int
    title: str
    when: str = Field(description="when it is answered, and what to do")
    section: str = Field(description="where it comes from")
