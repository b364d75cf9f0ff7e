-- status-server: keyset pages of one scoring date, by campaign and by recommendation.
CREATE INDEX campaign_scores_date_campaign_idx ON campaign_scores (date, campaign_id);
CREATE INDEX campaign_scores_date_rec_score_idx ON campaign_scores (date, recommendation, total_score, campaign_id);
