#!/usr/bin/env bash
# Creates (or updates) the read-only role status-server connects as, and
# prints its DATABASE_URL_READONLY. Run it after bin/migrate, as a superuser
# (postgres: everything below) or as the role that owns the tables (the one
# bin/migrate and the jobs use: all but the superuser part):
#   DATABASE_URL=postgresql://postgres@/leadsmart?host=/var/run/postgresql scripts/create-readonly-role.sh [role]
# The password comes from READONLY_PASSWORD, or is generated and printed once
# (inside the printed URL). Tables created by later migrations are granted
# automatically (default privileges).
#
# Read-only by privileges, not by a session default (a session can turn
# default_transaction_read_only off): SELECT on the tables and nothing else;
# no CREATE in the schema; no TEMP in the database (the jobs' own role keeps
# it: import-csv stages rows in temporary tables). Run as a superuser, it also
# takes from PUBLIC, and gives back to the jobs' role, what PostgreSQL lets
# every role do: create large objects and take advisory locks (a read-only
# role holding a job's lock would make that job exit 75).
set -euo pipefail
role=${1:-leadsmart_readonly}
if ! [[ "$role" =~ ^[a-z_][a-z0-9_]{0,62}$ ]]; then
  echo "role name $role: use lower-case letters, digits and _" >&2
  exit 64
fi
url=${DATABASE_URL:?set DATABASE_URL to a superuser (postgres) or the owner of the tables (the role bin/migrate uses)}
password=${READONLY_PASSWORD:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}
psql -X -q -v ON_ERROR_STOP=1 -v role="$role" -v password="$password" -d "$url" <<'SQL'
-- The jobs' role: the owner of the tables (bin/migrate's). Grants below are made for it whoever runs this script.
SELECT tableowner AS owner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'job_runs' \gset
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
              :'role', :'password') \gexec
SELECT format('ALTER ROLE %I SET default_transaction_read_only = on', :'role') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'role') \gexec
SELECT format('GRANT USAGE ON SCHEMA public TO %I', :'role') \gexec
SELECT format('REVOKE CREATE ON SCHEMA public FROM %I', :'role') \gexec
SELECT format('REVOKE CREATE ON SCHEMA public FROM PUBLIC') \gexec
SELECT format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', :'role') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public GRANT SELECT ON TABLES TO %I',
              :'owner', :'role') \gexec
-- TEMP is granted to PUBLIC by default: the jobs' role keeps it by a grant of its own.
SELECT format('GRANT TEMPORARY ON DATABASE %I TO %I', current_database(), :'owner') \gexec
SELECT format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('REVOKE TEMPORARY ON DATABASE %I FROM %I', current_database(), :'role') \gexec
SELECT rolsuper AS is_superuser FROM pg_roles WHERE rolname = current_user \gset
\if :is_superuser
  -- Large objects and advisory locks: EXECUTE is PUBLIC's; only a superuser can take it back.
  SELECT format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', p.oid::regprocedure)
    FROM pg_proc p
   WHERE p.pronamespace = 'pg_catalog'::regnamespace
     AND (p.proname IN ('lo_create', 'lo_creat', 'lo_from_bytea', 'lo_import', 'lo_put', 'lo_open', 'lowrite',
                        'lo_unlink', 'lo_truncate', 'lo_truncate64')
          OR p.proname LIKE 'pg\_advisory\_%' OR p.proname LIKE 'pg\_try\_advisory\_%') \gexec
  SELECT format('GRANT EXECUTE ON FUNCTION %s TO %I', p.oid::regprocedure, :'owner')
    FROM pg_proc p
   WHERE p.pronamespace = 'pg_catalog'::regnamespace
     AND (p.proname LIKE 'pg\_advisory\_%' OR p.proname LIKE 'pg\_try\_advisory\_%') \gexec
\else
  \echo 'Note: not run as a superuser, so every role (the read-only one too) can still create large objects'
  \echo 'and take advisory locks. Run this script once as a superuser (postgres) to take those from PUBLIC.'
\endif
SQL
# The URL of the read-only role: DATABASE_URL with its user and password replaced, in any form (host:port, or the
# socket form postgresql://user@/db?host=/run/dir, which a URL parser refuses).
node -e '
  const [url, role, password] = process.argv.slice(1);
  const m = /^(postgres(?:ql)?:\/\/)(?:[^@/?]*@)?(.*)$/.exec(url);
  if (!m) {
    console.log(`Role ${role} ready; DATABASE_URL_READONLY is DATABASE_URL with user ${role}` +
      " and the password set in READONLY_PASSWORD.");
    process.exit(0);
  }
  console.log(`DATABASE_URL_READONLY=${m[1]}${encodeURIComponent(role)}:${encodeURIComponent(password)}@${m[2]}`);
' "$url" "$role" "$password"
