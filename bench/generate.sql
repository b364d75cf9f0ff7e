-- Synthetic load for benchmarks: :n campaigns × 30 days ending 2025-11-15,
-- every 10th campaign in lead-level mode (2 leads a day, a third qualified
-- later through lead_status_changes). psql -v n=100000 -f bench/generate.sql
BEGIN;
INSERT INTO clients (client_id, client_name, target_cpql)
VALUES ('bench-a', 'Bench A', NULL), ('bench-b', 'Bench B', 150);
INSERT INTO campaigns (campaign_id, client_id, campaign_name, daily_budget, start_date)
SELECT 'b' || lpad(i::text, 7, '0'), CASE WHEN i % 2 = 0 THEN 'bench-a' ELSE 'bench-b' END,
       'Bench campaign ' || i, 100 + (i % 50), DATE '2025-06-01' + (i % 200)
  FROM generate_series(1, :n) i;
INSERT INTO campaign_metrics (campaign_id, date, impressions, clicks, spend, total_leads, qualified_leads)
SELECT 'b' || lpad(i::text, 7, '0'), DATE '2025-10-17' + d,
       5000 + (i * 7 + d * 13) % 5000,
       50 + (i * 3 + d * 5) % 150,
       round((50 + (i * 11 + d * 17) % 100)::numeric + ((i + d) % 100) / 100.0, 2),
       CASE WHEN i % 10 = 0 THEN NULL ELSE (i + d) % 6 END,
       CASE WHEN i % 10 = 0 THEN NULL ELSE (i + d) % 3 END
  FROM generate_series(1, :n) i, generate_series(0, 29) d;
INSERT INTO campaign_leads (lead_id, campaign_id, created_at, status)
SELECT 'bl' || i || '-' || d || '-' || k, 'b' || lpad(i::text, 7, '0'),
       TIMESTAMPTZ '2025-10-17 00:00Z' + d * interval '1 day' + k * interval '5 hours', 'new'
  FROM generate_series(10, :n, 10) i, generate_series(0, 29) d, generate_series(1, 2) k;
INSERT INTO lead_status_changes (lead_id, status, changed_at)
SELECT lead_id, 'qualified', created_at + interval '1 day'
  FROM campaign_leads WHERE campaign_id LIKE 'b%' AND (hashtext(lead_id) % 3) = 0;
COMMIT;
VACUUM ANALYZE;
