-- crm-webhook: lead statuses from the CRM as they change. Every accepted request is kept in crm_inbox (its raw body)
-- and each event in crm_events, committed before the answer; an event is applied to lead_status_changes in the same
-- transaction when its lead is known, kept 'pending' until a fetch or an import brings the lead, or kept 'invalid'
-- with its reason (the dead letters). (source, event_id) is unique: a retried event changes nothing.

-- The keys senders authenticate with (bin/crm-webhook keys …): a public prefix to find the key, a slow hash of the
-- whole key (scrypt), and the clients it may write for (NULL: every client).
CREATE TABLE crm_keys (
  key_id      bigserial PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9._@+-]{1,64}$'),
  prefix      text NOT NULL UNIQUE,
  key_hash    text NOT NULL CHECK (key_hash LIKE 'scrypt$%'),
  client_ids  text[],
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

CREATE TABLE crm_inbox (
  inbox_id     bigserial PRIMARY KEY,
  source       text NOT NULL CHECK (source IN ('leads', 'hubspot')),
  key_id       bigint REFERENCES crm_keys (key_id),
  received_at  timestamptz NOT NULL DEFAULT now(),
  body         text NOT NULL,
  events       integer NOT NULL,
  invalid      integer NOT NULL
);
-- status-server's "events in the last hour and day" and the last event read the inbox: one row per request, not ten.
CREATE INDEX crm_inbox_received_idx ON crm_inbox (received_at);

CREATE TABLE crm_events (
  source         text NOT NULL,
  event_id       text NOT NULL,
  inbox_id       bigint NOT NULL REFERENCES crm_inbox (inbox_id),
  received_at    timestamptz NOT NULL DEFAULT now(),
  -- The CRM record and, once known, the Lead Ads lead it is about.
  crm            text NOT NULL,
  crm_record_id  text,
  lead_id        text,
  raw_status     text,
  status         text,
  changed_at     timestamptz,
  state          text NOT NULL CHECK (state IN ('applied', 'pending', 'invalid', 'link')),
  reason         text,
  key_id         bigint REFERENCES crm_keys (key_id),
  applied_at     timestamptz,
  PRIMARY KEY (source, event_id)
);
CREATE INDEX crm_events_pending_idx ON crm_events (lead_id) WHERE state = 'pending';
CREATE INDEX crm_events_pending_record_idx ON crm_events (crm, crm_record_id) WHERE state = 'pending';
CREATE INDEX crm_events_invalid_idx ON crm_events (received_at) WHERE state = 'invalid';

-- Which Lead Ads lead a CRM record is: from import-csv --kind lead-links, or from a CRM property holding the lead id.
CREATE TABLE crm_lead_links (
  crm            text NOT NULL,
  crm_record_id  text NOT NULL,
  lead_id        text NOT NULL,
  source         text NOT NULL DEFAULT 'import',
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (crm, crm_record_id)
);
