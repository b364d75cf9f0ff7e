-- Loads sample/*.csv into the database psql is connected to, replacing any
-- earlier copy of the sample (ids demo-* and L*), in one transaction.
-- Run from the project root: psql -v ON_ERROR_STOP=1 -f scripts/load-sample.sql
-- (import-csv will take this over; until then plain \copy does it.)
BEGIN;
CREATE TEMP TABLE s_clients (client_id text, client_name text, alert_emails text, target_cpql numeric, timezone text) ON COMMIT DROP;
CREATE TEMP TABLE s_campaigns (campaign_id text, campaign_name text, client_id text, daily_budget numeric, start_date date, end_date date, platform text, status text) ON COMMIT DROP;
CREATE TEMP TABLE s_metrics (campaign_id text, date date, impressions bigint, clicks bigint, spend numeric, total_leads int, qualified_leads int) ON COMMIT DROP;
CREATE TEMP TABLE s_leads (lead_id text, campaign_id text, created_at timestamptz, status text) ON COMMIT DROP;
CREATE TEMP TABLE s_changes (lead_id text, status text, changed_at timestamptz) ON COMMIT DROP;
\copy s_clients FROM 'sample/clients.csv' WITH (FORMAT csv, HEADER true)
\copy s_campaigns FROM 'sample/campaigns.csv' WITH (FORMAT csv, HEADER true)
\copy s_metrics FROM 'sample/metrics.csv' WITH (FORMAT csv, HEADER true)
\copy s_leads FROM 'sample/leads.csv' WITH (FORMAT csv, HEADER true)
\copy s_changes FROM 'sample/lead-status.csv' WITH (FORMAT csv, HEADER true)

DELETE FROM lead_status_changes WHERE lead_id IN (SELECT lead_id FROM campaign_leads WHERE campaign_id LIKE 'demo-%');
DELETE FROM campaign_leads WHERE campaign_id LIKE 'demo-%';
DELETE FROM campaign_metrics WHERE campaign_id LIKE 'demo-%';
DELETE FROM score_history WHERE campaign_id LIKE 'demo-%';
DELETE FROM campaign_scores WHERE campaign_id LIKE 'demo-%';

INSERT INTO clients (client_id, client_name, alert_emails, target_cpql, timezone)
SELECT client_id, client_name, coalesce(string_to_array(alert_emails, ';'), '{}'), target_cpql, coalesce(timezone, 'UTC') FROM s_clients
ON CONFLICT (client_id) DO UPDATE SET client_name = excluded.client_name, alert_emails = excluded.alert_emails,
  target_cpql = excluded.target_cpql, timezone = excluded.timezone, updated_at = now();
INSERT INTO campaigns (campaign_id, campaign_name, client_id, daily_budget, start_date, end_date, platform, status)
SELECT campaign_id, campaign_name, client_id, daily_budget, start_date, end_date, coalesce(platform, 'facebook'), status FROM s_campaigns
ON CONFLICT (campaign_id) DO UPDATE SET campaign_name = excluded.campaign_name, client_id = excluded.client_id,
  daily_budget = excluded.daily_budget, start_date = excluded.start_date, end_date = excluded.end_date,
  platform = excluded.platform, status = excluded.status, updated_at = now();
INSERT INTO campaign_metrics (campaign_id, date, impressions, clicks, spend, total_leads, qualified_leads)
SELECT * FROM s_metrics;
INSERT INTO campaign_leads (lead_id, campaign_id, created_at, status) SELECT * FROM s_leads;
INSERT INTO lead_status_changes (lead_id, status, changed_at) SELECT * FROM s_changes;
COMMIT;
