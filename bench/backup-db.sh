#!/usr/bin/env bash
# make bench (BENCH_ONLY=backup-db): issue 6's target. A database of at least
# 1 GB (bench/generate.sql, BENCH_BACKUP_CAMPAIGNS campaigns × 30 days) on a
# durable throwaway cluster; in the same run: `pg_dump -Fc > /dev/null` (the
# baseline, before and after), bin/backup-db into s3rver on loopback, and into
# a local folder. Prints a Markdown table: wall time, ratio to the faster
# baseline, peak RSS of the job.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/use-runtime.sh"
n=${BENCH_BACKUP_CAMPAIGNS:-300000}
dir=$(mktemp -d "${TMPDIR:-/tmp}/leadsmart-bench-backup.XXXXXX")
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/leadsmart-bench-pg.XXXXXX")
s3pid=
cleanup() {
  [ -n "$s3pid" ] && kill "$s3pid" 2>/dev/null
  "$root/scripts/pg-cluster.sh" stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$dir" "$pgdir"
}
trap cleanup EXIT
"$root/scripts/pg-cluster.sh" start "$pgdir" >/dev/null
export DATABASE_URL="postgresql://postgres@/postgres?host=$pgdir/run" LOG_LEVEL=warn
"$root/bin/migrate" >/dev/null 2>&1
psql -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -v n="$n" -f "$root/bench/generate.sql"
size=$(psql -X -At -d "$DATABASE_URL" -c "SELECT pg_database_size(current_database())")
pg_dump=$(ls -d /usr/lib/postgresql/*/bin/pg_dump 2>/dev/null | sort -V | tail -1)
[ -n "$pg_dump" ] || pg_dump=$(command -v pg_dump)

timed() { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1; }
read -r base1 _ < <(timed sh -c "'$pg_dump' -Fc -d '$DATABASE_URL' > /dev/null")

mkdir -p "$dir/s3"
coproc S3 { node "$root/bench/s3rver.mjs" "$dir/s3" bench; }
s3pid=$S3_PID
read -r endpoint <&"${S3[0]}"
export AWS_ENDPOINT_URL_S3="$endpoint" AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 \
  AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED AWS_RESPONSE_CHECKSUM_VALIDATION=WHEN_REQUIRED
# s3rver does not report server-side encryption; the bench measures speed, not that check (tests cover it).
read -r s3_s s3_kb < <(BLOB_URL=s3://bench/prod BACKUP_SSE=none timed "$root/bin/backup-db")
read -r file_s file_kb < <(BLOB_URL="file://$dir/blobs" timed "$root/bin/backup-db")
read -r base2 _ < <(timed sh -c "'$pg_dump' -Fc -d '$DATABASE_URL' > /dev/null")
dump_bytes=$(find "$dir/blobs/database" -name '*.dump' -printf '%s\n' | head -1)
base=$(awk -v a="$base1" -v b="$base2" 'BEGIN { print (a < b ? a : b) }')
ratio() { awk -v x="$1" -v b="$base" 'BEGIN { printf "%.2f", x / b }'; }
gib=$(awk -v s="$size" 'BEGIN { printf "%.2f", s / 2^30 }')
dump_mib=$(awk -v s="$dump_bytes" 'BEGIN { printf "%.0f", s / 2^20 }')
echo "Database $gib GiB ($n campaigns × 30 days), dump $dump_mib MiB; $(nproc) cores; $(node --version)"
echo
echo "| run | wall (s) | ratio to pg_dump -Fc > /dev/null | peak RSS (MB) |"
echo "|---|---:|---:|---:|"
echo "| pg_dump -Fc > /dev/null (before / after) | $base1 / $base2 | 1.00 | — |"
echo "| bin/backup-db → s3rver (multipart, read back) | $s3_s | $(ratio "$s3_s") | $((s3_kb / 1024)) |"
echo "| bin/backup-db → local folder (read back) | $file_s | $(ratio "$file_s") | $((file_kb / 1024)) |"
