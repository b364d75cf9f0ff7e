// make bench (BENCH_ONLY=backtest-scoring): issue 18's target, 90 dates × 10,000 campaigns replayed in under 5
// minutes, memory flat in the number of dates. N campaigns with metrics every day from 2025-06-07 to 2025-11-15
// (162 days: 30 before the first replayed date, 90 replayed, 14 of horizon, 7 to mature, and some), every 10th
// lead-level (2 leads a day, a third qualified a day later); then bin/backtest-scoring over 30 and over 90 dates.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { machine, ROOT, startCluster } from './cluster.mjs';

const n = Number(process.env.BENCH_BACKTEST_CAMPAIGNS ?? 10_000);
const { url, psql, createMigrated, stop } = startCluster('leadsmart-bench-backtest-');
const FIRST = '2025-06-07';
const DAYS = 162;

function backtest(from, to) {
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', '%M', join(ROOT, 'bin', 'backtest-scoring'), '--from', from, '--to', to, '--horizon', '14', '--json'],
    { env: { ...process.env, DATABASE_URL: url('bench'), LOG_LEVEL: 'warn' }, encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (r.status !== 0) throw new Error(`backtest-scoring exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const emf = JSON.parse(r.stderr.split('\n').find((l) => l.includes('"_aws"')));
  return { ms: emf.DurationMs, rssMb: Number(r.stderr.trim().split('\n').at(-1)) / 1024, doc: JSON.parse(r.stdout) };
}

try {
  createMigrated('bench');
  const t0 = Date.now();
  psql('bench', [
    '-v',
    `n=${n}`,
    '-c',
    `INSERT INTO clients (client_id, client_name) VALUES ('bench-a', 'Bench A'), ('bench-b', 'Bench B');
     INSERT INTO campaigns (campaign_id, client_id, campaign_name, daily_budget, start_date)
     SELECT 'b' || lpad(i::text, 7, '0'), CASE WHEN i % 2 = 0 THEN 'bench-a' ELSE 'bench-b' END,
            'Bench campaign ' || i, 100 + (i % 50), DATE '2025-01-01'
       FROM generate_series(1, ${n}) i;
     INSERT INTO campaign_metrics (campaign_id, date, impressions, clicks, spend, total_leads, qualified_leads)
     SELECT 'b' || lpad(i::text, 7, '0'), DATE '${FIRST}' + d, 5000 + (i * 7 + d * 13) % 5000,
            50 + (i * 3 + d * 5) % 150, round((50 + (i * 11 + d * 17) % 100)::numeric, 2),
            CASE WHEN i % 10 = 0 THEN NULL ELSE (i + d) % 6 END,
            CASE WHEN i % 10 = 0 THEN NULL ELSE ((i + d) % 3) * (1 + (i % 4 = 0)::int) END
       FROM generate_series(1, ${n}) i, generate_series(0, ${DAYS - 1}) d;
     INSERT INTO campaign_leads (lead_id, campaign_id, created_at, status)
     SELECT 'bl' || i || '-' || d || '-' || k, 'b' || lpad(i::text, 7, '0'),
            TIMESTAMPTZ '${FIRST} 00:00Z' + d * interval '1 day' + k * interval '5 hours', 'new'
       FROM generate_series(10, ${n}, 10) i, generate_series(0, ${DAYS - 1}) d, generate_series(1, 2) k;
     INSERT INTO lead_status_changes (lead_id, status, changed_at)
     SELECT lead_id, 'qualified', created_at + interval '1 day' FROM campaign_leads WHERE (hashtext(lead_id) % 3) = 0;`,
    // Its own command: psql runs one -c's statements in one transaction, which VACUUM refuses.
    '-c',
    'VACUUM ANALYZE',
  ]);
  console.error(`generated ${n} campaigns × ${DAYS} days in ${Date.now() - t0} ms`);
  console.log(machine());
  console.log('');
  console.log('| dates × campaigns | backtest-scoring (s) | peak RSS (MB) | judged dates | cut precision |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [from, to] of [
    ['2025-07-07', '2025-08-05'],
    ['2025-07-07', '2025-10-04'],
  ]) {
    const r = backtest(from, to);
    const b = r.doc.runs[0];
    const precision = b.cut_precision.value === null ? '—' : b.cut_precision.value.toFixed(3);
    const size = `${r.doc.dates} × ${r.doc.campaigns.toLocaleString('en')}`;
    console.log(
      `| ${size} | ${(r.ms / 1000).toFixed(1)} | ${r.rssMb.toFixed(0)} ` +
        `| ${b.judged_dates.toLocaleString('en')} | ${precision} |`,
    );
  }
} finally {
  stop();
}
