-- Read model "claims": one row per claim, for GET /claims (filters, visibility, cursor pagination).
-- Amounts are exact decimal strings ("80.00"), never floats; times are fixed-width RFC 3339 UTC text
-- ('YYYY-MM-DDTHH:MM:SS.ffffffZ') that sorts in time order on both dialects.
CREATE TABLE read_claims (
    claim_id        TEXT PRIMARY KEY,
    version         INTEGER NOT NULL,
    position        BIGINT NOT NULL,
    status          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    reason          TEXT NOT NULL,
    order_id        TEXT NOT NULL,
    buyer_id        TEXT NOT NULL,
    merchant_id     TEXT NOT NULL,
    mediator_id     TEXT NULL,
    currency        TEXT NOT NULL,
    order_amount    TEXT NOT NULL,
    claimed_amount  TEXT NOT NULL,
    agreed_amount   TEXT NULL,
    refunded_amount TEXT NOT NULL,
    outcome         TEXT NULL,
    deadlines       TEXT NOT NULL,
    opened_at       TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE INDEX read_claims_opened_idx ON read_claims (opened_at, claim_id);
CREATE INDEX read_claims_buyer_idx ON read_claims (buyer_id, opened_at, claim_id);
CREATE INDEX read_claims_merchant_idx ON read_claims (merchant_id, opened_at, claim_id);
CREATE INDEX read_claims_status_idx ON read_claims (status, opened_at, claim_id);
