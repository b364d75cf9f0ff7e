-- fetch-facebook (issue 4): what the Marketing API adds beside the data model.

-- Campaign facts Facebook knows and scoring does not need, kept for the runbook and the status page.
ALTER TABLE campaigns
  ADD COLUMN lifetime_budget  numeric CHECK (lifetime_budget >= 0),
  ADD COLUMN objective        text,
  ADD COLUMN effective_status text,
  ADD COLUMN source_updated_at timestamptz;

-- Insights as Facebook reported them: clicks (all) and the CTR string exactly,
-- the raw actions array (leads use one canonical action type of it), and the
-- data-quality flags of the row (CTR_OVER_50, SPEND_OVER_BUDGET, CPL_OVER_1000).
ALTER TABLE campaign_metrics
  ADD COLUMN source_ctr     numeric,
  ADD COLUMN lead_action    text,
  ADD COLUMN actions        jsonb,
  ADD COLUMN quality_flags  text[] NOT NULL DEFAULT '{}';

-- Incremental state per ad account and stream, written in the same
-- transaction as the data it describes. Cursors are never stored.
CREATE TABLE fb_sync_state (
  account_id  text NOT NULL,
  stream      text NOT NULL CHECK (stream IN ('leads')),
  -- Every lead created before this instant has been fetched.
  watermark   timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, stream)
);

-- One row per ad account per fetch-facebook run: what happened to that unit.
CREATE TABLE fb_account_runs (
  run_id       bigint NOT NULL,
  account_id   text NOT NULL,
  outcome      text NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'deferred')),
  since        date,
  until        date,
  calls        integer NOT NULL DEFAULT 0,
  counts       jsonb NOT NULL DEFAULT '{}',
  warnings     jsonb NOT NULL DEFAULT '[]',
  error        text,
  finished_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, account_id)
);
CREATE INDEX fb_account_runs_account_idx ON fb_account_runs (account_id, finished_at DESC);
