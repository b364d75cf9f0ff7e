-- The action of docs/decisions.md beside the spec's recommendation: what a person is told to do, what today's
-- evidence called for before persistence (the next run reads it), the gate that decided it, and the window numbers
-- the next run's client prior is built from. NULL on rows scored before this migration.
ALTER TABLE campaign_scores
  ADD COLUMN action text CHECK (action IN (
    'INCREASE_BUDGET', 'CONTINUE_OPTIMIZE', 'TEST_CHANGES', 'REDUCE_BUDGET',
    'PAUSE_CAMPAIGN', 'MONITOR_CLOSELY', 'INSUFFICIENT_DATA')),
  ADD COLUMN action_candidate text,
  ADD COLUMN action_gate text,
  -- Why, in words, naming the gate's numbers ("recommendation REDUCE_BUDGET; 4 qualified leads on 310 spent: …").
  ADD COLUMN action_reason text,
  ADD COLUMN window_spend numeric,
  ADD COLUMN window_qualified_leads integer;

-- score_history keeps what each run said, the action included (on the parent: every month's partition gets it).
ALTER TABLE score_history ADD COLUMN action text;
