-- Read model "audit": dated facts for period reports (GET /reports/audit?from=&to=). Facts are only ever
-- added: opened, closed (outcome = withdrawn or closed), outcome (outcome = how the claim was resolved,
-- micros = time since opening), refund (amount, currency), deadline (party, name, due_at, outcome =
-- met, missed or superseded). Each fact carries the claim's kind and reason for grouping.
CREATE TABLE read_audit_facts (
    position BIGINT NOT NULL,
    seq      INTEGER NOT NULL,
    claim_id TEXT NOT NULL,
    at       TEXT NOT NULL,
    fact     TEXT NOT NULL,
    kind     TEXT NOT NULL,
    reason   TEXT NOT NULL,
    outcome  TEXT NULL,
    party    TEXT NULL,
    name     TEXT NULL,
    due_at   TEXT NULL,
    amount   TEXT NULL,
    currency TEXT NULL,
    micros   BIGINT NULL,
    PRIMARY KEY (position, seq)
);

CREATE INDEX read_audit_facts_at_idx ON read_audit_facts (at, fact);
