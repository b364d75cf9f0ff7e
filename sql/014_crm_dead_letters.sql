-- The dead letters of crm-webhook, for people: each invalid event with its reason and the raw request it came in.
CREATE VIEW crm_dead_letters AS
SELECT e.received_at, e.source, e.event_id, e.reason, e.crm, e.crm_record_id, e.lead_id, e.raw_status, e.changed_at,
       e.inbox_id, i.body AS request_body
  FROM crm_events e JOIN crm_inbox i USING (inbox_id)
 WHERE e.state = 'invalid';
