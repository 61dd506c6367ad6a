"""Running exports as jobs: a bundle written by a thread of the serving process, its lease renewed.

:class:`ExportRunner` writes a job's bundle to ``<export dir>/<job id>.zip`` (through a temporary file
renamed when complete, as :func:`~disputes.audit.bundle.export_bundle` does), renews the job's lease
every quarter of it while the export runs, and records the outcome in the job's row: ``ready`` with
the bundle's figures, or ``failed`` with the problem (``audit-chain-broken`` when the store does not
match the seal, ``export-failed`` for anything else). An export answered inline runs the same way in
the request's thread, its row only holding its place in the count of running exports.

Finished bundles older than the retention are removed with their rows (:meth:`ExportRunner.purge`,
run before each new job).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from disputes.adapters.database import DatabaseUrl
from disputes.adapters.export_jobs import ExportJob, ExportJobStore
from disputes.application.claims import DisputesApplication
from disputes.audit import IntegrityFault
from disputes.audit.bundle import ExportResult, Period, export_bundle, period_events
from disputes.audit.keys import SigningKey
from disputes.domain.parties import Actor

log = logging.getLogger("disputes.exports")
EXPORT_FAILED = "export-failed"


class ExportRunner:
    """Writes bundles for jobs of :class:`ExportJobStore` into ``directory``."""

    def __init__(
        self,
        app: DisputesApplication,
        db: DatabaseUrl,
        store: ExportJobStore,
        directory: Path,
        clock: Callable[[], datetime],
        *,
        inline_max: int,
    ) -> None:
        self.app, self.db, self.store, self.directory, self.clock = app, db, store, directory, clock
        self.inline_max = inline_max
        """A period of at most this many events is exported in its request."""

    def export(
        self,
        actor: Actor,
        key: SigningKey,
        *,
        period: Period | None = None,
        claim_id: str | None = None,
        filename: str,
        respond_async: bool = False,
    ) -> ExportResult | ExportJob:
        """A claim's export, or a small period's, written now (to a temporary file: the caller removes
        it); a period of more than ``inline_max`` events, or any with ``respond_async``, as a job.

        Either way it takes a place among the running exports (:class:`ExportBusy` when none is left).
        """
        if period is not None and (
            respond_async or period_events(self.app, self.db, period) > self.inline_max
        ):
            self.purge()
            job = self.store.start(actor, period=(period.start, period.end))
            self.submit(job, key, period, filename)
            return job
        job = self.store.start(
            actor,
            period=None if period is None else (period.start, period.end),
            claim_id=claim_id,
            inline=True,
        )
        descriptor, name = tempfile.mkstemp(prefix="disputes-export-", suffix=".zip")
        os.close(descriptor)
        out = Path(name)
        try:
            return self.run_inline(job, key, out, period=period, claim_id=claim_id)
        except BaseException:
            out.unlink(missing_ok=True)
            raise

    def bundle_path(self, job_id: str) -> Path:
        return self.directory / f"{job_id}.zip"

    def run_inline(
        self,
        job: ExportJob,
        key: SigningKey,
        out: Path,
        *,
        period: Period | None = None,
        claim_id: str | None = None,
    ) -> ExportResult:
        """Export in this thread, holding the job's lease; the job's row goes when it returns."""
        try:
            with self._leased(job.id):
                return export_bundle(
                    self.app, self.db, key, out, period=period, claim_id=claim_id, now=self.clock()
                )
        finally:
            self.store.forget(job.id)

    def submit(self, job: ExportJob, key: SigningKey, period: Period, filename: str) -> threading.Thread:
        """Export in a thread of its own; the job's row says when it is done and how it ended."""
        runner = threading.Thread(
            target=self._run, args=(job, key, period, filename), name=f"disputes-export-{job.id}", daemon=True
        )
        runner.start()
        return runner

    def purge(self) -> None:
        """Remove the finished jobs older than the retention, and their bundles."""
        for job_id in self.store.purge():
            self.bundle_path(job_id).unlink(missing_ok=True)
        # What a process killed while writing left behind (a finished bundle is renamed into place).
        oldest = time.time() - self.store.retention.total_seconds()
        for part in self.directory.glob(".*.part"):
            with contextlib.suppress(OSError):
                if part.stat().st_mtime < oldest:
                    part.unlink()

    def _run(self, job: ExportJob, key: SigningKey, period: Period, filename: str) -> None:
        out = self.bundle_path(job.id)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self._leased(job.id):
                result = export_bundle(self.app, self.db, key, out, period=period, now=self.clock())
        except IntegrityFault as fault:
            self.store.fail(job.id, status=409, code="audit-chain-broken", detail=fault.detail)
            return
        except Exception as error:
            log.exception("export %s failed", job.id)
            detail = f"the export stopped on an error ({type(error).__name__}); ask for it again"
            self.store.fail(job.id, status=500, code=EXPORT_FAILED, detail=detail)
            return
        manifest = result.manifest
        finished = self.store.finish(
            job.id,
            events=manifest["counts"]["events"],
            last_hash=manifest["last_hash"],
            key_id=manifest["key_id"],
            filename=filename,
        )
        if not finished:  # the lease had passed and the job was failed meanwhile: the bundle is nobody's
            out.unlink(missing_ok=True)

    @contextmanager
    def _leased(self, job_id: str) -> Iterator[None]:
        """Renew the job's lease every quarter of it while the block runs."""
        stop = threading.Event()
        period = self.store.lease.total_seconds() / 4

        def renew() -> None:
            while not stop.wait(period):
                try:
                    if not self.store.renew(job_id):
                        return
                except Exception as error:  # the database is away: the export fails too, or the lease passes
                    log.warning("could not renew the lease of export %s (%s)", job_id, error)

        renewer = threading.Thread(target=renew, name=f"disputes-export-lease-{job_id}", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join(timeout=5)
