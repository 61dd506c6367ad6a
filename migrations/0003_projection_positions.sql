-- Read side: where each projection stands in the notification log.
-- A projection's view rows and its position here change in one transaction, and the position is moved
-- with a compare-and-set (UPDATE ... WHERE position = <the position the batch started from>), so an
-- event is counted exactly once even when a worker crashes or a stale worker tries to commit.
-- Rows are created by the runner (INSERT ... ON CONFLICT DO NOTHING) for the projections it knows.
-- Times are RFC 3339 UTC text of fixed width, so that this file runs on SQLite and PostgreSQL alike.
CREATE TABLE projection_positions (
    name       TEXT PRIMARY KEY,
    position   BIGINT NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
