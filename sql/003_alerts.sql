-- send-alerts: every digest composed for a client and date, and its delivery
-- to each recipient. The order of writes is what makes a digest go out
-- exactly once (README, send-alerts): a digest and its deliveries are
-- committed before anything is sent; each delivery is marked 'sending'
-- (committed) before its message goes out and 'sent' (committed) after.
-- A delivery found in 'sending' by a later run was interrupted between the
-- two: it is never sent again blindly.
CREATE TABLE alert_digests (
  digest_id    bigserial PRIMARY KEY,
  -- '' = campaigns without a client (sent to ALERT_TO).
  client_id    text NOT NULL,
  date         date NOT NULL,
  run_id       bigint,
  -- sending: some delivery not final yet; done: every delivery final; abandoned: superseded before it could finish.
  status       text NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'done', 'abandoned')),
  subject      text NOT NULL,
  -- What the digest reported (the baseline of the next digest's diff).
  items        jsonb NOT NULL,
  counts       jsonb NOT NULL,
  html         text NOT NULL,
  text         text NOT NULL,
  resend       boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE INDEX alert_digests_client_date_idx ON alert_digests (client_id, date DESC, digest_id DESC);
-- At most one unfinished digest per client: a run finishes it before composing another.
CREATE UNIQUE INDEX alert_digests_one_open_idx ON alert_digests (client_id) WHERE status = 'sending';

CREATE TABLE alert_deliveries (
  digest_id    bigint NOT NULL REFERENCES alert_digests (digest_id),
  recipient    text NOT NULL,
  -- pending: not tried; sending: handed to the transport, outcome not recorded;
  -- sent; rejected: refused for good (bad address, suppressed); failed: still failing after retries (tried again next run);
  -- unconfirmed: found in 'sending' by a later run, may or may not have arrived, not sent again.
  status       text NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'sending', 'sent', 'rejected', 'failed', 'unconfirmed')),
  -- ses or outbox: how it was (being) sent, for the recovery check.
  transport    text,
  message_id   text,
  attempts     integer NOT NULL DEFAULT 0,
  error        text,
  attempted_at timestamptz,
  finished_at  timestamptz,
  PRIMARY KEY (digest_id, recipient)
);
