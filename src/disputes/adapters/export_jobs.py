"""Export jobs: the ``export_jobs`` table (migration 0090) that every serving process shares.

A row is an export under way or done: who asked (role, principal), what (a period or a claim), its
status (``running``, ``ready``, ``failed``), and when finished the bundle's figures or the problem it
ended with. Any process can so answer ``GET /exports/{id}``; the bundle itself is a file in the export
directory, named by the job's id.

Every export, answered inline or as a job, holds a running row while it runs: :meth:`ExportJobStore.start`
counts the running rows whose lease is alive and refuses a new one over the cap (:class:`ExportBusy`),
counted across processes in one writing transaction (SQLite's write lock; an advisory lock on
PostgreSQL). A running row is a lease its process renews (:meth:`renew`, every quarter of ``lease``);
a process that dies (kill -9) renews it no more, and once the lease has passed the row is marked
``failed`` (``export-interrupted``) by whoever looks next. Finished rows and their bundles are removed
after the retention.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from disputes.adapters.database import ConnectionSource, placeholders
from disputes.adapters.migrations import table_required
from disputes.domain.errors import DisputesError
from disputes.domain.parties import Actor

RUNNING, READY, FAILED = "running", "ready", "failed"
INTERRUPTED = "export-interrupted"
"""The problem of a job whose process stopped renewing its lease."""
EXPORT_LOCK_KEY = 7235441203191506293
"""PostgreSQL advisory lock that makes the processes count running exports one at a time."""

_COLUMNS = (
    "id, role, principal_id, kind, period_from, period_to, claim_id, status, created_at, updated_at,"
    " lease_expires_at, finished_at, events, last_hash, key_id, filename, problem_status, problem_code,"
    " problem_detail"
)
SELECT_JOB = f"SELECT {_COLUMNS} FROM export_jobs WHERE id = ?"
COUNT_RUNNING = "SELECT count(*) FROM export_jobs WHERE status = 'running' AND lease_expires_at > ?"
INSERT_JOB = (
    "INSERT INTO export_jobs (id, role, principal_id, kind, period_from, period_to, claim_id, status,"
    " inline, created_at, updated_at, lease_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)"
)
RENEW = "UPDATE export_jobs SET lease_expires_at = ? WHERE id = ? AND status = 'running'"
FINISH = (
    "UPDATE export_jobs SET status = 'ready', updated_at = ?, finished_at = ?, lease_expires_at = NULL,"
    " events = ?, last_hash = ?, key_id = ?, filename = ? WHERE id = ? AND status = 'running'"
)
FAIL = (
    "UPDATE export_jobs SET status = 'failed', updated_at = ?, finished_at = ?, lease_expires_at = NULL,"
    " problem_status = ?, problem_code = ?, problem_detail = ? WHERE id = ? AND status = 'running'"
)
FAIL_EXPIRED = (
    "UPDATE export_jobs SET status = 'failed', updated_at = ?, finished_at = ?, lease_expires_at = NULL,"
    " problem_status = 500, problem_code = ?, problem_detail = ?"
    " WHERE status = 'running' AND lease_expires_at <= ?"
)
DELETE_JOB = "DELETE FROM export_jobs WHERE id = ?"
SELECT_OLD = "SELECT id FROM export_jobs WHERE status <> 'running' AND finished_at <= ?"
DELETE_OLD = "DELETE FROM export_jobs WHERE status <> 'running' AND finished_at <= ?"
INTERRUPTED_DETAIL = "the process running the export stopped before it finished; ask for the export again"


BUSY_RETRY_SECONDS = 5


class ExportBusy(DisputesError):
    code = "export-busy"
    title = "Too many exports running"
    status = 503
    headers = {"Retry-After": str(BUSY_RETRY_SECONDS)}


class ExportNotFound(DisputesError):
    code = "export-not-found"
    title = "No such export"
    status = 404


class ExportFailed(DisputesError):
    code = "export-failed"
    title = "Export failed"
    status = 500


class ExportInterrupted(DisputesError):
    code = INTERRUPTED
    title = "Export interrupted"
    status = 500



@dataclass(frozen=True)
class ExportJob:
    id: str
    role: str
    principal_id: str
    kind: str
    period_from: str | None
    period_to: str | None
    claim_id: str | None
    status: str
    created_at: str
    updated_at: str
    lease_expires_at: str | None
    finished_at: str | None
    events: int | None
    last_hash: str | None
    key_id: str | None
    filename: str | None
    problem_status: int | None
    problem_code: str | None
    problem_detail: str | None

    def belongs_to(self, actor: Actor) -> bool:
        return (self.role, self.principal_id) == (actor.role.value, actor.id)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def text_of(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds, as the table keeps times (sorts in time order)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class ExportJobStore:
    """The ``export_jobs`` table (see the module)."""

    def __init__(
        self,
        source: ConnectionSource,
        *,
        concurrency: int,
        lease: timedelta,
        retention: timedelta,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.source = source
        self.concurrency = concurrency
        self.lease = lease
        self.retention = retention
        self.clock = clock

    def start(
        self,
        actor: Actor,
        *,
        period: tuple[datetime, datetime] | None = None,
        claim_id: str | None = None,
        inline: bool = False,
    ) -> ExportJob:
        """A running row for a new export, or :class:`ExportBusy` when ``concurrency`` already run."""
        now = self.clock()
        job_id = "exp_" + secrets.token_hex(12)
        with self._transaction() as conn:
            if self.source.url.dialect != "sqlite":
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (EXPORT_LOCK_KEY,))
            self._fail_expired(conn, now)
            running = int(conn.execute(self._sql(COUNT_RUNNING), (text_of(now),)).fetchone()[0])
            if running >= self.concurrency:
                raise ExportBusy(
                    f"{running} exports are running, the most this server runs at once "
                    f"(DISPUTES_EXPORT_CONCURRENCY={self.concurrency}); ask again shortly"
                )
            values = (
                job_id,
                actor.role.value,
                actor.id,
                "period" if period is not None else "claim",
                text_of(period[0]) if period is not None else None,
                text_of(period[1]) if period is not None else None,
                claim_id,
                1 if inline else 0,
                text_of(now),
                text_of(now),
                text_of(now + self.lease),
            )
            conn.execute(self._sql(INSERT_JOB), values)
        job = self.get(job_id)
        assert job is not None
        return job

    def get(self, job_id: str) -> ExportJob | None:
        """The job; a running job whose lease has passed is failed first (a read otherwise: polling
        takes no write lock)."""
        now = self.clock()
        with self._transaction(write=False) as conn:
            row = conn.execute(self._sql(SELECT_JOB), (job_id,)).fetchone()
        job = None if row is None else ExportJob(*row)
        if job is not None and job.status == RUNNING and (job.lease_expires_at or "") <= text_of(now):
            with self._transaction() as conn:
                self._fail_expired(conn, now)
                row = conn.execute(self._sql(SELECT_JOB), (job_id,)).fetchone()
            job = None if row is None else ExportJob(*row)
        return job

    def renew(self, job_id: str) -> bool:
        """Move the lease on; False when the job is no longer running (it was failed meanwhile)."""
        with self._transaction() as conn:
            return bool(
                conn.execute(self._sql(RENEW), (text_of(self.clock() + self.lease), job_id)).rowcount == 1
            )

    def finish(self, job_id: str, *, events: int, last_hash: str, key_id: str, filename: str) -> bool:
        now = text_of(self.clock())
        with self._transaction() as conn:
            values = (now, now, events, last_hash, key_id, filename, job_id)
            return bool(conn.execute(self._sql(FINISH), values).rowcount == 1)

    def fail(self, job_id: str, *, status: int, code: str, detail: str) -> None:
        now = text_of(self.clock())
        with self._transaction() as conn:
            conn.execute(self._sql(FAIL), (now, now, status, code, detail, job_id))

    def forget(self, job_id: str) -> None:
        """Remove a job's row (an inline export, answered in its request)."""
        with self._transaction() as conn:
            conn.execute(self._sql(DELETE_JOB), (job_id,))

    def purge(self) -> list[str]:
        """Remove the jobs finished more than the retention ago; their ids (whose bundles go too)."""
        before = (text_of(self.clock() - self.retention),)
        with self._transaction() as conn:
            old = [str(row[0]) for row in conn.execute(self._sql(SELECT_OLD), before).fetchall()]
            if old:
                conn.execute(self._sql(DELETE_OLD), before)
        return old

    def _fail_expired(self, conn: Any, now: datetime) -> None:
        at = text_of(now)
        conn.execute(self._sql(FAIL_EXPIRED), (at, at, INTERRUPTED, INTERRUPTED_DETAIL, at))

    def _sql(self, query: str) -> str:
        return placeholders(query, self.source.url.dialect)

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[Any]:
        with table_required("export_jobs"), self.source.transaction(write=write) as conn:
            yield conn
