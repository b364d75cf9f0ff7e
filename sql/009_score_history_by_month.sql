-- score_history gains a row per campaign per scoring run (400,000 a day at
-- 100,000 campaigns and four runs). It becomes a table partitioned by month of
-- its scoring date, so that retention (SCORE_HISTORY_KEEP_MONTHS, applied by
-- score-campaigns) drops whole months at once instead of deleting rows.
-- Converted in place: every row, id and index name is kept.
ALTER TABLE score_history RENAME TO score_history_unpartitioned;
ALTER TABLE score_history_unpartitioned RENAME CONSTRAINT score_history_pkey TO score_history_unpartitioned_pkey;
ALTER INDEX score_history_campaign_date_idx RENAME TO score_history_unpartitioned_campaign_date_idx;
ALTER INDEX score_history_run_idx RENAME TO score_history_unpartitioned_run_idx;

CREATE TABLE score_history (
  history_id     bigint NOT NULL DEFAULT nextval('score_history_history_id_seq'),
  run_id         bigint,
  campaign_id    text NOT NULL,
  date           date NOT NULL,
  total_score    numeric(5,2) NOT NULL,
  recommendation text NOT NULL,
  config_id      text NOT NULL,
  scored_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (history_id, date)
) PARTITION BY RANGE (date);
-- The sequence goes with the new table (it would be dropped with the old one).
ALTER SEQUENCE score_history_history_id_seq OWNED BY score_history.history_id;
CREATE INDEX score_history_campaign_date_idx ON score_history (campaign_id, date);
CREATE INDEX score_history_run_idx ON score_history (run_id);

-- One partition per month that holds rows: score_history_YYYY_MM. score-campaigns creates the month it writes.
DO $$
DECLARE m date;
BEGIN
  FOR m IN SELECT DISTINCT date_trunc('month', date)::date FROM score_history_unpartitioned LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF score_history FOR VALUES FROM (%L) TO (%L)',
                   'score_history_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date);
  END LOOP;
END $$;

INSERT INTO score_history (history_id, run_id, campaign_id, date, total_score, recommendation, config_id, scored_at)
SELECT history_id, run_id, campaign_id, date, total_score, recommendation, config_id, scored_at FROM score_history_unpartitioned;

DROP TABLE score_history_unpartitioned;
