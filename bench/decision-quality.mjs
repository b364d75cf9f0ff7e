// make bench (BENCH_ONLY=decision-quality): decision-quality section 2's table on simulated campaigns with a known
// true cost (tests/helpers/decision-sim.ts, bundled here with esbuild): the spec's recommendation against the
// action, same campaigns, same run, in every world of the contract (base, late statuses, small spenders, noisy
// spend, a missed run), each on its own seeds. BENCH_SIM_CAMPAIGNS sets the population (default 2,000);
// BENCH_SIM_SEEDS the seeds (default 7,11,23: not the seed the unit test runs); BENCH_SIM_WORLDS the worlds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { machine, ROOT } from './cluster.mjs';

const n = Number(process.env.BENCH_SIM_CAMPAIGNS ?? 2000);
const seeds = (process.env.BENCH_SIM_SEEDS ?? '7,11,23').split(',').map(Number);
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
  const { generateCampaigns, highSpendTier, measure, missedDate, runSimulation, WORLDS } = await import(
    join(dir, 'sim.mjs')
  );
  const worlds = process.env.BENCH_SIM_WORLDS ? process.env.BENCH_SIM_WORLDS.split(',') : WORLDS;
  const goals = (world) => {
    const small = world === 'small-spend';
    const tier = highSpendTier(world);
    return [
      ['good campaigns ever told to reduce or pause', 'goodEverCut', '≤ 3 %', (v) => v <= 0.03, true],
      [
        'changes between cut and not cut per stationary campaign per 28 days',
        'stationaryFlips',
        '≤ 0.5',
        (v) => v <= 0.5,
        false,
      ],
      [
        `bad campaigns spending ≥ ${tier} a day told to reduce or pause, share of the last 14 dates`,
        'badHighSpendCutShare',
        '≥ 90 %',
        (v) => v >= 0.9,
        true,
      ],
      [
        'bad campaigns, all spend levels, same share',
        'badCutShare',
        small ? '≥ 50 %' : '≥ 70 %',
        (v) => v >= (small ? 0.5 : 0.7),
        true,
      ],
      [
        `campaigns that turned bad (spend ≥ ${tier} a day) flagged within 10 days`,
        'turnedBadFlaggedWithin10',
        small ? '(no goal)' : '≥ 40 %',
        (v) => small || v >= 0.4,
        true,
      ],
    ];
  };
  const fmt = (v, pct) => (Number.isNaN(v) ? '–' : pct ? `${(v * 100).toFixed(1)} %` : v.toFixed(2));
  console.log(machine());
  for (const world of worlds) {
    for (const seed of seeds) {
      const t = performance.now();
      const results = runSimulation(generateCampaigns(n, seed, world), seed, undefined, world);
      const ms = performance.now() - t;
      const tier = highSpendTier(world);
      const rec = measure(results, 'recommendations', tier);
      const act = measure(results, 'actions', tier);
      console.log('');
      console.log(
        `World ${world}, seed ${seed}: ${n.toLocaleString('en')} campaigns × 28 scored dates (${Math.round(ms)} ms); ` +
          `${act.counts.good} good, ${act.counts.bad} bad (${act.counts.badHighSpend} at ≥ ${tier} a day), ` +
          `${act.counts.turnedBadHighSpend} turning bad at ≥ ${tier} a day`,
      );
      console.log('');
      console.log("| measure | the spec's recommendation | `action` | goal | met |");
      console.log('|---|---:|---:|---:|---|');
      for (const [label, key, goal, ok, pct] of goals(world))
        console.log(
          `| ${label} | ${fmt(rec[key], pct)} | ${fmt(act[key], pct)} | ${goal} | ${ok(act[key]) ? 'yes' : '**no**'} |`,
        );
      if (world === 'missed-run') {
        // Rule 7 directly: the date after the missed one, against the same campaigns scored on every date.
        const unmissed = runSimulation(generateCampaigns(n, seed, 'base'), seed, undefined, 'base');
        const day = missedDate(seed) + 1;
        const differ = results.filter((r, i) => r.actions[day] !== unmissed[i].actions[day]).length;
        console.log('');
        console.log(
          `The date after the missed run (scored date ${day + 1} of 28): ${differ} of ${n.toLocaleString('en')} ` +
            'actions differ from those of a run that missed nothing.',
        );
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
