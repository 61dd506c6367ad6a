-- The audit seal: the hash chain of docs/audit-trail.md, one row per event of disputes_events, written
-- by the seal projection in store order (position = notification id). Its highest position is the
-- sealed head. verify-store recomputes the chain from the stored events and compares it with this table;
-- exports refuse a range that does not match it.
-- recorded_at is fixed-width RFC 3339 UTC text ('YYYY-MM-DDTHH:MM:SS.ffffff+00:00') so that it sorts in
-- time order on both backends; period exports find their first position by it.
CREATE TABLE audit_seal (
    position    BIGINT PRIMARY KEY,
    claim_id    TEXT NOT NULL,
    version     BIGINT NOT NULL,
    recorded_at TEXT NOT NULL,
    hash        TEXT NOT NULL
);

CREATE UNIQUE INDEX audit_seal_claim_version_idx ON audit_seal (claim_id, version);
CREATE INDEX audit_seal_recorded_at_idx ON audit_seal (recorded_at, position);
