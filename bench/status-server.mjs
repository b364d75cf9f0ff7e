// make bench (BENCH_ONLY=status-server): issue 7's targets with 100,000 campaigns scored
// (bench/generate.sql, two dates): p99 of /status and /api/recommendations?limit=100 under
// 50 ms at 50 concurrent connections, /healthz above 5,000 requests/s, the service under
// 150 MB. The load comes from autocannon in this process; the service is bin/status-server,
// another process, on loopback, connected as the read-only role.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { listening, ROOT, startCluster } from './cluster.mjs';

const n = Number(process.env.BENCH_STATUS_CAMPAIGNS ?? 100000);
const cluster = startCluster('leadsmart-bench-status-');
const url = cluster.url('postgres');
const run = (cmd, args, env = {}) =>
  execFileSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
const TOKEN = 'bench-token-0123456789abcdef';

let server;
try {
  run(join(ROOT, 'bin', 'migrate'), [], { DATABASE_URL: url, LOG_LEVEL: 'warn' });
  run('psql', [
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-d',
    url,
    '-v',
    `n=${n}`,
    '-f',
    join(ROOT, 'bench', 'generate.sql'),
  ]);
  for (const date of ['2025-11-14', '2025-11-15'])
    run(join(ROOT, 'bin', 'score-campaigns'), ['--date', date], { DATABASE_URL: url, LOG_LEVEL: 'warn' });
  // Steady state: autovacuum analyzes the new scores within a minute of a scoring run; without
  // statistics the planner reads every row of a recommendation instead of the index's first 100.
  run('psql', ['-X', '-q', '-d', url, '-c', 'VACUUM ANALYZE']);
  for (const job of ['fetch-facebook', 'score-campaigns', 'send-alerts', 'backup-db']) {
    run('psql', [
      '-X',
      '-q',
      '-d',
      url,
      '-c',
      `INSERT INTO job_runs (job, host, pid, started_at, finished_at, ` +
        `status, exit_code) SELECT '${job}', 'bench', 1, now() - ` +
        `interval '1 hour' * g, now() - interval '1 hour' * g + interval ` +
        `'5 seconds', 'succeeded', 0 FROM generate_series(1, 500) g`,
    ]);
  }
  run(join(ROOT, 'scripts', 'create-readonly-role.sh'), ['bench_ro'], { DATABASE_URL: url });
  const start = (cacheMs) => {
    const child = spawn(join(ROOT, 'bin', 'status-server'), ['--port', '0', '--rate-limit', '1000000'], {
      env: {
        ...process.env,
        DATABASE_URL_READONLY: url.replace('postgres@', 'bench_ro@'),
        STATUS_TOKEN: TOKEN,
        LOG_LEVEL: 'warn',
        STATUS_API_CACHE_MS: String(cacheMs),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return child;
  };
  server = start(1000);
  let base = await listening(server, 'status-server');
  const rss = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]) / 1024;
  const load = (path, headers = {}, duration = 10) =>
    new Promise((res, rej) =>
      autocannon({ url: `${base}${path}`, connections: 50, duration, headers }, (e, r) => (e ? rej(e) : res(r))),
    );
  await load('/healthz', {}, 2); // warm up
  const rows = [];
  for (const [name, path, headers] of [
    ['/healthz', '/healthz', {}],
    ['/status', '/status', {}],
    ['/api/recommendations?limit=100', '/api/recommendations?limit=100', { authorization: `Bearer ${TOKEN}` }],
  ]) {
    const r = await load(path, headers);
    rows.push(
      `| ${name} | ${r.requests.average.toFixed(0)} | ${r.latency.p50} ` +
        `| ${r.latency.p99} | ${r.non2xx} | ${r.errors} |`,
    );
  }
  const peak = rss();
  // The same without the one-second answer cache: every request goes to the database.
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
  server = start(0);
  base = await listening(server, 'status-server');
  {
    const r = await load('/api/recommendations?limit=100', { authorization: `Bearer ${TOKEN}` });
    rows.push(
      `| /api/recommendations?limit=100, STATUS_API_CACHE_MS=0 ` +
        `| ${r.requests.average.toFixed(0)} | ${r.latency.p50} ` +
        `| ${r.latency.p99} | ${r.non2xx} | ${r.errors} |`,
    );
  }
  console.log(
    `Machine: ${cpus().length} ` +
      `× ${cpus()[0]?.model ?? 'cpu'}, ${process.version}; ${n} ` +
      `campaigns scored for two dates; 50 connections, 10 s each, ` +
      `autocannon in a second process`,
  );
  console.log('');
  console.log('| endpoint | requests/s | p50 (ms) | p99 (ms) | non-2xx | errors |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
  console.log('');
  console.log(`status-server peak RSS: ${peak.toFixed(0)} MB (cache on), ${rss().toFixed(0)} MB (cache off)`);
} finally {
  server?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  cluster.stop();
}
