-- Events out (docs/events.md): webhook subscriptions, their deliveries, and the positions of the
-- workers that follow the notification log for them (the NATS publisher's too). Times are RFC 3339
-- UTC text, as elsewhere, so that this file runs unchanged on SQLite and PostgreSQL.
--
-- webhook_subscriptions.secret is the signing secret (`whsec_` + base64) as issued: the delivery
-- worker needs its bytes to sign. It is shown once, in the answer that creates it; no route, listing
-- or log shows it again. `position`: the last notification-log position whose events were queued for
-- this subscription (moved by compare-and-set, in the transaction that queues them).
CREATE TABLE webhook_subscriptions (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    event_types TEXT NOT NULL,
    description TEXT NOT NULL,
    secret      TEXT NOT NULL,
    status      TEXT NOT NULL,
    position    BIGINT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    deleted_at  TEXT NULL
);

-- One row per event queued for a subscription: pending until a 2xx answer (delivered) or the last
-- retry (failed). A redelivery queues the events again from a position: their rows go back to pending.
CREATE TABLE webhook_deliveries (
    subscription_id  TEXT NOT NULL,
    position         BIGINT NOT NULL,
    event_id         TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    last_status_code INTEGER NULL,
    last_error       TEXT NULL,
    next_attempt_at  TEXT NULL,
    delivered_at     TEXT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (subscription_id, position)
);

CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (subscription_id, status, next_attempt_at);
CREATE INDEX webhook_deliveries_subject_idx ON webhook_deliveries (subscription_id, subject, status, position);

-- Where each publisher to an outside system stands in the notification log (e.g. `nats`).
CREATE TABLE outbox_positions (
    name       TEXT PRIMARY KEY,
    position   BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
