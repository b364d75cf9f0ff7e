// make bench (BENCH_ONLY=dashboard): issue 19's targets. 100,000 campaigns × 90 scored dates (two scored by
// score-campaigns, 88 more derived from them in SQL with their scores moved a little), served by bin/status-server
// (another process, read-only role, HTTP Basic); 20 concurrent clients from this process for 15 s per page:
// the scorecard's first page and a filtered page p95 under 150 ms, the campaign page p95 under 100 ms.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { listening, machine, ROOT, startCluster } from './cluster.mjs';

const n = Number(process.env.BENCH_DASHBOARD_CAMPAIGNS ?? 100000);
const DATES = 90;
const CONNECTIONS = 20;
const SECONDS = Number(process.env.BENCH_DASHBOARD_SECONDS ?? 15);
const { url, psql, value, createMigrated, stop } = startCluster('leadsmart-bench-dashboard-');
const db = 'bench_dashboard';
const PASSWORD = 'bench-password-0123';
const env = { ...process.env, DATABASE_URL: url(db), LOG_LEVEL: 'warn' };
const bin = (name, args, input) =>
  execFileSync(join(ROOT, 'bin', name), args, { env, input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();

/** Derives dates 2 … DATES−1 days before the newest from the day before it: scores moved by up to ±7 points. */
const DERIVE = `
DO $$
DECLARE m date;
BEGIN
  FOR m IN SELECT generate_series(date_trunc('month', DATE '2025-11-15' - ${DATES}), DATE '2025-11-01', '1 month')::date
  LOOP
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF score_history FOR VALUES FROM (%L) TO (%L)',
                   'score_history_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date);
  END LOOP;
END $$;
INSERT INTO campaign_scores (campaign_id, date, total_score, cost_efficiency_score, lead_quality_score, volume_score,
  trend_score, engagement_score, recommendation, recommendation_details, is_new, flags, config_id, run_id, action,
  action_candidate, action_gate, action_reason, window_spend, window_qualified_leads)
SELECT campaign_id, date - g, least(100, greatest(0, total_score + (hashtext(campaign_id || g) % 700) / 100.0)),
       cost_efficiency_score, lead_quality_score, volume_score, trend_score, engagement_score, recommendation,
       '{}'::json, is_new, flags, config_id, run_id, action, action_candidate, action_gate, action_reason,
       window_spend, window_qualified_leads
  FROM campaign_scores, generate_series(1, ${DATES - 2}) g WHERE date = DATE '2025-11-14';
INSERT INTO score_history (run_id, campaign_id, date, total_score, recommendation, config_id, action)
SELECT run_id, campaign_id, date, total_score, recommendation, config_id, action
  FROM campaign_scores WHERE date < DATE '2025-11-14';
INSERT INTO scoring_runs (run_id, date, config_id, campaigns_scored, recommendations, flags, warnings, scored_at)
SELECT 1000000 + g, DATE '2025-11-14' - g, config_id, campaigns_scored, recommendations, flags, warnings,
       scored_at - g * interval '1 day'
  FROM scoring_runs, generate_series(1, ${DATES - 2}) g WHERE date = DATE '2025-11-14';
INSERT INTO job_runs (job, host, pid, started_at, finished_at, status, exit_code)
SELECT job, 'bench', 1, now() - interval '1 hour', now() - interval '59 minutes', 'succeeded', 0
  FROM unnest(ARRAY['fetch-facebook', 'score-campaigns', 'send-alerts', 'backup-db', 'backup-db-drill']) job;
`;

const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
function get(base, path, headers) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { agent, headers }, (res) => {
      let bytes = 0;
      res.on('data', (d) => (bytes += d.length));
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started, bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** CONNECTIONS loops for SECONDS, each taking its next path from `paths()`: latencies and failures. */
async function load(base, headers, paths) {
  const until = performance.now() + SECONDS * 1000;
  const ms = [];
  let failed = 0;
  let bytes = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < until) {
        const r = await get(base, paths(), headers);
        if (r.status === 200) ms.push(r.ms);
        else failed += 1;
        bytes += r.bytes;
      }
    }),
  );
  ms.sort((a, b) => a - b);
  return {
    count: ms.length,
    failed,
    p50: pct(ms, 50),
    p95: pct(ms, 95),
    p99: pct(ms, 99),
    kb: bytes / ms.length / 1024,
  };
}

