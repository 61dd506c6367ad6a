-- Idempotency keys: the first answer to a POST sent with `Idempotency-Key`, kept so that a retry with
-- the same key gets that answer again instead of running the request twice (src/disputes/idempotency.py).
--
-- A key belongs to the authenticated principal (role, id): two principals may use the same key. A row is
-- written, answer-less ("in flight"), before the request runs; the answer (status, the headers that
-- matter as a JSON array of [name, value] pairs, the body as base64 text) fills it in afterwards.
-- `attempt` names the run that owns the row, so that a run outliving its in-flight lease never writes
-- into the row of the run that took over. Times are RFC 3339 UTC text, as in 0001, so that this file
-- runs unchanged on SQLite and PostgreSQL; rows past `expires_at` are ignored and purged.
CREATE TABLE idempotency_keys (
    role            TEXT NOT NULL,
    principal_id    TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    attempt         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    status          INTEGER NULL,
    headers         TEXT NULL,
    body            TEXT NULL,
    PRIMARY KEY (role, principal_id, idempotency_key)
);

CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
