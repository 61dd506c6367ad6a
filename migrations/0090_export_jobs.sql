-- Export jobs (docs/audit-trail.md, "Exports as jobs"): one row per export under way or finished, shared
-- by every serving process so that any of them answers GET /exports/{id}. The bundle itself is a file
-- in DISPUTES_EXPORT_DIR named by the id. Times are RFC 3339 UTC text, as elsewhere.
--
-- status: running (lease_expires_at is the lease its process renews), ready (events, last_hash,
-- key_id and filename describe the bundle) or failed (problem_status, problem_code, problem_detail).
-- inline: 1 for an export answered in its own request, whose row only holds its place in the count of
-- running exports (DISPUTES_EXPORT_CONCURRENCY) and goes when it answers.
CREATE TABLE export_jobs (
    id               TEXT PRIMARY KEY,
    role             TEXT NOT NULL,
    principal_id     TEXT NOT NULL,
    kind             TEXT NOT NULL,
    period_from      TEXT NULL,
    period_to        TEXT NULL,
    claim_id         TEXT NULL,
    status           TEXT NOT NULL,
    inline           INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    lease_expires_at TEXT NULL,
    finished_at      TEXT NULL,
    events           BIGINT NULL,
    last_hash        TEXT NULL,
    key_id           TEXT NULL,
    filename         TEXT NULL,
    problem_status   INTEGER NULL,
    problem_code     TEXT NULL,
    problem_detail   TEXT NULL
);

CREATE INDEX export_jobs_status_idx ON export_jobs (status, lease_expires_at);
