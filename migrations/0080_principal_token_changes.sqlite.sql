-- Token checks are served from each server process's memory; a change to a token (revoked, its
-- expiry changed, removed) must reach every process before its next request. On SQLite every check
-- reads this one counter, which these triggers move on each such change, whoever makes it.
CREATE TABLE principal_token_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    counter INTEGER NOT NULL
);
INSERT INTO principal_token_changes (id, counter) VALUES (1, 0);

CREATE TRIGGER principal_tokens_updated AFTER UPDATE ON principal_tokens
BEGIN
    UPDATE principal_token_changes SET counter = counter + 1 WHERE id = 1;
END;

CREATE TRIGGER principal_tokens_deleted AFTER DELETE ON principal_tokens
BEGIN
    UPDATE principal_token_changes SET counter = counter + 1 WHERE id = 1;
END;
