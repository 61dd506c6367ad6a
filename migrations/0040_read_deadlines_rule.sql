-- Each open deadline carries the rule and policy version it was set under when it opened (both NULL
-- for a deadline derived for a claim recorded before deadlines were fixed at opening: the deadline
-- engine fixes those once, recording DeadlinesFixed on the claim).
ALTER TABLE read_deadlines ADD COLUMN rule TEXT;
ALTER TABLE read_deadlines ADD COLUMN policy_version TEXT;
CREATE INDEX read_deadlines_unfixed_idx ON read_deadlines (rule);
