import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../../src/config/load-config.js';
import { fixedClock } from '../../src/runtime/clock.js';
import { createJobDeps, type JobDeps } from '../../src/runtime/job-deps.js';
import { createLogger } from '../../src/runtime/logger.js';
import type { TestDatabase } from './database.js';
import { TEST_NOW } from './run-job.js';

/**
 * The JobDeps a job's typed function gets, built by the runner's own createJobDeps around a test database, the
 * tests' reference instant and settings from `env`: for calling scoreCampaigns(deps, options) and the like
 * directly. Log lines are kept in `logs`.
 */
export async function testJobDeps(
  t: TestDatabase,
  options: { env?: Record<string, string>; dryRun?: boolean; now?: string; signal?: AbortSignal } = {},
): Promise<JobDeps & { logs: Record<string, unknown>[] }> {
  const loaded = loadConfig(
    { DATABASE_URL: t.url, LOG_FORMAT: 'json', ...options.env },
    { stateDir: mkdtempSync(join(tmpdir(), 'leadsmart-deps-')) },
  );
  if (!loaded.ok) throw new Error(`test settings are invalid: ${loaded.problems.join('; ')}`);
  const logs: Record<string, unknown>[] = [];
  const stream = new PassThrough();
  stream.on('data', (line: Buffer) => {
    for (const l of line.toString('utf8').split('\n')) if (l.startsWith('{')) logs.push(JSON.parse(l));
  });
  const logger = createLogger({ job: 'test', level: 'debug', format: 'json', redact: (s) => s, stream });
  const deps = await createJobDeps({
    config: loaded.config,
    logger,
    database: t,
    clock: fixedClock(options.now ?? TEST_NOW),
    dryRun: options.dryRun,
    signal: options.signal,
  });
  return Object.assign(deps, { logs });
}
