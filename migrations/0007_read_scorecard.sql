-- Read model "scorecard": dated facts about each merchant's claims, from which GET
-- /merchants/{id}/scorecard computes its figures as of any date. Facts are only ever added:
-- received, intervention, loss, first_response (micros = time since opening), refund (amount,
-- currency), deadline_met, deadline_missed (name). (position, seq) names the event and the fact.
CREATE TABLE read_scorecard_facts (
    position    BIGINT NOT NULL,
    seq         INTEGER NOT NULL,
    merchant_id TEXT NOT NULL,
    claim_id    TEXT NOT NULL,
    at          TEXT NOT NULL,
    fact        TEXT NOT NULL,
    name        TEXT NULL,
    amount      TEXT NULL,
    currency    TEXT NULL,
    micros      BIGINT NULL,
    PRIMARY KEY (position, seq)
);

CREATE INDEX read_scorecard_facts_merchant_idx ON read_scorecard_facts (merchant_id, at);
