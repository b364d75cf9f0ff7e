#!/usr/bin/env bash
# The project's local default database (used when DATABASE_URL is not set):
# a cluster under .state/pg, database "leadsmart", migrated.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/use-runtime.sh"
state="$root/.state/pg"
case "${1:-start}" in
  start)
    "$root/scripts/pg-cluster.sh" start "$state"
    psql -X -q -h "$state/run" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'leadsmart'" \
      | grep -q 1 \
      || psql -X -q -h "$state/run" -U postgres -d postgres -c 'CREATE DATABASE leadsmart'
    env -u DATABASE_URL "$root/bin/migrate"
    echo "Local database ready: postgresql://postgres@/leadsmart?host=$state/run"
    ;;
  stop) "$root/scripts/pg-cluster.sh" stop "$state" ;;
  psql) shift; exec psql -X -h "$state/run" -U postgres -d leadsmart "$@" ;;
  *) echo "usage: $0 start|stop|psql" >&2; exit 64 ;;
esac
