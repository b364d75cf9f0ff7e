#!/usr/bin/env bash
# make bench (BENCH_ONLY=send-alerts): send-alerts over 100,000 scored campaigns
# in two clients (bench/generate.sql, both dates scored), a dry run and a real
# run into an outbox, on a throwaway cluster. Issue 5 names no target: this
# records wall time, peak memory and the digests' size.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_CAMPAIGNS:-100000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/leadsmart-bench-alerts.XXXXXX")
trap '"$root/scripts/pg-cluster.sh" stop "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
"$root/scripts/pg-cluster.sh" start "$dir" >/dev/null
export DATABASE_URL="postgresql://postgres@/postgres?host=$dir/run" LOG_LEVEL=warn
"$root/bin/migrate" >/dev/null 2>&1
psql -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -v n="$n" -f "$root/bench/generate.sql"
"$root/bin/score-campaigns" --date 2025-11-14 >/dev/null 2>&1
"$root/bin/score-campaigns" --date 2025-11-15 >/dev/null 2>&1
export ALERT_FROM=alerts@bench.example ALERT_TO=ops@bench.example MAIL_TRANSPORT="outbox:$dir/outbox"
measure() { /usr/bin/time -f '%e %M' "$root/bin/send-alerts" "$@" 2>&1 >/dev/null | tail -1; }
read -r dry_s dry_kb < <(measure --dry-run)
read -r run_s run_kb < <(measure)
sizes=$(find "$dir/outbox" -name '*.eml' -printf '%s\n' | sort -n | tr '\n' ' ')
echo "| campaigns | dry run (s) | send to outbox (s) | peak RSS (MB) | digests (.eml bytes) |"
echo "|---:|---:|---:|---:|---|"
echo "| $n | $dry_s | $run_s | $(( (run_kb > dry_kb ? run_kb : dry_kb) / 1024 )) | $sizes|"
