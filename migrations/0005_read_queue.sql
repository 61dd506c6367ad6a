-- Read model "queue": the mediators' work queue, GET /queue. One row per claim that is not withdrawn or
-- closed. needs_platform = 1 when the platform must act now (assign, decide, record a legal outcome,
-- close); other rows join the queue at query time once their next deadline has passed.
-- urgency is the sort key, most urgent first: next deadline (none sorts last), then opening time, then
-- the claimed amount (larger first), then the claim id; it is also the opaque cursor's content.
CREATE TABLE read_queue (
    claim_id           TEXT PRIMARY KEY,
    version            INTEGER NOT NULL,
    position           BIGINT NOT NULL,
    status             TEXT NOT NULL,
    needs_platform     INTEGER NOT NULL,
    action             TEXT NOT NULL,
    mediator_id        TEXT NULL,
    buyer_id           TEXT NOT NULL,
    merchant_id        TEXT NOT NULL,
    kind               TEXT NOT NULL,
    reason             TEXT NOT NULL,
    currency           TEXT NOT NULL,
    claimed_amount     TEXT NOT NULL,
    next_deadline_name TEXT NULL,
    next_deadline_at   TEXT NULL,
    opened_at          TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    urgency            TEXT NOT NULL
);

CREATE INDEX read_queue_urgency_idx ON read_queue (urgency);
CREATE INDEX read_queue_mediator_idx ON read_queue (mediator_id, urgency);
