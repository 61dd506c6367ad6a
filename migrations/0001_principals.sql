-- Principals: who may call the API, and with which token.
-- Only a sha256 hex digest of each whole token is kept; the token itself is shown once, at creation.
-- Times are RFC 3339 UTC text ('YYYY-MM-DDTHH:MM:SS.ffffff+00:00') so that this file runs unchanged on
-- SQLite and PostgreSQL and the text sorts in time order.
CREATE TABLE principal_tokens (
    token_id     TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NULL,
    revoked_at   TEXT NULL
);

CREATE INDEX principal_tokens_role_principal_idx ON principal_tokens (role, principal_id);
