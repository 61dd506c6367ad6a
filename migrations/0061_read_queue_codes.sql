-- Read model "queue" holds the code of what each claim waits for (`decide`, `wait.awaiting_merchant`)
-- instead of English words: GET /queue words it in the reader's language (docs/language.md). The
-- view is emptied and its position reset, so the runner rebuilds it from the events.
DELETE FROM read_queue;
UPDATE projection_positions SET position = 0 WHERE name = 'queue';
