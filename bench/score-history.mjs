// make bench (BENCH_ONLY=score-history): score-campaigns at 10,000 campaigns on an empty score_history, then on
// one year of it (10,000 campaigns × 365 days × 4 runs = 14.6 M rows in monthly partitions), in the same run on a
// durable throwaway cluster; then the time retention takes to drop one month. Prints a Markdown block for
// bench/RESULTS.md. Target (issue 17): within 1.2× with a year of history; one month dropped in under a second.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { machine, median, ROOT, startCluster } from './cluster.mjs';

const N = Number(process.env.BENCH_HISTORY_CAMPAIGNS ?? 10_000);
const { url, psql, value, createMigrated, stop } = startCluster('leadsmart-bench-history-');

function score(db, extra = {}) {
  const r = spawnSync(join(ROOT, 'bin', 'score-campaigns'), ['--date', '2025-11-15', '--json'], {
    env: { ...process.env, DATABASE_URL: url(db), LOG_FORMAT: 'json', LOG_LEVEL: 'info', ...extra },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`score-campaigns exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const lines = r.stderr.split('\n');
  return {
    ms: JSON.parse(lines.find((l) => l.includes('"_aws"'))).DurationMs,
    retention: lines.filter((l) => l.includes('"retention_ms"')).map((l) => JSON.parse(l))[0] ?? null,
  };
}

try {
  const db = 'bench_history';
  createMigrated(db);
  psql(db, ['-v', `n=${N}`, '-f', join(ROOT, 'bench', 'generate.sql')]);
  score(db); // warm the cache
  const empty = [1, 2, 3].map(() => score(db).ms);

  // One year of history before the scored date: 12 monthly partitions, 4 runs a day.
  const t0 = Date.now();
  psql(db, [
    '-c',
    `DO $$ DECLARE m date; BEGIN
       FOR m IN SELECT generate_series(DATE '2024-11-01', DATE '2025-10-01', interval '1 month')::date LOOP
         EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF score_history FOR VALUES FROM (%L) TO (%L)',
                        'score_history_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date);
       END LOOP; END $$`,
    '-c',
    `INSERT INTO score_history (run_id, campaign_id, date, total_score, recommendation, config_id, scored_at)
     SELECT d * 4 + r, 'b' || lpad(i::text, 7, '0'), DATE '2024-11-15' + d, ((i * 7 + d) % 10000) / 100.0,
       'TEST_CHANGES', 'cfg_bench',
            TIMESTAMPTZ '2024-11-15 06:00Z' + d * interval '1 day' + r * interval '6 hours'
       FROM generate_series(1, ${N}) i, generate_series(0, 364) d, generate_series(0, 3) r
      WHERE DATE '2024-11-15' + d < DATE '2025-11-01'`,
    '-c',
    'VACUUM ANALYZE score_history',
  ]);
  const loadMs = Date.now() - t0;
  const rows = value(db, 'SELECT count(*) FROM score_history');
  score(db); // warm
  const year = [1, 2, 3].map(() => score(db).ms);

  // Retention: keep 24 months before today, so that exactly the oldest month (2024-11) goes.
  const today = new Date();
  const keep = (today.getUTCFullYear() - 2024) * 12 + today.getUTCMonth() - 11;
  const oldest = value(db, 'SELECT count(*) FROM score_history_2024_11');
  const r = score(db, { SCORE_HISTORY_KEEP_MONTHS: String(keep) });
  if (r.retention?.partitions_dropped.length !== 1)
    throw new Error(`retention did not drop one month: ${JSON.stringify(r.retention)}`);

  const e = median(empty);
  const y = median(year);
  console.log(machine());
  console.log('');
  console.log(
    `| ${N.toLocaleString('en')} campaigns × 30 days | score-campaigns, median of 3 (min–max) (ms) | ratio |`,
  );
  console.log('|---|---:|---:|');
  console.log(`| empty score_history | ${e} (${Math.min(...empty)}–${Math.max(...empty)}) | 1.00× |`);
  console.log(
    `| one year of score_history ` +
      `(${Number(rows).toLocaleString('en')} rows in 12 monthly ` +
      `partitions; loaded in ${(loadMs / 1000).toFixed(0)} s) | ${y} ` +
      `(${Math.min(...year)}–${Math.max(...year)}) | ${(y / e).toFixed(2)}× |`,
  );
  console.log('');
  console.log(
    `Retention dropping one month ` +
      `(${r.retention.partitions_dropped[0]}, ${Number(oldest).toLocaleString('en')} ` +
      `rows): ${r.retention.retention_ms} ms, in a run of ${r.ms} ms.`,
  );
} finally {
  stop();
}
