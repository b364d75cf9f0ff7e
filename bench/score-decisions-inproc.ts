// Bundled and run by bench/score-decisions.mjs: score-campaigns' own function, scoreCampaigns(deps, options), called
// in one process on one pool, alternately with the decision layer off and on (SCORING_ACTIONS), so that the baseline
// runs in the same process as what is measured: same warm code, same heap, the database in the same state. Each
// pair's on ÷ off is one sample; the machine's slow drifts cancel inside a pair.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../src/config/load-config.js';
import { resolveScoringConfig } from '../src/core/scoring/index.js';
import { connectDatabase } from '../src/db/connect.js';
import { scoreCampaigns } from '../src/jobs/score-campaigns/score.js';
import { systemClock } from '../src/runtime/clock.js';
import { createJobDeps } from '../src/runtime/job-deps.js';
import { createLogger } from '../src/runtime/logger.js';

export interface Sample {
  actions: 'off' | 'on';
  /** Wall-clock time of the call. */
  ms: number;
  /** This process's CPU time (user + system) during the call: the job's side, not PostgreSQL's. */
  cpuMs: number;
}

export async function alternate(url: string, date: string, pairs: number): Promise<Sample[]> {
  const database = connectDatabase(url, { max: 4, applicationName: 'leadsmart-bench' });
  const resolved = resolveScoringConfig({});
  if (!resolved.ok) throw new Error(resolved.problems.join('; '));
  const stateDir = mkdtempSync(join(tmpdir(), 'leadsmart-bench-state-'));
  const deps = async (actions: 'off' | 'on') => {
    const loaded = loadConfig({ DATABASE_URL: url, LOG_FORMAT: 'json', SCORING_ACTIONS: actions }, { stateDir });
    if (!loaded.ok) throw new Error(loaded.problems.join('; '));
    const sink = new PassThrough();
    sink.resume();
    const logger = createLogger({ job: 'bench', level: 'warn', format: 'json', redact: (s) => s, stream: sink });
    return createJobDeps({ config: loaded.config, logger, database, clock: systemClock });
  };
  const off = await deps('off');
  const on = await deps('on');
  const options = { date, config: resolved.config, configSource: 'defaults', list: false };
  const samples: Sample[] = [];
  try {
    // One pair first, not counted: the code paths of both modes compiled and the heap grown.
    for (let i = 0; i <= pairs; i++) {
      for (const [actions, d] of [
        ['off', off],
        ['on', on],
      ] as const) {
        const cpu = process.cpuUsage();
        const t = performance.now();
        await scoreCampaigns(d, options);
        const ms = performance.now() - t;
        const used = process.cpuUsage(cpu);
        if (i > 0) samples.push({ actions, ms, cpuMs: (used.user + used.system) / 1000 });
      }
    }
  } finally {
    await database.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
  return samples;
}