let server;
try {
  createMigrated(db);
  const t0 = performance.now();
  psql(db, ['-v', `n=${n}`, '-f', join(ROOT, 'bench', 'generate.sql')]);
  for (const date of ['2025-11-14', '2025-11-15']) bin('score-campaigns', ['--date', date]);
  psql(db, ['-c', DERIVE]);
  psql(db, ['-c', 'VACUUM ANALYZE']);
  const rows = value(db, 'SELECT count(*) FROM campaign_scores');
  const dates = value(db, 'SELECT count(DISTINCT date) FROM campaign_scores');
  const setup = ((performance.now() - t0) / 1000).toFixed(0);
  execFileSync(join(ROOT, 'scripts', 'create-readonly-role.sh'), ['bench_ro'], { env, stdio: 'pipe' });
  bin('status-server', ['users', 'add', 'bench', '--agency', '--password-stdin'], `${PASSWORD}\n`);
  bin('status-server', ['users', 'add', 'bench-b', '--clients', 'bench-b', '--password-stdin'], `${PASSWORD}\n`);

  const started = performance.now();
  server = spawn(join(ROOT, 'bin', 'status-server'), ['--port', '0'], {
    env: {
      ...env,
      // BENCH_DASHBOARD_PROFILE=dir: a V8 CPU profile of the server, written when it stops.
      ...(process.env.BENCH_DASHBOARD_PROFILE
        ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_DASHBOARD_PROFILE}` }
        : {}),
      DATABASE_URL_READONLY: url(db).replace('postgres@', 'bench_ro@'),
      STATUS_TOKEN: 'bench-token-0123456789abcdef',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const base = await listening(server, 'status-server');
  const auth = (user) => ({ authorization: `Basic ${Buffer.from(`${user}:${PASSWORD}`).toString('base64')}` });
  const first = await get(base, '/', auth('bench'));
  const firstMs = performance.now() - started;
  if (first.status !== 200) throw new Error(`/ answered ${first.status}`);
  const ids = value(
    db,
    "SELECT string_agg(campaign_id, ',') FROM (SELECT campaign_id FROM campaigns ORDER BY random() LIMIT 2000) x",
  ).split(',');
  let k = 0;
  const scenarios = [
    ['scorecard, first page (/)', 'bench', () => '/', 150],
    [
      'scorecard, filtered: one view (client, action, sorted by spend)',
      'bench',
      () => '/?client=bench-b&action=REDUCE_BUDGET&sort=spend',
      150,
    ],
    [
      'scorecard, filtered: 500 different name searches in turn (none cached)',
      'bench',
      () => `/?q=${(k++ % 500) + 100}&sort=score`,
      150,
    ],
    ['scorecard, page 900 of 2,000', 'bench', () => '/?page=900', 150],
    ['scorecard of a client-limited user (50,000 of the 100,000)', 'bench-b', () => '/', 150],
    ['campaign page, 2,000 different campaigns in turn', 'bench', () => `/campaigns/${ids[k++ % ids.length]}`, 100],
  ];
  const out = [];
  const only = process.env.BENCH_DASHBOARD_ONLY?.split(',').map(Number);
  for (const [name, user, paths, target] of scenarios.filter((_, i) => !only || only.includes(i))) {
    await load(base, auth(user), paths); // warm: the same work, not measured
    const r = await load(base, auth(user), paths);
    out.push(
      `| ${name} | ${(r.count / SECONDS).toFixed(0)} | ${r.p50.toFixed(1)} | **${r.p95.toFixed(1)}** ` +
        `| ${r.p99.toFixed(1)} | ${r.failed} | ${r.kb.toFixed(0)} ` +
        `| ${r.p95 < target ? `met (< ${target})` : `**missed** (< ${target})`} |`,
    );
  }
  // Views people opened earlier, then 500 different name searches, then those views again: a search must not push
  // them out (issue 28: each search evicted a shared cache and the next page stalled 0.6–1.1 s).
  const views = ['/', '/?sort=spend', '/?sort=score&dir=asc', '/?action=REDUCE_BUDGET'];
  for (const v of views) await get(base, v, auth('bench'));
  for (let i = 0; i < 500; i++) await get(base, `/?q=${i + 1000}&sort=spend`, auth('bench'));
  const afterSearches = [];
  for (const v of views) afterSearches.push((await get(base, v, auth('bench'))).ms);
  // Four CSV exports of all 100,000 at once, while /healthz is asked every 20 ms: how long the server stops
  // answering (issue 28: the export blocked the event loop 1.4–2 s, four at once 9.4 s for everyone).
  const health = [];
  let exporting = true;
  const poll = (async () => {
    while (exporting) {
      health.push((await get(base, '/healthz', {})).ms);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const exportsStarted = performance.now();
  const exports = await Promise.all(Array.from({ length: 4 }, () => get(base, '/scorecard.csv', auth('bench'))));
  const exportsMs = performance.now() - exportsStarted;
  exporting = false;
  await poll;
  health.sort((a, b) => a - b);
  const csv = await get(base, '/scorecard.csv', auth('bench'));
  const peak = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]) / 1024;
  console.log(machine());
  console.log(
    `${n.toLocaleString('en')} campaigns × ${dates} scored dates ` +
      `(${Number(rows).toLocaleString('en')} campaign_scores rows; set up in ${setup} s); ` +
      `${CONNECTIONS} concurrent clients, ${SECONDS} s per page after a warm-up of the same.`,
  );
  console.log('');
  console.log('| page | requests/s | p50 (ms) | p95 (ms) | p99 (ms) | failed | KB a page | target |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const line of out) console.log(line);
  console.log('');
  console.log(
    `First page after the server starts (the date's rows read): ${firstMs.toFixed(0)} ms. ` +
      `CSV export of all ${n.toLocaleString('en')}: ${csv.ms.toFixed(0)} ms, ${(csv.bytes / 2 ** 20).toFixed(1)} MB. ` +
      `Server peak RSS: ${peak.toFixed(0)} MB.`,
  );
  console.log('');
  console.log(
    `After 500 different name searches, the views opened before them: ` +
      `${afterSearches.map((x) => x.toFixed(0)).join(', ')} ms (${views.join(', ')}).`,
  );
  console.log(
    `Four CSV exports at once: all done in ${exportsMs.toFixed(0)} ms ` +
      `(${exports.map((e) => `${e.status} ${(e.bytes / 2 ** 20).toFixed(1)} MB`).join(', ')}); ` +
      `/healthz meanwhile (${health.length} asked): p50 ${pct(health, 50).toFixed(1)} ms, ` +
      `p99 ${pct(health, 99).toFixed(1)} ms, slowest ${health[health.length - 1].toFixed(1)} ms.`,
  );
} finally {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server.on('exit', r));
  }
  agent.destroy();
  stop();
}
