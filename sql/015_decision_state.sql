-- What the next scoring run needs of this one, kept with it, so that a run reads one earlier row per campaign and
-- one per client instead of re-reading earlier dates (docs/decisions.md).

-- Scored dates in a row, this one included, whose candidate called for the same change as this one's: persistence
-- counts it (a persistence of 5 needs no fifth date read). NULL on rows scored before this migration or with the
-- decision layer off; the next run counts such a row as a run of 1. The check is NOT VALID: every existing row is
-- NULL, and validating would scan the whole table under the migration's lock.
ALTER TABLE campaign_scores
  ADD COLUMN action_streak integer,
  ADD CONSTRAINT campaign_scores_action_streak_check CHECK (action_streak >= 1) NOT VALID;

-- A score's row is about 1.9 KB, most of it recommendation_details, and the evidence put many rows just over the
-- 2 KB at which PostgreSQL starts compressing a row (pglz): measured at 100,000 campaigns, 38 % of rows compressed,
-- and COPY took 2.65 s instead of 2.1 s. Rows up to 4 KB now stay as they are (about 10 % more disk for the table).
ALTER TABLE campaign_scores SET (toast_tuple_target = 4080);

-- The sums the next date's client priors are built from (empirical Bayes): per client and currency, over the
-- campaigns judged on cost with window spend above 0. Written in the scoring run's transaction, replaced with it.
-- '' stands for no client or no currency (a primary key has no NULL). A scored date without rows here (scored
-- before this migration) has its sums computed from its campaign_scores rows instead.
CREATE TABLE client_priors (
  date date NOT NULL,
  client_id text NOT NULL,
  currency text NOT NULL,
  campaigns integer NOT NULL CHECK (campaigns >= 0),
  spend double precision NOT NULL,
  qualified_leads bigint NOT NULL,
  sum_rate double precision NOT NULL,
  sum_rate_squared double precision NOT NULL,
  sum_inverse_spend double precision NOT NULL,
  PRIMARY KEY (date, client_id, currency)
);
