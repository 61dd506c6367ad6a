"""What ``POST /exports`` asks for (a period or one claim), and an export job as shown."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from disputes.api.schemas.common import RequestBody


class ExportCreate(RequestBody):
    """Either a period (``from`` and ``to``, RFC 3339 with a zone) or one claim (``claim_id``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: datetime | None = Field(default=None, alias="from", examples=["2026-11-01T00:00:00Z"])
    to: datetime | None = Field(default=None, examples=["2026-12-01T00:00:00Z"])
    claim_id: str | None = None

    @model_validator(mode="after")
    def _one_selection(self) -> ExportCreate:
        period = self.from_ is not None or self.to is not None
        if period == (self.claim_id is not None):
            raise ValueError("give either from and to, or claim_id")
        if period and (self.from_ is None or self.to is None):
            raise ValueError("a period needs both from and to")
        for moment in (self.from_, self.to):
            if moment is not None and moment.utcoffset() is None:
                raise ValueError("times need a time zone")
        if self.from_ is not None and self.to is not None and self.from_ >= self.to:
            raise ValueError("from must be before to")
        return self


class ExportPeriod(BaseModel):
    from_: str = Field(alias="from", examples=["2026-11-01T00:00:00Z"])
    to: str = Field(examples=["2026-12-01T00:00:00Z"])

    model_config = ConfigDict(populate_by_name=True)


class ExportJobLinks(BaseModel):
    self_: str = Field(alias="self", description="GET it for the bundle", examples=["/exports/exp_5c1f0a9e"])

    model_config = ConfigDict(populate_by_name=True)


class ExportJobPublic(BaseModel):
    """An export running as a job: GET ``links.self`` until it answers the bundle."""

    id: str = Field(examples=["exp_5c1f0a9e2b7d4c3a1e6f8b90"])
    status: Literal["running", "ready", "failed"]
    period: ExportPeriod
    created_at: str = Field(description="RFC 3339 UTC", examples=["2026-12-01T08:00:00Z"])
    finished_at: str | None = None
    events: int | None = Field(default=None, description="the bundle's events, once ready")
    links: ExportJobLinks
