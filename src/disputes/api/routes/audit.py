"""Audit: signed export bundles (POST /exports) and the history diff that GET /claims/{id}/history uses."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.background import BackgroundTask

from disputes.api.deps import ContainerDep, CurrentActor
from disputes.api.problems import PROBLEM_MEDIA_TYPE, ApiProblem
from disputes.api.schemas import Problem
from disputes.application import DisputesApplication
from disputes.audit import AuditError, IntegrityFault
from disputes.audit.bundle import Period, export_bundle
from disputes.audit.keys import load_signing_key
from disputes.audit.replay import replay
from disputes.domain.claim import claim_id_of
from disputes.event_data import EventRecord

ZIP_MEDIA_TYPE = "application/zip"
router = APIRouter(tags=["audit"])


class ExportCreate(BaseModel):
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


def _problem(status: int, description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description, "content": {PROBLEM_MEDIA_TYPE: {}}}


@router.post(
    "/exports",
    response_class=FileResponse,
    responses={
        200: {"content": {ZIP_MEDIA_TYPE: {}}, "description": "the signed bundle (docs/audit-trail.md)"},
        401: _problem(401, "no token, or an unknown, revoked or expired one"),
        403: _problem(403, "only regulators and auditors export"),
        404: _problem(404, "no such claim"),
        409: _problem(409, "the stored events do not match the seal: the export is refused"),
        422: _problem(422, "malformed input"),
        503: _problem(503, "no signing key is configured"),
    },
)
def create_export(
    body: ExportCreate,
    container: ContainerDep,
    actor: CurrentActor,
) -> FileResponse:
    """Export the signed audit trail of a period or of one claim (regulators, auditors)."""
    key_file = container.settings.signing_key_file
    if key_file is None:
        raise ApiProblem(
            503, "signing-key-missing", "No signing key", "the server has no DISPUTES_SIGNING_KEY_FILE"
        )
    try:
        key = load_signing_key(Path(key_file))
    except AuditError as exc:
        raise ApiProblem(503, "signing-key-missing", "No signing key", exc.detail) from None
    descriptor, name = tempfile.mkstemp(prefix="disputes-export-", suffix=".zip")
    os.close(descriptor)
    path = Path(name)
    period = None
    if body.from_ is not None and body.to is not None:
        period = Period(body.from_, body.to)
        filename = f"audit-trail-{_stamp(body.from_)}-{_stamp(body.to)}.zip"
    else:
        assert body.claim_id is not None
        filename = f"audit-trail-claim-{claim_id_of(body.claim_id)}.zip"
    try:
        result = export_bundle(
            container.app,
            container.settings.database,
            key,
            path,
            period=period,
            claim_id=body.claim_id,
            now=container.clock(),
        )
    except IntegrityFault as fault:
        path.unlink(missing_ok=True)
        raise ApiProblem(409, "audit-chain-broken", "Audit chain broken", fault.detail) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(
        path,
        media_type=ZIP_MEDIA_TYPE,
        filename=filename,
        headers={
            "X-Audit-Last-Hash": result.manifest["last_hash"],
            "X-Audit-Key-Id": result.manifest["key_id"],
        },
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S%z")


def history_with_diff(app: DisputesApplication, records: Sequence[EventRecord]) -> list[dict[str, Any]]:
    """History entries (``version, type, recorded_at, actor, data``) each with ``changes``.

    ``records`` are what ``app.history(actor, claim_id)`` returned (so access is already checked);
    ``changes`` maps each public field of the claim the event changed to ``{"before", "after"}``,
    found by replaying the claim's states up to the last record.
    """
    if not records:
        return []
    domain_events = app.events.get(claim_id_of(records[0].claim_id), lte=records[-1].version)
    changes = {step.record.version: step.changes for step in replay(domain_events)}
    entries = []
    for record in records:
        entry = record.as_dict()
        del entry["claim_id"]
        entry["changes"] = changes.get(record.version, {})
        entries.append(entry)
    return entries
