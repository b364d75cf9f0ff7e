-- backup-db: every backup it made, and the latest check of each, for the
-- status service and the runbook. The manifest in the blob store
-- (database/manifest.json) is what restore reads: it must work when this
-- database is the one lost.
CREATE TABLE backups (
  key             text PRIMARY KEY,
  created_at      timestamptz NOT NULL,
  size            bigint NOT NULL CHECK (size >= 0),
  sha256          text NOT NULL,
  server_version  text NOT NULL,
  encryption      text NOT NULL,
  run_id          bigint,
  -- The latest check: readback (after upload) or restore (--verify).
  verified_at     timestamptz,
  verify_method   text CHECK (verify_method IN ('readback', 'restore')),
  verify_ok       boolean,
  verify_problems jsonb NOT NULL DEFAULT '[]',
  deleted_at      timestamptz
);
CREATE INDEX backups_created_idx ON backups (created_at DESC);
