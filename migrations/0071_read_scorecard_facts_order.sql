-- Read model "scorecard": the merchant's facts in log order straight from an index, so that the
-- scorecard read (WHERE merchant_id = ? AND at < ? ORDER BY position, seq) needs no sort.
CREATE INDEX read_scorecard_facts_merchant_position_idx ON read_scorecard_facts (merchant_id, position, seq);
