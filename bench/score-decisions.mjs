// make bench (BENCH_ONLY=score-decisions): what the decision layer (docs/decisions.md) costs score-campaigns, in the
// same run: N campaigns × 30 days (bench/generate.sql), the two days before scored once each (so the client priors
// and the previous dates' actions exist, as every day in production), then score-campaigns --date D alternately with
// SCORING_ACTIONS=off and on, five times each. Issue 18's target: on within 1.15× of off, peak memory under 512 MB.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { nodeBundle } from '../scripts/esbuild-options.mjs';
import { machine, median, ROOT, startCluster } from './cluster.mjs';

const sizes = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const pairs = Number(process.env.BENCH_PAIRS ?? 7);
const { url, psql, createMigrated, stop } = startCluster('leadsmart-bench-decisions-');
// The in-process half (bench/score-decisions-inproc.ts) is bundled from the sources, as decision-quality's is.
const bundleDir = mkdtempSync(join(tmpdir(), 'leadsmart-bench-inproc-'));
await build({
  ...nodeBundle,
  entryPoints: [join(ROOT, 'bench', 'score-decisions-inproc.ts')],
  outfile: join(bundleDir, 'inproc.mjs'),
});
const { alternate } = await import(join(bundleDir, 'inproc.mjs'));
const inProcess = [];

function score(db, date, actions) {
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', '%M %U %S', join(ROOT, 'bin', 'score-campaigns'), '--date', date, '--json'],
    {
      env: { ...process.env, DATABASE_URL: url(db), LOG_FORMAT: 'json', LOG_LEVEL: 'info', SCORING_ACTIONS: actions },
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    },
  );
  if (r.status !== 0) throw new Error(`score-campaigns exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const emf = JSON.parse(r.stderr.split('\n').find((l) => l.includes('"_aws"')));
  // /usr/bin/time's line: peak RSS (KiB), user and system CPU seconds of the job's process (not PostgreSQL's).
  const [rssKb, user, system] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  return {
    ms: emf.DurationMs,
    cpuMs: (user + system) * 1000,
    rssMb: rssKb / 1024,
    doc: JSON.parse(r.stdout),
  };
}

try {
  console.log(machine());
  console.log('');
  const head = ['campaigns', 'off: median (min–max) (ms)', 'on: median (min–max) (ms)', 'on ÷ off'];
  const cpu = ['job CPU off / on, medians (ms)', 'CPU on ÷ off'];
  console.log(`| ${[...head, ...cpu, 'peak RSS off / on (MB)', 'actions on D'].join(' | ')} |`);
  console.log('|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const n of sizes) {
    const db = `bench_decisions_${n}`;
    createMigrated(db);
    psql(db, ['-v', `n=${n}`, '-f', join(ROOT, 'bench', 'generate.sql')]);
    score(db, '2025-11-13', 'on');
    score(db, '2025-11-14', 'on');
    const off = [];
    const on = [];
    let last = null;
    for (let i = 0; i < 5; i++) {
      off.push(score(db, '2025-11-15', 'off'));
      last = score(db, '2025-11-15', 'on');
      on.push(last);
    }
    const ms = (xs) => xs.map((x) => x.ms);
    const range = (xs) => `${median(ms(xs))} (${Math.min(...ms(xs))}–${Math.max(...ms(xs))})`;
    const rss = (xs) => Math.max(...xs.map((x) => x.rssMb)).toFixed(0);
    const actions = Object.entries(last.doc.actions)
      .filter(([, k]) => k > 0)
      .map(([a, k]) => `${a} ${k}`)
      .join(', ');
    const cpuOf = (xs) => median(xs.map((x) => x.cpuMs));
    console.log(
      `| ${n.toLocaleString('en')} | ${range(off)} | ${range(on)} ` +
        `| ${(median(ms(on)) / median(ms(off))).toFixed(2)}× ` +
        `| ${cpuOf(off).toFixed(0)} / ${cpuOf(on).toFixed(0)} | ${(cpuOf(on) / cpuOf(off)).toFixed(2)}× ` +
        `| ${rss(off)} / ${rss(on)} | ${actions} |`,
    );
    inProcess.push([n, await alternate(url(db), '2025-11-15', pairs)]);
  }
  console.log('');
  console.log('Each run is its own DurationMs (EMF line); peak RSS from /usr/bin/time.');
  console.log('');
  console.log(`In one process (scoreCampaigns called directly, off and on alternately, ${pairs} pairs after one`);
  console.log("not counted); each pair's on ÷ off is a sample:");
  console.log('');
  console.log(
    '| campaigns | wall off / on, medians (ms) | wall on ÷ off, median of pairs (min–max) ' +
      '| Node CPU off / on, medians (ms) | CPU on ÷ off, median of pairs (min–max) |',
  );
  console.log('|---:|---:|---:|---:|---:|');
  for (const [n, samples] of inProcess) {
    const of = (mode, key) => samples.filter((s) => s.actions === mode).map((s) => s[key]);
    const ratios = (key) => of('on', key).map((v, i) => v / of('off', key)[i]);
    const spread = (xs) => `${median(xs).toFixed(2)}× (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
    console.log(
      `| ${n.toLocaleString('en')} | ${median(of('off', 'ms')).toFixed(0)} / ${median(of('on', 'ms')).toFixed(0)} ` +
        `| ${spread(ratios('ms'))} ` +
        `| ${median(of('off', 'cpuMs')).toFixed(0)} / ${median(of('on', 'cpuMs')).toFixed(0)} ` +
        `| ${spread(ratios('cpuMs'))} |`,
    );
  }
} finally {
  stop();
  rmSync(bundleDir, { recursive: true, force: true });
}
