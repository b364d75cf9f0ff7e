-- Clicks mean link clicks on every path: the Marketing API's inline_link_clicks
-- and an Ads Manager export's "Link clicks" (CTR and the engagement score read
-- campaign_metrics.clicks). All clicks (the API's clicks, an export's
-- "Clicks (all)") are kept beside them, for reference; NULL when the source did
-- not say. Rows fetched before this migration hold all clicks in clicks until
-- the next fetch of their dates rewrites them.
ALTER TABLE campaign_metrics ADD COLUMN all_clicks bigint CHECK (all_clicks >= 0);
