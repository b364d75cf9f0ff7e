-- crm-webhook, after a security review: event ids are unique per sender, HubSpot records per portal, pending events
-- expire, refusals are counted, and every match of pending events is index-backed.

-- The sender an event id belongs to: 'key:<key_id>' for /webhooks/leads, 'portal:<portal id>' for HubSpot. Two
-- senders may both send an evt-5001; neither is a duplicate of the other.
ALTER TABLE crm_events ADD COLUMN sender text;
UPDATE crm_events
   SET sender = CASE WHEN source = 'leads' THEN 'key:' || coalesce(key_id::text, '')
                     ELSE 'portal:' || split_part(event_id, ':', 1) END;
ALTER TABLE crm_events ALTER COLUMN sender SET NOT NULL;
ALTER TABLE crm_events DROP CONSTRAINT crm_events_pkey;
ALTER TABLE crm_events ADD PRIMARY KEY (source, sender, event_id);

-- HubSpot contact ids are per portal: records are 'hubspot:<portal id>' from now on. Links learned from HubSpot
-- before are moved to their portal where the events say which it was; imported 'hubspot' links stay and are used
-- for any portal that has no link of its own for the record.
UPDATE crm_events
   SET crm = 'hubspot:' || split_part(event_id, ':', 1)
 WHERE source = 'hubspot' AND crm = 'hubspot' AND event_id ~ '^\d+:\d+:\d+$';
INSERT INTO crm_lead_links (crm, crm_record_id, lead_id, source, updated_at)
SELECT DISTINCT ON (e.crm, e.crm_record_id) e.crm, e.crm_record_id, e.lead_id, 'webhook', e.received_at
  FROM crm_events e
 WHERE e.source = 'hubspot' AND e.state = 'link' AND e.crm LIKE 'hubspot:%'
 ORDER BY e.crm, e.crm_record_id, e.received_at DESC
ON CONFLICT (crm, crm_record_id) DO NOTHING;
DELETE FROM crm_lead_links WHERE crm = 'hubspot' AND source = 'webhook';

-- Pending events that waited longer than CRM_PENDING_EXPIRE_DAYS for their lead: kept, counted, no longer matched.
ALTER TABLE crm_events DROP CONSTRAINT crm_events_state_check;
ALTER TABLE crm_events ADD CONSTRAINT crm_events_state_check
  CHECK (state IN ('applied', 'pending', 'invalid', 'link', 'expired'));

-- A newly known lead finds the links to it (its pending events by record) without reading every link.
CREATE INDEX crm_lead_links_lead_idx ON crm_lead_links (lead_id);
-- Retention deletes by age.
CREATE INDEX crm_events_received_idx ON crm_events (received_at);

-- Requests crm-webhook refused, by minute and status (401 a rotated secret, 400 a changed format, 413, 429, 503):
-- what status-server shows, so a refusing receiver is seen, not silent.
CREATE TABLE crm_refusals (
  minute  timestamptz NOT NULL,
  status  integer NOT NULL,
  count   integer NOT NULL CHECK (count >= 0),
  PRIMARY KEY (minute, status)
);

-- Pending events are found by record whatever the portal spelling ('hubspot' imported, 'hubspot:<portal>' sent).
DROP INDEX crm_events_pending_record_idx;
CREATE INDEX crm_events_pending_record_idx ON crm_events (crm_record_id, crm) WHERE state = 'pending';

-- Retention deletes an inbox row once none of its events is left: found by inbox_id, not by reading every event.
CREATE INDEX crm_events_inbox_idx ON crm_events (inbox_id);
