#!/usr/bin/env bash
# make bench: every benchmark; paste the printed tables into bench/RESULTS.md.
# BENCH_ONLY=<name> runs one of them: score-campaigns, score-decisions, score-history, import-csv, fetch-facebook,
# send-alerts, backup-db, status-server, decision-quality, backtest-scoring, dashboard or crm-webhook.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/use-runtime.sh"
cd "$root"
benches='score-campaigns score-decisions score-history import-csv fetch-facebook send-alerts backup-db status-server
  decision-quality backtest-scoring dashboard crm-webhook'
for b in $benches; do
  if [ -z "${BENCH_ONLY:-}" ] || [ "$BENCH_ONLY" = "$b" ]; then
    if [ -f "bench/$b.mjs" ]; then echo "== bench/$b.mjs" >&2; node "bench/$b.mjs"
    else echo "== bench/$b.sh" >&2; "bench/$b.sh"; fi
  fi
done
