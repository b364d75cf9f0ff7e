// make bench: score-campaigns at 10k and 100k campaigns × 30 days against a
// throwaway cluster, with the bare GROUP BY baseline of issue 2 timed in the
// same run; and --help start-up time of each executable. Appends nothing by
// itself: prints a Markdown block to paste into bench/RESULTS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { machine, median, ROOT, startCluster } from './cluster.mjs';

const sizes = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const { url, psql, createMigrated, stop } = startCluster('leadsmart-bench-');
const lines = [];
const say = (s) => {
  console.log(s);
  lines.push(s);
};

try {
  say(machine());
  say('');
  say(
    '| campaigns | metric rows | baseline GROUP BY, JIT on / off ' +
      '(ms) | score-campaigns total, median (min–max) (ms) | of which ' +
      'scoring waited for inputs (ms) | ratio to the faster baseline | ' +
      'peak RSS (MB) |',
  );
  say('|---:|---:|---:|---:|---:|---:|---:|');
  for (const n of sizes) {
    const db = `bench_${n}`;
    createMigrated(db);
    const g0 = Date.now();
    psql(db, ['-v', `n=${n}`, '-f', join(ROOT, 'bench', 'generate.sql')]);
    console.error(`generated ${n} campaigns in ${Date.now() - g0} ms`);

    const client = new pg.Client({ connectionString: url(db) });
    await client.connect();
    // The baseline as a client sees it: rows returned to node-pg. Timed both with the server's
    // default settings (JIT on) and with the settings our jobs use (JIT off); the ratio uses the faster.
    const baseline = async () => {
      const t = process.hrtime.bigint();
      await client.query(`SELECT campaign_id, sum(spend), sum(impressions), sum(clicks), sum(total_leads)
                            FROM campaign_metrics WHERE date BETWEEN '2025-10-17' AND '2025-11-15' GROUP BY
                              campaign_id`);
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    await baseline(); // warm the cache, as the job's run will find it
    const baseJit = [];
    const base = [];
    const job = [];
    let rss = 0;
    let load = 0;
    for (let i = 0; i < 3; i++) {
      await client.query('SET jit = on');
      baseJit.push(await baseline());
      await client.query("SET jit = off; SET work_mem = '128MB'");
      base.push(await baseline());
      const r = spawnSync(
        '/usr/bin/time',
        ['-f', '%M', join(ROOT, 'bin', 'score-campaigns'), '--date', '2025-11-15', '--json'],
        {
          env: { ...process.env, DATABASE_URL: url(db), LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
          encoding: 'utf8',
          maxBuffer: 1 << 26,
        },
      );
      if (r.status !== 0) throw new Error(`score-campaigns exited ${r.status}: ${r.stderr.slice(-2000)}`);
      const emf = r.stderr.split('\n').find((l) => l.includes('"_aws"'));
      const finished = r.stderr.split('\n').find((l) => l.includes('"read_wait_ms"'));
      job.push(JSON.parse(emf).DurationMs);
      load = JSON.parse(finished).read_wait_ms;
      rss = Math.max(rss, Number(r.stderr.trim().split('\n').at(-1)) / 1024);
      const s = JSON.parse(r.stdout);
      if (s.campaigns_scored !== n) throw new Error(`scored ${s.campaigns_scored}, expected ${n}`);
    }
    await client.end();
    const b = Math.min(median(base), median(baseJit));
    const j = median(job);
    say(
      `| ${n.toLocaleString('en')} | ${(n * 30).toLocaleString('en')} ` +
        `| ${median(baseJit).toFixed(0)} / ${median(base).toFixed(0)} ` +
        `| ${j} (${Math.min(...job)}–${Math.max(...job)}) | ${load} ` +
        `| ${(j / b).toFixed(2)}× | ${rss.toFixed(0)} |`,
    );
  }
  say('');
  say(
    'Median of 3 runs each; the job time is its own DurationMs (EMF ' +
      'line): snapshot, chunked reads, scoring, COPY, commit. "Waited ' +
      'for inputs" is the last run\'s read_wait_ms (scoring idle for ' +
      'lack of a chunk). Peak RSS from /usr/bin/time.',
  );
  say('');
  say('| executable | `--help` median of 15 (ms) |');
  say('|---|---:|');
  for (const job of ['score-campaigns', 'migrate']) {
    const ts = [];
    for (let i = 0; i < 15; i++) {
      const t = process.hrtime.bigint();
      execFileSync(join(ROOT, 'bin', job), ['--help'], { stdio: 'ignore' });
      ts.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    say(`| bin/${job} | ${median(ts).toFixed(0)} |`);
  }
} finally {
  stop();
}
