-- Read model "deadlines": every open deadline of every claim, for the deadline engine.
-- One row per (claim, deadline name); due_at is RFC 3339 UTC text of fixed width (sorts as time).
-- fired = 1 once the claim recorded the deadline missed (DeadlineMissed) while it stays open, e.g. a
-- mediator's late decision that the engine flagged: the engine does not look at it again.
CREATE TABLE read_deadlines (
    claim_id  TEXT NOT NULL,
    name      TEXT NOT NULL,
    due_at    TEXT NOT NULL,
    status    TEXT NOT NULL,
    position  BIGINT NOT NULL,
    fired     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (claim_id, name)
);

CREATE INDEX read_deadlines_due_idx ON read_deadlines (fired, due_at);
