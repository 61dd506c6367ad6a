-- Read model "timeline": a claim's progress in plain words for its parties (GET /claims/{id}/timeline).
-- read_timeline holds one line per event; read_timeline_heads one row per claim with who may see it and
-- what happens next, and by when (next_steps: JSON list of {who, text, due_at}).
CREATE TABLE read_timeline (
    claim_id   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    position   BIGINT NOT NULL,
    at         TEXT NOT NULL,
    type       TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    status     TEXT NOT NULL,
    text       TEXT NOT NULL,
    PRIMARY KEY (claim_id, version)
);

CREATE TABLE read_timeline_heads (
    claim_id    TEXT PRIMARY KEY,
    version     INTEGER NOT NULL,
    position    BIGINT NOT NULL,
    buyer_id    TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    mediator_id TEXT NULL,
    status      TEXT NOT NULL,
    next_steps  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
