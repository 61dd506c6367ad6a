-- An idempotency key's command recorded: `committed_at` is written in the same transaction as the
-- command's events (src/disputes/adapters/event_store.py), so that a key whose run died after that
-- commit and before its answer was kept is never run again (docs/performance.md, "Faults").
-- `attempt` = 'lost' marks such a key once its lease has ended: its retries are answered 409
-- idempotency-answer-lost until the key's time is over.
ALTER TABLE idempotency_keys ADD COLUMN committed_at TEXT NULL;
