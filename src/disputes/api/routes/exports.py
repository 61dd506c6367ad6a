"""Signed export bundles of the audit trail (``POST /exports``, ``GET /exports/{job_id}``).

A claim's export and a period of at most ``DISPUTES_EXPORT_INLINE_MAX_EVENTS`` events answer the zip
at once; a larger period, or any request with ``Prefer: respond-async``, answers 202 and a job to poll
(docs/audit-trail.md, "Exports as jobs"). A job is its asker's, and any auditor's, to fetch.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi import Path as PathParameter
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from disputes.adapters.export_jobs import (
    RUNNING,
    ExportFailed,
    ExportInterrupted,
    ExportJob,
    ExportNotFound,
)
from disputes.api.deps import ContainerDep, CurrentActor
from disputes.api.problems import ApiProblem
from disputes.api.responses import problem_responses
from disputes.api.schemas.exports import ExportCreate, ExportJobPublic
from disputes.application.records import parse_rfc3339, rfc3339
from disputes.audit import AuditError, IntegrityFault
from disputes.audit.bundle import ExportResult, Period
from disputes.audit.keys import SigningKey, load_signing_key
from disputes.domain.claim import claim_id_of
from disputes.domain.parties import Role

ZIP_MEDIA_TYPE = "application/zip"
POLL_SECONDS = 2
"""The Retry-After of a job still running."""
router = APIRouter(tags=["audit"])

DESCRIBED = {
    401: "no token, or an unknown, revoked or expired one",
    403: "only regulators and auditors export",
    404: "no such claim",
    409: "the stored events do not match the seal: the export is refused",
    422: "malformed input",
    503: "no signing key is configured, or too many exports are running (retry after Retry-After seconds)",
}
JOB_DESCRIBED = {
    401: "no token, or an unknown, revoked or expired one",
    403: "only regulators and auditors export",
    404: "no such export job, or not yours (a job is its asker's, and any auditor's)",
    409: "the job found that the stored events do not match the seal",
    500: "the job stopped on an error, or its process stopped before it finished: ask for the export again",
}
_ZIP = {"content": {ZIP_MEDIA_TYPE: {}}, "description": "the signed bundle (docs/audit-trail.md)"}
_JOB_PROBLEMS = {cls.code: cls for cls in (ExportFailed, ExportInterrupted)}


@router.post(
    "/exports",
    response_class=FileResponse,
    responses={
        200: _ZIP,
        202: {"model": ExportJobPublic, "description": "a long period: the export runs as a job; poll Location"},
        **problem_responses(DESCRIBED),
    },
)
def create_export(
    body: ExportCreate,
    container: ContainerDep,
    actor: CurrentActor,
    prefer: Annotated[
        str | None, Header(description="`respond-async` (RFC 7240): always answer 202 and a job, for a period")
    ] = None,
) -> Response:
    """Export the signed audit trail of a period or of one claim (regulators, auditors).

    A claim, or a period of at most `DISPUTES_EXPORT_INLINE_MAX_EVENTS` events, answers the zip; a
    larger period, or `Prefer: respond-async`, answers 202 with `Location: /exports/{job_id}`.
    """
    key = _signing_key(container.settings.signing_key_file)
    period = None
    if body.from_ is not None and body.to is not None:
        period = Period(body.from_, body.to)
        filename = f"audit-trail-{_stamp(body.from_)}-{_stamp(body.to)}.zip"
    else:
        assert body.claim_id is not None
        filename = f"audit-trail-claim-{claim_id_of(body.claim_id)}.zip"
    respond_async = _prefers_async(prefer)
    try:
        outcome = container.exports.export(
            actor, key, period=period, claim_id=body.claim_id, filename=filename, respond_async=respond_async
        )
    except IntegrityFault as fault:
        raise ApiProblem(409, "audit-chain-broken", "Audit chain broken", fault.detail) from None
    if isinstance(outcome, ExportJob):
        headers = {"Location": f"/exports/{outcome.id}", "Retry-After": str(POLL_SECONDS)}
        if respond_async:
            headers["Preference-Applied"] = "respond-async"
        return JSONResponse(_job_json(outcome), status_code=202, headers=headers)
    return _bundle(outcome, filename, temporary=True)


@router.get(
    "/exports/{job_id}",
    response_class=FileResponse,
    responses={
        200: _ZIP,
        202: {"model": ExportJobPublic, "description": "still running: ask again after Retry-After seconds"},
        **problem_responses(JOB_DESCRIBED),
    },
)
def get_export(
    container: ContainerDep,
    actor: CurrentActor,
    job_id: Annotated[str, PathParameter(max_length=64, description="the id POST /exports answered")],
) -> Response:
    """The bundle of an export job once ready; its state while it runs; its problem if it failed.

    A job is its asker's to fetch, and any auditor's; to anyone else it does not exist (404).
    """
    job = container.export_jobs.get(job_id)
    if job is None or not (job.belongs_to(actor) or actor.role is Role.AUDITOR):
        raise ExportNotFound(f"no export job {job_id}")
    if job.status == RUNNING:
        return JSONResponse(_job_json(job), status_code=202, headers={"Retry-After": str(POLL_SECONDS)})
    if job.problem_code is not None:
        if job.problem_code in _JOB_PROBLEMS:
            raise _JOB_PROBLEMS[job.problem_code](job.problem_detail or "")
        raise ApiProblem(job.problem_status or 500, job.problem_code, "Audit chain broken", job.problem_detail or "")
    path = container.exports.bundle_path(job.id)
    if not path.is_file():
        raise ExportNotFound(f"the bundle of export job {job_id} is no longer kept")
    headers = {"X-Audit-Last-Hash": job.last_hash or "", "X-Audit-Key-Id": job.key_id or ""}
    return FileResponse(path, media_type=ZIP_MEDIA_TYPE, filename=job.filename, headers=headers)


def _signing_key(key_file: Path | None) -> SigningKey:
    if key_file is None:
        raise ApiProblem(
            503, "signing-key-missing", "No signing key", "the server has no DISPUTES_SIGNING_KEY_FILE"
        )
    try:
        return load_signing_key(Path(key_file))
    except AuditError as exc:
        raise ApiProblem(503, "signing-key-missing", "No signing key", exc.detail) from None


def _bundle(result: ExportResult, filename: str, *, temporary: bool) -> FileResponse:
    return FileResponse(
        result.path,
        media_type=ZIP_MEDIA_TYPE,
        filename=filename,
        headers={
            "X-Audit-Last-Hash": result.manifest["last_hash"],
            "X-Audit-Key-Id": result.manifest["key_id"],
        },
        background=BackgroundTask(result.path.unlink, missing_ok=True) if temporary else None,
    )


def _prefers_async(prefer: str | None) -> bool:
    """Whether ``Prefer`` (RFC 7240: comma-separated preferences, each maybe with parameters) asks for
    ``respond-async``."""
    if not prefer:
        return False
    return any(part.split(";")[0].strip().lower() == "respond-async" for part in prefer.split(","))


def _job_json(job: ExportJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status,
        "period": {"from": _shown(job.period_from), "to": _shown(job.period_to)},
        "created_at": _shown(job.created_at),
        "finished_at": _shown(job.finished_at),
        "events": job.events,
        "links": {"self": f"/exports/{job.id}"},
    }


def _shown(text: str | None) -> str | None:
    return None if text is None else rfc3339(parse_rfc3339(text))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S%z")
