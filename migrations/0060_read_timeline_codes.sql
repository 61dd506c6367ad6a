-- Read model "timeline" holds message codes and their parameters instead of English sentences: the
-- words are chosen when the timeline is read, in the reader's language (docs/language.md). The old
-- rows cannot be turned into codes, so the view is emptied and its position reset: the runner rebuilds
-- it from the events, as `disputes rebuild timeline` does.
DROP TABLE read_timeline;
CREATE TABLE read_timeline (
    claim_id   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    position   BIGINT NOT NULL,
    at         TEXT NOT NULL,
    type       TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    status     TEXT NOT NULL,
    code       TEXT NOT NULL,
    params     TEXT NOT NULL,
    PRIMARY KEY (claim_id, version)
);
DELETE FROM read_timeline_heads;
UPDATE projection_positions SET position = 0 WHERE name = 'timeline';
