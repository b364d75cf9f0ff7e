-- The people who sign in to status-server's pages (HTTP Basic). Managed by `bin/status-server users …` with the
-- owner's DATABASE_URL; the server reads it as the read-only role and never writes. A user is agency-wide (sees every
-- client) or limited to the clients listed.
CREATE TABLE dashboard_users (
  username            text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9._@+-]{1,64}$'),
  -- scrypt$<log2 N>$<r>$<p>$<salt, base64>$<key, base64> (node:crypto); never the password.
  password_hash       text NOT NULL CHECK (password_hash LIKE 'scrypt$%'),
  agency_wide         boolean NOT NULL,
  client_ids          text[] NOT NULL DEFAULT '{}',
  created_at          timestamptz NOT NULL DEFAULT now(),
  password_changed_at timestamptz NOT NULL DEFAULT now(),
  -- Exactly one of the two: agency-wide, or a non-empty list of clients.
  CHECK (agency_wide = (cardinality(client_ids) = 0))
);
