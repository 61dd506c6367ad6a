"""Signed export bundles of the audit trail (``POST /exports``, regulators and auditors)."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from disputes.api.deps import ContainerDep, CurrentActor
from disputes.api.problems import ApiProblem
from disputes.api.responses import problem_responses
from disputes.api.schemas.exports import ExportCreate
from disputes.audit import AuditError, IntegrityFault
from disputes.audit.bundle import Period, export_bundle
from disputes.audit.keys import load_signing_key
from disputes.domain.claim import claim_id_of

ZIP_MEDIA_TYPE = "application/zip"
router = APIRouter(tags=["audit"])


DESCRIBED = {
    401: "no token, or an unknown, revoked or expired one",
    403: "only regulators and auditors export",
    404: "no such claim",
    409: "the stored events do not match the seal: the export is refused",
    422: "malformed input",
    503: "no signing key is configured",
}


@router.post(
    "/exports",
    response_class=FileResponse,
    responses={
        200: {"content": {ZIP_MEDIA_TYPE: {}}, "description": "the signed bundle (docs/audit-trail.md)"},
        **problem_responses(DESCRIBED),
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
