-- Read model "signals": the facts the signals for mediators are computed from at read time
-- (GET /claims/{id}/signals, the names on /queue items). A signal decides nothing by itself.
-- read_signal_claims: one row per claim; silence_win = 1 once the merchant's silence accepted it;
-- merchant_rejected = 1 once its merchant rejected it; lost_after_reject = 1 while a mediator's
-- decision (or an appeal) after that rejection stands for the buyer. ledger_id names the order's
-- record (the platform's, or the claimant's), whose delivery read_signal_deliveries keeps.
CREATE TABLE read_signal_claims (
    claim_id          TEXT PRIMARY KEY,
    buyer_id          TEXT NOT NULL,
    merchant_id       TEXT NOT NULL,
    order_id          TEXT NOT NULL,
    ledger_id         TEXT NULL,
    kind              TEXT NOT NULL,
    reason            TEXT NOT NULL,
    currency          TEXT NOT NULL,
    order_amount      TEXT NOT NULL,
    claimed_amount    TEXT NOT NULL,
    opened_at         TEXT NOT NULL,
    silence_win       INTEGER NOT NULL DEFAULT 0,
    merchant_rejected INTEGER NOT NULL DEFAULT 0,
    lost_after_reject INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX read_signal_claims_buyer_idx ON read_signal_claims (buyer_id, opened_at);
CREATE INDEX read_signal_claims_merchant_idx ON read_signal_claims (merchant_id, merchant_rejected);

-- Every evidence digest attached to a claim; (position, seq) names the event.
CREATE TABLE read_signal_evidence (
    position BIGINT NOT NULL,
    seq      INTEGER NOT NULL,
    claim_id TEXT NOT NULL,
    sha256   TEXT NOT NULL,
    PRIMARY KEY (position, seq)
);

CREATE INDEX read_signal_evidence_digest_idx ON read_signal_evidence (sha256, claim_id);
CREATE INDEX read_signal_evidence_claim_idx ON read_signal_evidence (claim_id);

-- When the platform recorded each order delivered (orders' own events).
CREATE TABLE read_signal_deliveries (
    ledger_id    TEXT PRIMARY KEY,
    delivered_at TEXT NOT NULL
);
