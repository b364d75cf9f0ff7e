#!/usr/bin/env bash
# make demo: local database up and migrated, sample data loaded (and an Ads
# Manager export as it comes), the two days
# before and the demo date scored (so SCORE_JUMP can show, and actions have held), the result, a
# fetch from a stand-in of the Marketing API, a backup and its restore drill,
# and the alert digests written to the local outbox.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/use-runtime.sh"
cd "$root"
unset DATABASE_URL PGHOST PGDATABASE PGSERVICE
scripts/system-packages.sh postgresql
mkdir -p .state
log="$root/.state/demo.log"
: >"$log"
# Problems starting the database go to the terminal too: make demo must never stop with nothing said.
scripts/local-db.sh start 2> >(tee -a "$log" >&2)
# Logs (JSON lines and the CloudWatch EMF line) go to the log file; results to the terminal.
export LOG_FORMAT=json
echo "Importing the sample dataset (sample/*.csv) with import-csv; a second run would change nothing:"
bin/import-csv sample/clients.csv sample/campaigns.csv sample/metrics.csv sample/leads.csv sample/lead-status.csv \
  2>&1 >/dev/null \
  | tee -a "$log" | grep -v '^{' || true
echo
echo "Importing an Ads Manager export as analysts download it" \
  "(sample/ads-manager-export.csv: per ad, no Campaign ID, a totals row first):"
bin/import-csv --client acme sample/ads-manager-export.csv 2>&1 >/dev/null | tee -a "$log" | grep -v '^{' || true
# The two days before are scored first, as cron would have: an action needs to have held on 3 scored dates.
bin/score-campaigns --date 2025-11-13 >/dev/null 2>>"$log"
bin/score-campaigns --date 2025-11-14 >/dev/null 2>>"$log"
echo
bin/score-campaigns --date 2025-11-15 --list 2>>"$log"
echo
echo "Fetching two ad accounts from a local stand-in of the Meta Marketing API" \
  "(dist/dev/fake-graph-server.js, generated data):"
fifo=$(mktemp -u "$root/.state/fake-graph.XXXXXX")
mkfifo "$fifo"
node dist/dev/fake-graph-server.js >"$fifo" 2>>"$log" &
fake_pid=$!
trap 'kill $fake_pid 2>/dev/null || true; rm -f "$fifo"' EXIT
read -r graph_url <"$fifo"
FB_ACCESS_TOKEN=DEMO-TOKEN FB_AD_ACCOUNTS=act_1000000001=demo-agency-eu,act_1000000002 FB_GRAPH_URL="$graph_url" \
  bin/fetch-facebook 2>>"$log"
echo "Raw answers (token stripped) are archived under .state/blobs/facebook/."
echo
echo
echo "Backing up the local database into .state/blobs/database/ (pg_dump -Fc, read back and checked)," \
  "then a restore drill of it:"
bin/backup-db 2>>"$log" | head -1
bin/backup-db --verify 2>>"$log"
echo
echo "Emailing each client a digest of what needs attention (MAIL_TRANSPORT is the local outbox: .eml files, not SES):"
export ALERT_FROM='Leadsmart Demo <alerts@leadsmart.example>' ALERT_TO=ops@leadsmart.example
bin/send-alerts 2>>"$log"
echo "A second run sends nothing new (each digest goes out once):"
bin/send-alerts 2>>"$log" | sed 's/^/  /'
bin/send-alerts --resend --preview "$root/.state/digest-preview" >/dev/null 2>>"$log"
echo "Open the digests: in a mail program, .state/outbox/2025-11-15/*.eml;" \
  "in a browser, file://$root/.state/digest-preview/acme-2025-11-15.html"
echo
echo "The dashboard (bin/status-server): a read-only role, and a user demo / demo-password-123 for this machine only:"
owner_url="postgresql://postgres@/leadsmart?host=$(node -p 'encodeURIComponent(process.argv[1])' "$root/.state/pg/run")"
ro_url=$(DATABASE_URL=$owner_url scripts/create-readonly-role.sh leadsmart_demo_ro 2>>"$log" \
  | sed -n 's/^DATABASE_URL_READONLY=//p')
bin/status-server users remove demo >/dev/null 2>>"$log" || true
printf 'demo-password-123\n' | bin/status-server users add demo --agency --password-stdin >/dev/null 2>>"$log"
DATABASE_URL_READONLY=$ro_url STATUS_TOKEN=demo-token-0123456789 bin/status-server --port 18080 >/dev/null 2>>"$log" &
status_pid=$!
trap 'kill $fake_pid $status_pid 2>/dev/null || true; rm -f "$fifo"' EXIT
node -e '
  const auth = { authorization: "Basic " + Buffer.from("demo:demo-password-123").toString("base64") };
  (async () => {
    for (let i = 0; i < 50; i++) {
      const r = await fetch("http://127.0.0.1:18080/", { headers: auth }).catch(() => null);
      if (r) {
        const m = /Page 1 of [0-9,]+ · [0-9,]+ campaigns/.exec(await r.text());
        console.log(`  The scorecard answered ${r.status}: ${m ? m[0] : "(no table)"}`);
        return;
      }
      await new Promise((res) => setTimeout(res, 200));
    }
    console.log("  status-server did not answer; see the log");
  })();
'
kill "$status_pid" 2>/dev/null || true
wait "$status_pid" 2>/dev/null || true
echo "  To browse it: DATABASE_URL_READONLY='$ro_url' STATUS_TOKEN=demo-token-0123456789 bin/status-server"
echo "  then open http://localhost:8080/ and sign in as demo / demo-password-123."
echo
echo "The jobs' JSON logs are in $log."
echo "Every score's inputs and reasons are in campaign_scores.recommendation_details, for example:"
echo "  scripts/local-db.sh psql -c \"SELECT jsonb_pretty(recommendation_details::jsonb) FROM campaign_scores \
WHERE campaign_id = 'demo-01-star' AND date = '2025-11-15'\""
