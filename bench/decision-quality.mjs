// make bench (BENCH_ONLY=decision-quality): decision-quality section 2's table on simulated campaigns with a known
// true cost (tests/helpers/decision-sim.ts, bundled here with esbuild): the spec's recommendation against the
// action, same campaigns, same run, for three seeds. BENCH_SIM_CAMPAIGNS sets the population (default 2,000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { machine, ROOT } from './cluster.mjs';

const n = Number(process.env.BENCH_SIM_CAMPAIGNS ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'leadsmart-bench-decision-'));
try {
  await build({
    entryPoints: [join(ROOT, 'tests', 'helpers', 'decision-sim.ts')],
    outfile: join(dir, 'sim.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    logLevel: 'warning',
  });
  const { generateCampaigns, measure, runSimulation } = await import(join(dir, 'sim.mjs'));
  const rows = [
    ['good campaigns ever told to reduce or pause', 'goodEverCut', '≤ 3 %', (v) => v <= 0.03, true],
    [
      'changes between cut and not cut per stationary campaign per 28 days',
      'stationaryFlips',
      '≤ 0.5',
      (v) => v <= 0.5,
      false,
    ],
    [
      'bad campaigns spending ≥ 45 a day told to reduce or pause, share of the last 14 dates',
      'badHighSpendCutShare',
      '≥ 90 %',
      (v) => v >= 0.9,
      true,
    ],
    ['bad campaigns, all spend levels, same share', 'badCutShare', '≥ 70 %', (v) => v >= 0.7, true],
    [
      'campaigns that turned bad (spend ≥ 45 a day) flagged within 10 days',
      'turnedBadFlaggedWithin10',
      '≥ 40 %',
      (v) => v >= 0.4,
      true,
    ],
  ];
  const fmt = (v, pct) => (pct ? `${(v * 100).toFixed(1)} %` : v.toFixed(2));
  console.log(machine());
  for (const seed of [7, 11, 23]) {
    const t = performance.now();
    const results = runSimulation(generateCampaigns(n, seed), seed);
    const ms = performance.now() - t;
    const rec = measure(results, 'recommendations');
    const act = measure(results, 'actions');
    console.log('');
    console.log(
      `Seed ${seed}: ${n.toLocaleString('en')} campaigns × 28 scored dates (${Math.round(ms)} ms); ` +
        `${act.counts.good} good, ${act.counts.bad} bad (${act.counts.badHighSpend} at ≥ 45 a day), ` +
        `${act.counts.turnedBadHighSpend} turning bad at ≥ 45 a day`,
    );
    console.log('');
    console.log("| measure | the spec's recommendation | `action` | goal | met |");
    console.log('|---|---:|---:|---:|---|');
    for (const [label, key, goal, ok, pct] of rows)
      console.log(
        `| ${label} | ${fmt(rec[key], pct)} | ${fmt(act[key], pct)} | ${goal} | ${ok(act[key]) ? 'yes' : '**no**'} |`,
      );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
