-- Scoring v3 and decision-quality v2 (docs/scoring.md, docs/decisions.md).

-- A client's own target cost per lead, in its own currency: a campaign whose leads' qualification is unknown
-- (NO_QUALIFIED_DATA) is judged on its cost per lead against it, else against the configuration's target_cpl.
ALTER TABLE clients
  ADD COLUMN target_cpl numeric CHECK (target_cpl > 0);

-- The window whose evidence triggered the cut in force ('window' = 30 days, 'recent' = the last 7, 'long' = the
-- longer window of a small spender): hysteresis releases a cut on the evidence of that same window. NULL when the
-- action is not a cut, and on rows scored before this migration (read as the 30-day window).
ALTER TABLE campaign_scores
  ADD COLUMN action_window text CHECK (action_window IN ('window', 'recent', 'long'));
