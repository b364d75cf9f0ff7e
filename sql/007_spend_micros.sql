-- score-campaigns sums spend per campaign over the 30-day window (3 M rows at
-- 100,000 campaigns). Four numeric aggregates of spend cost ~1.5 s more than
-- the same over a bigint: spend is kept, exactly as sent, and mirrored here as
-- integer millionths (as Google Ads' cost_micros), NULL when it has more than
-- six decimals or is too large for a bigint of millionths (then scoring sums
-- the numeric column for that campaign).
ALTER TABLE campaign_metrics
  ADD COLUMN spend_micros bigint GENERATED ALWAYS AS (
    CASE WHEN spend = round(spend, 6) AND spend < 9000000000000 THEN (spend * 1000000)::bigint END) STORED;
