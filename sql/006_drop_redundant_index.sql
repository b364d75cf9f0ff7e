-- campaign_scores_date_rec_score_idx (005) starts with (date, recommendation): the older
-- (date, recommendation) index only costs writes now.
DROP INDEX IF EXISTS campaign_scores_date_recommendation_idx;
