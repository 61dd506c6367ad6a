-- Read model "queue": the policy rule that flagged a case for the mediators first (a late decision, or
-- mediation forced by a late refund); NULL when not flagged. Flagged cases sort before all others.
ALTER TABLE read_queue ADD COLUMN flag TEXT NULL;
