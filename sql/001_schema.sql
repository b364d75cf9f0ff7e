-- Leadsmart data model (shared/spec/README.md). Table and column names are
-- a contract: runbook queries and analysts' SQL use them.

CREATE TABLE clients (
  client_id     text PRIMARY KEY CHECK (client_id <> ''),
  client_name   text,
  -- Target cost per qualified lead (scoring.md T); NULL = the scoring configuration's default.
  target_cpql   numeric CHECK (target_cpql > 0),
  alert_emails  text[] NOT NULL DEFAULT '{}',
  timezone      text NOT NULL DEFAULT 'UTC',
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE campaigns (
  campaign_id   text PRIMARY KEY CHECK (campaign_id <> ''),
  client_id     text REFERENCES clients (client_id),
  campaign_name text,
  -- Currency units (Facebook's minor units are converted on the way in).
  daily_budget  numeric CHECK (daily_budget >= 0),
  start_date    date,
  end_date      date,
  platform      text NOT NULL DEFAULT 'facebook',
  status        text,
  account_id    text,
  currency      text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaigns_client_id_idx ON campaigns (client_id);

CREATE TABLE campaign_metrics (
  campaign_id     text NOT NULL REFERENCES campaigns (campaign_id),
  date            date NOT NULL,
  impressions     bigint CHECK (impressions >= 0),
  clicks          bigint CHECK (clicks >= 0),
  spend           numeric CHECK (spend >= 0),
  ctr             numeric GENERATED ALWAYS AS (
                    CASE WHEN impressions > 0 THEN round(clicks::numeric / impressions, 6) END
                  ) STORED,
  total_leads     integer CHECK (total_leads >= 0),
  qualified_leads integer CHECK (qualified_leads >= 0),
  source          text NOT NULL DEFAULT 'import',
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, date)
);
-- The scoring window scan reads one date range across all campaigns.
CREATE INDEX campaign_metrics_date_idx ON campaign_metrics (date);

CREATE TABLE campaign_leads (
  lead_id     text PRIMARY KEY CHECK (lead_id <> ''),
  campaign_id text NOT NULL REFERENCES campaigns (campaign_id),
  created_at  timestamptz NOT NULL,
  -- The status as first recorded; later changes go to lead_status_changes.
  status      text NOT NULL,
  source      text NOT NULL DEFAULT 'import',
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaign_leads_campaign_created_idx ON campaign_leads (campaign_id, created_at);

CREATE TABLE lead_status_changes (
  lead_id     text NOT NULL REFERENCES campaign_leads (lead_id),
  status      text NOT NULL,
  changed_at  timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (lead_id, changed_at)
);

CREATE TABLE job_runs (
  run_id        bigserial PRIMARY KEY,
  job           text NOT NULL,
  args          jsonb NOT NULL DEFAULT '[]',
  host          text NOT NULL,
  pid           integer NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  -- running, succeeded, failed, interrupted
  status        text NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
  exit_code     integer,
  counts        jsonb NOT NULL DEFAULT '{}',
  summary       jsonb,
  error_summary text
);
CREATE INDEX job_runs_job_started_idx ON job_runs (job, started_at DESC);

-- Every scoring configuration ever used, by identity, so any stored score can be explained and reproduced.
CREATE TABLE scoring_configs (
  config_id  text PRIMARY KEY,
  config     jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- campaign_scores, score_history and scoring_runs are derived: written only by
-- score-campaigns, from a join with campaigns and the configuration it stores
-- in the same transaction. They carry no foreign keys on purpose: the
-- per-row checks cost more than the rest of the write (measured: 0.4 s per
-- 10,000 scores, see bench/RESULTS.md).
CREATE TABLE campaign_scores (
  campaign_id            text NOT NULL,
  date                   date NOT NULL,
  total_score            numeric(5,2) NOT NULL CHECK (total_score BETWEEN 0 AND 100),
  cost_efficiency_score  numeric(5,2) NOT NULL,
  lead_quality_score     numeric(5,2) NOT NULL,
  volume_score           numeric(5,2) NOT NULL,
  trend_score            numeric(5,2) NOT NULL,
  engagement_score       numeric(5,2) NOT NULL,
  recommendation         text NOT NULL CHECK (recommendation IN (
                           'INCREASE_BUDGET', 'CONTINUE_OPTIMIZE', 'TEST_CHANGES', 'REDUCE_BUDGET',
                           'PAUSE_CAMPAIGN', 'MONITOR_CLOSELY', 'INSUFFICIENT_DATA')),
  -- json, not jsonb: stored as written (key order kept) and 3x cheaper to load than jsonb.
  recommendation_details json NOT NULL,
  is_new                 boolean NOT NULL,
  flags                  text[] NOT NULL DEFAULT '{}',
  config_id              text NOT NULL,
  run_id                 bigint,
  scored_at              timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, date)
);
CREATE INDEX campaign_scores_date_recommendation_idx ON campaign_scores (date, recommendation);

-- One row per scoring run per campaign: what each run concluded, never overwritten.
CREATE TABLE score_history (
  history_id     bigserial PRIMARY KEY,
  run_id         bigint,
  campaign_id    text NOT NULL,
  date           date NOT NULL,
  total_score    numeric(5,2) NOT NULL,
  recommendation text NOT NULL,
  config_id      text NOT NULL,
  scored_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX score_history_campaign_date_idx ON score_history (campaign_id, date);
CREATE INDEX score_history_run_idx ON score_history (run_id);

-- One row per scoring run: the run-level checks and counts that alerts and the status page show.
CREATE TABLE scoring_runs (
  run_id           bigint PRIMARY KEY,
  date             date NOT NULL,
  config_id        text NOT NULL,
  campaigns_scored integer NOT NULL,
  recommendations  jsonb NOT NULL,
  flags            jsonb NOT NULL,
  warnings         jsonb NOT NULL,
  scored_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scoring_runs_date_idx ON scoring_runs (date, scored_at DESC);
