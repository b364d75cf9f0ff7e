#!/usr/bin/env bash
# Creates (or updates) the read-only role status-server connects as, and
# prints its DATABASE_URL_READONLY. Run it as a role that owns the tables
# (the one bin/migrate uses), after bin/migrate:
#   DATABASE_URL=postgresql://leadsmart:…@db/leadsmart scripts/create-readonly-role.sh [role]
# The password comes from READONLY_PASSWORD, or is generated and printed once.
# Tables created by later migrations are granted automatically (default privileges).
set -euo pipefail
role=${1:-leadsmart_readonly}
[[ "$role" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || { echo "role name $role: use lower-case letters, digits and _" >&2; exit 64; }
url=${DATABASE_URL:?set DATABASE_URL to an owner of the tables (the role bin/migrate uses)}
password=${READONLY_PASSWORD:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}
psql -X -q -v ON_ERROR_STOP=1 -v role="$role" -v password="$password" -d "$url" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L NOSUPERUSER NOCREATEDB NOCREATEROLE', :'role', :'password') \gexec
SELECT format('ALTER ROLE %I SET default_transaction_read_only = on', :'role') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'role') \gexec
SELECT format('GRANT USAGE ON SCHEMA public TO %I', :'role') \gexec
SELECT format('REVOKE CREATE ON SCHEMA public FROM %I', :'role') \gexec
SELECT format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', :'role') \gexec
SELECT format('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO %I', :'role') \gexec
SQL
node -e '
  const u = new URL(process.argv[1].replace(/^postgres(ql)?:\/\/[^@/]*@/, "postgresql://x@"));
  u.username = process.argv[2]; u.password = encodeURIComponent(process.argv[3]);
  console.log(`DATABASE_URL_READONLY=${u.toString()}`);
' "$url" "$role" "$password" 2>/dev/null || echo "Role $role ready; DATABASE_URL_READONLY is DATABASE_URL with user $role and its password."
